// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ExecutorTest} from "../utils/ExecutorTest.sol";
import {PlanBuilder} from "../utils/PlanBuilder.sol";
import {IFlashArbExecutor} from "../../src/interfaces/IFlashArbExecutor.sol";
import {IUniswapV2Pair} from "../../src/interfaces/external/IUniswapV2.sol";
import {IUniswapV3Pool} from "../../src/interfaces/external/IUniswapV3.sol";

interface IPairFactory {
    function factory() external view returns (address);
}

/// @notice Property fuzzing over the whole replica: random closed routes of 2..5 steps through random real pools
///         (any of the 22 V2 pairs and 13 V3 pools, either direction), random dislocations, amounts, lenders and
///         min profits. The executor either ends with at least its start balance + min profit (and no other holding
///         smaller) or reverts, and with honest pools it never reverts on one of its own safety checks.
contract FlashArbExecutorFuzzTest is ExecutorTest {
    using PlanBuilder for *;

    struct Pool {
        address addr;
        uint8 kind; // 1 V2, 2 V3
        address t0;
        address t1;
        uint24 fee;
    }

    Pool[] internal pools;
    uint256 internal constant STASH_USD = 1_000; // every token, held before each run

    function setUp() public override {
        super.setUp();
        for (uint256 i; i < v2Pairs.length; ++i) {
            address p = v2Pairs[i];
            pools.push(Pool(p, 1, IUniswapV2Pair(p).token0(), IUniswapV2Pair(p).token1(), V2_FEE));
        }
        for (uint256 i; i < v3Pools.length; ++i) {
            address p = v3Pools[i];
            pools.push(Pool(p, 2, IUniswapV3Pool(p).token0(), IUniswapV3Pool(p).token1(), IUniswapV3Pool(p).fee()));
        }
        for (uint256 i; i < replicaTokens.length; ++i) {
            fundExecutor(replicaTokens[i], _usd(replicaTokens[i], STASH_USD));
        }
    }

    // ------------------------------------------------------------------ route generation
    function _tokenIndex(address t) internal view returns (uint256) {
        for (uint256 i; i < replicaTokens.length; ++i) {
            if (replicaTokens[i] == t) return i;
        }
        revert("unknown token");
    }

    /// @dev reach[k][i]: a walk of exactly k steps leads from token i to `start`.
    function _reach(address start) internal view returns (bool[8][6] memory reach) {
        reach[0][_tokenIndex(start)] = true;
        for (uint256 k = 1; k < 6; ++k) {
            for (uint256 j; j < pools.length; ++j) {
                uint256 a = _tokenIndex(pools[j].t0);
                uint256 b = _tokenIndex(pools[j].t1);
                if (reach[k - 1][b]) reach[k][a] = true;
                if (reach[k - 1][a]) reach[k][b] = true;
            }
        }
    }

    /// @dev A random closed walk of `len` steps from a start token picked from `seed` (the first, from the seed's
    ///      choice on, that admits a closed walk of that length). With `first` set (a pool index + 1), the walk
    ///      starts by selling `firstIn` into that pool when such a closed walk exists.
    function _randomRoute(uint256 seed, uint256 len, uint256 first, address firstIn)
        internal
        view
        returns (address start, PlanBuilder.Step[] memory steps, bool consecutiveV2Repeat)
    {
        bool[8][6] memory reach;
        (start, first, reach) = _pickStart(seed, len, first, firstIn);
        steps = new PlanBuilder.Step[](len);
        address cur = start;
        for (uint256 i; i < len; ++i) {
            seed = uint256(keccak256(abi.encode(seed, i)));
            Pool memory pick = pools[i == 0 && first != 0 ? first - 1 : _pickPool(cur, reach[len - i - 1], seed)];
            bool zeroForOne = pick.t0 == cur;
            if (pick.kind == 1) {
                steps[i] = PlanBuilder.v2Raw(pick.addr, zeroForOne, V2_FEE);
                if (i > 0 && steps[i - 1].pool == pick.addr) consecutiveV2Repeat = true;
            } else {
                steps[i] = PlanBuilder.v3Raw(pick.addr, cur, zeroForOne);
            }
            cur = zeroForOne ? pick.t1 : pick.t0;
        }
        assert(cur == start);
    }

    function _pickStart(uint256 seed, uint256 len, uint256 first, address firstIn)
        internal
        view
        returns (address start, uint256 firstOut, bool[8][6] memory reach)
    {
        if (first != 0) {
            start = firstIn;
            reach = _reach(start);
            Pool memory f = pools[first - 1];
            if (reach[len - 1][_tokenIndex(f.t0 == firstIn ? f.t1 : f.t0)]) return (start, first, reach);
        }
        for (uint256 i; i < replicaTokens.length; ++i) {
            start = replicaTokens[(seed % replicaTokens.length + i) % replicaTokens.length];
            reach = _reach(start);
            if (reach[len][_tokenIndex(start)]) return (start, 0, reach);
        }
        revert("no closed walk");
    }

    /// @dev A random pool holding `cur` whose other token can still reach the start in the steps left.
    function _pickPool(address cur, bool[8] memory canClose, uint256 seed) internal view returns (uint256) {
        uint256[] memory candidates = new uint256[](pools.length);
        uint256 n;
        for (uint256 j; j < pools.length; ++j) {
            Pool memory p = pools[j];
            if (p.t0 != cur && p.t1 != cur) continue;
            if (canClose[_tokenIndex(p.t0 == cur ? p.t1 : p.t0)]) candidates[n++] = j;
        }
        return candidates[seed % n];
    }

    /// @dev Moves one random pool's price by a random amount, with the real routers. Returns the pool (index + 1)
    ///      and the token that is now expensive in it (selling it there is the opportunity).
    function _randomDislocation(uint256 seed) internal returns (uint256 poolPlusOne, address expensive) {
        Pool memory p = pools[seed % pools.length];
        bool sell0 = (seed >> 8) & 1 == 1;
        (address tIn, address tOut) = sell0 ? (p.t0, p.t1) : (p.t1, p.t0);
        (poolPlusOne, expensive) = (seed % pools.length + 1, tOut);
        if (p.kind == 1) {
            address router = IPairFactory(p.addr).factory() == quickswapFactory ? quickswapRouter : sushiswapRouter;
            _dislocateV2(router, tIn, tOut, bound(seed >> 16, 1, 1_000)); // up to 10% of the reserve
        } else {
            uint256 usd = bound(seed >> 16, 1, 200_000);
            _dislocateV3(tIn, tOut, p.fee, _usd(tIn, usd));
        }
    }

    function _balances() internal view returns (uint256[] memory b) {
        b = new uint256[](replicaTokens.length);
        for (uint256 i; i < b.length; ++i) {
            b[i] = balance(replicaTokens[i], address(executor));
        }
    }

    /// @dev Our own safety checks, which honest pools and a well-formed, unexpired plan must never trip.
    function _isOwnSafetyCheck(bytes4 sel) internal pure returns (bool) {
        return sel == IFlashArbExecutor.UnexpectedCallback.selector
            || sel == IFlashArbExecutor.UntrustedInitiator.selector
            || sel == IFlashArbExecutor.ExcessivePayment.selector || sel == IFlashArbExecutor.PoolCallFailed.selector
            || sel == IFlashArbExecutor.TokenCallFailed.selector || sel == IFlashArbExecutor.PlanMalformed.selector
            || sel == IFlashArbExecutor.UnsupportedStep.selector || sel == IFlashArbExecutor.UnsupportedLender.selector
            || sel == IFlashArbExecutor.UnsupportedPlanVersion.selector || sel == IFlashArbExecutor.PlanExpired.selector
            || sel == IFlashArbExecutor.RunActive.selector || sel == IFlashArbExecutor.NotExecutor.selector;
    }

    /// @dev Runs `p` and checks the property: success means start + minProfit reached in `token` and no holding
    ///      decreased; failure means nothing moved (the call reverted) and, with honest pools, an economic reason.
    function _runAndCheck(bytes memory p, address token, uint256 minProfit, bool allowK) internal returns (bool ok) {
        uint256[] memory before = _balances();
        uint256 ti = _tokenIndex(token);
        vm.prank(bot);
        bytes memory ret;
        (ok, ret) = address(executor).call(abi.encodeCall(executor.execute, (p)));
        uint256[] memory afterRun = _balances();
        if (ok) {
            uint256 profit = abi.decode(ret, (uint256));
            assertGe(profit, minProfit, "profit >= min profit");
            assertEq(afterRun[ti], before[ti] + profit, "the loan token grew by exactly the profit");
            for (uint256 i; i < afterRun.length; ++i) {
                assertGe(afterRun[i], before[i], "no holding decreased");
            }
        } else {
            for (uint256 i; i < afterRun.length; ++i) {
                assertEq(afterRun[i], before[i], "a revert moves nothing");
            }
            assertFalse(ret.length >= 4 && _isOwnSafetyCheck(bytes4(ret)), "honest pools never trip a safety check");
            if (!allowK) {
                assertNotEq(keccak256(ret), keccak256(abi.encodeWithSignature("Error(string)", "UniswapV2: K")));
            }
        }
    }

    // ------------------------------------------------------------------ properties
    function test_fuzz_execute_randomRoute(
        uint256 routeSeed,
        uint8 len,
        uint256 dislocationSeed,
        uint256 dislocationSeed2,
        uint8 lender,
        uint256 usdIn,
        uint256 minProfitUsd
    ) public {
        len = uint8(bound(len, 2, 5));
        lender = uint8(bound(lender, 0, 3));
        (uint256 moved, address expensive) = _randomDislocation(dislocationSeed);
        _randomDislocation(dislocationSeed2);
        // Half the routes start by selling into the moved pool (where the opportunity is), half are anywhere.
        if (routeSeed & 1 == 0) moved = 0;
        (address token, PlanBuilder.Step[] memory steps, bool repeat) = _randomRoute(routeSeed, len, moved, expensive);
        uint256 amountIn = _usd(token, bound(usdIn, 10, 300_000));
        uint256 minProfit = minProfitUsd % 2 == 0 ? 0 : _usd(token, bound(minProfitUsd, 0, 2_000)) / 100;
        if (lender == PlanBuilder.CAPITAL) fundExecutor(token, amountIn);
        _runAndCheck(plan(lender, token, amountIn, minProfit, steps), token, minProfit, repeat);
    }

    /// @dev A profitable cross-DEX route: with min profit = exact profit + delta, the run succeeds iff delta <= 0,
    ///      and otherwise reports exactly delta as the shortfall.
    function test_fuzz_execute_minProfitBoundary(uint256 bps, uint256 usdIn, uint8 lender, int256 delta) public {
        lender = uint8(bound(lender, 0, 3));
        _dislocateV2(sushiswapRouter, WETH, USDC, bound(bps, 300, 1_000));
        uint256 amountIn = bound(usdIn, 100e6, 5_000e6);
        address sushi = sushiPair(WETH, USDC);
        address quick = quickPair(WETH, USDC);
        uint256 premium = lender == 1 || lender == 2 ? aavePremiumExact(amountIn) : 0;
        uint256 profit = v2Out(quick, WETH, v2Out(sushi, USDC, amountIn)) - amountIn - premium;
        delta = bound(delta, -int256(profit), 1e9);
        uint256 minProfit = uint256(int256(profit) + delta);
        if (lender == PlanBuilder.CAPITAL) fundExecutor(USDC, amountIn);
        bytes memory p =
            plan(lender, USDC, amountIn, minProfit, PlanBuilder.steps2(sushi.v2(USDC, V2_FEE), quick.v2(WETH, V2_FEE)));
        vm.prank(bot);
        if (delta > 0) {
            vm.expectRevert(abi.encodeWithSelector(IFlashArbExecutor.InsufficientProfit.selector, uint256(delta)));
            executor.execute(p);
        } else {
            assertEq(executor.execute(p), profit);
        }
    }

    /// @dev One byte of a valid 3-step plan replaced by a random value: whatever the byte means (version, lender,
    ///      count, deadline, token, amounts, an op, a pool, a fee, a V3 token), the property still holds.
    function test_fuzz_execute_mutatedPlan(uint256 index, uint8 value, uint8 lender) public {
        lender = uint8(bound(lender, 0, 3));
        _dislocateV2(sushiswapRouter, USDC, WMATIC, 300);
        PlanBuilder.Step[] memory s = PlanBuilder.steps3(
            quickPair(USDC, WETH).v2(USDC, V2_FEE),
            v3Pool(WETH, WMATIC, 3000).v3(WETH),
            sushiPair(WMATIC, USDC).v2(WMATIC, V2_FEE)
        );
        uint256 amountIn = 5_000e6;
        if (lender == PlanBuilder.CAPITAL) fundExecutor(USDC, amountIn);
        bytes memory p = plan(lender, USDC, amountIn, 0, s);
        index = bound(index, 0, p.length - 1);
        p[index] = bytes1(value);
        uint256[] memory before = _balances();
        vm.prank(bot);
        (bool ok, bytes memory ret) = address(executor).call(abi.encodeCall(executor.execute, (p)));
        uint256[] memory afterRun = _balances();
        for (uint256 i; i < afterRun.length; ++i) {
            assertGe(afterRun[i], before[i], "no holding decreased");
        }
        if (ok) {
            // The mutated plan ran: it still met its own (possibly mutated) min profit in its own token.
            uint256 minProfit = uint128(bytes16(_slice(p, 43, 16)));
            address token = address(bytes20(_slice(p, 7, 20)));
            assertGe(abi.decode(ret, (uint256)), minProfit);
            assertTrue(_isReplicaToken(token), "a run can only succeed in a real token");
        }
    }

    function _slice(bytes memory b, uint256 from, uint256 len) internal pure returns (bytes memory out) {
        out = new bytes(len);
        for (uint256 i; i < len; ++i) {
            out[i] = b[from + i];
        }
    }

    function _isReplicaToken(address t) internal view returns (bool) {
        for (uint256 i; i < replicaTokens.length; ++i) {
            if (replicaTokens[i] == t) return true;
        }
        return false;
    }

    /// @dev Outside a run, no sender (the real lenders and pools included) gets anything out of any callback.
    function test_fuzz_callbacks_randomSenderNeverPaid(
        uint256 senderSeed,
        address randomSender,
        uint8 which,
        uint8 tokenIdx,
        uint256 amount
    ) public {
        address token = replicaTokens[tokenIdx % replicaTokens.length];
        amount = bound(amount, 1, balance(token, address(executor)));
        address[4] memory special = [aavePool, balancerVault, pools[senderSeed % pools.length].addr, randomSender];
        address sender = special[senderSeed % 4];
        // address(0) sends no transactions on chain; outside a run it would equal the empty POOL_SLOT and pass
        // uniswapV3SwapCallback's sender check (then fail later), which is harmless and not what this property is.
        if (sender == address(0)) sender = stranger;
        bytes memory data;
        which = which % 4;
        address[] memory one = new address[](1);
        uint256[] memory amounts = new uint256[](1);
        (one[0], amounts[0]) = (token, amount);
        if (which == 0) {
            data = abi.encodeCall(executor.uniswapV3SwapCallback, (int256(amount), int256(amount), abi.encode(token)));
        } else if (which == 1) {
            data = abi.encodeWithSignature(
                "executeOperation(address,uint256,uint256,address,bytes)", token, amount, 0, address(executor), ""
            );
        } else if (which == 2) {
            data = abi.encodeWithSignature(
                "executeOperation(address[],uint256[],uint256[],address,bytes)",
                one,
                amounts,
                new uint256[](1),
                address(executor),
                ""
            );
        } else {
            data = abi.encodeCall(executor.receiveFlashLoan, (one, amounts, new uint256[](1), ""));
        }
        uint256[] memory before = _balances();
        vm.prank(sender);
        (bool ok, bytes memory ret) = address(executor).call(data);
        assertFalse(ok);
        assertEq(bytes4(ret), IFlashArbExecutor.UnexpectedCallback.selector);
        uint256[] memory afterCall = _balances();
        for (uint256 i; i < afterCall.length; ++i) {
            assertEq(afterCall[i], before[i]);
        }
    }
}
