// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ExecutorTest} from "../utils/ExecutorTest.sol";
import {PlanBuilder} from "../utils/PlanBuilder.sol";
import {AaveBorrowers} from "../utils/AaveBorrowers.sol";
import {ReentrantToken} from "../utils/hostile/ReentrantToken.sol";
import {IFlashArbExecutor} from "../../src/interfaces/IFlashArbExecutor.sol";
import {IERC20} from "../../src/interfaces/external/IERC20.sol";
import {IAaveV3Pool} from "../../src/interfaces/external/IAaveV3.sol";

/// @notice The Aave V3 liquidation step (kind 3) against the replica's real Aave Pool: a WETH-collateral USDC
///         borrower pushed under HF 1 by the replica's PriceOracle, liquidated with every lender and sold back
///         through real V2 and V3 pools; every number (debt taken, collateral seized, swap-back output, profit) is
///         predicted with Aave's and the pools' own arithmetic before the run and checked to the wei.
contract LiquidationTest is ExecutorTest {
    using PlanBuilder for *;

    AaveBorrowers.Position internal pos;
    uint256 internal constant COVER = 8_000e6; // below the 50% close factor of a ~20,790 USDC debt

    function setUp() public override {
        super.setUp();
        // 10 WETH ($30,000) supplied, 99% of the max borrowed (~20,790 USDC): HF ~1.08.
        pos = _borrower("borrower", WETH, 10e18, USDC);
        AaveBorrowers.pushHealthFactor(aavePool, aaveOracle, pos, 0.97e18); // HF 0.97: close factor 50%
    }

    function _borrower(string memory label, address collateral, uint256 supplied, address debt)
        internal
        returns (AaveBorrowers.Position memory)
    {
        return AaveBorrowers.open(aavePool, aaveOracle, label, collateral, supplied, debt, 9_900, WMATIC);
    }

    // ------------------------------------------------------------------ helpers
    function _liq() internal view returns (PlanBuilder.Step memory) {
        return PlanBuilder.liquidation(pos.collateral, pos.user);
    }

    function _premium(uint8 lender, uint256 amount) internal view returns (uint256) {
        return lender == PlanBuilder.AAVE_SIMPLE || lender == PlanBuilder.AAVE_MULTI ? aavePremiumExact(amount) : 0;
    }

    /// @dev Runs a liquidation + V2 swap-back (QuickSwap WETH/USDC) with min profit = the predicted profit, and
    ///      checks the event, the profit, the leftover allowance and the borrower's debt.
    function _runV2(uint8 lender, uint256 cover) internal returns (uint256 profit) {
        address pair = quickPair(WETH, USDC);
        (uint256 taken, uint256 seized) = AaveBorrowers.quote(aavePool, aaveOracle, pos, cover);
        uint256 out = v2Out(pair, WETH, seized);
        uint256 want = out - taken - _premium(lender, cover);
        profit = _runExpect(lender, cover, want, taken, seized, PlanBuilder.steps2(_liq(), pair.v2(WETH, V2_FEE)));
    }

    function _runExpect(
        uint8 lender,
        uint256 cover,
        uint256 want,
        uint256 taken,
        uint256 seized,
        PlanBuilder.Step[] memory steps
    ) internal returns (uint256 profit) {
        if (lender == PlanBuilder.CAPITAL) fundExecutor(USDC, cover);
        uint256 debtBefore = AaveBorrowers.debtOf(aavePool, pos.user, USDC);
        uint256 usdcBefore = balance(USDC, address(executor));
        uint256 wethBefore = balance(WETH, address(executor));
        vm.expectEmit(true, true, true, true, aavePool);
        emit IAaveV3Pool.LiquidationCall(WETH, USDC, pos.user, taken, seized, address(executor), false);
        vm.expectEmit(address(executor));
        emit IFlashArbExecutor.RunExecuted(_premium(lender, cover), want);
        profit = run(plan(lender, USDC, cover, want, steps));
        assertEq(profit, want, "exact profit");
        assertEq(balance(USDC, address(executor)), usdcBefore + want, "profit held in the loan token");
        assertEq(balance(WETH, address(executor)), wethBefore, "all seized collateral sold");
        assertEq(IERC20(USDC).allowance(address(executor), aavePool), 0, "no allowance left");
        assertEq(AaveBorrowers.debtOf(aavePool, pos.user, USDC), debtBefore - taken, "borrower's debt reduced");
        assertGt(want, 0);
    }

    // ------------------------------------------------------------------ every lender, V2 swap-back
    function test_liquidation_capital_v2SwapBack() public {
        _runV2(PlanBuilder.CAPITAL, COVER);
    }

    function test_liquidation_aaveSimple_v2SwapBack() public {
        _runV2(PlanBuilder.AAVE_SIMPLE, COVER);
    }

    function test_liquidation_aaveMulti_v2SwapBack() public {
        _runV2(PlanBuilder.AAVE_MULTI, COVER);
    }

    function test_liquidation_balancer_v2SwapBack() public {
        _runV2(PlanBuilder.BALANCER, COVER);
    }

    // ------------------------------------------------------------------ V3 and multi-hop swap-backs
    function _runV3(uint8 lender) internal {
        (uint256 taken, uint256 seized) = AaveBorrowers.quote(aavePool, aaveOracle, pos, COVER);
        uint256 out = v3Out(WETH, USDC, 500, seized);
        PlanBuilder.Step[] memory steps = PlanBuilder.steps2(_liq(), v3Pool(WETH, USDC, 500).v3(WETH));
        _runExpect(lender, COVER, out - taken - _premium(lender, COVER), taken, seized, steps);
    }

    function test_liquidation_capital_v3SwapBack() public {
        _runV3(PlanBuilder.CAPITAL);
    }

    function test_liquidation_aaveSimple_v3SwapBack() public {
        _runV3(PlanBuilder.AAVE_SIMPLE);
    }

    function test_liquidation_balancer_v3SwapBack() public {
        _runV3(PlanBuilder.BALANCER);
    }

    /// @dev Liquidation, then WETH -> WMATIC on V3 0.30%, then WMATIC -> USDC on SushiSwap.
    function test_liquidation_balancer_threeStepSwapBack() public {
        (uint256 taken, uint256 seized) = AaveBorrowers.quote(aavePool, aaveOracle, pos, COVER);
        uint256 mid = v3Out(WETH, WMATIC, 3000, seized);
        address sushi = sushiPair(WMATIC, USDC);
        uint256 out = v2Out(sushi, WMATIC, mid);
        PlanBuilder.Step[] memory steps =
            PlanBuilder.steps3(_liq(), v3Pool(WETH, WMATIC, 3000).v3(WETH), sushi.v2(WMATIC, V2_FEE));
        _runExpect(PlanBuilder.BALANCER, COVER, out - taken, taken, seized, steps);
    }

    // ------------------------------------------------------------------ close factor
    /// @dev debtToCover above the 50% close factor: Aave takes only half the debt, the rest of the loan stays in
    ///      the executor and counts in the final balance, and the unused allowance is cleared.
    function test_liquidation_closeFactorCaps_leftoverCounted_allowanceReset() public {
        uint256 debt = AaveBorrowers.debtOf(aavePool, pos.user, USDC);
        uint256 cover = debt * 3 / 4;
        (uint256 taken,) = AaveBorrowers.quote(aavePool, aaveOracle, pos, cover);
        assertEq(taken, (debt * 5_000 + 5_000) / 10_000, "capped at 50%");
        assertLt(taken, cover);
        _runV2(PlanBuilder.AAVE_SIMPLE, cover); // checks the allowance is back to 0 and the profit exact
    }

    /// @dev Below HF 0.95 the close factor is 100%: the whole debt can go in one step.
    function test_liquidation_fullCloseFactor_wholeDebt() public {
        AaveBorrowers.pushHealthFactor(aavePool, aaveOracle, pos, 0.9e18);
        uint256 debt = AaveBorrowers.debtOf(aavePool, pos.user, USDC);
        (uint256 taken,) = AaveBorrowers.quote(aavePool, aaveOracle, pos, debt + 1_000e6);
        assertEq(taken, debt);
        _runV2(PlanBuilder.BALANCER, debt + 1_000e6);
        assertEq(AaveBorrowers.debtOf(aavePool, pos.user, USDC), 0, "debt cleared");
    }

    // ------------------------------------------------------------------ reverts
    function test_liquidation_healthyBorrower_bubblesAaveError() public {
        AaveBorrowers.Position memory healthy = _borrower("healthy", WETH, 10e18, USDC);
        PlanBuilder.Step[] memory steps =
            PlanBuilder.steps2(PlanBuilder.liquidation(WETH, healthy.user), quickPair(WETH, USDC).v2(WETH, V2_FEE));
        fundExecutor(USDC, COVER);
        vm.expectRevert(bytes("45")); // HEALTH_FACTOR_NOT_BELOW_THRESHOLD, Aave's own reason, unchanged
        run(plan(PlanBuilder.CAPITAL, USDC, COVER, 0, steps));
        vm.expectRevert(bytes("45")); // through a lender too
        run(plan(PlanBuilder.AAVE_SIMPLE, USDC, COVER, 0, steps));
        vm.expectRevert(bytes("45"));
        run(plan(PlanBuilder.BALANCER, USDC, COVER, 0, steps));
    }

    function test_liquidation_minProfitNotMet_exactShortfall() public {
        address pair = quickPair(WETH, USDC);
        (uint256 taken, uint256 seized) = AaveBorrowers.quote(aavePool, aaveOracle, pos, COVER);
        uint256 profit = v2Out(pair, WETH, seized) - taken - aavePremiumExact(COVER);
        bytes memory p =
            plan(PlanBuilder.AAVE_SIMPLE, USDC, COVER, profit + 123, PlanBuilder.steps2(_liq(), pair.v2(WETH, 3000)));
        vm.expectRevert(abi.encodeWithSelector(IFlashArbExecutor.InsufficientProfit.selector, 123));
        run(p);
    }

    function test_liquidation_notFirst_planMalformed() public {
        address pair = quickPair(WETH, USDC);
        PlanBuilder.Step[] memory steps = PlanBuilder.steps3(pair.v2(USDC, 3000), _liq(), pair.v2(WETH, 3000));
        vm.expectRevert(IFlashArbExecutor.PlanMalformed.selector);
        run(plan(PlanBuilder.BALANCER, USDC, COVER, 0, steps));
    }

    function test_liquidation_collateralIsTheDebtAsset_planMalformed() public {
        PlanBuilder.Step[] memory steps =
            PlanBuilder.steps2(PlanBuilder.liquidation(USDC, pos.user), quickPair(WETH, USDC).v2(WETH, 3000));
        vm.expectRevert(IFlashArbExecutor.PlanMalformed.selector);
        run(plan(PlanBuilder.BALANCER, USDC, COVER, 0, steps));
    }

    function test_liquidation_anyFlag_unsupportedStep() public {
        bytes memory p = plan(
            PlanBuilder.BALANCER, USDC, COVER, 0, PlanBuilder.steps2(_liq(), quickPair(WETH, USDC).v2(WETH, 3000))
        );
        uint8[4] memory flags = [0x10, 0x20, 0x40, 0x80];
        for (uint256 i; i < 4; ++i) {
            p[59] = bytes1(uint8(3) | flags[i]);
            vm.expectRevert(abi.encodeWithSelector(IFlashArbExecutor.UnsupportedStep.selector, uint8(3) | flags[i]));
            run(p);
        }
    }

    function test_liquidation_truncated_planMalformed() public {
        bytes memory p = plan(
            PlanBuilder.BALANCER, USDC, COVER, 0, PlanBuilder.steps2(_liq(), quickPair(WETH, USDC).v2(WETH, 3000))
        );
        for (uint256 cut = 1; cut <= 24 + 41; cut += 8) {
            bytes memory q = new bytes(p.length - cut);
            for (uint256 j; j < q.length; ++j) {
                q[j] = p[j];
            }
            vm.expectRevert(IFlashArbExecutor.PlanMalformed.selector);
            run(q);
        }
    }

    // ------------------------------------------------------------------ hostile callers during the step
    /// @dev A re-entrant token listed as Aave collateral: the Pool's transfer of the seized collateral runs its hook
    ///      inside the liquidation step. Every callback (V3 swap, Aave, Balancer) and a nested run fail there, and
    ///      the run still earns exactly its prediction.
    function test_liquidation_hostileCollateral_callbacksDuringStepRevert() public {
        ReentrantToken r = new ReentrantToken("REENT", 18);
        AaveBorrowers.listCollateral(aavePool, aaveProvider, aaveConfigurator, aaveOracle, address(r), 10e8);
        address pair = addV2Liquidity(quickswapRouter, address(r), USDC, 1_000_000e18, 10_000_000e6);
        pos = AaveBorrowers.open(aavePool, aaveOracle, "reent-borrower", address(r), 3_000e18, USDC, 9_900, WMATIC);
        AaveBorrowers.pushHealthFactor(aavePool, aaveOracle, pos, 0.97e18);
        vm.prank(ownerEoa);
        executor.setExecutor(address(r), true); // so a nested execute gets past the role check to RunActive
        for (uint256 i; i < 5; ++i) {
            uint256 snap = vm.snapshotState();
            _hostileRun(r, pair, i);
            vm.revertToState(snap);
        }
    }

    function _hostileRun(ReentrantToken r, address pair, uint256 which) internal {
        (uint256 taken, uint256 seized) = AaveBorrowers.quote(aavePool, aaveOracle, pos, 5_000e6);
        uint256 want = v2Out(pair, address(r), seized) - taken;
        bytes memory p =
            plan(PlanBuilder.BALANCER, USDC, 5_000e6, want, PlanBuilder.steps2(_liq(), pair.v2(address(r), 3000)));
        (bytes memory call, bytes memory err) = _hostileCall(which, p);
        r.arm(address(executor), call, false, 1); // the first transfer: the Pool sending the seized collateral
        assertEq(run(p), want, "run unaffected");
        assertEq(r.hookCalls(), 1, "hook fired in the step");
        assertFalse(r.lastHookOk(), "re-entry failed");
        assertEq(r.lastHookReturn(), err);
        assertEq(IERC20(USDC).allowance(address(executor), aavePool), 0);
    }

    function _hostileCall(uint256 which, bytes memory p) internal view returns (bytes memory, bytes memory) {
        bytes memory unexpected = abi.encodeWithSelector(IFlashArbExecutor.UnexpectedCallback.selector);
        address[] memory one = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        (one[0], amounts[0]) = (USDC, 1e6);
        if (which == 0) {
            return (abi.encodeCall(executor.uniswapV3SwapCallback, (int256(1e6), int256(1e6), "")), unexpected);
        }
        if (which == 1) {
            return (
                abi.encodeWithSignature(
                    "executeOperation(address,uint256,uint256,address,bytes)", USDC, 1e6, 0, address(executor), p
                ),
                unexpected
            );
        }
        if (which == 2) {
            return (
                abi.encodeWithSignature(
                    "executeOperation(address[],uint256[],uint256[],address,bytes)",
                    one,
                    amounts,
                    new uint256[](1),
                    address(executor),
                    p
                ),
                unexpected
            );
        }
        if (which == 3) {
            return (abi.encodeCall(executor.receiveFlashLoan, (one, amounts, new uint256[](1), p)), unexpected);
        }
        return (abi.encodeCall(executor.execute, (p)), abi.encodeWithSelector(IFlashArbExecutor.RunActive.selector));
    }
}
