// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IAaveV3Pool} from "../interfaces/external/IAaveV3.sol";
import {TokenLib} from "../libraries/TokenLib.sol";
import {LenderBase} from "./LenderBase.sol";

/// @notice Aave V3 flash loans: `flashLoanSimple` and the multi-asset `flashLoan` (one asset; its premium is
///         waived for authorised flash borrowers). The Pool pulls `amount + premium` after the callback, so the
///         only approval ever given is that exact amount, to the Pool, consumed in the same transaction.
abstract contract AaveV3Lender is LenderBase {
    address public immutable AAVE_POOL;

    constructor(address aavePool) {
        AAVE_POOL = aavePool;
    }

    function _borrowAaveSimple(address token, uint256 amount, bytes calldata plan) internal {
        _expectLender(AAVE_POOL);
        IAaveV3Pool(AAVE_POOL).flashLoanSimple(address(this), token, amount, plan, 0);
    }

    function _borrowAaveMulti(address token, uint256 amount, bytes calldata plan) internal {
        address[] memory assets = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        uint256[] memory modes = new uint256[](1); // 0: repay in this transaction, open no debt
        assets[0] = token;
        amounts[0] = amount;
        _expectLender(AAVE_POOL);
        IAaveV3Pool(AAVE_POOL).flashLoan(address(this), assets, amounts, modes, address(this), plan, 0);
    }

    /// @notice Aave V3 `flashLoanSimple` callback.
    function executeOperation(address asset, uint256 amount, uint256 premium, address initiator, bytes calldata params)
        external
        returns (bool)
    {
        _checkAaveCallback(initiator);
        _runFunded(params, asset, amount, premium);
        TokenLib.safeApprove(asset, AAVE_POOL, amount + premium);
        return true;
    }

    /// @notice Aave V3 multi-asset `flashLoan` callback (plans borrow exactly one asset).
    function executeOperation(
        address[] calldata assets,
        uint256[] calldata amounts,
        uint256[] calldata premiums,
        address initiator,
        bytes calldata params
    ) external returns (bool) {
        _checkAaveCallback(initiator);
        if (assets.length != 1) revert PlanMalformed();
        _runFunded(params, assets[0], amounts[0], premiums[0]);
        TokenLib.safeApprove(assets[0], AAVE_POOL, amounts[0] + premiums[0]);
        return true;
    }

    function _checkAaveCallback(address initiator) private {
        if (msg.sender != AAVE_POOL || !_takeLender(msg.sender)) revert UnexpectedCallback();
        if (initiator != address(this)) revert UntrustedInitiator();
    }
}
