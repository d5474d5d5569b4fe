// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IFlashArbExecutor} from "../../src/interfaces/IFlashArbExecutor.sol";
import {IUniswapV2Pair} from "../../src/interfaces/external/IUniswapV2.sol";
import {IUniswapV3Pool} from "../../src/interfaces/external/IUniswapV3.sol";
import {IAaveV3Pool} from "../../src/interfaces/external/IAaveV3.sol";

/// @notice Readable reference for src/libraries/PoolLib.sol through the pools' (and the Aave Pool's) interfaces.
library PoolLibReference {
    uint160 internal constant MIN_SQRT_RATIO_PLUS_ONE = 4295128740;
    uint160 internal constant MAX_SQRT_RATIO_MINUS_ONE = 1461446703485210103287273052203988822378723970341;

    function getReserves(address pair) internal view returns (uint256 reserve0, uint256 reserve1) {
        // Low level, like the assembly: a call that fails or returns under two words is PoolCallFailed (a contract
        // that answers with less, or an address without code), and the two words are read whole.
        (bool ok, bytes memory ret) = pair.staticcall(abi.encodeCall(IUniswapV2Pair.getReserves, ()));
        if (!ok || ret.length < 64) revert IFlashArbExecutor.PoolCallFailed(pair);
        (reserve0, reserve1) = abi.decode(ret, (uint256, uint256));
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

    /// @dev A plain low-level call so an Aave Pool (or a target without code) is treated as the assembly does:
    ///      any revert data comes back unchanged, and no code-size check.
    function liquidationCall(address pool, address collateral, address debt, address user, uint256 debtToCover)
        internal
    {
        (bool ok, bytes memory ret) =
            pool.call(abi.encodeCall(IAaveV3Pool.liquidationCall, (collateral, debt, user, debtToCover, false)));
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 0x20), mload(ret))
            }
        }
    }
}
