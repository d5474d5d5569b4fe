// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Script} from "forge-std/Script.sol";
import {IERC20} from "../src/interfaces/external/IERC20.sol";
import {PolygonReplica} from "./replica/PolygonReplica.sol";

/// @notice Deploys the local Polygon replica (with its Aave borrowers) onto a running anvil and writes every address
///         to deployments/replica-<chainId>.json, the file the Python side loads, and the Aave market's
///         liquidation side (borrowers, oracle, data provider) to deployments/replica-<chainId>-aave.json.
contract DeployReplica is Script, PolygonReplica {
    function run() external {
        vm.startBroadcast();
        (, address sender,) = vm.readCallers();
        _deployReplicaWithBorrowers(sender);
        vm.stopBroadcast();
        string memory base = string.concat(vm.projectRoot(), "/deployments/replica-", vm.toString(block.chainid));
        _write(string.concat(base, ".json"));
        _writeAave(string.concat(base, "-aave.json"));
    }

    /// @dev Borrowers sign their own transactions (setUserEMode, borrow) with their deterministic keys.
    function _actAs(uint256 key) internal override {
        vm.stopBroadcast();
        vm.startBroadcast(key);
    }

    function _actAsAdmin() internal override {
        vm.stopBroadcast();
        vm.startBroadcast(replicaAdmin);
    }

    /// @dev A file of its own: the main file's reader (flasharb.replica) refuses unknown keys.
    function _writeAave(string memory path) private {
        string memory o = "aave";
        vm.serializeUint(o, "chain_id", block.chainid);
        vm.serializeAddress(o, "pool", aavePool);
        vm.serializeAddress(o, "pool_addresses_provider", aaveProvider);
        vm.serializeAddress(o, "oracle", aaveOracle);
        vm.serializeAddress(o, "data_provider", aaveDataProvider);
        vm.serializeUint(o, "liquidation_protocol_fee_bps", AAVE_LIQUIDATION_PROTOCOL_FEE_BPS);
        vm.serializeUint(o, "emode_stablecoins", EMODE_STABLECOINS);
        vm.serializeString(o, "borrower_seed", BORROWER_SEED);
        vm.writeJson(vm.serializeAddress(o, "borrowers", aaveBorrowers), path);
    }

    function _write(string memory path) private {
        string memory tokens = "tokens";
        string memory tokensJson;
        for (uint256 i; i < replicaTokens.length; ++i) {
            address t = replicaTokens[i];
            string memory key = tokenSymbol[t];
            vm.serializeAddress(key, "address", t);
            vm.serializeUint(key, "decimals", IERC20(t).decimals());
            tokensJson = vm.serializeString(tokens, key, vm.serializeUint(key, "usd_price_e8", usdPriceE8[t]));
        }

        vm.serializeAddress("quickswap", "factory", quickswapFactory);
        vm.serializeUint("quickswap", "fee_pips", V2_FEE_PIPS);
        string memory quick = vm.serializeAddress("quickswap", "router", quickswapRouter);
        vm.serializeAddress("sushiswap", "factory", sushiswapFactory);
        vm.serializeUint("sushiswap", "fee_pips", V2_FEE_PIPS);
        string memory sushi = vm.serializeAddress("sushiswap", "router", sushiswapRouter);
        vm.serializeAddress("uniswap_v3", "factory", v3Factory);
        vm.serializeAddress("uniswap_v3", "position_manager", v3PositionManager);
        string memory v3 = vm.serializeAddress("uniswap_v3", "swap_router", v3SwapRouter);
        vm.serializeAddress("aave_v3", "pool_addresses_provider", aaveProvider);
        vm.serializeAddress("aave_v3", "pool", aavePool);
        vm.serializeAddress("aave_v3", "pool_configurator", aaveConfigurator);
        vm.serializeAddress("aave_v3", "oracle", aaveOracle);
        string memory aave = vm.serializeAddress("aave_v3", "data_provider", aaveDataProvider);
        vm.serializeAddress("balancer_v2", "authorizer", balancerAuthorizer);
        string memory bal = vm.serializeAddress("balancer_v2", "vault", balancerVault);
        vm.serializeAddress("pools", "v2", v2Pairs);
        string memory pools = vm.serializeAddress("pools", "v3", v3Pools);

        string memory root = "replica";
        vm.serializeUint(root, "chain_id", block.chainid);
        vm.serializeAddress(root, "admin", replicaAdmin);
        vm.serializeString(root, "tokens", tokensJson);
        vm.serializeString(root, "quickswap", quick);
        vm.serializeString(root, "sushiswap", sushi);
        vm.serializeString(root, "uniswap_v3", v3);
        vm.serializeString(root, "aave_v3", aave);
        vm.serializeString(root, "balancer_v2", bal);
        vm.writeJson(vm.serializeString(root, "pools", pools), path);
    }
}
