#!/usr/bin/env bash
# Builds the load tool of the fault tests (tests/faults/test_graphql_load.py): k6, from its Go
# module (go.k6.io/k6, the Go module proxy), into $STREAMLINES_HOME/tools/bin, once per
# version. Needs Go; a second run does nothing.
set -euo pipefail

home="${STREAMLINES_HOME:-$HOME/.cache/streamlines}"
tools="$home/tools"
k6_version=v1.8.1

if ! command -v go >/dev/null 2>&1; then
  echo "error: go not found; the GraphQL load test builds k6 with Go (https://go.dev/dl/)" >&2
  exit 1
fi
export GOFLAGS=-mod=mod GOTOOLCHAIN=local
mkdir -p "$tools/bin"

k6="$tools/bin/k6"
if [ ! -x "$k6" ] || [ "$(cat "$k6.version" 2>/dev/null)" != "$k6_version" ]; then
  echo "==> building k6 $k6_version (first time: a few minutes)"
  GOBIN="$tools/bin" go install -trimpath -ldflags "-s -w" "go.k6.io/k6@$k6_version"
  echo "$k6_version" > "$k6.version"
fi
