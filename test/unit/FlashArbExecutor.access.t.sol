// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Vm} from "forge-std/Vm.sol";
import {ExecutorTest} from "../utils/ExecutorTest.sol";
import {PlanBuilder} from "../utils/PlanBuilder.sol";
import {FlashArbExecutor} from "../../src/FlashArbExecutor.sol";
import {IFlashArbExecutor} from "../../src/interfaces/IFlashArbExecutor.sol";

/// @notice Who may do what: the owner (two-step transfer), the executor allow-list (runs and sweeps to the
///         receiver, never rescue, never administration), strangers (nothing), and every event these emit.
contract FlashArbExecutorAccessTest is ExecutorTest {
    using PlanBuilder for *;

    address internal newOwner = makeAddr("newOwner");
    address internal newReceiver = makeAddr("newReceiver");

    // ------------------------------------------------------------------ constructor
    function test_constructor_setsRolesAndLenders() public view {
        assertEq(executor.owner(), ownerEoa);
        assertEq(executor.pendingOwner(), address(0));
        assertEq(executor.profitReceiver(), treasury);
        assertEq(executor.AAVE_POOL(), aavePool);
        assertEq(executor.BALANCER_VAULT(), balancerVault);
        assertTrue(executor.isExecutor(bot));
        assertFalse(executor.isExecutor(ownerEoa), "the owner runs by being the owner, not by the list");
    }

    function test_constructor_emitsOwnershipAndReceiver() public {
        vm.recordLogs();
        FlashArbExecutor fresh = new FlashArbExecutor(ownerEoa, aavePool, balancerVault, treasury);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 2);
        assertEq(logs[0].emitter, address(fresh));
        assertEq(logs[0].topics[0], IFlashArbExecutor.OwnershipTransferred.selector);
        assertEq(logs[0].topics[1], bytes32(0));
        assertEq(logs[0].topics[2], bytes32(uint256(uint160(ownerEoa))));
        assertEq(logs[1].topics[0], IFlashArbExecutor.ProfitReceiverSet.selector);
        assertEq(logs[1].topics[1], bytes32(uint256(uint160(treasury))));
    }

    function test_constructor_revertsOnZeroOwner() public {
        vm.expectRevert(IFlashArbExecutor.ZeroAddress.selector);
        new FlashArbExecutor(address(0), aavePool, balancerVault, treasury);
    }

    function test_constructor_revertsOnZeroReceiver() public {
        vm.expectRevert(IFlashArbExecutor.ZeroAddress.selector);
        new FlashArbExecutor(ownerEoa, aavePool, balancerVault, address(0));
    }

    // ------------------------------------------------------------------ executors
    function test_setExecutor_ownerAllowsAndRevokes() public {
        vm.expectEmit(true, false, false, true, address(executor));
        emit IFlashArbExecutor.ExecutorSet(stranger, true);
        vm.prank(ownerEoa);
        executor.setExecutor(stranger, true);
        assertTrue(executor.isExecutor(stranger));

        vm.expectEmit(true, false, false, true, address(executor));
        emit IFlashArbExecutor.ExecutorSet(stranger, false);
        vm.prank(ownerEoa);
        executor.setExecutor(stranger, false);
        assertFalse(executor.isExecutor(stranger));
    }

    function test_setExecutor_revertsForExecutor() public {
        vm.prank(bot);
        vm.expectRevert(IFlashArbExecutor.NotOwner.selector);
        executor.setExecutor(stranger, true);
    }

    function test_setExecutor_revertsForStranger() public {
        vm.prank(stranger);
        vm.expectRevert(IFlashArbExecutor.NotOwner.selector);
        executor.setExecutor(stranger, true);
        assertFalse(executor.isExecutor(stranger));
    }

    function test_setExecutor_revertsOnZeroAddress() public {
        vm.prank(ownerEoa);
        vm.expectRevert(IFlashArbExecutor.ZeroAddress.selector);
        executor.setExecutor(address(0), true);
    }

    // ------------------------------------------------------------------ profit receiver
    function test_setProfitReceiver_ownerSetsAndEmits() public {
        vm.expectEmit(true, false, false, true, address(executor));
        emit IFlashArbExecutor.ProfitReceiverSet(newReceiver);
        vm.prank(ownerEoa);
        executor.setProfitReceiver(newReceiver);
        assertEq(executor.profitReceiver(), newReceiver);
    }

    function test_setProfitReceiver_revertsForExecutor() public {
        vm.prank(bot);
        vm.expectRevert(IFlashArbExecutor.NotOwner.selector);
        executor.setProfitReceiver(bot);
        assertEq(executor.profitReceiver(), treasury);
    }

    function test_setProfitReceiver_revertsOnZeroAddress() public {
        vm.prank(ownerEoa);
        vm.expectRevert(IFlashArbExecutor.ZeroAddress.selector);
        executor.setProfitReceiver(address(0));
    }

    // ------------------------------------------------------------------ ownership, two steps
    function test_transferOwnership_twoStep() public {
        vm.expectEmit(true, true, false, true, address(executor));
        emit IFlashArbExecutor.OwnershipTransferStarted(ownerEoa, newOwner);
        vm.prank(ownerEoa);
        executor.transferOwnership(newOwner);
        assertEq(executor.owner(), ownerEoa, "nothing changes before acceptance");
        assertEq(executor.pendingOwner(), newOwner);

        vm.expectEmit(true, true, false, true, address(executor));
        emit IFlashArbExecutor.OwnershipTransferred(ownerEoa, newOwner);
        vm.prank(newOwner);
        executor.acceptOwnership();
        assertEq(executor.owner(), newOwner);
        assertEq(executor.pendingOwner(), address(0), "pending cleared");

        // The old owner is out, the new one is in.
        vm.prank(ownerEoa);
        vm.expectRevert(IFlashArbExecutor.NotOwner.selector);
        executor.setExecutor(stranger, true);
        vm.prank(ownerEoa);
        vm.expectRevert(IFlashArbExecutor.NotExecutor.selector);
        executor.sweep(USDC, 0);
        vm.prank(newOwner);
        executor.setExecutor(stranger, true);
        assertTrue(executor.isExecutor(stranger));
    }

    function test_transferOwnership_revertsForExecutor() public {
        vm.prank(bot);
        vm.expectRevert(IFlashArbExecutor.NotOwner.selector);
        executor.transferOwnership(bot);
        assertEq(executor.pendingOwner(), address(0));
    }

    function test_transferOwnership_zeroCancelsPending() public {
        vm.prank(ownerEoa);
        executor.transferOwnership(newOwner);
        vm.expectEmit(true, true, false, true, address(executor));
        emit IFlashArbExecutor.OwnershipTransferStarted(ownerEoa, address(0));
        vm.prank(ownerEoa);
        executor.transferOwnership(address(0));
        assertEq(executor.pendingOwner(), address(0));
        vm.prank(newOwner);
        vm.expectRevert(IFlashArbExecutor.NotPendingOwner.selector);
        executor.acceptOwnership();
        assertEq(executor.owner(), ownerEoa);
    }

    function test_transferOwnership_secondCallReplacesPending() public {
        vm.startPrank(ownerEoa);
        executor.transferOwnership(newOwner);
        executor.transferOwnership(stranger);
        vm.stopPrank();
        vm.prank(newOwner);
        vm.expectRevert(IFlashArbExecutor.NotPendingOwner.selector);
        executor.acceptOwnership();
        vm.prank(stranger);
        executor.acceptOwnership();
        assertEq(executor.owner(), stranger);
    }

    function test_acceptOwnership_revertsForNonPending() public {
        vm.prank(ownerEoa);
        executor.transferOwnership(newOwner);
        vm.prank(ownerEoa);
        vm.expectRevert(IFlashArbExecutor.NotPendingOwner.selector);
        executor.acceptOwnership();
        vm.prank(bot);
        vm.expectRevert(IFlashArbExecutor.NotPendingOwner.selector);
        executor.acceptOwnership();
        assertEq(executor.owner(), ownerEoa);
    }

    function test_acceptOwnership_revertsWhenNothingPending() public {
        vm.prank(stranger);
        vm.expectRevert(IFlashArbExecutor.NotPendingOwner.selector);
        executor.acceptOwnership();
    }

    // ------------------------------------------------------------------ runs
    function _profitablePlan() internal returns (bytes memory p, uint256 profit) {
        _dislocateV2(sushiswapRouter, WETH, USDC, 300);
        address sushi = sushiPair(WETH, USDC);
        address quick = quickPair(WETH, USDC);
        uint256 amountIn = 5_000e6;
        uint256 out = v2Out(quick, WETH, v2Out(sushi, USDC, amountIn));
        profit = out - amountIn;
        p = plan(
            PlanBuilder.BALANCER,
            USDC,
            amountIn,
            profit,
            PlanBuilder.steps2(sushi.v2(USDC, V2_FEE), quick.v2(WETH, V2_FEE))
        );
    }

    function test_execute_ownerMayRun() public {
        (bytes memory p, uint256 profit) = _profitablePlan();
        vm.prank(ownerEoa);
        assertEq(executor.execute(p), profit);
        assertEq(balance(USDC, address(executor)), profit);
    }

    function test_execute_revertsForStranger() public {
        (bytes memory p,) = _profitablePlan();
        vm.prank(stranger);
        vm.expectRevert(IFlashArbExecutor.NotExecutor.selector);
        executor.execute(p);
    }

    function test_execute_revertsForRevokedExecutor() public {
        (bytes memory p,) = _profitablePlan();
        vm.prank(ownerEoa);
        executor.setExecutor(bot, false);
        vm.prank(bot);
        vm.expectRevert(IFlashArbExecutor.NotExecutor.selector);
        executor.execute(p);
    }

    function test_execute_revertsForPendingOwner() public {
        (bytes memory p,) = _profitablePlan();
        vm.prank(ownerEoa);
        executor.transferOwnership(newOwner);
        vm.prank(newOwner);
        vm.expectRevert(IFlashArbExecutor.NotExecutor.selector);
        executor.execute(p);
    }

    // ------------------------------------------------------------------ sweep: to the receiver only
    function test_sweep_executorSendsToReceiver() public {
        fundExecutor(USDC, 1_000e6);
        vm.expectEmit(true, true, false, true, address(executor));
        emit IFlashArbExecutor.Swept(USDC, treasury, 400e6);
        vm.prank(bot);
        executor.sweep(USDC, 400e6);
        assertEq(balance(USDC, treasury), 400e6);
        assertEq(balance(USDC, bot), 0, "the executor itself gets nothing");
        assertEq(balance(USDC, address(executor)), 600e6);
    }

    function test_sweep_ownerSendsToReceiver() public {
        fundExecutor(WETH, 2e18);
        vm.prank(ownerEoa);
        executor.sweep(WETH, 2e18);
        assertEq(balance(WETH, treasury), 2e18);
        assertEq(balance(WETH, ownerEoa), 0);
    }

    function test_sweep_followsReceiverChange() public {
        fundExecutor(USDC, 1_000e6);
        vm.prank(ownerEoa);
        executor.setProfitReceiver(newReceiver);
        vm.prank(bot);
        executor.sweep(USDC, 1_000e6);
        assertEq(balance(USDC, newReceiver), 1_000e6);
        assertEq(balance(USDC, treasury), 0);
    }

    function test_sweep_revertsForStranger() public {
        fundExecutor(USDC, 1_000e6);
        vm.prank(stranger);
        vm.expectRevert(IFlashArbExecutor.NotExecutor.selector);
        executor.sweep(USDC, 1_000e6);
        assertEq(balance(USDC, address(executor)), 1_000e6);
    }

    function test_sweep_revertsBeyondBalance() public {
        fundExecutor(USDC, 1_000e6);
        vm.prank(bot);
        vm.expectRevert(abi.encodeWithSelector(IFlashArbExecutor.TokenCallFailed.selector, USDC));
        executor.sweep(USDC, 1_000e6 + 1);
    }

    // ------------------------------------------------------------------ rescue: owner only, anywhere
    function test_rescue_ownerSendsAnywhere() public {
        fundExecutor(WBTC, 1e8);
        vm.expectEmit(true, true, false, true, address(executor));
        emit IFlashArbExecutor.Rescued(WBTC, newOwner, 3e7);
        vm.prank(ownerEoa);
        executor.rescue(WBTC, newOwner, 3e7);
        assertEq(balance(WBTC, newOwner), 3e7);
        assertEq(balance(WBTC, address(executor)), 7e7);
    }

    function test_rescue_revertsForExecutor() public {
        fundExecutor(WBTC, 1e8);
        vm.prank(bot);
        vm.expectRevert(IFlashArbExecutor.NotOwner.selector);
        executor.rescue(WBTC, bot, 1e8);
        vm.prank(bot);
        vm.expectRevert(IFlashArbExecutor.NotOwner.selector);
        executor.rescue(WBTC, treasury, 1e8);
        assertEq(balance(WBTC, address(executor)), 1e8);
    }

    function test_rescue_revertsForStranger() public {
        fundExecutor(WBTC, 1e8);
        vm.prank(stranger);
        vm.expectRevert(IFlashArbExecutor.NotOwner.selector);
        executor.rescue(WBTC, stranger, 1e8);
    }

    function test_rescue_revertsOnZeroAddress() public {
        fundExecutor(WBTC, 1e8);
        vm.prank(ownerEoa);
        vm.expectRevert(IFlashArbExecutor.ZeroAddress.selector);
        executor.rescue(WBTC, address(0), 1e8);
    }

    // ------------------------------------------------------------------ fuzz: the role matrix
    /// @dev Any caller, any privileged function: it succeeds only for the roles allowed to call it.
    function test_fuzz_access_roleMatrix(address caller, uint8 fn, address arg) public {
        vm.assume(caller != address(0) && arg != address(0));
        fn = uint8(bound(fn, 0, 5));
        fundExecutor(USDC, 1e6);
        bool isOwner = caller == ownerEoa;
        bool isExec = isOwner || executor.isExecutor(caller);
        bytes memory data;
        bool allowed;
        if (fn == 0) (data, allowed) = (abi.encodeCall(executor.sweep, (USDC, 1e6)), isExec);
        else if (fn == 1) (data, allowed) = (abi.encodeCall(executor.rescue, (USDC, arg, 1e6)), isOwner);
        else if (fn == 2) (data, allowed) = (abi.encodeCall(executor.setExecutor, (arg, true)), isOwner);
        else if (fn == 3) (data, allowed) = (abi.encodeCall(executor.setProfitReceiver, (arg)), isOwner);
        else if (fn == 4) (data, allowed) = (abi.encodeCall(executor.transferOwnership, (arg)), isOwner);
        else (data, allowed) = (abi.encodeCall(executor.execute, (hex"")), false); // empty plan: never valid
        vm.prank(caller);
        (bool ok, bytes memory ret) = address(executor).call(data);
        assertEq(ok, allowed, "allowed iff the role permits");
        if (!ok && fn == 5) {
            bytes4 expected = isExec ? IFlashArbExecutor.PlanMalformed.selector : IFlashArbExecutor.NotExecutor.selector;
            assertEq(bytes4(ret), expected);
        } else if (!ok) {
            assertEq(
                bytes4(ret), fn == 0 ? IFlashArbExecutor.NotExecutor.selector : IFlashArbExecutor.NotOwner.selector
            );
        }
    }
}
