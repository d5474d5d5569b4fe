// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {FloorLib} from "./FloorLib.sol";

/// @notice What every floor shares: the loan token, the amount, and the route (one hard-coded body per shape).
abstract contract FloorBase {
    address internal immutable TOKEN;
    uint256 internal immutable AMOUNT;

    constructor(address token, uint256 amount) {
        TOKEN = token;
        AMOUNT = amount;
    }

    /// @dev The route's pool calls with `AMOUNT` of `TOKEN` in hand; the output comes back to this contract.
    function _route() internal virtual;
}

/// @notice Aave V3 `flashLoanSimple`: borrow, run the route, approve exactly `amount + premium` for the pull.
abstract contract AaveFloor is FloorBase {
    address internal immutable AAVE;

    constructor(address aavePool) {
        AAVE = aavePool;
    }

    function run() external {
        FloorLib.aaveFlashLoanSimple(AAVE, TOKEN, AMOUNT);
    }

    function executeOperation(address, uint256, uint256 premium, address, bytes calldata) external returns (bool) {
        _route();
        unchecked {
            FloorLib.approve(TOKEN, AAVE, AMOUNT + premium);
        }
        return true;
    }
}

/// @notice Balancer V2 Vault `flashLoan`: borrow, run the route, transfer `amount + fee` back.
abstract contract BalancerFloor is FloorBase {
    address internal immutable VAULT;

    constructor(address vault) {
        VAULT = vault;
    }

    function run() external {
        FloorLib.balancerFlashLoan(VAULT, TOKEN, AMOUNT);
    }

    function receiveFlashLoan(address[] calldata, uint256[] calldata, uint256[] calldata fees, bytes calldata)
        external
    {
        _route();
        unchecked {
            FloorLib.transfer(TOKEN, VAULT, AMOUNT + fees[0]);
        }
    }
}

/// @notice Capital: the route on this contract's own balance.
abstract contract CapitalFloor is FloorBase {
    function run() external {
        _route();
    }
}
