#!/usr/bin/env bash
# Deploys the Polygon replica onto the anvil at $1 (default http://127.0.0.1:8545) with anvil's first dev key,
# which funds WMATIC liquidity from its native balance (start anvil with --balance 100000000).
set -euo pipefail
cd "$(dirname "$0")/.."
RPC=${1:-http://127.0.0.1:8545}
# anvil's well-known first dev account: a public test key, never a real one.
KEY=${REPLICA_DEPLOYER_KEY:-0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80}
cast chain-id --rpc-url "$RPC" >/dev/null 2>&1 || { echo "deploy-replica: no node answers at $RPC (run 'make anvil' first)" >&2; exit 1; }
mkdir -p deployments
forge script script/DeployReplica.s.sol --rpc-url "$RPC" --private-key "$KEY" --broadcast --slow -q >/dev/null
echo "replica: deployments/replica-$(cast chain-id --rpc-url "$RPC").json"
