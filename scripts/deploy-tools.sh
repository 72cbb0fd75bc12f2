#!/usr/bin/env bash
# Builds what the deployment files' tests (tests/unit/deploy) run, into $STREAMLINES_HOME/tools,
# once per version: Docker Compose (the `docker compose` CLI plugin, from its Go module: its
# `config` loads, interpolates and validates a compose file as `docker compose up` would;
# no Docker engine needed), kubeconform, and Kubernetes' OpenAPI spec (k8s.io/kubernetes's
# api/openapi-spec/swagger.json, from the same Go module proxy), which the tests turn into
# kubeconform's JSON schemas. Needs Go; a second run does nothing.
set -euo pipefail

home="${STREAMLINES_HOME:-$HOME/.cache/streamlines}"
tools="$home/tools"
compose_version=v2.40.3
kubeconform_version=v0.7.0
kubernetes_version=v1.34.3

if ! command -v go >/dev/null 2>&1; then
  echo "error: go not found; the deployment tests build Docker Compose and kubeconform with Go" >&2
  exit 1
fi
export GOFLAGS=-mod=mod GOTOOLCHAIN=local
mkdir -p "$tools/bin"

# A module's source as a writable copy under $tools/build (docker/compose's go.mod has
# exclude directives, so `go install module@version` refuses it).
module_source() {
  local dir
  dir="$(go mod download -json "$1@$2" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  if [ -z "$dir" ]; then
    echo "error: could not download $1@$2 from the Go module proxy" >&2
    exit 1
  fi
  echo "$dir"
}

compose="$tools/docker/cli-plugins/docker-compose"
if [ ! -x "$compose" ] || [ "$(cat "$compose.version" 2>/dev/null)" != "$compose_version" ]; then
  echo "==> building Docker Compose $compose_version (first time: a few minutes)"
  build="$tools/build/compose-$compose_version"
  rm -rf "$build" && mkdir -p "$build" "$(dirname "$compose")"
  cp -r "$(module_source github.com/docker/compose/v2 "$compose_version")/." "$build"
  chmod -R u+w "$build"
  (cd "$build" && go build -trimpath \
    -ldflags "-s -w -X github.com/docker/compose/v2/internal.Version=$compose_version" \
    -o "$compose" ./cmd)
  rm -rf "$build"
  echo "$compose_version" > "$compose.version"
fi

kubeconform="$tools/bin/kubeconform"
if [ ! -x "$kubeconform" ] || [ "$(cat "$kubeconform.version" 2>/dev/null)" != "$kubeconform_version" ]; then
  echo "==> building kubeconform $kubeconform_version"
  GOBIN="$tools/bin" go install -trimpath -ldflags "-s -w" \
    "github.com/yannh/kubeconform/cmd/kubeconform@$kubeconform_version"
  echo "$kubeconform_version" > "$kubeconform.version"
fi

spec="$tools/kubernetes-openapi/$kubernetes_version/swagger.json"
if [ ! -f "$spec" ]; then
  echo "==> fetching Kubernetes $kubernetes_version's OpenAPI spec (Go module k8s.io/kubernetes)"
  mkdir -p "$(dirname "$spec")"
  cp "$(module_source k8s.io/kubernetes "$kubernetes_version")/api/openapi-spec/swagger.json" "$spec.tmp"
  chmod u+w "$spec.tmp" && mv "$spec.tmp" "$spec"
fi
