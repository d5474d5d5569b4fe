// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ExecutorTest} from "../utils/ExecutorTest.sol";
import {PlanBuilder} from "../utils/PlanBuilder.sol";
import {IFlashArbExecutor} from "../../src/interfaces/IFlashArbExecutor.sol";

/// @notice Routes of every shape, in every funding mode, against the real replica pools. Each test plants a
///         dislocation, predicts the exact output with the pools' own math (V2 formula, real QuoterV2), runs the
///         plan and checks the profit to the wei.
contract FlashArbExecutorRoutesTest is ExecutorTest {
    using PlanBuilder for *;

    /// @dev WETH made cheap on SushiSwap: buy WETH there with USDC, sell it on QuickSwap.
    function _crossDex2Hop(uint8 lender, uint256 amountIn) internal returns (bytes memory p, uint256 expectedOut) {
        _dislocateV2(sushiswapRouter, WETH, USDC, 300); // sell 3% of Sushi's WETH reserve
        address sushi = sushiPair(WETH, USDC);
        address quick = quickPair(WETH, USDC);
        uint256 weth = v2Out(sushi, USDC, amountIn);
        expectedOut = _v2OutAfter(quick, WETH, weth);
        p = plan(lender, USDC, amountIn, 0, PlanBuilder.steps2(sushi.v2(USDC, V2_FEE), quick.v2(WETH, V2_FEE)));
    }

    function _v2OutAfter(address pair, address tokenIn, uint256 amountIn) internal view returns (uint256) {
        return v2Out(pair, tokenIn, amountIn);
    }

    function test_execute_2hopCrossDex_capital() public {
        uint256 amountIn = 10_000e6;
        (bytes memory p, uint256 expectedOut) = _crossDex2Hop(PlanBuilder.CAPITAL, amountIn);
        _fund(USDC, amountIn);
        require(_usdcTo(address(executor), amountIn));
        uint256 before = balance(USDC, address(executor));
        uint256 profit = run(p);
        assertEq(profit, expectedOut - amountIn, "profit");
        assertEq(balance(USDC, address(executor)), before + profit, "kept");
    }

    function test_execute_2hopCrossDex_aaveSimple() public {
        uint256 amountIn = 10_000e6;
        (bytes memory p, uint256 expectedOut) = _crossDex2Hop(PlanBuilder.AAVE_SIMPLE, amountIn);
        uint256 premium = aavePremium(amountIn);
        assertGt(premium, 0, "replica premium is set");
        vm.expectEmit(address(executor));
        emit IFlashArbExecutor.RunExecuted(premium, expectedOut - amountIn - premium);
        uint256 profit = run(p);
        assertEq(profit, expectedOut - amountIn - premium);
        assertEq(balance(USDC, address(executor)), profit);
        assertEq(_allowance(USDC, address(executor), aavePool), 0, "no approval left");
    }

    function test_execute_2hopCrossDex_aaveMulti() public {
        uint256 amountIn = 10_000e6;
        (bytes memory p, uint256 expectedOut) = _crossDex2Hop(PlanBuilder.AAVE_MULTI, amountIn);
        uint256 profit = run(p);
        assertEq(profit, expectedOut - amountIn - aavePremium(amountIn));
        assertEq(_allowance(USDC, address(executor), aavePool), 0, "no approval left");
    }

    function test_execute_2hopCrossDex_balancer() public {
        uint256 amountIn = 10_000e6;
        (bytes memory p, uint256 expectedOut) = _crossDex2Hop(PlanBuilder.BALANCER, amountIn);
        uint256 vaultBefore = balance(USDC, balancerVault);
        uint256 profit = run(p);
        assertEq(profit, expectedOut - amountIn, "zero fee");
        assertEq(balance(USDC, balancerVault), vaultBefore, "vault repaid");
    }

    /// @dev Triangular V2/V3/V2: USDC -> WETH (QuickSwap) -> WMATIC (V3 0.3%) -> USDC (SushiSwap), after WMATIC
    ///      was made expensive in USDC on SushiSwap.
    function test_execute_3hopTriangular_v2v3v2_aave() public {
        _dislocateV2(sushiswapRouter, USDC, WMATIC, 300);
        uint256 amountIn = 5_000e6;
        PlanBuilder.Step[] memory s = PlanBuilder.steps3(
            quickPair(USDC, WETH).v2(USDC, V2_FEE),
            v3Pool(WETH, WMATIC, 3000).v3(WETH),
            sushiPair(WMATIC, USDC).v2(WMATIC, V2_FEE)
        );
        uint256 out = v2Out(s[0].pool, USDC, amountIn);
        out = v3Out(WETH, WMATIC, 3000, out);
        out = v2Out(s[2].pool, WMATIC, out);
        uint256 profit = out - amountIn - aavePremium(amountIn);
        assertEq(run(plan(PlanBuilder.AAVE_SIMPLE, USDC, amountIn, profit, s)), profit);
    }

    function _usdcTo(address to, uint256 amount) internal returns (bool) {
        return IERC20Like(USDC).transfer(to, amount);
    }

    function _allowance(address token, address owner_, address spender) internal view returns (uint256) {
        return IERC20Like(token).allowance(owner_, spender);
    }
}

interface IERC20Like {
    function transfer(address, uint256) external returns (bool);
    function allowance(address, address) external view returns (uint256);
}
