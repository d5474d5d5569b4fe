// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice Uniswap V2 pair and V3 pool calls, and the Aave V3 liquidation, on the hot path, in assembly; a revert
///         inside a pool is bubbled up unchanged so the bot sees the pool's own reason. Readable reference: test/reference/PoolLibReference.sol.
library PoolLib {
    // TickMath.MIN_SQRT_RATIO + 1 and MAX_SQRT_RATIO - 1: "no limit" for a V3 exact-input swap.
    uint160 internal constant MIN_SQRT_RATIO_PLUS_ONE = 4295128740;
    uint160 internal constant MAX_SQRT_RATIO_MINUS_ONE = 1461446703485210103287273052203988822378723970341;

    function getReserves(address pair) internal view returns (uint256 reserve0, uint256 reserve1) {
        assembly ("memory-safe") {
            mstore(0x00, 0x0902f1ac) // getReserves()
            let ok := staticcall(gas(), pair, 0x1c, 0x04, 0x00, 0x40)
            if iszero(and(ok, gt(returndatasize(), 63))) {
                mstore(0x00, 0xbe92a6e9) // PoolCallFailed(address)
                mstore(0x20, pair)
                revert(0x1c, 0x24)
            }
            reserve0 := mload(0x00)
            reserve1 := mload(0x20)
        }
    }

    /// @dev UniswapV2Pair.swap(amount0Out, amount1Out, to, "") with no flash-swap data.
    function swapV2(address pair, uint256 amount0Out, uint256 amount1Out, address to) internal {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 0x022c0d9f00000000000000000000000000000000000000000000000000000000) // swap(uint256,uint256,address,bytes)
            mstore(add(m, 0x04), amount0Out)
            mstore(add(m, 0x24), amount1Out)
            mstore(add(m, 0x44), to)
            mstore(add(m, 0x64), 0x80)
            mstore(add(m, 0x84), 0)
            if iszero(call(gas(), pair, 0, m, 0xa4, 0, 0)) {
                returndatacopy(m, 0, returndatasize())
                revert(m, returndatasize())
            }
        }
    }

    /// @dev UniswapV3Pool.swap(recipient, zeroForOne, amountIn, limit, "") as an exact-input swap; returns what the
    ///      pool reports sending out. The callback's payment details live in transient storage, not in `data`.
    function swapV3(address pool, address recipient, bool zeroForOne, uint256 amountIn, uint160 limit)
        internal
        returns (uint256 amountOut)
    {
        assembly ("memory-safe") {
            if iszero(limit) {
                limit := 1461446703485210103287273052203988822378723970341
                if zeroForOne { limit := 4295128740 }
            }
            let m := mload(0x40)
            mstore(m, 0x128acb0800000000000000000000000000000000000000000000000000000000) // swap(address,bool,int256,uint160,bytes)
            mstore(add(m, 0x04), recipient)
            mstore(add(m, 0x24), zeroForOne)
            mstore(add(m, 0x44), amountIn)
            mstore(add(m, 0x64), limit)
            mstore(add(m, 0x84), 0xa0)
            mstore(add(m, 0xa4), 0)
            if iszero(call(gas(), pool, 0, m, 0xc4, 0x00, 0x40)) {
                returndatacopy(m, 0, returndatasize())
                revert(m, returndatasize())
            }
            // The output is the negative delta of the token bought; a positive one is no V3 pool's answer (zero
            // output from a real pool is left to the economic checks downstream).
            let delta := mload(mul(0x20, zeroForOne))
            if or(lt(returndatasize(), 64), sgt(delta, 0)) {
                mstore(0x00, 0xbe92a6e9) // PoolCallFailed(address)
                mstore(0x20, pool)
                revert(0x1c, 0x24)
            }
            amountOut := sub(0, delta)
        }
    }

    /// @dev Aave V3 Pool.liquidationCall(collateral, debt, user, debtToCover, receiveAToken = false): the Pool pulls
    ///      at most `debtToCover` of `debt` from this contract and sends it the seized `collateral`. Aave's revert
    ///      (its numeric error string) is bubbled up unchanged.
    function liquidationCall(address pool, address collateral, address debt, address user, uint256 debtToCover)
        internal
    {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 0x00a718a900000000000000000000000000000000000000000000000000000000) // liquidationCall(address,address,address,uint256,bool)
            mstore(add(m, 0x04), collateral)
            mstore(add(m, 0x24), debt)
            mstore(add(m, 0x44), user)
            mstore(add(m, 0x64), debtToCover)
            mstore(add(m, 0x84), 0) // receiveAToken: the underlying, so the next step can sell it
            if iszero(call(gas(), pool, 0, m, 0xa4, 0, 0)) {
                returndatacopy(m, 0, returndatasize())
                revert(m, returndatasize())
            }
        }
    }
}
