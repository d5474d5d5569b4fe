// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IFlashArbExecutor} from "../../src/interfaces/IFlashArbExecutor.sol";
import {IUniswapV2Pair} from "../../src/interfaces/external/IUniswapV2.sol";
import {IUniswapV3Pool} from "../../src/interfaces/external/IUniswapV3.sol";

/// @notice Readable reference for src/libraries/PoolLib.sol through the pools' interfaces.
library PoolLibReference {
    uint160 internal constant MIN_SQRT_RATIO_PLUS_ONE = 4295128740;
    uint160 internal constant MAX_SQRT_RATIO_MINUS_ONE = 1461446703485210103287273052203988822378723970341;

    function getReserves(address pair) internal view returns (uint256 reserve0, uint256 reserve1) {
        if (pair.code.length == 0) revert IFlashArbExecutor.PoolCallFailed(pair);
        (uint112 r0, uint112 r1,) = IUniswapV2Pair(pair).getReserves();
        return (r0, r1);
    }

    function swapV2(address pair, uint256 amount0Out, uint256 amount1Out, address to) internal {
        IUniswapV2Pair(pair).swap(amount0Out, amount1Out, to, "");
    }

    function swapV3(address pool, address recipient, bool zeroForOne, uint256 amountIn, uint160 limit)
        internal
        returns (uint256 amountOut)
    {
        if (limit == 0) limit = zeroForOne ? MIN_SQRT_RATIO_PLUS_ONE : MAX_SQRT_RATIO_MINUS_ONE;
        (int256 amount0, int256 amount1) = IUniswapV3Pool(pool).swap(recipient, zeroForOne, int256(amountIn), limit, "");
        int256 delta = zeroForOne ? amount1 : amount0;
        if (delta > 0) revert IFlashArbExecutor.PoolCallFailed(pool);
        return uint256(-delta);
    }
}
