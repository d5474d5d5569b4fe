// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IFlashArbExecutor} from "../interfaces/IFlashArbExecutor.sol";

/// @notice Owner (two-step transfer), the allow-list of executors that may trigger runs (and sweep profit to
///         the configured receiver, never anywhere else), and the profit receiver.
abstract contract ExecutorAccess is IFlashArbExecutor {
    address public owner;
    address public pendingOwner;
    address public profitReceiver;
    mapping(address => bool) public isExecutor;

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner();
        _;
    }

    modifier onlyExecutorOrOwner() {
        if (!isExecutor[msg.sender] && msg.sender != owner) revert NotExecutor();
        _;
    }

    constructor(address owner_, address profitReceiver_) {
        if (owner_ == address(0) || profitReceiver_ == address(0)) revert ZeroAddress();
        owner = owner_;
        profitReceiver = profitReceiver_;
        emit OwnershipTransferred(address(0), owner_);
        emit ProfitReceiverSet(profitReceiver_);
    }

    function setExecutor(address who, bool allowed) external onlyOwner {
        if (who == address(0)) revert ZeroAddress();
        isExecutor[who] = allowed;
        emit ExecutorSet(who, allowed);
    }

    function setProfitReceiver(address receiver) external onlyOwner {
        if (receiver == address(0)) revert ZeroAddress();
        profitReceiver = receiver;
        emit ProfitReceiverSet(receiver);
    }

    function transferOwnership(address newOwner) external onlyOwner {
        pendingOwner = newOwner; // zero cancels a pending transfer
        emit OwnershipTransferStarted(msg.sender, newOwner);
    }

    function acceptOwnership() external {
        if (msg.sender != pendingOwner) revert NotPendingOwner();
        emit OwnershipTransferred(owner, msg.sender);
        owner = msg.sender;
        pendingOwner = address(0);
    }
}
