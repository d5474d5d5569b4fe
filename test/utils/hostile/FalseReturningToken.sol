// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {HostileERC20} from "./HostileERC20.sol";

/// @notice ADVERSARY, not a protocol stand-in: `transfer` and `transferFrom` return false and move nothing once
///         `failing` is set (approve always works). The executor must treat `false` as failure (TokenCallFailed).
contract FalseReturningToken is HostileERC20 {
    bool public failing;

    constructor() HostileERC20("False Token", "FALSE", 18) {}

    function setFailing(bool on) external {
        failing = on;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        _approve(msg.sender, spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        if (failing) return false;
        _move(msg.sender, to, amount, amount);
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        if (failing) return false;
        _spendAllowance(from, msg.sender, amount);
        _move(from, to, amount, amount);
        return true;
    }
}
