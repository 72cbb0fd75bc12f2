#!/usr/bin/env bash
# Creates .venv with the locked dependencies (first run) or syncs it (later runs).
# uv installs from its own cache under $STREAMLINES_HOME, so a second clone on the
# same machine is ready in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

home="${STREAMLINES_HOME:-$HOME/.cache/streamlines}"
python="${PYTHON:-python3.11}"
tools="$home/tools"
uv="$tools/uv/bin/uv"
export UV_CACHE_DIR="$home/uv-cache"
export UV_LINK_MODE="${UV_LINK_MODE:-hardlink}"

if ! command -v "$python" >/dev/null 2>&1; then
  echo "error: $python not found; Stream Lines needs Python 3.11 (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi
if [ ! -x "$uv" ]; then
  echo "==> installing uv (fast, locked installs) into $tools/uv"
  mkdir -p "$tools"
  "$python" -m venv "$tools/uv"
  "$tools/uv/bin/pip" install --quiet --disable-pip-version-check "uv==0.13.9"
fi

stamp=.venv/.streamlines-lock
want="$(cat requirements.lock pyproject.toml scripts/bootstrap.sh | sha256sum | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "$uv" venv --quiet --python "$python" .venv
fi
echo "==> installing locked Python dependencies into .venv (first time: a few minutes)"
# Bytecode compiled once here: with PYTHONDONTWRITEBYTECODE set (as on some CI machines) every
# process would otherwise compile what it imports, about 3 s per start of the CLI or a job.
VIRTUAL_ENV="$PWD/.venv" "$uv" pip sync --compile-bytecode requirements.lock
VIRTUAL_ENV="$PWD/.venv" "$uv" pip install --quiet --no-deps -e .
echo "$want" > "$stamp"
