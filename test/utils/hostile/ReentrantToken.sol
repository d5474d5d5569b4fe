// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {HostileERC20} from "./HostileERC20.sol";

/// @notice ADVERSARY, not a protocol stand-in: an ERC20 that, on its next `shots` transfers, calls an arbitrary
///         target (the executor, a lender, a pool) from inside the transfer, the way a malicious or hooked token
///         (ERC777-style) would. It records the outcome of its last hook and either swallows a failed hook (so the
///         surrounding run goes on and the test can check what the re-entry got) or bubbles it.
contract ReentrantToken is HostileERC20 {
    address public hookTarget;
    bytes public hookData;
    bool public hookBubbles;
    uint256 public hookShots;

    uint256 public hookCalls;
    uint256 public hookSuccesses;
    bool public lastHookOk;
    bytes public lastHookReturn;

    constructor(string memory symbol_, uint8 decimals_) HostileERC20("Reentrant Token", symbol_, decimals_) {}

    /// @notice Fires `data` at `target` on each of the next `shots` transfers.
    function arm(address target, bytes calldata data, bool bubbles, uint256 shots) external {
        hookTarget = target;
        hookData = data;
        hookBubbles = bubbles;
        hookShots = shots;
    }

    function approve(address spender, uint256 amount) external returns (bool) {
        _approve(msg.sender, spender, amount);
        return true;
    }

    function transfer(address to, uint256 amount) external returns (bool) {
        _move(msg.sender, to, amount, amount);
        _hook();
        return true;
    }

    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        _spendAllowance(from, msg.sender, amount);
        _move(from, to, amount, amount);
        _hook();
        return true;
    }

    function _hook() private {
        if (hookShots == 0) return;
        --hookShots;
        ++hookCalls;
        (bool ok, bytes memory ret) = hookTarget.call(hookData);
        lastHookOk = ok;
        lastHookReturn = ret;
        if (ok) ++hookSuccesses;
        if (!ok && hookBubbles) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }
}
