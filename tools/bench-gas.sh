#!/usr/bin/env bash
# Gas benchmark (`make bench-gas`): the executor against the floor (a straight-line contract hard-coded per route
# and lender) and the router-based design, on 2-, 3- and 4-hop routes through the replica's real pools, funded by
# Aave flashLoanSimple, Balancer and own capital, plus an Aave liquidation + V2 swap-back against its floor. Prints
# the tables and writes bench/results/gas.json and bench/results/liquidation-gas.json.
# Honours FOUNDRY_OUT / FOUNDRY_CACHE_PATH if set (so it can run beside other builds).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export PATH="$ROOT/node_modules/@foundry-rs/forge-linux-amd64/bin:$PATH"
export FOUNDRY_DISABLE_NIGHTLY_WARNING=1
RESULTS=bench/results/gas.json
LIQ_RESULTS=bench/results/liquidation-gas.json

command -v forge >/dev/null || { echo "bench-gas: forge not found; run 'make setup'" >&2; exit 1; }
mkdir -p bench/results
rm -f "$RESULTS" "$LIQ_RESULTS" # never print a stale result

# The test itself asserts every route is profitable and that the three contestants earn the same profit.
forge test --match-path 'test/gas/*' --match-test 'test_gas_(liquidation_)?benchmark' -vv

for f in "$RESULTS" "$LIQ_RESULTS"; do
  [ -s "$f" ] || { echo "bench-gas: $f was not written" >&2; exit 1; }
  echo
  echo "$f:"
  cat "$f"
  echo
done
