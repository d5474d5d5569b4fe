// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice ERC20 calls on the hot path, in assembly. A call succeeds when it does not revert and returns either
///         a true word, or nothing from a contract (USDT-style tokens); a target without code fails (a "token"
///         that is an EOA would otherwise look successful). Reverts with `TokenCallFailed(token)` (0xfecb69b4).
///         Readable reference: test/reference/TokenLibReference.sol.
library TokenLib {
    function safeTransfer(address token, address to, uint256 amount) internal {
        _call(token, 0xa9059cbb, to, amount); // transfer(address,uint256)
    }

    function safeApprove(address token, address spender, uint256 amount) internal {
        _call(token, 0x095ea7b3, spender, amount); // approve(address,uint256)
    }

    function balanceOf(address token, address account) internal view returns (uint256 amount) {
        assembly ("memory-safe") {
            mstore(0x00, 0x70a08231) // balanceOf(address)
            mstore(0x20, account)
            let ok := staticcall(gas(), token, 0x1c, 0x24, 0x00, 0x20)
            // (Yul evaluates arguments right to left: the call must come before returndatasize is read.)
            if iszero(and(ok, gt(returndatasize(), 31))) {
                mstore(0x00, 0xfecb69b4) // TokenCallFailed(address)
                mstore(0x20, token)
                revert(0x1c, 0x24)
            }
            amount := mload(0x00)
        }
    }

    /// @dev allowance(owner, spender); same failure rule as balanceOf. Borrows the free-memory word and restores it.
    function allowance(address token, address owner, address spender) internal view returns (uint256 amount) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(0x00, 0xdd62ed3e) // allowance(address,address)
            mstore(0x20, owner)
            mstore(0x40, spender)
            let ok := staticcall(gas(), token, 0x1c, 0x44, 0x00, 0x20)
            mstore(0x40, m)
            if iszero(and(ok, gt(returndatasize(), 31))) {
                mstore(0x00, 0xfecb69b4) // TokenCallFailed(address)
                mstore(0x20, token)
                revert(0x1c, 0x24)
            }
            amount := mload(0x00)
        }
    }

    function _call(address token, uint256 selector, address who, uint256 amount) private {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, shl(224, selector))
            mstore(add(m, 0x04), who)
            mstore(add(m, 0x24), amount)
            let ok := call(gas(), token, 0, m, 0x44, 0x00, 0x20)
            if ok {
                switch returndatasize()
                case 0 { ok := gt(extcodesize(token), 0) } // only paid for tokens that return nothing
                default { ok := and(gt(returndatasize(), 31), eq(mload(0x00), 1)) }
            }
            if iszero(ok) {
                mstore(0x00, 0xfecb69b4) // TokenCallFailed(address)
                mstore(0x20, token)
                revert(0x1c, 0x24)
            }
        }
    }
}
