// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ExecutorTest} from "../utils/ExecutorTest.sol";
import {PlanBuilder} from "../utils/PlanBuilder.sol";
import {IFlashArbExecutor} from "../../src/interfaces/IFlashArbExecutor.sol";
import {IERC20} from "../../src/interfaces/external/IERC20.sol";
import {IUniswapV2Pair} from "../../src/interfaces/external/IUniswapV2.sol";
import {IUniswapV3Pool, ISwapRouter} from "../../src/interfaces/external/IUniswapV3.sol";

interface IAddressesProviderACL {
    function getACLManager() external view returns (address);
}

interface IACLFlashBorrower {
    function addFlashBorrower(address borrower) external;
}

/// @notice Longer and less usual route shapes against the real replica pools, in every funding mode: 4- and 5-hop
///         mixed V2/V3 routes, a V3 first step, V3 -> V3, V3 steps with a price limit (reached and not), an 8-hop
///         route (the encoding's maximum), and flash runs on top of capital the executor already holds. Every
///         profit is predicted to the wei (V2 formula, real QuoterV2, real SwapRouter for partial fills) and the
///         plan's min profit is set to that exact prediction, so one wei off in either direction fails.
contract FlashArbExecutorHopsTest is ExecutorTest {
    using PlanBuilder for *;

    // ------------------------------------------------------------------ prediction
    /// @dev Output of `steps` from `amountIn` of `token`, step by step on the current state. Exact as long as no
    ///      pool appears twice and no V3 price limit is reached.
    function _predict(address token, uint256 amountIn, PlanBuilder.Step[] memory steps)
        internal
        returns (uint256 amount)
    {
        amount = amountIn;
        address tokenIn = token;
        for (uint256 i; i < steps.length; ++i) {
            PlanBuilder.Step memory s = steps[i];
            if (s.kind == 1) {
                amount = v2OutPips(s.pool, tokenIn, amount, s.feePips);
                tokenIn = _other(IUniswapV2Pair(s.pool).token0(), IUniswapV2Pair(s.pool).token1(), tokenIn);
            } else {
                address tokenOut = _other(IUniswapV3Pool(s.pool).token0(), IUniswapV3Pool(s.pool).token1(), tokenIn);
                amount = v3OutLimit(tokenIn, tokenOut, IUniswapV3Pool(s.pool).fee(), amount, s.sqrtPriceLimitX96);
                tokenIn = tokenOut;
            }
        }
        assertEq(tokenIn, token, "route closes on its token");
    }

    function _other(address t0, address t1, address t) internal pure returns (address) {
        return t == t0 ? t1 : t0;
    }

    /// @dev What a V3 exact-input swap with a price limit really consumes and returns: the real SwapRouter on a
    ///      snapshot that is thrown away afterwards.
    function _simulateV3(address tokenIn, address tokenOut, uint24 fee, uint256 amountIn, uint160 limit)
        internal
        returns (uint256 consumed, uint256 out)
    {
        uint256 snap = vm.snapshotState();
        _fund(tokenIn, amountIn);
        IERC20(tokenIn).approve(v3SwapRouter, amountIn);
        uint256 before = balance(tokenIn, address(this));
        out = ISwapRouter(v3SwapRouter)
            .exactInputSingle(
                ISwapRouter.ExactInputSingleParams(
                    tokenIn, tokenOut, fee, address(this), type(uint256).max, amountIn, 0, limit
                )
            );
        consumed = before - balance(tokenIn, address(this));
        vm.revertToState(snap);
    }

    /// @dev Runs `steps` funded by `lender` (capital is minted to the executor first) with min profit set to the
    ///      exact prediction; checks the return value, the RunExecuted event and the executor's balance.
    function _runExact(uint8 lender, address token, uint256 amountIn, PlanBuilder.Step[] memory steps)
        internal
        returns (uint256 profit)
    {
        uint256 out = _predict(token, amountIn, steps);
        uint256 premium =
            lender == PlanBuilder.AAVE_SIMPLE || lender == PlanBuilder.AAVE_MULTI ? aavePremiumExact(amountIn) : 0;
        assertGt(out, amountIn + premium, "the planted dislocation makes the route profitable");
        profit = out - amountIn - premium;
        if (lender == PlanBuilder.CAPITAL) fundExecutor(token, amountIn);
        uint256 before = balance(token, address(executor));
        vm.expectEmit(address(executor));
        emit IFlashArbExecutor.RunExecuted(premium, profit);
        assertEq(run(plan(lender, token, amountIn, profit, steps)), profit, "profit to the wei");
        assertEq(balance(token, address(executor)), before + profit, "kept exactly the profit");
    }

    // ------------------------------------------------------------------ 4 hops: V2 -> V3 -> V3 -> V2
    /// @dev USDC -QuickSwap-> WETH -V3 0.05%-> WMATIC -V3 1%-> USDT -SushiSwap-> USDC, with USDT made expensive
    ///      on SushiSwap. Covers V2->V3 (output to the executor), V3->V3, V3->V2 (output straight to the pair).
    function _fourHop() internal returns (PlanBuilder.Step[] memory) {
        _dislocateV2(sushiswapRouter, USDC, USDT, 300);
        return PlanBuilder.steps4(
            quickPair(USDC, WETH).v2(USDC, V2_FEE),
            v3Pool(WETH, WMATIC, 500).v3(WETH),
            v3Pool(WMATIC, USDT, 10000).v3(WMATIC),
            sushiPair(USDT, USDC).v2(USDT, V2_FEE)
        );
    }

    function test_execute_4hop_capital() public {
        _runExact(PlanBuilder.CAPITAL, USDC, 2_000e6, _fourHop());
    }

    function test_execute_4hop_aaveSimple() public {
        _runExact(PlanBuilder.AAVE_SIMPLE, USDC, 2_000e6, _fourHop());
        assertEq(IERC20(USDC).allowance(address(executor), aavePool), 0, "no approval left");
    }

    function test_execute_4hop_aaveMulti() public {
        _runExact(PlanBuilder.AAVE_MULTI, USDC, 2_000e6, _fourHop());
        assertEq(IERC20(USDC).allowance(address(executor), aavePool), 0, "no approval left");
    }

    function test_execute_4hop_balancer() public {
        uint256 vaultBefore = balance(USDC, balancerVault);
        _runExact(PlanBuilder.BALANCER, USDC, 2_000e6, _fourHop());
        assertEq(balance(USDC, balancerVault), vaultBefore, "vault repaid");
    }

    // ------------------------------------------------------------------ 5 hops: V2 -> V3 -> V2 -> V3 -> V2
    /// @dev USDC -QuickSwap-> WETH -V3 0.05%-> WBTC -SushiSwap-> USDC -V3 0.05%-> USDT -SushiSwap-> USDC, with
    ///      WBTC and USDT both made expensive in USDC on SushiSwap.
    function _fiveHop() internal returns (PlanBuilder.Step[] memory) {
        _dislocateV2(sushiswapRouter, USDC, WBTC, 300);
        _dislocateV2(sushiswapRouter, USDC, USDT, 300);
        return PlanBuilder.steps5(
            quickPair(USDC, WETH).v2(USDC, V2_FEE),
            v3Pool(WETH, WBTC, 500).v3(WETH),
            sushiPair(WBTC, USDC).v2(WBTC, V2_FEE),
            v3Pool(USDC, USDT, 500).v3(USDC),
            sushiPair(USDT, USDC).v2(USDT, V2_FEE)
        );
    }

    function test_execute_5hop_capital() public {
        _runExact(PlanBuilder.CAPITAL, USDC, 3_000e6, _fiveHop());
    }

    function test_execute_5hop_aaveSimple() public {
        _runExact(PlanBuilder.AAVE_SIMPLE, USDC, 3_000e6, _fiveHop());
    }

    function test_execute_5hop_aaveMulti() public {
        _runExact(PlanBuilder.AAVE_MULTI, USDC, 3_000e6, _fiveHop());
    }

    function test_execute_5hop_balancer() public {
        _runExact(PlanBuilder.BALANCER, USDC, 3_000e6, _fiveHop());
    }

    // ------------------------------------------------------------------ 8 hops, the maximum
    function test_execute_8hop_balancer() public {
        _dislocateV2(sushiswapRouter, USDC, USDT, 500);
        PlanBuilder.Step[] memory s = new PlanBuilder.Step[](8);
        s[0] = quickPair(USDC, WETH).v2(USDC, V2_FEE);
        s[1] = v3Pool(WETH, WMATIC, 500).v3(WETH);
        s[2] = quickPair(WMATIC, USDC).v2(WMATIC, V2_FEE);
        s[3] = v3Pool(USDC, USDT, 500).v3(USDC);
        s[4] = quickPair(USDT, WMATIC).v2(USDT, V2_FEE);
        s[5] = sushiPair(WMATIC, WETH).v2(WMATIC, V2_FEE);
        s[6] = sushiPair(WETH, USDT).v2(WETH, V2_FEE);
        s[7] = sushiPair(USDT, USDC).v2(USDT, V2_FEE);
        _runExact(PlanBuilder.BALANCER, USDC, 1_000e6, s);
    }

    // ------------------------------------------------------------------ V3 first step, V3 -> V3
    /// @dev USDC -V3 0.05%-> WETH -QuickSwap-> USDC with WETH made expensive on QuickSwap: the first step is paid
    ///      in the pool's callback, not by a transfer.
    function _v3First() internal returns (PlanBuilder.Step[] memory) {
        _dislocateV2(quickswapRouter, USDC, WETH, 200);
        return PlanBuilder.steps2(v3Pool(WETH, USDC, 500).v3(USDC), quickPair(WETH, USDC).v2(WETH, V2_FEE));
    }

    function test_execute_v3FirstStep_capital() public {
        _runExact(PlanBuilder.CAPITAL, USDC, 20_000e6, _v3First());
    }

    function test_execute_v3FirstStep_aaveSimple() public {
        _runExact(PlanBuilder.AAVE_SIMPLE, USDC, 20_000e6, _v3First());
    }

    /// @dev USDC -V3 0.05%-> WETH -V3 0.30%-> USDC, after someone bought WETH hard on the 0.30% pool.
    function _v3ToV3() internal returns (PlanBuilder.Step[] memory) {
        _dislocateV3(USDC, WETH, 3000, 150_000e6);
        return PlanBuilder.steps2(v3Pool(WETH, USDC, 500).v3(USDC), v3Pool(WETH, USDC, 3000).v3(WETH));
    }

    function test_execute_v3ToV3_balancer() public {
        _runExact(PlanBuilder.BALANCER, USDC, 10_000e6, _v3ToV3());
    }

    function test_execute_v3ToV3_aaveMulti() public {
        _runExact(PlanBuilder.AAVE_MULTI, USDC, 10_000e6, _v3ToV3());
    }

    /// @dev A V3-only triangle in the other token order: WETH -> USDC -> WMATIC -> WETH, borrowed in WETH.
    function test_execute_v3Triangle_wethLoan_aaveSimple() public {
        _dislocateV3(WETH, WMATIC, 3000, 60e18); // WMATIC cheap in WETH on the 0.30% pool
        PlanBuilder.Step[] memory s = PlanBuilder.steps3(
            v3Pool(WETH, USDC, 500).v3(WETH), v3Pool(USDC, WMATIC, 500).v3(USDC), v3Pool(WMATIC, WETH, 3000).v3(WMATIC)
        );
        _runExact(PlanBuilder.AAVE_SIMPLE, WETH, 3e18, s);
    }

    // ------------------------------------------------------------------ V3 price limits
    function _limitTowardsSwap(address pool, address tokenIn, uint256 bps) internal view returns (uint160) {
        (uint160 sqrtP,,,,,,) = IUniswapV3Pool(pool).slot0();
        bool zeroForOne = IUniswapV3Pool(pool).token0() == tokenIn;
        return zeroForOne
            ? uint160(uint256(sqrtP) * (10_000 - bps) / 10_000)
            : uint160(uint256(sqrtP) * (10_000 + bps) / 10_000);
    }

    /// @dev The first step stops at its price limit: it consumes only part of the input, the rest never leaves the
    ///      executor, and the profit is the second step's output minus what the first step really took.
    function _partialFirstStep(uint8 lender) internal {
        uint256 amountIn = 200_000e6;
        _dislocateV2(quickswapRouter, USDC, WETH, 200);
        address pool = v3Pool(WETH, USDC, 500);
        uint160 limit = _limitTowardsSwap(pool, USDC, 5); // 0.05% in sqrt price, about 10 ticks
        (uint256 consumed, uint256 weth) = _simulateV3(USDC, WETH, 500, amountIn, limit);
        assertLt(consumed, amountIn, "the limit is reached: partial fill");
        assertGt(consumed, 0);
        address quick = quickPair(WETH, USDC);
        uint256 profit = v2Out(quick, WETH, weth) - consumed;
        PlanBuilder.Step[] memory s = PlanBuilder.steps2(pool.v3Limit(USDC, limit), quick.v2(WETH, V2_FEE));
        if (lender == PlanBuilder.CAPITAL) fundExecutor(USDC, amountIn);
        uint256 before = balance(USDC, address(executor));
        assertEq(run(plan(lender, USDC, amountIn, profit, s)), profit);
        assertEq(balance(USDC, address(executor)), before + profit, "the unspent input stayed");
        assertEq(balance(WETH, address(executor)), 0, "the whole first-step output went on");
    }

    function test_execute_v3PriceLimitFirstStepPartialFill_capital() public {
        _partialFirstStep(PlanBuilder.CAPITAL);
    }

    function test_execute_v3PriceLimitFirstStepPartialFill_balancer() public {
        _partialFirstStep(PlanBuilder.BALANCER);
    }

    /// @dev A limit the swap never reaches changes nothing: same profit as without a limit.
    function test_execute_v3PriceLimitMidRouteNotReached_aaveSimple() public {
        _dislocateV3(USDC, WETH, 3000, 150_000e6);
        address p3000 = v3Pool(WETH, USDC, 3000);
        uint160 far = _limitTowardsSwap(p3000, WETH, 2_000); // 20% away
        PlanBuilder.Step[] memory s =
            PlanBuilder.steps2(quickPair(USDC, WETH).v2(USDC, V2_FEE), p3000.v3Limit(WETH, far));
        _runExact(PlanBuilder.AAVE_SIMPLE, USDC, 10_000e6, s);
    }

    /// @dev A limit reached mid-route leaves part of the intermediate token unsold; it is not counted as profit,
    ///      so the run misses by exactly input - output (and the shortfall is what the bot sees).
    function test_execute_v3PriceLimitMidRoutePartialFill_revertsExactShortfall() public {
        _dislocateV3(USDC, WETH, 3000, 150_000e6);
        uint256 amountIn = 100_000e6;
        address quick = quickPair(USDC, WETH);
        address p3000 = v3Pool(WETH, USDC, 3000);
        uint160 limit = _limitTowardsSwap(p3000, WETH, 5);
        uint256 weth = v2Out(quick, USDC, amountIn);
        (uint256 consumed, uint256 out) = _simulateV3(WETH, USDC, 3000, weth, limit);
        assertLt(consumed, weth, "partial fill");
        assertLt(out, amountIn);
        bytes memory p = plan(
            PlanBuilder.BALANCER,
            USDC,
            amountIn,
            0,
            PlanBuilder.steps2(quick.v2(USDC, V2_FEE), p3000.v3Limit(WETH, limit))
        );
        vm.prank(bot);
        vm.expectRevert(abi.encodeWithSelector(IFlashArbExecutor.InsufficientProfit.selector, amountIn - out));
        executor.execute(p);
    }

    // ------------------------------------------------------------------ capital + flash
    /// @dev The executor already holds capital in the loan token: a flash run neither touches it nor counts it.
    function test_execute_flashOnTopOfCapital_aaveSimple() public {
        fundExecutor(USDC, 50_000e6);
        uint256 profit = _runExact(PlanBuilder.AAVE_SIMPLE, USDC, 2_000e6, _fourHop());
        assertEq(balance(USDC, address(executor)), 50_000e6 + profit);
    }

    function test_execute_flashOnTopOfCapital_balancer() public {
        fundExecutor(USDC, 50_000e6);
        fundExecutor(WETH, 10e18);
        uint256 profit = _runExact(PlanBuilder.BALANCER, USDC, 3_000e6, _fiveHop());
        assertEq(balance(USDC, address(executor)), 50_000e6 + profit);
        assertEq(balance(WETH, address(executor)), 10e18, "intermediate-token holdings untouched");
    }

    /// @dev Capital mode spends only amountIn of a larger balance and keeps the rest.
    function test_execute_capitalWithSurplusBalance() public {
        fundExecutor(USDC, 40_000e6); // _runExact adds amountIn on top
        uint256 profit = _runExact(PlanBuilder.CAPITAL, USDC, 20_000e6, _v3First());
        assertEq(balance(USDC, address(executor)), 60_000e6 + profit);
    }

    /// @dev Aave waives the multi-asset premium for an authorised flash borrower; the run sees premium 0.
    function test_execute_aaveMultiPremiumWaivedForFlashBorrower() public {
        IACLFlashBorrower(IAddressesProviderACL(aaveProvider).getACLManager()).addFlashBorrower(address(executor));
        PlanBuilder.Step[] memory s = _fourHop();
        uint256 amountIn = 2_000e6;
        uint256 profit = _predict(USDC, amountIn, s) - amountIn;
        vm.expectEmit(address(executor));
        emit IFlashArbExecutor.RunExecuted(0, profit);
        assertEq(run(plan(PlanBuilder.AAVE_MULTI, USDC, amountIn, profit, s)), profit);
    }
}
