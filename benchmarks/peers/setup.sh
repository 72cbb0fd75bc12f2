#!/usr/bin/env bash
# The peers' own virtualenv, apart from the project's (they are not project dependencies):
# ${STREAMLINES_HOME:-$HOME/.cache/streamlines}/peers-venv with pinned Quix Streams and Bytewax
# (and confluent-kafka, which both use for Kafka). Idempotent: a second run with the same pins
# does nothing but print what is installed. Uses the uv that scripts/bootstrap.sh installs.
set -euo pipefail
cd "$(dirname "$0")/../.."

home="${STREAMLINES_HOME:-$HOME/.cache/streamlines}"
python="${PYTHON:-python3.11}"
venv="$home/peers-venv"
uv="$home/tools/uv/bin/uv"
export UV_CACHE_DIR="$home/uv-cache"

# Pins: the newest releases that install on Python 3.11 here (2026-12-04).
PINS=(
  "quixstreams==3.28.1"
  "bytewax==0.21.1"
  "confluent-kafka==2.12.2"
)

if [ ! -x "$uv" ]; then
  scripts/bootstrap.sh  # installs uv (and the project's .venv)
fi
stamp="$venv/.streamlines-pins"
want="$(printf '%s\n' "${PINS[@]}" | sha256sum | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  if [ ! -x "$venv/bin/python" ]; then
    echo "==> creating $venv"
    "$uv" venv --quiet --python "$python" "$venv"
  fi
  echo "==> installing ${PINS[*]} into $venv"
  VIRTUAL_ENV="$venv" "$uv" pip install --quiet --compile-bytecode "${PINS[@]}"
  echo "$want" > "$stamp"
fi
echo "peers venv $venv:"
VIRTUAL_ENV="$venv" "$uv" pip freeze | grep -Ei '^(quixstreams|bytewax|confluent-kafka)=='
