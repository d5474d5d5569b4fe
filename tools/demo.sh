#!/usr/bin/env bash
# The main job on a local chain: anvil + replica + executor + a seeded market + the bot (see flasharb.demo).
set -euo pipefail
cd "$(dirname "$0")/.."
forge build -q
exec .venv/bin/python -c 'import sys; from flasharb.demo.run import main; sys.exit(main())'
