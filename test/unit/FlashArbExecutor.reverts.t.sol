// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ExecutorTest} from "../utils/ExecutorTest.sol";
import {PlanBuilder} from "../utils/PlanBuilder.sol";
import {FakeV3Pool} from "../utils/hostile/FakeV3Pool.sol";
import {FalseReturningToken} from "../utils/hostile/FalseReturningToken.sol";
import {FlashArbExecutor} from "../../src/FlashArbExecutor.sol";
import {IFlashArbExecutor} from "../../src/interfaces/IFlashArbExecutor.sol";
import {IAaveV3Pool} from "../../src/interfaces/external/IAaveV3.sol";
import {IBalancerVault} from "../../src/interfaces/external/IBalancerVault.sol";
import {IUniswapV3Pool} from "../../src/interfaces/external/IUniswapV3.sol";

/// @notice Test harness, not a protocol stand-in: the real executor plus a way to borrow as its own adapters do
///         (arming the transient lender expectation first), so the lender-side checks that no outside caller can
///         reach (initiator, asset count) are exercised with the REAL Aave Pool and Balancer Vault calling back.
contract ArmedExecutorHarness is FlashArbExecutor {
    constructor(address owner_, address aavePool, address vault, address receiver)
        FlashArbExecutor(owner_, aavePool, vault, receiver)
    {}

    function armLender(address lender) external {
        _expectLender(lender);
    }

    function borrowAaveTwoAssets(address a, address b, uint256 amount, bytes calldata plan) external {
        address[] memory assets = new address[](2);
        uint256[] memory amounts = new uint256[](2);
        uint256[] memory modes = new uint256[](2);
        (assets[0], assets[1], amounts[0], amounts[1]) = (a, b, amount, amount);
        _expectLender(AAVE_POOL);
        IAaveV3Pool(AAVE_POOL).flashLoan(address(this), assets, amounts, modes, address(this), plan, 0);
    }

    function borrowBalancerTwoTokens(address a, address b, uint256 amount, bytes calldata plan) external {
        address[] memory tokens = new address[](2);
        uint256[] memory amounts = new uint256[](2);
        (tokens[0], tokens[1]) = a < b ? (a, b) : (b, a);
        (amounts[0], amounts[1]) = (amount, amount);
        _expectLender(BALANCER_VAULT);
        IBalancerVault(BALANCER_VAULT).flashLoan(address(this), tokens, amounts, plan);
    }
}

/// @notice Every revert reason of IFlashArbExecutor that a run or a callback can hit, each reached the way it
///         happens on chain, with its exact arguments. (Access-control reasons: FlashArbExecutor.access.t.sol.)
contract FlashArbExecutorRevertsTest is ExecutorTest {
    using PlanBuilder for *;

    uint256 internal constant AMOUNT = 10_000e6;

    // ------------------------------------------------------------------ helpers
    function _crossDexSteps() internal returns (PlanBuilder.Step[] memory s, uint256 out) {
        _dislocateV2(sushiswapRouter, WETH, USDC, 300);
        address sushi = sushiPair(WETH, USDC);
        address quick = quickPair(WETH, USDC);
        out = v2Out(quick, WETH, v2Out(sushi, USDC, AMOUNT));
        s = PlanBuilder.steps2(sushi.v2(USDC, V2_FEE), quick.v2(WETH, V2_FEE));
    }

    function _validPlan() internal returns (bytes memory) {
        (PlanBuilder.Step[] memory s,) = _crossDexSteps();
        return plan(PlanBuilder.BALANCER, USDC, AMOUNT, 0, s);
    }

    function _header(uint8 version, uint8 lender, uint8 steps) internal view returns (bytes memory) {
        return abi.encodePacked(version, lender, steps, uint32(block.number + 2), USDC, uint128(AMOUNT), uint128(0));
    }

    function _expectRunRevert(bytes memory p, bytes memory reason) internal {
        vm.prank(bot);
        vm.expectRevert(reason);
        executor.execute(p);
    }

    function _wethIsToken0(address pool) internal view returns (bool) {
        return IUniswapV3Pool(pool).token0() == WETH;
    }

    // ------------------------------------------------------------------ RunActive
    /// @dev An allow-listed caller that gets control mid-run (here a pool it also controls) cannot start a second
    ///      run inside the first: the transient run flag stops it, and the pool bubbles the reason.
    function test_execute_revertsRunActiveOnReentry() public {
        FakeV3Pool fake = new FakeV3Pool(USDC, WETH);
        bytes memory inner = _validPlan();
        vm.prank(ownerEoa);
        executor.setExecutor(address(fake), true);
        FakeV3Pool.Script memory s;
        s.sideTarget = address(executor);
        s.sideData = abi.encodeCall(executor.execute, (inner));
        s.sideBubbles = true;
        fake.setScript(s);
        fundExecutor(USDC, AMOUNT);
        bytes memory outer = plan(
            PlanBuilder.CAPITAL,
            USDC,
            AMOUNT,
            0,
            PlanBuilder.steps2(
                PlanBuilder.v3Raw(address(fake), USDC, fake.token0() == USDC), quickPair(WETH, USDC).v2(WETH, V2_FEE)
            )
        );
        _expectRunRevert(outer, abi.encodeWithSelector(IFlashArbExecutor.RunActive.selector));
    }

    // ------------------------------------------------------------------ UnexpectedCallback
    function test_executeOperation_revertsFromStranger() public {
        fundExecutor(USDC, AMOUNT);
        bytes memory p = _validPlan();
        vm.prank(stranger);
        vm.expectRevert(IFlashArbExecutor.UnexpectedCallback.selector);
        executor.executeOperation(USDC, AMOUNT, 0, address(executor), p);
    }

    function test_executeOperation_revertsFromAavePoolOutsideRun() public {
        fundExecutor(USDC, AMOUNT);
        bytes memory p = _validPlan();
        vm.prank(aavePool);
        vm.expectRevert(IFlashArbExecutor.UnexpectedCallback.selector);
        executor.executeOperation(USDC, AMOUNT, 0, address(executor), p);
    }

    function test_executeOperationMulti_revertsFromAavePoolOutsideRun() public {
        fundExecutor(USDC, AMOUNT);
        bytes memory p = _validPlan();
        address[] memory assets = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        uint256[] memory premiums = new uint256[](1);
        (assets[0], amounts[0]) = (USDC, AMOUNT);
        vm.prank(aavePool);
        vm.expectRevert(IFlashArbExecutor.UnexpectedCallback.selector);
        executor.executeOperation(assets, amounts, premiums, address(executor), p);
        vm.prank(stranger);
        vm.expectRevert(IFlashArbExecutor.UnexpectedCallback.selector);
        executor.executeOperation(assets, amounts, premiums, address(executor), p);
    }

    function test_receiveFlashLoan_revertsFromVaultOutsideRun() public {
        fundExecutor(USDC, AMOUNT);
        bytes memory p = _validPlan();
        address[] memory tokens = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        uint256[] memory fees = new uint256[](1);
        (tokens[0], amounts[0]) = (USDC, AMOUNT);
        vm.prank(balancerVault);
        vm.expectRevert(IFlashArbExecutor.UnexpectedCallback.selector);
        executor.receiveFlashLoan(tokens, amounts, fees, p);
        vm.prank(stranger);
        vm.expectRevert(IFlashArbExecutor.UnexpectedCallback.selector);
        executor.receiveFlashLoan(tokens, amounts, fees, p);
    }

    function test_uniswapV3SwapCallback_revertsFromRealPoolOutsideRun() public {
        fundExecutor(USDC, AMOUNT);
        address pool = v3Pool(WETH, USDC, 500);
        vm.prank(pool);
        vm.expectRevert(IFlashArbExecutor.UnexpectedCallback.selector);
        executor.uniswapV3SwapCallback(int256(AMOUNT), int256(AMOUNT), abi.encode(USDC));
        vm.prank(stranger);
        vm.expectRevert(IFlashArbExecutor.UnexpectedCallback.selector);
        executor.uniswapV3SwapCallback(int256(AMOUNT), int256(AMOUNT), abi.encode(USDC));
        assertEq(balance(USDC, address(executor)), AMOUNT);
    }

    /// @dev The step's pool may call back once: a second call from the same pool in the same swap is refused.
    function test_uniswapV3SwapCallback_revertsOnSecondCallFromStepPool() public {
        FakeV3Pool fake = new FakeV3Pool(USDC, WETH);
        FakeV3Pool.Script memory s;
        s.callbacks = 2;
        fake.setScript(s);
        fundExecutor(USDC, AMOUNT);
        bytes memory p = plan(
            PlanBuilder.CAPITAL,
            USDC,
            AMOUNT,
            0,
            PlanBuilder.steps2(
                PlanBuilder.v3Raw(address(fake), USDC, fake.token0() == USDC), quickPair(WETH, USDC).v2(WETH, V2_FEE)
            )
        );
        _expectRunRevert(p, abi.encodeWithSelector(IFlashArbExecutor.UnexpectedCallback.selector));
    }

    // ------------------------------------------------------------------ UntrustedInitiator
    /// @dev While our own Aave loan is armed, a flash loan someone else started (initiator != executor) that lands
    ///      on the executor is refused even though it comes from the real Aave Pool.
    function test_executeOperation_revertsUntrustedInitiator() public {
        ArmedExecutorHarness h = new ArmedExecutorHarness(ownerEoa, aavePool, balancerVault, treasury);
        bytes memory p = _validPlan();
        h.armLender(aavePool);
        vm.prank(stranger);
        vm.expectRevert(IFlashArbExecutor.UntrustedInitiator.selector);
        IAaveV3Pool(aavePool).flashLoanSimple(address(h), USDC, AMOUNT, p, 0);
    }

    function test_executeOperationMulti_revertsUntrustedInitiator() public {
        ArmedExecutorHarness h = new ArmedExecutorHarness(ownerEoa, aavePool, balancerVault, treasury);
        bytes memory p = _validPlan();
        address[] memory assets = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        uint256[] memory modes = new uint256[](1);
        (assets[0], amounts[0]) = (USDC, AMOUNT);
        h.armLender(aavePool);
        vm.prank(stranger);
        vm.expectRevert(IFlashArbExecutor.UntrustedInitiator.selector);
        IAaveV3Pool(aavePool).flashLoan(address(h), assets, amounts, modes, stranger, p, 0);
    }

    // ------------------------------------------------------------------ ExcessivePayment
    function test_uniswapV3SwapCallback_revertsExcessivePayment() public {
        FakeV3Pool fake = new FakeV3Pool(USDC, WETH);
        FakeV3Pool.Script memory s;
        s.callbacks = 1;
        s.extraPay = 1;
        fake.setScript(s);
        fundExecutor(USDC, 2 * AMOUNT);
        bytes memory p = plan(
            PlanBuilder.CAPITAL,
            USDC,
            AMOUNT,
            0,
            PlanBuilder.steps2(
                PlanBuilder.v3Raw(address(fake), USDC, fake.token0() == USDC), quickPair(WETH, USDC).v2(WETH, V2_FEE)
            )
        );
        _expectRunRevert(p, abi.encodeWithSelector(IFlashArbExecutor.ExcessivePayment.selector, AMOUNT + 1, AMOUNT));
    }

    // ------------------------------------------------------------------ UnsupportedPlanVersion / Lender / Step
    function test_fuzz_execute_revertsUnsupportedPlanVersion(uint8 version) public {
        vm.assume(version != 1);
        bytes memory p = _validPlan();
        p[0] = bytes1(version);
        _expectRunRevert(p, abi.encodeWithSelector(IFlashArbExecutor.UnsupportedPlanVersion.selector, version));
    }

    function test_execute_revertsUnsupportedPlanVersionOnOneByte() public {
        _expectRunRevert(hex"02", abi.encodeWithSelector(IFlashArbExecutor.UnsupportedPlanVersion.selector, 2));
    }

    function test_fuzz_execute_revertsUnsupportedLender(uint8 lender) public {
        lender = uint8(bound(lender, 4, 255));
        bytes memory p = _validPlan();
        p[1] = bytes1(lender);
        _expectRunRevert(p, abi.encodeWithSelector(IFlashArbExecutor.UnsupportedLender.selector, lender));
    }

    function test_execute_revertsUnsupportedStep() public {
        address pair = quickPair(WETH, USDC);
        address pool = v3Pool(WETH, USDC, 500);
        uint8[9] memory badOps = [0x00, 0x04, 0x0f, 0x83, 0x41, 0x11, 0xa1, 0x12, 0x22]; // 0x03 is a liquidation now
        for (uint256 i; i < badOps.length; ++i) {
            uint8 op = badOps[i];
            // The bad step is second, behind a valid V2 step, with enough bytes for any kind.
            bytes memory p = bytes.concat(
                _header(1, 0, 2), abi.encodePacked(uint8(0x81), pair, uint24(3000)), abi.encodePacked(op, pool, USDC)
            );
            _expectRunRevert(p, abi.encodeWithSelector(IFlashArbExecutor.UnsupportedStep.selector, op));
        }
    }

    // ------------------------------------------------------------------ PlanMalformed
    function test_execute_revertsPlanMalformed() public {
        address pair = quickPair(WETH, USDC);
        address pool = v3Pool(WETH, USDC, 500);
        bytes memory v2Step = abi.encodePacked(uint8(0x01), pair, uint24(3000));
        bytes memory v3Step = abi.encodePacked(uint8(0x02), pool, USDC);
        bytes memory full = bytes.concat(_header(1, 0, 2), v2Step, v2Step);
        bytes[] memory bad = new bytes[](11);
        bad[0] = "";
        bad[1] = _slice(_header(1, 0, 2), 58); // header one byte short
        bad[2] = _header(1, 0, 2); // no steps at all
        bad[3] = bytes.concat(_header(1, 0, 1), v2Step); // one step
        bad[4] = bytes.concat(_header(1, 0, 0)); // zero steps
        bytes memory fourSteps = bytes.concat(v2Step, v2Step, v2Step, v2Step);
        bad[5] = bytes.concat(_header(1, 0, 9), fourSteps, fourSteps, v2Step); // nine steps
        bad[6] = _slice(full, full.length - 1); // last step truncated
        bad[7] = bytes.concat(full, hex"00"); // a trailing byte
        bad[8] = bytes.concat(_header(1, 0, 2), v2Step, abi.encodePacked(uint8(0x01), pair, uint24(1_000_000)));
        bad[9] = bytes.concat(_header(1, 0, 2), v2Step, abi.encodePacked(uint8(0x42), pool, USDC)); // limit missing
        bad[10] = bytes.concat(_header(1, 0, 3), v2Step, v3Step); // says 3, has 2
        for (uint256 i; i < bad.length; ++i) {
            _expectRunRevert(bad[i], abi.encodeWithSelector(IFlashArbExecutor.PlanMalformed.selector));
        }
    }

    function _slice(bytes memory b, uint256 len) internal pure returns (bytes memory out) {
        out = new bytes(len);
        for (uint256 i; i < len; ++i) {
            out[i] = b[i];
        }
    }

    /// @dev Only the executor's own adapters can make a lender call back with more than one asset.
    function test_executeOperationMulti_revertsPlanMalformedOnTwoAssets() public {
        ArmedExecutorHarness h = new ArmedExecutorHarness(ownerEoa, aavePool, balancerVault, treasury);
        bytes memory p = _validPlan();
        vm.expectRevert(IFlashArbExecutor.PlanMalformed.selector);
        h.borrowAaveTwoAssets(USDC, DAI, 1_000e6, p);
    }

    function test_receiveFlashLoan_revertsPlanMalformedOnTwoTokens() public {
        ArmedExecutorHarness h = new ArmedExecutorHarness(ownerEoa, aavePool, balancerVault, treasury);
        bytes memory p = _validPlan();
        vm.expectRevert(IFlashArbExecutor.PlanMalformed.selector);
        h.borrowBalancerTwoTokens(USDC, USDT, 1_000e6, p);
    }

    // ------------------------------------------------------------------ PlanExpired
    function test_execute_revertsPlanExpired() public {
        (PlanBuilder.Step[] memory s, uint256 out) = _crossDexSteps();
        uint32 deadline = uint32(block.number - 1);
        bytes memory p = PlanBuilder.encode(PlanBuilder.BALANCER, deadline, USDC, uint128(AMOUNT), 0, s);
        _expectRunRevert(p, abi.encodeWithSelector(IFlashArbExecutor.PlanExpired.selector, deadline, block.number));
        // The deadline block itself is still valid.
        p = PlanBuilder.encode(PlanBuilder.BALANCER, uint32(block.number), USDC, uint128(AMOUNT), 0, s);
        assertEq(run(p), out - AMOUNT);
    }

    // ------------------------------------------------------------------ InsufficientProfit, exact shortfall
    function test_execute_revertsInsufficientProfitByOneWei_capital() public {
        (PlanBuilder.Step[] memory s, uint256 out) = _crossDexSteps();
        fundExecutor(USDC, AMOUNT);
        uint256 profit = out - AMOUNT;
        _expectRunRevert(
            plan(PlanBuilder.CAPITAL, USDC, AMOUNT, profit + 1, s),
            abi.encodeWithSelector(IFlashArbExecutor.InsufficientProfit.selector, 1)
        );
        assertEq(run(plan(PlanBuilder.CAPITAL, USDC, AMOUNT, profit, s)), profit, "exactly the min profit passes");
    }

    function test_execute_revertsInsufficientProfitByPremium_aaveSimple() public {
        (PlanBuilder.Step[] memory s, uint256 out) = _crossDexSteps();
        uint256 premium = aavePremiumExact(AMOUNT);
        uint256 grossProfit = out - AMOUNT;
        // A plan that forgot the premium misses by exactly the premium.
        _expectRunRevert(
            plan(PlanBuilder.AAVE_SIMPLE, USDC, AMOUNT, grossProfit, s),
            abi.encodeWithSelector(IFlashArbExecutor.InsufficientProfit.selector, premium)
        );
    }

    function test_execute_revertsInsufficientProfit_aaveMulti() public {
        (PlanBuilder.Step[] memory s, uint256 out) = _crossDexSteps();
        uint256 profit = out - AMOUNT - aavePremiumExact(AMOUNT);
        _expectRunRevert(
            plan(PlanBuilder.AAVE_MULTI, USDC, AMOUNT, profit + 12_345, s),
            abi.encodeWithSelector(IFlashArbExecutor.InsufficientProfit.selector, 12_345)
        );
    }

    function test_execute_revertsInsufficientProfit_balancer() public {
        (PlanBuilder.Step[] memory s, uint256 out) = _crossDexSteps();
        _expectRunRevert(
            plan(PlanBuilder.BALANCER, USDC, AMOUNT, out - AMOUNT + 1e6, s),
            abi.encodeWithSelector(IFlashArbExecutor.InsufficientProfit.selector, 1e6)
        );
    }

    /// @dev A losing route (no dislocation) with min profit 0: the shortfall is the loss plus the premium.
    function test_execute_revertsInsufficientProfitOnLoss() public {
        address sushi = sushiPair(WETH, USDC);
        address quick = quickPair(WETH, USDC);
        uint256 out = v2Out(quick, WETH, v2Out(sushi, USDC, AMOUNT));
        assertLt(out, AMOUNT, "round trip at fair prices loses the fees");
        uint256 premium = aavePremiumExact(AMOUNT);
        bytes memory p = plan(
            PlanBuilder.AAVE_SIMPLE, USDC, AMOUNT, 0, PlanBuilder.steps2(sushi.v2(USDC, V2_FEE), quick.v2(WETH, V2_FEE))
        );
        _expectRunRevert(
            p, abi.encodeWithSelector(IFlashArbExecutor.InsufficientProfit.selector, AMOUNT + premium - out)
        );
    }

    // ------------------------------------------------------------------ TokenCallFailed
    function test_execute_revertsTokenCallFailedWithoutCapital_v2First() public {
        (PlanBuilder.Step[] memory s,) = _crossDexSteps();
        fundExecutor(USDC, AMOUNT - 1);
        _expectRunRevert(
            plan(PlanBuilder.CAPITAL, USDC, AMOUNT, 0, s),
            abi.encodeWithSelector(IFlashArbExecutor.TokenCallFailed.selector, USDC)
        );
    }

    /// @dev The real V3 pool calls back, the payment fails, and the pool bubbles the executor's reason.
    function test_execute_revertsTokenCallFailedWithoutCapital_v3First() public {
        address pool = v3Pool(WETH, USDC, 500);
        bytes memory p = plan(
            PlanBuilder.CAPITAL,
            USDC,
            AMOUNT,
            0,
            PlanBuilder.steps2(pool.v3(USDC), quickPair(WETH, USDC).v2(WETH, V2_FEE))
        );
        _expectRunRevert(p, abi.encodeWithSelector(IFlashArbExecutor.TokenCallFailed.selector, USDC));
    }

    function test_execute_revertsTokenCallFailedOnCodelessToken() public {
        address notAToken = makeAddr("notAToken");
        bytes memory p = plan(
            PlanBuilder.CAPITAL,
            notAToken,
            AMOUNT,
            0,
            PlanBuilder.steps2(
                PlanBuilder.v2Raw(quickPair(WETH, USDC), true, V2_FEE), quickPair(WETH, USDC).v2(WETH, V2_FEE)
            )
        );
        _expectRunRevert(p, abi.encodeWithSelector(IFlashArbExecutor.TokenCallFailed.selector, notAToken));
    }

    function test_sweep_revertsTokenCallFailedOnFalseReturn() public {
        FalseReturningToken t = new FalseReturningToken();
        t.mint(address(executor), 1e18);
        t.setFailing(true);
        vm.prank(bot);
        vm.expectRevert(abi.encodeWithSelector(IFlashArbExecutor.TokenCallFailed.selector, address(t)));
        executor.sweep(address(t), 1e18);
        vm.prank(ownerEoa);
        vm.expectRevert(abi.encodeWithSelector(IFlashArbExecutor.TokenCallFailed.selector, address(t)));
        executor.rescue(address(t), ownerEoa, 1e18);
        assertEq(t.balanceOf(address(executor)), 1e18);
    }

    function test_sweep_revertsTokenCallFailedOnCodelessToken() public {
        address notAToken = makeAddr("notAToken");
        vm.prank(bot);
        vm.expectRevert(abi.encodeWithSelector(IFlashArbExecutor.TokenCallFailed.selector, notAToken));
        executor.sweep(notAToken, 1);
    }

    // ------------------------------------------------------------------ PoolCallFailed and pools' own reasons
    function test_execute_revertsPoolCallFailedOnCodelessPair() public {
        address notAPair = makeAddr("notAPair");
        fundExecutor(USDC, AMOUNT);
        bytes memory p = plan(
            PlanBuilder.CAPITAL,
            USDC,
            AMOUNT,
            0,
            PlanBuilder.steps2(PlanBuilder.v2Raw(notAPair, true, V2_FEE), quickPair(WETH, USDC).v2(WETH, V2_FEE))
        );
        _expectRunRevert(p, abi.encodeWithSelector(IFlashArbExecutor.PoolCallFailed.selector, notAPair));
        assertEq(balance(USDC, address(executor)), AMOUNT, "the transfer to it is undone");
    }

    function test_execute_revertsPoolCallFailedOnCodelessV3Pool() public {
        address notAPool = makeAddr("notAPool");
        fundExecutor(USDC, AMOUNT);
        bytes memory p = plan(
            PlanBuilder.CAPITAL,
            USDC,
            AMOUNT,
            0,
            PlanBuilder.steps2(PlanBuilder.v3Raw(notAPool, USDC, true), quickPair(WETH, USDC).v2(WETH, V2_FEE))
        );
        _expectRunRevert(p, abi.encodeWithSelector(IFlashArbExecutor.PoolCallFailed.selector, notAPool));
    }

    /// @dev A "V3 pool" that reports a non-negative delta for the token bought is not a V3 pool's answer.
    function test_execute_revertsPoolCallFailedOnPositiveOutputDelta() public {
        FakeV3Pool fake = new FakeV3Pool(USDC, WETH);
        FakeV3Pool.Script memory s;
        s.claimOut = 1e18;
        s.claimPositive = true;
        fake.setScript(s);
        fundExecutor(USDC, AMOUNT);
        bytes memory p = plan(
            PlanBuilder.CAPITAL,
            USDC,
            AMOUNT,
            0,
            PlanBuilder.steps2(
                PlanBuilder.v3Raw(address(fake), USDC, fake.token0() == USDC), quickPair(WETH, USDC).v2(WETH, V2_FEE)
            )
        );
        _expectRunRevert(p, abi.encodeWithSelector(IFlashArbExecutor.PoolCallFailed.selector, address(fake)));
    }

    /// @dev A plan that understates a V2 fork's fee asks for more than the pair's K allows: the pair's reason.
    function test_execute_bubblesPairReasonOnUnderstatedFee() public {
        (PlanBuilder.Step[] memory s,) = _crossDexSteps();
        s[0].feePips = 2_000;
        _expectRunRevert(plan(PlanBuilder.BALANCER, USDC, AMOUNT, 0, s), bytes("UniswapV2: K"));
    }

    /// @dev A price limit already on the wrong side of the pool's price: the real pool's "SPL".
    function test_execute_bubblesPoolReasonOnCrossedPriceLimit() public {
        address pool = v3Pool(WETH, USDC, 500);
        (uint160 sqrtP,,,,,,) = IUniswapV3Pool(pool).slot0();
        bool zeroForOne = IUniswapV3Pool(pool).token0() == USDC;
        uint160 limit = zeroForOne ? sqrtP + 1 : sqrtP - 1;
        bytes memory p = plan(
            PlanBuilder.BALANCER,
            USDC,
            AMOUNT,
            0,
            PlanBuilder.steps2(pool.v3Limit(USDC, limit), quickPair(WETH, USDC).v2(WETH, V2_FEE))
        );
        _expectRunRevert(p, bytes("SPL"));
    }
}
