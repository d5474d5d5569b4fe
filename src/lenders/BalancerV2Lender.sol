// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IBalancerVault} from "../interfaces/external/IBalancerVault.sol";
import {TokenLib} from "../libraries/TokenLib.sol";
import {LenderBase} from "./LenderBase.sol";

/// @notice Balancer V2 Vault flash loans (zero fee on Polygon today; the fee the Vault reports is honoured).
///         The Vault has no initiator argument: the transient lender expectation alone proves the loan is ours.
abstract contract BalancerV2Lender is LenderBase {
    address public immutable BALANCER_VAULT;

    constructor(address vault) {
        BALANCER_VAULT = vault;
    }

    function _borrowBalancer(address token, uint256 amount, bytes calldata plan) internal {
        address[] memory tokens = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        tokens[0] = token;
        amounts[0] = amount;
        _expectLender(BALANCER_VAULT);
        IBalancerVault(BALANCER_VAULT).flashLoan(address(this), tokens, amounts, plan);
    }

    /// @notice Balancer V2 Vault flash-loan callback; repaid by transfer (the Vault does not pull).
    function receiveFlashLoan(
        address[] calldata tokens,
        uint256[] calldata amounts,
        uint256[] calldata feeAmounts,
        bytes calldata userData
    ) external {
        if (msg.sender != BALANCER_VAULT || !_takeLender(msg.sender)) {
            revert UnexpectedCallback();
        }
        if (tokens.length != 1) revert PlanMalformed();
        _runFunded(userData, tokens[0], amounts[0], feeAmounts[0]);
        TokenLib.safeTransfer(tokens[0], BALANCER_VAULT, amounts[0] + feeAmounts[0]);
    }
}
