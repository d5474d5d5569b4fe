// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {FlashArbExecutor} from "../../src/FlashArbExecutor.sol";
import {IFlashArbExecutor} from "../../src/interfaces/IFlashArbExecutor.sol";
import {TokenLibReference} from "../reference/TokenLibReference.sol";
import {NoReturnToken} from "./TokenPoolLib.diff.t.sol";

/// @notice The executor with a way to arm the V3 callback as a running step would, plus the callback's readable
///         reference; the two are fuzzed against each other.
contract CallbackHarness is FlashArbExecutor {
    constructor() FlashArbExecutor(msg.sender, address(1), address(2), msg.sender) {}

    function arm(address pool, uint256 maxPay, address token) external {
        assembly ("memory-safe") {
            tstore(POOL_SLOT, pool)
            tstore(POOL_MAX_PAY_SLOT, maxPay)
            tstore(POOL_TOKEN_SLOT, token)
        }
    }

    /// @dev Reference for uniswapV3SwapCallback's assembly.
    function referenceCallback(address sender, int256 amount0Delta, int256 amount1Delta, bytes calldata) external {
        uint256 expected;
        uint256 allowed;
        address token;
        assembly ("memory-safe") {
            expected := tload(POOL_SLOT)
            allowed := tload(POOL_MAX_PAY_SLOT)
            token := tload(POOL_TOKEN_SLOT)
        }
        if (sender != address(uint160(expected))) revert UnexpectedCallback();
        assembly ("memory-safe") {
            tstore(POOL_SLOT, 0)
        }
        uint256 pay = amount0Delta > 0 ? uint256(amount0Delta) : uint256(amount1Delta);
        if (pay > allowed) revert ExcessivePayment(pay, allowed);
        TokenLibReference.safeTransfer(token, sender, pay);
    }
}

contract V3CallbackDiffTest is Test {
    CallbackHarness internal ex;
    NoReturnToken internal token;
    address internal pool = makeAddr("pool");

    function setUp() public {
        ex = new CallbackHarness();
        token = new NoReturnToken();
        token.mint(address(ex), 1e24);
    }

    function test_fuzz_callback_matchesReference(int256 a0, int256 a1, uint256 maxPay, bool fromPool, bool armed)
        public
    {
        maxPay = bound(maxPay, 0, 2e24);
        address sender = fromPool ? pool : makeAddr("other");
        uint256 snap = vm.snapshotState();
        (bool okA, bytes memory a, uint256 paidA) = _call(true, sender, a0, a1, maxPay, armed);
        vm.revertToState(snap);
        (bool okR, bytes memory r, uint256 paidR) = _call(false, sender, a0, a1, maxPay, armed);
        assertEq(okA, okR, "same outcome");
        assertEq(a, r, "same revert data");
        assertEq(paidA, paidR, "same payment");
        if (!armed) assertFalse(okA, "never pays when no step waits");
    }

    function _call(bool asm, address sender, int256 a0, int256 a1, uint256 maxPay, bool armed)
        internal
        returns (bool ok, bytes memory ret, uint256 paid)
    {
        if (armed) ex.arm(pool, maxPay, address(token));
        bytes memory data = abi.encode(address(0xbad)); // ignored: the pool controls it
        if (asm) {
            vm.prank(sender);
            (ok, ret) = address(ex).call(abi.encodeCall(ex.uniswapV3SwapCallback, (a0, a1, data)));
        } else {
            (ok, ret) = address(ex).call(abi.encodeCall(ex.referenceCallback, (sender, a0, a1, data)));
        }
        paid = token.balanceOf(sender);
    }

    function test_callback_secondCallFromSamePoolRejected() public {
        ex.arm(pool, 100, address(token));
        vm.prank(pool);
        ex.uniswapV3SwapCallback(100, -5, abi.encode(address(token)));
        vm.prank(pool);
        vm.expectRevert(IFlashArbExecutor.UnexpectedCallback.selector);
        ex.uniswapV3SwapCallback(100, -5, abi.encode(address(token)));
    }
}
