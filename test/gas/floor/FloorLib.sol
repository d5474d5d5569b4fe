// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

/// @notice The floor's raw calls: exactly the calls the protocols need, nothing decoded, nothing checked beyond a
///         failed call bubbling up (a pool or lender that reverts would make any caller revert). Token return values
///         are not checked: the pool's own balance check (V2 K, V3 balance delta) or the lender's pull enforces them.
/// @dev Every block writes at the free-memory pointer without moving it, or in scratch space.
library FloorLib {
    uint160 internal constant MIN_SQRT_RATIO_PLUS_ONE = 4295128740;
    uint160 internal constant MAX_SQRT_RATIO_MINUS_ONE = 1461446703485210103287273052203988822378723970341;

    /// @dev Equivalent to `token.transfer(to, amount)`, result ignored.
    function transfer(address token, address to, uint256 amount) internal {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 0xa9059cbb00000000000000000000000000000000000000000000000000000000) // `transfer(address,uint256)`
            mstore(add(m, 0x04), to)
            mstore(add(m, 0x24), amount)
            if iszero(call(gas(), token, 0, m, 0x44, 0x00, 0x00)) {
                returndatacopy(m, 0, returndatasize())
                revert(m, returndatasize())
            }
        }
    }

    /// @dev Equivalent to `token.approve(spender, amount)`, result ignored.
    function approve(address token, address spender, uint256 amount) internal {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 0x095ea7b300000000000000000000000000000000000000000000000000000000) // `approve(address,uint256)`
            mstore(add(m, 0x04), spender)
            mstore(add(m, 0x24), amount)
            if iszero(call(gas(), token, 0, m, 0x44, 0x00, 0x00)) {
                returndatacopy(m, 0, returndatasize())
                revert(m, returndatasize())
            }
        }
    }

    /// @dev Equivalent to: (r0, r1) = pair.getReserves(); out = getAmountOut(amountIn, rIn, rOut) at 0.30%;
    ///      pair.swap(zeroForOne ? 0 : out, zeroForOne ? out : 0, to, "").
    function swapV2(address pair, bool zeroForOne, uint256 amountIn, address to) internal returns (uint256 out) {
        assembly ("memory-safe") {
            mstore(0x00, 0x0902f1ac) // `getReserves()`
            pop(staticcall(gas(), pair, 0x1c, 0x04, 0x00, 0x40))
            let rIn := mload(0x20)
            let rOut := mload(0x00)
            if zeroForOne {
                rIn := mload(0x00)
                rOut := mload(0x20)
            }
            let inWithFee := mul(amountIn, 997)
            out := div(mul(inWithFee, rOut), add(mul(rIn, 1000), inWithFee))
            let m := mload(0x40)
            mstore(m, 0x022c0d9f00000000000000000000000000000000000000000000000000000000) // `swap(uint256,uint256,address,bytes)`
            mstore(add(m, 0x04), mul(out, iszero(zeroForOne))) // amount0Out
            mstore(add(m, 0x24), mul(out, zeroForOne)) // amount1Out
            mstore(add(m, 0x44), to) // to
            mstore(add(m, 0x64), 0x80) // data offset
            mstore(add(m, 0x84), 0) // data length
            if iszero(call(gas(), pair, 0, m, 0xa4, 0x00, 0x00)) {
                returndatacopy(m, 0, returndatasize())
                revert(m, returndatasize())
            }
        }
    }

    /// @dev Equivalent to: (a0, a1) = pool.swap(recipient, zeroForOne, int256(amountIn), no limit, "");
    ///      out = -(zeroForOne ? a1 : a0). The pool calls back `uniswapV3SwapCallback` for its payment.
    function swapV3(address pool, bool zeroForOne, uint256 amountIn, address recipient) internal returns (uint256 out) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 0x128acb0800000000000000000000000000000000000000000000000000000000) // `swap(address,bool,int256,uint160,bytes)`
            mstore(add(m, 0x04), recipient) // recipient
            mstore(add(m, 0x24), zeroForOne) // zeroForOne
            mstore(add(m, 0x44), amountIn) // amountSpecified (> 0: exact input)
            let limit := MAX_SQRT_RATIO_MINUS_ONE
            if zeroForOne { limit := MIN_SQRT_RATIO_PLUS_ONE }
            mstore(add(m, 0x64), limit) // sqrtPriceLimitX96
            mstore(add(m, 0x84), 0xa0) // data offset
            mstore(add(m, 0xa4), 0) // data length
            if iszero(call(gas(), pool, 0, m, 0xc4, 0x00, 0x40)) {
                returndatacopy(m, 0, returndatasize())
                revert(m, returndatasize())
            }
            out := sub(0, mload(mul(0x20, zeroForOne))) // the negative delta of the token bought
        }
    }

    /// @dev Equivalent to `IAaveV3Pool(pool).flashLoanSimple(address(this), asset, amount, "", 0)`.
    function aaveFlashLoanSimple(address pool, address asset, uint256 amount) internal {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 0x42b0b77c00000000000000000000000000000000000000000000000000000000) // `flashLoanSimple(address,address,uint256,bytes,uint16)`
            mstore(add(m, 0x04), address()) // receiverAddress
            mstore(add(m, 0x24), asset) // asset
            mstore(add(m, 0x44), amount) // amount
            mstore(add(m, 0x64), 0xa0) // params offset
            mstore(add(m, 0x84), 0) // referralCode
            mstore(add(m, 0xa4), 0) // params length
            if iszero(call(gas(), pool, 0, m, 0xc4, 0x00, 0x00)) {
                returndatacopy(m, 0, returndatasize())
                revert(m, returndatasize())
            }
        }
    }

    /// @dev Equivalent to `IBalancerVault(vault).flashLoan(address(this), [token], [amount], "")`.
    function balancerFlashLoan(address vault, address token, uint256 amount) internal {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 0x5c38449e00000000000000000000000000000000000000000000000000000000) // `flashLoan(address,address[],uint256[],bytes)`
            mstore(add(m, 0x04), address()) // recipient
            mstore(add(m, 0x24), 0x80) // tokens offset
            mstore(add(m, 0x44), 0xc0) // amounts offset
            mstore(add(m, 0x64), 0x100) // userData offset
            mstore(add(m, 0x84), 1) // tokens.length
            mstore(add(m, 0xa4), token) // tokens[0]
            mstore(add(m, 0xc4), 1) // amounts.length
            mstore(add(m, 0xe4), amount) // amounts[0]
            mstore(add(m, 0x104), 0) // userData.length
            if iszero(call(gas(), vault, 0, m, 0x124, 0x00, 0x00)) {
                returndatacopy(m, 0, returndatasize())
                revert(m, returndatasize())
            }
        }
    }
}
