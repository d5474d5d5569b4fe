#!/usr/bin/env bash
# Installs everything the project needs, pinned, from registries only (npm, PyPI). Idempotent: each step is
# skipped while its input file (package-lock.json, pyproject.toml) is unchanged since it last succeeded.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
STAMPS=$ROOT/.stamps
mkdir -p "$STAMPS"

need() { command -v "$1" >/dev/null 2>&1 || { echo "setup: '$1' not found. $2" >&2; exit 1; }; }
hash() { cat "$@" | sha256sum | cut -d' ' -f1; }
uptodate() { [ -f "$STAMPS/$1" ] && [ "$(cat "$STAMPS/$1")" = "$(hash "${@:2}")" ]; }
mark() { hash "${@:2}" > "$STAMPS/$1"; }

need node "Install Node.js >= 20 (Debian: apt-get install nodejs npm)."
need npm "Install npm (Debian: apt-get install npm)."
PY=${PYTHON:-python3.11}
need "$PY" "Install Python 3.11 (or set PYTHON=/path/to/python3.11)."

# 1. npm: Foundry 1.7.1 binaries, solcjs, forge-std, and the protocols' real bytecode.
if ! uptodate npm package-lock.json || [ ! -x node_modules/@foundry-rs/forge-linux-amd64/bin/forge ]; then
  echo "setup: npm ci (Foundry, solc, protocol artifacts)"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  mark npm package-lock.json
fi
for tool in forge anvil cast; do
  bin=node_modules/@foundry-rs/$tool-linux-amd64/bin/$tool
  [ -x "$bin" ] || { echo "setup: $bin missing: npm did not install @foundry-rs/$tool-linux-amd64 (only linux-amd64 is supported)" >&2; exit 1; }
done

# 2. forge-std 1.9.7 into lib/ (npm's forge-std package is an old 1.1.2; this one ships inside toolbox-foundry).
FORGE_STD=node_modules/@layerzerolabs/toolbox-foundry/lib/forge-std
if [ ! -f lib/forge-std/Test.sol ] || ! cmp -s "$FORGE_STD/package.json" lib/forge-std/package.json; then
  echo "setup: lib/forge-std from $FORGE_STD"
  rm -rf lib/forge-std && mkdir -p lib && cp -r "$FORGE_STD" lib/forge-std
fi

# 3. Python venv with the package in editable mode and exact pins.
if ! uptodate venv python/pyproject.toml || [ ! -x .venv/bin/flasharb ]; then
  echo "setup: python venv (.venv) with flasharb[test]"
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "python[test]"
  mark venv python/pyproject.toml
fi
# 4. PostgreSQL server binaries for the store's tests against a real server (Debian's package).
tools/ensure-postgres.sh
echo "setup: ok"
