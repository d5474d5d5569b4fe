// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IUniswapV2Pair} from "../../src/interfaces/external/IUniswapV2.sol";
import {IUniswapV3Pool} from "../../src/interfaces/external/IUniswapV3.sol";

/// @notice Builds plans (docs/route-encoding.md) for tests, written plainly with abi.encodePacked: a second,
///         independent encoder that the assembly decoder is checked against.
library PlanBuilder {
    uint8 internal constant CAPITAL = 0;
    uint8 internal constant AAVE_SIMPLE = 1;
    uint8 internal constant AAVE_MULTI = 2;
    uint8 internal constant BALANCER = 3;
    uint8 internal constant KIND_LIQUIDATION = 3;

    struct Step {
        uint8 kind; // 1 V2, 2 V3, 3 Aave V3 liquidation
        address pool; // liquidation: the collateral asset
        bool zeroForOne;
        uint24 feePips; // V2
        address tokenIn; // V3; liquidation: the user
        uint160 sqrtPriceLimitX96; // V3, 0 = none
    }

    function v2(address pair, address tokenIn, uint24 feePips) internal view returns (Step memory s) {
        s.kind = 1;
        s.pool = pair;
        s.zeroForOne = IUniswapV2Pair(pair).token0() == tokenIn;
        s.feePips = feePips;
    }

    function v3(address pool, address tokenIn) internal view returns (Step memory s) {
        s.kind = 2;
        s.pool = pool;
        s.zeroForOne = IUniswapV3Pool(pool).token0() == tokenIn;
        s.tokenIn = tokenIn;
    }

    function encode(
        uint8 lender,
        uint32 deadline,
        address token,
        uint128 amountIn,
        uint128 minProfit,
        Step[] memory steps
    ) internal pure returns (bytes memory plan) {
        plan = abi.encodePacked(uint8(1), lender, uint8(steps.length), deadline, token, amountIn, minProfit);
        for (uint256 i; i < steps.length; ++i) {
            plan = bytes.concat(plan, encodeStep(steps[i]));
        }
    }

    function encodeStep(Step memory s) internal pure returns (bytes memory) {
        uint8 op = s.kind | (s.zeroForOne ? 0x80 : 0);
        if (s.kind == KIND_LIQUIDATION) return abi.encodePacked(op, s.pool, s.tokenIn);
        if (s.kind == 1) return abi.encodePacked(op, s.pool, s.feePips);
        if (s.sqrtPriceLimitX96 == 0) return abi.encodePacked(op, s.pool, s.tokenIn);
        return abi.encodePacked(op | 0x40, s.pool, s.tokenIn, s.sqrtPriceLimitX96);
    }

    function steps2(Step memory a, Step memory b) internal pure returns (Step[] memory s) {
        s = new Step[](2);
        (s[0], s[1]) = (a, b);
    }

    function steps3(Step memory a, Step memory b, Step memory c) internal pure returns (Step[] memory s) {
        s = new Step[](3);
        (s[0], s[1], s[2]) = (a, b, c);
    }

    function steps4(Step memory a, Step memory b, Step memory c, Step memory d)
        internal
        pure
        returns (Step[] memory s)
    {
        s = new Step[](4);
        (s[0], s[1], s[2], s[3]) = (a, b, c, d);
    }

    function steps5(Step memory a, Step memory b, Step memory c, Step memory d, Step memory e)
        internal
        pure
        returns (Step[] memory s)
    {
        s = new Step[](5);
        (s[0], s[1], s[2], s[3], s[4]) = (a, b, c, d, e);
    }

    /// @dev A V3 step with an explicit sqrtPriceLimitX96 (op bit 6).
    function v3Limit(address pool, address tokenIn, uint160 sqrtPriceLimitX96) internal view returns (Step memory s) {
        s = v3(pool, tokenIn);
        s.sqrtPriceLimitX96 = sqrtPriceLimitX96;
    }

    /// @dev A V3 step for a pool that may not answer token0() (an EOA, an adversary): direction given explicitly.
    function v3Raw(address pool, address tokenIn, bool zeroForOne) internal pure returns (Step memory s) {
        s.kind = 2;
        s.pool = pool;
        s.zeroForOne = zeroForOne;
        s.tokenIn = tokenIn;
    }

    /// @dev A V2 step for a pair that may not answer token0(): direction given explicitly.
    function v2Raw(address pair, bool zeroForOne, uint24 feePips) internal pure returns (Step memory s) {
        s.kind = 1;
        s.pool = pair;
        s.zeroForOne = zeroForOne;
        s.feePips = feePips;
    }

    /// @dev An Aave V3 liquidation step (kind 3): repay the plan token's debt of `user`, seize `collateral`.
    function liquidation(address collateral, address user) internal pure returns (Step memory s) {
        s.kind = KIND_LIQUIDATION;
        s.pool = collateral;
        s.tokenIn = user;
    }
}
