// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ExecutorTest} from "../utils/ExecutorTest.sol";
import {PlanBuilder} from "../utils/PlanBuilder.sol";
import {FakeV3Pool} from "../utils/hostile/FakeV3Pool.sol";
import {IFlashArbExecutor} from "../../src/interfaces/IFlashArbExecutor.sol";
import {IERC20} from "../../src/interfaces/external/IERC20.sol";

/// @notice An attacker's contract posing as a V3 pool (FakeV3Pool), baited into a plan or calling on its own, plus
///         real pools that return less than quoted. The executor holds capital in several tokens (as it does
///         between sweeps) and none of it may leave except through the run's own accounting.
contract FakePoolsTest is ExecutorTest {
    using PlanBuilder for *;

    uint256 internal constant AMOUNT = 10_000e6;
    uint256 internal constant STASH_USDC = 25_000e6;
    uint256 internal constant STASH_WETH = 10e18;
    uint256 internal constant STASH_WBTC = 1e8;

    FakeV3Pool internal fake; // USDC/WETH
    FakeV3Pool internal other; // a second attacker pool, never the current step

    function setUp() public override {
        super.setUp();
        fake = new FakeV3Pool(USDC, WETH);
        other = new FakeV3Pool(USDC, WETH);
        // What the executor holds between runs (profits not yet swept, or working capital).
        fundExecutor(USDC, STASH_USDC);
        fundExecutor(WETH, STASH_WETH);
        fundExecutor(WBTC, STASH_WBTC);
        // The attacker's own money, to make its pool look liquid.
        _give(USDC, address(fake), 1_000_000e6);
        _give(WETH, address(fake), 300e18);
    }

    function _give(address token, address to, uint256 amount) internal {
        _fund(token, amount);
        require(IERC20(token).transfer(to, amount));
    }

    function _stashIntact() internal view {
        assertEq(balance(USDC, address(executor)), STASH_USDC, "USDC holdings");
        assertEq(balance(WETH, address(executor)), STASH_WETH, "WETH holdings");
        assertEq(balance(WBTC, address(executor)), STASH_WBTC, "WBTC holdings");
    }

    function _fakeStep(FakeV3Pool f, address tokenIn) internal view returns (PlanBuilder.Step memory) {
        return PlanBuilder.v3Raw(address(f), tokenIn, f.token0() == tokenIn);
    }

    function _wethFor(uint256 usdc, uint256 bonusBps) internal pure returns (uint256) {
        return usdc * 1e12 / 3_000 * (10_000 + bonusBps) / 10_000;
    }

    // ------------------------------------------------------------------ callbacks outside a run
    function test_uniswapV3SwapCallback_fakePoolOutsideRunRefused() public {
        (bool ok, bytes memory ret) = fake.poke(
            address(executor), abi.encodeCall(executor.uniswapV3SwapCallback, (int256(STASH_USDC), 0, abi.encode(USDC)))
        );
        assertFalse(ok);
        assertEq(bytes4(ret), IFlashArbExecutor.UnexpectedCallback.selector);
        _stashIntact();
    }

    function test_executeOperation_fakePoolOutsideRunRefused() public {
        (bool ok, bytes memory ret) = fake.poke(
            address(executor),
            abi.encodeWithSignature(
                "executeOperation(address,uint256,uint256,address,bytes)", USDC, STASH_USDC, 0, address(executor), ""
            )
        );
        assertFalse(ok);
        assertEq(bytes4(ret), IFlashArbExecutor.UnexpectedCallback.selector);
        _stashIntact();
    }

    function test_receiveFlashLoan_fakePoolOutsideRunRefused() public {
        address[] memory tokens = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        tokens[0] = USDC;
        (bool ok, bytes memory ret) =
            fake.poke(address(executor), abi.encodeCall(executor.receiveFlashLoan, (tokens, amounts, amounts, "")));
        assertFalse(ok);
        assertEq(bytes4(ret), IFlashArbExecutor.UnexpectedCallback.selector);
        _stashIntact();
    }

    // ------------------------------------------------------------------ callbacks during a run
    /// @dev While `fake` is the step in progress (an honest-looking step that pays well), a second attacker pool
    ///      tries the swap callback: refused, and the run still completes with its exact profit.
    function test_uniswapV3SwapCallback_duringRunFromOtherPoolRefused() public {
        uint256 weth = _wethFor(AMOUNT, 500); // the fake step gives 5% over the reference price
        FakeV3Pool.Script memory s;
        s.callbacks = 1;
        s.sendOut = weth;
        s.claimOut = weth;
        s.sideTarget = address(other);
        s.sideData = abi.encodeCall(
            other.poke,
            (
                address(executor),
                abi.encodeCall(executor.uniswapV3SwapCallback, (int256(STASH_WETH), 0, abi.encode(WETH)))
            )
        );
        fake.setScript(s);
        address quick = quickPair(WETH, USDC);
        uint256 profit = v2Out(quick, WETH, weth) - AMOUNT;
        bytes memory p = plan(
            PlanBuilder.BALANCER,
            USDC,
            AMOUNT,
            profit,
            PlanBuilder.steps2(_fakeStep(fake, USDC), quick.v2(WETH, V2_FEE))
        );
        assertEq(run(p), profit);
        assertFalse(other.lastSideOk(), "the other pool was refused");
        assertEq(bytes4(other.lastSideReturn()), IFlashArbExecutor.UnexpectedCallback.selector);
        assertEq(balance(USDC, address(executor)), STASH_USDC + profit);
        assertEq(balance(WETH, address(executor)), STASH_WETH);
        assertEq(balance(WBTC, address(executor)), STASH_WBTC);
    }

    /// @dev A real V3 pool of an earlier step cannot call back again once its own step is over.
    function test_uniswapV3SwapCallback_previousStepPoolRefused() public {
        _dislocateV2(quickswapRouter, USDC, WETH, 200);
        address pool = v3Pool(WETH, USDC, 500);
        // Step 1 is the real pool; step 2 (the current one) hands control to a contract that impersonates step 1.
        FakeV3Pool.Script memory s2;
        s2.sideTarget = address(this);
        s2.sideData = abi.encodeCall(this.impersonateCallback, (pool));
        s2.callbacks = 1;
        s2.claimOut = AMOUNT * 2;
        s2.sendOut = AMOUNT * 2;
        fake.setScript(s2);
        bytes memory p =
            plan(PlanBuilder.BALANCER, USDC, AMOUNT, 0, PlanBuilder.steps2(pool.v3(USDC), _fakeStep(fake, WETH)));
        run(p);
        assertFalse(impersonationOk, "the earlier step's pool is not the current step");
        assertEq(impersonationErr, IFlashArbExecutor.UnexpectedCallback.selector);
        assertEq(balance(WETH, address(executor)), STASH_WETH);
        assertEq(balance(WBTC, address(executor)), STASH_WBTC);
    }

    bool internal impersonationOk;
    bytes4 internal impersonationErr;

    /// @dev Called from inside the run by the fake pool: replays a callback as the earlier real pool.
    function impersonateCallback(address pool) external {
        vm.prank(pool);
        try executor.uniswapV3SwapCallback(0, int256(STASH_WETH), abi.encode(WETH)) {
            impersonationOk = true;
        } catch (bytes memory err) {
            impersonationErr = bytes4(err);
        }
    }

    // ------------------------------------------------------------------ payment bounds
    /// @dev A fake mid-route pool asks for more than it was given (it hopes to dip into the WETH holdings).
    function test_uniswapV3SwapCallback_excessivePaymentMidRoute() public {
        address quick = quickPair(USDC, WETH);
        uint256 weth = v2Out(quick, USDC, AMOUNT);
        FakeV3Pool.Script memory s;
        s.callbacks = 1;
        s.extraPay = STASH_WETH;
        fake.setScript(s);
        bytes memory p = plan(
            PlanBuilder.BALANCER, USDC, AMOUNT, 0, PlanBuilder.steps2(quick.v2(USDC, V2_FEE), _fakeStep(fake, WETH))
        );
        vm.prank(bot);
        vm.expectRevert(abi.encodeWithSelector(IFlashArbExecutor.ExcessivePayment.selector, weth + STASH_WETH, weth));
        executor.execute(p);
        _stashIntact();
    }

    /// @dev Regression (found against 2f5377c^, fixed in 2f5377c): the callback used to pay in the token named in
    ///      its `data`, which the calling pool controls. A pool baited into a plan answered abi.encode(WBTC) and was
    ///      paid `pay` (capped in units of the step's input, ~3.3e18) of WBTC, the whole WBTC holding, then
    ///      returned enough USDC for the run to pass its min profit. Now it is paid in the step's input token.
    function test_uniswapV3SwapCallback_poolCannotChooseTheTokenItIsPaidIn() public {
        address quick = quickPair(USDC, WETH);
        FakeV3Pool.Script memory s;
        s.callbacks = 1;
        s.payOverride = STASH_WBTC; // well under the step's input (~3.3e18 wei of WETH)
        s.payToken = WBTC;
        s.sendOut = AMOUNT + 1; // pays back the USDC the route needs, plus 1 wei of "profit"
        s.claimOut = AMOUNT + 1;
        fake.setScript(s);
        bytes memory p = plan(
            PlanBuilder.CAPITAL, USDC, AMOUNT, 1, PlanBuilder.steps2(quick.v2(USDC, V2_FEE), _fakeStep(fake, WETH))
        );
        vm.prank(bot);
        try executor.execute(p) {} catch {}
        assertEq(balance(WBTC, address(executor)), STASH_WBTC, "a pool is paid only in its step's input token");
    }

    /// @dev Regression (found against 2f5377c^, fixed in 2f5377c): a step's output used to be the pool's own
    ///      report, not what arrived. A fake first step took the USDC input, reported 10 WETH it never sent, and the
    ///      real V3 pool of the next step was paid those 10 WETH out of the executor's holdings; the run "earned"
    ///      USDC, so the min-profit check passed while the executor lost the fake pool's take plus fees.
    function test_execute_overReportedOutputCannotSpendHoldings() public {
        FakeV3Pool.Script memory s;
        s.callbacks = 1; // takes the whole USDC input
        s.claimOut = STASH_WETH; // reports 10 WETH out, sends nothing
        fake.setScript(s);
        bytes memory p = plan(
            PlanBuilder.BALANCER,
            USDC,
            AMOUNT,
            0,
            PlanBuilder.steps2(_fakeStep(fake, USDC), v3Pool(WETH, USDC, 500).v3(WETH))
        );
        vm.prank(bot);
        try executor.execute(p) {} catch {}
        assertEq(balance(WETH, address(executor)), STASH_WETH, "a step spends only what the previous step delivered");
    }

    /// @dev Regression (found against 2f5377c^, fixed in 2f5377c): a "pool" that never called back left the
    ///      callback armed (POOL_SLOT, POOL_MAX_PAY_SLOT) after its step and after the run, for the rest of the
    ///      transaction, although RunState promises "only during its own step"; later code in the same transaction
    ///      (a multicall, or anything the attacker reaches) could collect through the stale arming.
    function test_uniswapV3SwapCallback_armingDoesNotOutliveTheStep() public {
        uint256 weth = _wethFor(AMOUNT, 500);
        FakeV3Pool.Script memory s;
        s.callbacks = 0; // never asks to be paid during the swap
        s.sendOut = weth;
        s.claimOut = weth;
        fake.setScript(s);
        address quick = quickPair(WETH, USDC);
        bytes memory p = plan(
            PlanBuilder.BALANCER, USDC, AMOUNT, 0, PlanBuilder.steps2(_fakeStep(fake, USDC), quick.v2(WETH, V2_FEE))
        );
        // Whether or not a pool that never calls back may complete a step, after execute() nothing is armed.
        vm.prank(bot);
        uint256 profit;
        try executor.execute(p) returns (uint256 pr) {
            profit = pr;
        } catch {}
        (bool ok,) = fake.poke(
            address(executor), abi.encodeCall(executor.uniswapV3SwapCallback, (int256(AMOUNT), 0, abi.encode(USDC)))
        );
        assertFalse(ok, "callback refused once the step is over");
        assertEq(balance(USDC, address(executor)), STASH_USDC + profit, "USDC holdings");
    }

    // ------------------------------------------------------------------ pools that return less than quoted
    /// @dev The last step reports the quoted output but delivers 1 wei less: the balance check catches it.
    function test_execute_lastStepShortchangesRevertsInsufficientProfit() public {
        address quick = quickPair(USDC, WETH);
        uint256 weth = v2Out(quick, USDC, AMOUNT);
        uint256 quoted = AMOUNT + 500e6;
        FakeV3Pool.Script memory s;
        s.callbacks = 1;
        s.claimOut = quoted;
        s.sendOut = quoted - 1;
        fake.setScript(s);
        bytes memory p = plan(
            PlanBuilder.AAVE_SIMPLE,
            USDC,
            AMOUNT,
            quoted - AMOUNT - aavePremiumExact(AMOUNT),
            PlanBuilder.steps2(quick.v2(USDC, V2_FEE), _fakeStep(fake, WETH))
        );
        assertGt(weth, 0);
        vm.prank(bot);
        vm.expectRevert(abi.encodeWithSelector(IFlashArbExecutor.InsufficientProfit.selector, 1));
        executor.execute(p);
        _stashIntact();
    }

    /// @dev A mid-route pool that delivers less than it reports to a V2 pair: the pair's K check refuses.
    function test_execute_midRouteShortchangeRevertsWithPairReason() public {
        FakeV3Pool.Script memory s;
        uint256 weth = _wethFor(AMOUNT, 500);
        s.callbacks = 1;
        s.claimOut = weth;
        s.sendOut = weth * 99 / 100;
        fake.setScript(s);
        bytes memory p = plan(
            PlanBuilder.CAPITAL,
            USDC,
            AMOUNT,
            0,
            PlanBuilder.steps2(_fakeStep(fake, USDC), quickPair(WETH, USDC).v2(WETH, V2_FEE))
        );
        vm.prank(bot);
        vm.expectRevert(bytes("UniswapV2: K"));
        executor.execute(p);
        _stashIntact();
    }

    /// @dev A real pool moved by someone else between the quote and the run: the exact shortfall is reported.
    function test_execute_realPoolFrontRunRevertsExactShortfall() public {
        _dislocateV2(sushiswapRouter, WETH, USDC, 300);
        address sushi = sushiPair(WETH, USDC);
        address quick = quickPair(WETH, USDC);
        uint256 quotedProfit = v2Out(quick, WETH, v2Out(sushi, USDC, AMOUNT)) - AMOUNT;
        bytes memory p = plan(
            PlanBuilder.BALANCER,
            USDC,
            AMOUNT,
            quotedProfit,
            PlanBuilder.steps2(sushi.v2(USDC, V2_FEE), quick.v2(WETH, V2_FEE))
        );
        _dislocateV2(sushiswapRouter, USDC, WETH, 50); // a competitor takes part of the opportunity first
        uint256 out = v2Out(quick, WETH, v2Out(sushi, USDC, AMOUNT));
        vm.prank(bot);
        vm.expectRevert(
            abi.encodeWithSelector(IFlashArbExecutor.InsufficientProfit.selector, AMOUNT + quotedProfit - out)
        );
        executor.execute(p);
        _stashIntact();
    }
}
