// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ExecutorTest} from "../utils/ExecutorTest.sol";
import {PlanBuilder} from "../utils/PlanBuilder.sol";
import {FeeOnTransferToken} from "../utils/hostile/FeeOnTransferToken.sol";
import {NoBoolToken} from "../utils/hostile/NoBoolToken.sol";
import {ReentrantToken} from "../utils/hostile/ReentrantToken.sol";
import {FalseReturningToken} from "../utils/hostile/FalseReturningToken.sol";
import {IFlashArbExecutor} from "../../src/interfaces/IFlashArbExecutor.sol";

/// @notice Tokens that misbehave, traded through REAL V2 pairs created on the replica's QuickSwap and SushiSwap:
///         fee-on-transfer (must revert, lose nothing), no-bool returns (must work), false returns (must revert),
///         and a token that re-enters the executor from inside its transfers (every re-entry refused, the run
///         itself unaffected).
contract HostileTokensTest is ExecutorTest {
    using PlanBuilder for *;

    uint256 internal constant STASH_USDC = 20_000e6;

    function setUp() public override {
        super.setUp();
        fundExecutor(USDC, STASH_USDC);
    }

    /// @dev Real V2 markets for `token` against USDC (1 token = 1 USDC), made expensive on SushiSwap by a USDC buy.
    function _markets(address token, uint256 unit) internal returns (address quick, address sushi) {
        quick = addV2Liquidity(quickswapRouter, token, USDC, 1_000_000 * unit, 1_000_000e6);
        sushi = addV2Liquidity(sushiswapRouter, token, USDC, 300_000 * unit, 300_000e6);
        _dislocateV2(sushiswapRouter, USDC, token, 300);
    }

    // ------------------------------------------------------------------ fee on transfer
    /// @dev USDC -> TAX -> USDC: the second pair receives 1% less TAX than the executor priced: the pair's K check
    ///      refuses and nothing moves.
    function test_execute_feeOnTransferIntermediateReverts() public {
        FeeOnTransferToken tax = new FeeOnTransferToken(100);
        (address quick, address sushi) = _markets(address(tax), 1e18);
        bytes memory p = plan(
            PlanBuilder.CAPITAL,
            USDC,
            1_000e6,
            0,
            PlanBuilder.steps2(quick.v2(USDC, V2_FEE), sushi.v2(address(tax), V2_FEE))
        );
        vm.prank(bot);
        vm.expectRevert(bytes("UniswapV2: K"));
        executor.execute(p);
        assertEq(balance(USDC, address(executor)), STASH_USDC);
    }

    function test_execute_feeOnTransferLoanTokenReverts_capital() public {
        FeeOnTransferToken tax = new FeeOnTransferToken(100);
        (address quick, address sushi) = _markets(address(tax), 1e18);
        tax.mint(address(executor), 10_000e18);
        bytes memory p = plan(
            PlanBuilder.CAPITAL,
            address(tax),
            1_000e18,
            0,
            PlanBuilder.steps2(sushi.v2(address(tax), V2_FEE), quick.v2(USDC, V2_FEE))
        );
        vm.prank(bot);
        vm.expectRevert(bytes("UniswapV2: K"));
        executor.execute(p);
        assertEq(tax.balanceOf(address(executor)), 10_000e18);
    }

    /// @dev Borrowed from the Vault, the executor receives 1% less than the loan and cannot pay the first pair.
    function test_execute_feeOnTransferLoanTokenReverts_balancer() public {
        FeeOnTransferToken tax = new FeeOnTransferToken(100);
        (address quick, address sushi) = _markets(address(tax), 1e18);
        tax.mint(balancerVault, 1_000_000e18);
        bytes memory p = plan(
            PlanBuilder.BALANCER,
            address(tax),
            1_000e18,
            0,
            PlanBuilder.steps2(sushi.v2(address(tax), V2_FEE), quick.v2(USDC, V2_FEE))
        );
        vm.prank(bot);
        vm.expectRevert(abi.encodeWithSelector(IFlashArbExecutor.TokenCallFailed.selector, address(tax)));
        executor.execute(p);
        assertEq(tax.balanceOf(address(executor)), 0);
        assertEq(balance(USDC, address(executor)), STASH_USDC);
    }

    // ------------------------------------------------------------------ no bool
    function test_execute_noBoolLoanToken_capital() public {
        NoBoolToken nb = new NoBoolToken();
        (address quick, address sushi) = _markets(address(nb), 1e6);
        uint256 amountIn = 2_000e6;
        fundExecutor(address(nb), amountIn);
        uint256 profit = v2Out(quick, USDC, v2Out(sushi, address(nb), amountIn)) - amountIn;
        bytes memory p = plan(
            PlanBuilder.CAPITAL,
            address(nb),
            amountIn,
            profit,
            PlanBuilder.steps2(sushi.v2(address(nb), V2_FEE), quick.v2(USDC, V2_FEE))
        );
        assertEq(run(p), profit);
        assertEq(nb.balanceOf(address(executor)), amountIn + profit);

        vm.prank(bot);
        executor.sweep(address(nb), profit);
        assertEq(nb.balanceOf(treasury), profit);
        vm.prank(ownerEoa);
        executor.rescue(address(nb), ownerEoa, amountIn);
        assertEq(nb.balanceOf(ownerEoa), amountIn);
        assertEq(nb.balanceOf(address(executor)), 0);
    }

    /// @dev Borrowed from the Vault and repaid by a transfer that returns nothing.
    function test_execute_noBoolLoanToken_balancer() public {
        NoBoolToken nb = new NoBoolToken();
        (address quick, address sushi) = _markets(address(nb), 1e6);
        nb.mint(balancerVault, 1_000_000e6);
        uint256 amountIn = 2_000e6;
        uint256 profit = v2Out(quick, USDC, v2Out(sushi, address(nb), amountIn)) - amountIn;
        bytes memory p = plan(
            PlanBuilder.BALANCER,
            address(nb),
            amountIn,
            profit,
            PlanBuilder.steps2(sushi.v2(address(nb), V2_FEE), quick.v2(USDC, V2_FEE))
        );
        assertEq(run(p), profit);
        assertEq(nb.balanceOf(balancerVault), 1_000_000e6, "vault repaid");
    }

    // ------------------------------------------------------------------ false
    function test_execute_falseReturningLoanTokenReverts() public {
        FalseReturningToken f = new FalseReturningToken();
        (address quick, address sushi) = _markets(address(f), 1e18);
        f.mint(address(executor), 1_000e18);
        f.setFailing(true);
        bytes memory p = plan(
            PlanBuilder.CAPITAL,
            address(f),
            1_000e18,
            0,
            PlanBuilder.steps2(sushi.v2(address(f), V2_FEE), quick.v2(USDC, V2_FEE))
        );
        vm.prank(bot);
        vm.expectRevert(abi.encodeWithSelector(IFlashArbExecutor.TokenCallFailed.selector, address(f)));
        executor.execute(p);
        assertEq(f.balanceOf(address(executor)), 1_000e18);
    }

    // ------------------------------------------------------------------ re-entrant
    /// @dev The loan token calls back into the executor from inside the run's first transfer, with each
    ///      privileged entry point in turn. Every re-entry is refused with its exact reason; the run itself goes
    ///      on and earns its exact profit; nothing else moves.
    function test_execute_reentrantTokenEveryReentryRefused() public {
        ReentrantToken r = new ReentrantToken("REENT", 18);
        (address quick, address sushi) = _markets(address(r), 1e18);
        uint256 amountIn = 2_000e18;
        r.mint(address(executor), amountIn);
        uint256 profit = v2Out(quick, USDC, v2Out(sushi, address(r), amountIn)) - amountIn;
        bytes memory p = plan(
            PlanBuilder.CAPITAL,
            address(r),
            amountIn,
            profit,
            PlanBuilder.steps2(sushi.v2(address(r), V2_FEE), quick.v2(USDC, V2_FEE))
        );

        address[] memory one = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        (one[0], amounts[0]) = (USDC, STASH_USDC);
        bytes[] memory calls = new bytes[](8);
        bytes4[] memory reasons = new bytes4[](8);
        (calls[0], reasons[0]) = (abi.encodeCall(executor.execute, (p)), IFlashArbExecutor.NotExecutor.selector);
        (calls[1], reasons[1]) =
        (abi.encodeCall(executor.sweep, (USDC, STASH_USDC)), IFlashArbExecutor.NotExecutor.selector);
        (calls[2], reasons[2]) =
        (abi.encodeCall(executor.rescue, (USDC, address(r), STASH_USDC)), IFlashArbExecutor.NotOwner.selector);
        (calls[3], reasons[3]) =
        (abi.encodeCall(executor.setExecutor, (address(r), true)), IFlashArbExecutor.NotOwner.selector);
        (calls[4], reasons[4]) =
        (
            abi.encodeCall(executor.uniswapV3SwapCallback, (int256(STASH_USDC), 0, abi.encode(USDC))),
            IFlashArbExecutor.UnexpectedCallback.selector
        );
        (calls[5], reasons[5]) =
        (
            abi.encodeWithSignature(
                "executeOperation(address,uint256,uint256,address,bytes)", USDC, STASH_USDC, 0, address(executor), p
            ),
            IFlashArbExecutor.UnexpectedCallback.selector
        );
        (calls[6], reasons[6]) =
        (
            abi.encodeCall(executor.receiveFlashLoan, (one, amounts, new uint256[](1), p)),
            IFlashArbExecutor.UnexpectedCallback.selector
        );
        (calls[7], reasons[7]) =
        (abi.encodeCall(executor.transferOwnership, (address(r))), IFlashArbExecutor.NotOwner.selector);

        for (uint256 i; i < calls.length; ++i) {
            uint256 snap = vm.snapshotState();
            r.arm(address(executor), calls[i], false, 1);
            assertEq(run(p), profit, "the run is unaffected");
            assertEq(r.hookCalls(), 1, "the hook fired inside the run");
            assertFalse(r.lastHookOk(), "re-entry refused");
            assertEq(bytes4(r.lastHookReturn()), reasons[i], "with its exact reason");
            assertEq(r.balanceOf(address(executor)), amountIn + profit);
            assertEq(balance(USDC, address(executor)), STASH_USDC);
            assertEq(executor.owner(), ownerEoa);
            assertEq(executor.pendingOwner(), address(0));
            assertFalse(executor.isExecutor(address(r)));
            vm.revertToState(snap);
        }
    }
}
