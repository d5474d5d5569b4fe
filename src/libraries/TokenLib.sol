// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IFlashArbExecutor} from "../interfaces/IFlashArbExecutor.sol";

/// @notice ERC20 calls on the hot path, in assembly. A call succeeds when it does not revert and returns either
///         nothing (USDT-style tokens) or a true word; a target without code fails (a "token" that is an EOA would
///         otherwise look successful). Readable reference: test/reference/TokenLibReference.sol.
library TokenLib {
    function safeTransfer(address token, address to, uint256 amount) internal {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 0xa9059cbb00000000000000000000000000000000000000000000000000000000) // transfer(address,uint256)
            mstore(add(m, 0x04), to)
            mstore(add(m, 0x24), amount)
            let ok := call(gas(), token, 0, m, 0x44, 0x00, 0x20)
            // ok && (returned true || (returned nothing && token has code))
            if iszero(
                and(
                    ok,
                    or(
                        and(eq(mload(0x00), 1), gt(returndatasize(), 31)),
                        and(iszero(returndatasize()), gt(extcodesize(token), 0))
                    )
                )
            ) {
                mstore(0x00, 0xfecb69b4) // TokenCallFailed(address)
                mstore(0x20, token)
                revert(0x1c, 0x24)
            }
        }
    }

    function safeApprove(address token, address spender, uint256 amount) internal {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 0x095ea7b300000000000000000000000000000000000000000000000000000000) // approve(address,uint256)
            mstore(add(m, 0x04), spender)
            mstore(add(m, 0x24), amount)
            let ok := call(gas(), token, 0, m, 0x44, 0x00, 0x20)
            if iszero(
                and(
                    ok,
                    or(
                        and(eq(mload(0x00), 1), gt(returndatasize(), 31)),
                        and(iszero(returndatasize()), gt(extcodesize(token), 0))
                    )
                )
            ) {
                mstore(0x00, 0xfecb69b4) // TokenCallFailed(address)
                mstore(0x20, token)
                revert(0x1c, 0x24)
            }
        }
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
}
