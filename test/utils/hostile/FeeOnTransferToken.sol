// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {HostileERC20} from "./HostileERC20.sol";

/// @notice ADVERSARY, not a protocol stand-in: a token that burns `feeBps` of every transfer, so the receiver gets
///         less than the sender sent. The executor prices each step from the amount it meant to send, so a route
///         through this token must revert and lose nothing.
contract FeeOnTransferToken is HostileERC20 {
    uint256 public immutable feeBps;

    constructor(uint256 feeBps_) HostileERC20("Taxed Token", "TAX", 18) {
        feeBps = feeBps_;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        _approve(msg.sender, spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _move(msg.sender, to, amount, amount - amount * feeBps / 10_000);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        _spendAllowance(from, msg.sender, amount);
        _move(from, to, amount, amount - amount * feeBps / 10_000);
        return true;
    }
}
