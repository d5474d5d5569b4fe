// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {PolygonReplica} from "../../script/replica/PolygonReplica.sol";
import {PoolLens} from "../../src/lens/PoolLens.sol";
import {IUniswapV2Pair} from "../../src/interfaces/external/IUniswapV2.sol";
import {IUniswapV3Pool} from "../../src/interfaces/external/IUniswapV3.sol";
import {LyingForwarder} from "./LensTargets.sol";

/// @dev Answers every call by burning all the gas it is given.
contract GasBurner {
    fallback() external {
        while (true) {}
    }
}

/// @dev Reverts every call with 64 KiB of revert data (a lens that copied it would pay for it).
contract ReturnBomb {
    fallback() external {
        assembly ("memory-safe") {
            revert(0, 0x10000)
        }
    }
}

/// @dev Answers every call with three words of all-ones bits: out of range for every field but uint256.
contract DirtyAnswers {
    fallback() external {
        assembly ("memory-safe") {
            mstore(0, not(0))
            mstore(0x20, not(0))
            mstore(0x40, not(0))
            return(0, 0x60)
        }
    }
}

contract PoolLensTest is Test, PolygonReplica {
    /// @dev Where the bot's eth_call state override puts the lens: any address with no code.
    address internal constant LENS_AT = address(0x1E45000000000000000000000000000000001E45);
    int24 internal constant MIN_TICK = -887272;
    int24 internal constant MAX_TICK = 887272;

    PoolLens internal lens;

    function setUp() public {
        vm.deal(address(this), 1e30);
        _deployReplica(address(this));
        // The same thing the state override does: runtime code at an address, no constructor, no storage.
        vm.etch(LENS_AT, type(PoolLens).runtimeCode);
        lens = PoolLens(LENS_AT);
    }

    // ------------------------------------------------------------------ V2

    function test_getV2Pairs_matchesEveryReplicaPair() public view {
        PoolLens.V2Pair[] memory got = lens.getV2Pairs(v2Pairs, true);
        assertEq(got.length, v2Pairs.length);
        for (uint256 i; i < got.length; ++i) {
            IUniswapV2Pair pair = IUniswapV2Pair(v2Pairs[i]);
            (uint112 r0, uint112 r1, uint32 ts) = pair.getReserves();
            assertTrue(got[i].ok);
            assertGt(r0, 0);
            assertEq(got[i].reserve0, r0);
            assertEq(got[i].reserve1, r1);
            assertEq(got[i].blockTimestampLast, ts);
            assertEq(got[i].token0, pair.token0());
            assertEq(got[i].token1, pair.token1());
        }
    }

    function test_getV2Pairs_withoutTokens_leavesThemZero() public view {
        PoolLens.V2Pair[] memory got = lens.getV2Pairs(v2Pairs, false);
        for (uint256 i; i < got.length; ++i) {
            assertTrue(got[i].ok);
            assertEq(got[i].token0, address(0));
            assertEq(got[i].token1, address(0));
        }
    }

    function test_getV2Pairs_followsASwap() public {
        PoolLens.V2Pair memory before = lens.getV2Pairs(_one(v2Pairs[0]), false)[0];
        _dislocateV2(quickswapRouter, WMATIC, USDC, 100);
        PoolLens.V2Pair memory later = lens.getV2Pairs(_one(v2Pairs[0]), false)[0];
        (uint112 r0, uint112 r1,) = IUniswapV2Pair(v2Pairs[0]).getReserves();
        assertTrue(later.reserve0 != before.reserve0 && later.reserve1 != before.reserve1);
        assertEq(later.reserve0, r0);
        assertEq(later.reserve1, r1);
    }

    // ------------------------------------------------------------------ V3

    function test_getV3Pools_matchesEveryReplicaPool() public view {
        PoolLens.V3Pool[] memory got = lens.getV3Pools(v3Pools, 2);
        assertEq(got.length, v3Pools.length);
        for (uint256 i; i < got.length; ++i) {
            IUniswapV3Pool pool = IUniswapV3Pool(v3Pools[i]);
            (uint160 sqrtPriceX96, int24 tick,,,,,) = pool.slot0();
            int24 spacing = pool.tickSpacing();
            assertTrue(got[i].ok);
            assertEq(got[i].sqrtPriceX96, sqrtPriceX96);
            assertEq(got[i].tick, tick);
            assertEq(got[i].liquidity, pool.liquidity());
            assertEq(got[i].fee, pool.fee());
            assertEq(got[i].tickSpacing, spacing);
            int256 word = _compress(tick, spacing) >> 8;
            assertEq(got[i].tickLowerBound, _clamp(((word - 2) << 8) * spacing));
            assertEq(got[i].tickUpperBound, _clamp(((word + 2) * 256 + 255) * spacing));
            _assertTicksMatchPool(pool, got[i]);
            // Two words each side cover the replica's +-40% position at every spacing (10, 60, 200).
            assertGe(got[i].ticks.length, 6, "the three narrow positions' ticks");
        }
    }

    function test_getV3Pools_allWords_liquidityNetSumsToActiveLiquidity() public view {
        // 800 words each side cover every tick for spacing >= 10 wherever the price is; the lens clamps to the
        // words that exist.
        PoolLens.V3Pool[] memory got = lens.getV3Pools(v3Pools, 800);
        for (uint256 i; i < got.length; ++i) {
            assertTrue(got[i].ok);
            assertEq(got[i].tickLowerBound, MIN_TICK);
            assertEq(got[i].tickUpperBound, MAX_TICK);
            assertEq(got[i].ticks.length, 8, "four positions, eight distinct ticks");
            int256 below;
            int256 all;
            for (uint256 j; j < got[i].ticks.length; ++j) {
                all += got[i].ticks[j].liquidityNet;
                if (got[i].ticks[j].tick <= got[i].tick) below += got[i].ticks[j].liquidityNet;
            }
            assertEq(all, 0, "every position adds at its lower tick what it removes at its upper");
            assertEq(below, int256(uint256(got[i].liquidity)), "active liquidity = net of the ticks crossed");
        }
    }

    function test_getV3Pools_zeroWords_readsOnlyTheCurrentWord() public view {
        PoolLens.V3Pool[] memory got = lens.getV3Pools(v3Pools, 0);
        for (uint256 i; i < got.length; ++i) {
            int256 word = _compress(got[i].tick, got[i].tickSpacing) >> 8;
            assertEq(got[i].tickLowerBound, _clamp((word << 8) * got[i].tickSpacing));
            assertEq(got[i].tickUpperBound, _clamp(((word << 8) + 255) * got[i].tickSpacing));
            _assertTicksMatchPool(IUniswapV3Pool(v3Pools[i]), got[i]);
        }
    }

    function test_getV3Pools_followsASwapAcrossTicks() public {
        // WETH/USDC 0.05%: sell enough WETH to cross the +-2% position's lower tick.
        address pool = v3Pools[0];
        PoolLens.V3Pool memory before = lens.getV3Pools(_one(pool), 2)[0];
        _dislocateV3(WETH, USDC, 500, 400e18);
        PoolLens.V3Pool memory later = lens.getV3Pools(_one(pool), 2)[0];
        (uint160 sqrtPriceX96, int24 tick,,,,,) = IUniswapV3Pool(pool).slot0();
        assertTrue(later.ok);
        assertTrue(later.tick != before.tick);
        assertTrue(later.liquidity != before.liquidity, "crossed the +-2% position's lower tick");
        assertEq(later.sqrtPriceX96, sqrtPriceX96);
        assertEq(later.tick, tick);
        assertEq(later.liquidity, IUniswapV3Pool(pool).liquidity());
        _assertTicksMatchPool(IUniswapV3Pool(pool), later);
    }

    function testFuzz_getV3Pools_windowMatchesBitmap(uint256 poolIndex, uint256 words) public view {
        poolIndex = bound(poolIndex, 0, v3Pools.length - 1);
        words = bound(words, 0, 6);
        PoolLens.V3Pool memory got = lens.getV3Pools(_one(v3Pools[poolIndex]), words)[0];
        assertTrue(got.ok);
        _assertTicksMatchPool(IUniswapV3Pool(v3Pools[poolIndex]), got);
    }

    // ------------------------------------------------------------------ failures stay per pool

    function test_snapshot_unreadablePoolsAreNotOk_othersUnaffected() public {
        address burner = address(new GasBurner());
        address bomb = address(new ReturnBomb());
        address dirty = address(new DirtyAnswers());
        address noCode = address(0xdead);
        // A real pool, created but never initialised (price 0): it cannot trade.
        (bool created, bytes memory ret) =
            v3Factory.call(abi.encodeWithSignature("createPool(address,address,uint24)", DAI, WETH, 500));
        assertTrue(created);
        address uninitialised = abi.decode(ret, (address));

        address[] memory pairs = new address[](8);
        (pairs[0], pairs[1], pairs[2], pairs[3]) = (noCode, v2Pairs[3], v3Pools[0], burner);
        (pairs[4], pairs[5], pairs[6], pairs[7]) = (bomb, dirty, address(this), uninitialised);
        address[] memory pools = new address[](8);
        (pools[0], pools[1], pools[2], pools[3]) = (noCode, v3Pools[4], v2Pairs[0], burner);
        (pools[4], pools[5], pools[6], pools[7]) = (bomb, dirty, WETH, uninitialised);

        (uint256 blockNumber, PoolLens.V2Pair[] memory v2, PoolLens.V3Pool[] memory v3) =
            lens.snapshot{gas: 30_000_000}(pairs, true, pools, 2);
        assertEq(blockNumber, block.number);
        for (uint256 i; i < pairs.length; ++i) {
            assertEq(v2[i].ok, i == 1, "only the real pair reads");
            assertEq(v3[i].ok, i == 1, "only the real pool reads");
            if (i != 1) {
                assertEq(v2[i].reserve0, 0);
                assertEq(v2[i].token0, address(0));
                assertEq(v3[i].sqrtPriceX96, 0);
                assertEq(v3[i].ticks.length, 0);
            }
        }
        (uint112 r0,,) = IUniswapV2Pair(v2Pairs[3]).getReserves();
        assertEq(v2[1].reserve0, r0);
        (uint160 sqrtPriceX96,,,,,,) = IUniswapV3Pool(v3Pools[4]).slot0();
        assertEq(v3[1].sqrtPriceX96, sqrtPriceX96);
        assertGt(v3[1].ticks.length, 0);
    }

    function test_snapshot_emptyLists() public view {
        (uint256 blockNumber, PoolLens.V2Pair[] memory v2, PoolLens.V3Pool[] memory v3) =
            lens.snapshot(new address[](0), false, new address[](0), 1);
        assertEq(blockNumber, block.number);
        assertEq(v2.length, 0);
        assertEq(v3.length, 0);
    }

    // ------------------------------------------------------------------ one answer lies (LyingForwarder)

    function test_getV2Pairs_throughAnHonestForwarder_readsLikeThePair() public {
        address f = address(new LyingForwarder(v2Pairs[0]));
        PoolLens.V2Pair memory via = lens.getV2Pairs(_one(f), true)[0];
        assertTrue(via.ok);
        _assertSameV2(via, lens.getV2Pairs(_one(v2Pairs[0]), true)[0]);
    }

    function test_getV2Pairs_reservesAtTheirTypeBounds() public {
        uint256[3] memory max = [uint256(type(uint112).max), type(uint112).max, type(uint32).max];
        bytes memory reserves = _sel(IUniswapV2Pair.getReserves.selector);
        PoolLens.V2Pair memory p =
            lens.getV2Pairs(_one(_liar(v2Pairs[0], reserves, abi.encode(max[0], max[1], max[2]))), true)[0];
        assertTrue(p.ok, "every field at its type's max still fits");
        assertEq(p.reserve0, type(uint112).max);
        assertEq(p.reserve1, type(uint112).max);
        assertEq(p.blockTimestampLast, type(uint32).max);
        assertEq(p.token0, IUniswapV2Pair(v2Pairs[0]).token0());
        for (uint256 i; i < 3; ++i) {
            uint256[3] memory w = max;
            ++w[i];
            address f = _liar(v2Pairs[0], reserves, abi.encode(w[0], w[1], w[2]));
            _assertV2NotOk(lens.getV2Pairs(_one(f), false)[0]);
        }
        // Two words of three: short.
        _assertV2NotOk(lens.getV2Pairs(_one(_liar(v2Pairs[0], reserves, abi.encode(1, 1))), false)[0]);
    }

    /// @dev token0 or token1 that reverts, answers short or answers more than an address: the pair is not ok with
    ///      tokens, and reads as usual without them (the lens never asks).
    function test_getV2Pairs_tokenUnreadable_notOkOnlyWhenTokensAreAsked() public {
        address pair = v2Pairs[2];
        PoolLens.V2Pair memory honest = lens.getV2Pairs(_one(pair), false)[0];
        bytes4[2] memory sels = [IUniswapV2Pair.token0.selector, IUniswapV2Pair.token1.selector];
        for (uint256 s; s < 2; ++s) {
            address real = s == 0 ? IUniswapV2Pair(pair).token0() : IUniswapV2Pair(pair).token1();
            address[] memory liars = new address[](3);
            liars[0] = _refuser(pair, _sel(sels[s]));
            liars[1] = _liar(pair, _sel(sels[s]), new bytes(31));
            liars[2] = _liar(pair, _sel(sels[s]), abi.encode((uint256(1) << 160) | uint160(real)));
            PoolLens.V2Pair[] memory withTokens = lens.getV2Pairs(liars, true);
            PoolLens.V2Pair[] memory without = lens.getV2Pairs(liars, false);
            for (uint256 i; i < liars.length; ++i) {
                _assertV2NotOk(withTokens[i]);
                assertTrue(without[i].ok);
                _assertSameV2(without[i], honest);
            }
        }
    }

    function test_getV2Pairs_tokenAtTheTopOfTheAddressRange_isOk() public {
        address top = address(type(uint160).max);
        address f = _liar(v2Pairs[0], _sel(IUniswapV2Pair.token1.selector), abi.encode(top));
        PoolLens.V2Pair memory p = lens.getV2Pairs(_one(f), true)[0];
        assertTrue(p.ok);
        assertEq(p.token0, IUniswapV2Pair(v2Pairs[0]).token0());
        assertEq(p.token1, top);
    }

    function test_getV3Pools_throughAnHonestForwarder_readsLikeThePool() public {
        for (uint256 words; words < 3; ++words) {
            address f = address(new LyingForwarder(v3Pools[0]));
            PoolLens.V3Pool memory via = lens.getV3Pools(_one(f), words)[0];
            assertTrue(via.ok);
            assertGt(via.ticks.length, 0);
            _assertSameV3(via, lens.getV3Pools(_one(v3Pools[0]), words)[0]);
        }
    }

    /// @dev A slot0 tick inside int24 but outside [MIN_TICK, MAX_TICK] is not ok; at the bounds it is, and the
    ///      window is clamped to them (the full-range position's tick is the one initialised tick in that word).
    function test_getV3Pools_slot0TickAtAndPastTheTickBounds() public {
        address pool = v3Pools[0];
        (uint160 sqrtPriceX96,,,,,,) = IUniswapV3Pool(pool).slot0();
        int24 spacing = IUniswapV3Pool(pool).tickSpacing();
        bytes memory slot0 = _sel(IUniswapV3Pool.slot0.selector);

        PoolLens.V3Pool memory top = lens.getV3Pools(_one(_liar(pool, slot0, _slot0(sqrtPriceX96, MAX_TICK))), 0)[0];
        assertTrue(top.ok);
        assertEq(top.tick, MAX_TICK);
        assertEq(top.tickUpperBound, MAX_TICK);
        assertEq(top.ticks.length, 1);
        assertEq(top.ticks[0].tick, MAX_TICK / spacing * spacing);
        _assertTicksMatchPool(IUniswapV3Pool(pool), top);

        PoolLens.V3Pool memory bottom = lens.getV3Pools(_one(_liar(pool, slot0, _slot0(sqrtPriceX96, MIN_TICK))), 0)[0];
        assertTrue(bottom.ok);
        assertEq(bottom.tick, MIN_TICK);
        assertEq(bottom.tickLowerBound, MIN_TICK);
        assertEq(bottom.ticks.length, 1);
        assertEq(bottom.ticks[0].tick, -(MAX_TICK / spacing * spacing));
        _assertTicksMatchPool(IUniswapV3Pool(pool), bottom);

        int256[4] memory outside = [int256(MAX_TICK) + 1, int256(MIN_TICK) - 1, type(int24).max, type(int24).min];
        for (uint256 i; i < outside.length; ++i) {
            address f = _liar(pool, slot0, _slot0(sqrtPriceX96, outside[i]));
            _assertV3NotOk(lens.getV3Pools(_one(f), 2)[0]);
        }
    }

    /// @dev slot0 short (price only), or liquidity, fee or tickSpacing reverting or answering short: not ok.
    function test_getV3Pools_stateReadUnreadable_notOk() public {
        address pool = v3Pools[1];
        bytes4[3] memory sels =
            [IUniswapV3Pool.liquidity.selector, IUniswapV3Pool.fee.selector, IUniswapV3Pool.tickSpacing.selector];
        address[] memory liars = new address[](7);
        for (uint256 s; s < 3; ++s) {
            liars[2 * s] = _refuser(pool, _sel(sels[s]));
            liars[2 * s + 1] = _liar(pool, _sel(sels[s]), new bytes(31));
        }
        (uint160 sqrtPriceX96,,,,,,) = IUniswapV3Pool(pool).slot0();
        liars[6] = _liar(pool, _sel(IUniswapV3Pool.slot0.selector), abi.encode(sqrtPriceX96));
        PoolLens.V3Pool[] memory got = lens.getV3Pools(liars, 2);
        for (uint256 i; i < got.length; ++i) {
            _assertV3NotOk(got[i]);
        }
    }

    function test_getV3Pools_liquidityAndFeeAtTheirTypeBounds() public {
        address pool = v3Pools[2];
        bytes memory liquidity = _sel(IUniswapV3Pool.liquidity.selector);
        bytes memory fee = _sel(IUniswapV3Pool.fee.selector);
        PoolLens.V3Pool memory honest = lens.getV3Pools(_one(pool), 1)[0];

        PoolLens.V3Pool memory p = lens.getV3Pools(_one(_liar(pool, liquidity, abi.encode(type(uint128).max))), 1)[0];
        assertTrue(p.ok);
        assertEq(p.liquidity, type(uint128).max);
        assertEq(p.ticks.length, honest.ticks.length);
        p = lens.getV3Pools(_one(_liar(pool, fee, abi.encode(type(uint24).max))), 1)[0];
        assertTrue(p.ok);
        assertEq(p.fee, type(uint24).max);
        assertEq(p.liquidity, honest.liquidity);

        _assertV3NotOk(lens.getV3Pools(_one(_liar(pool, liquidity, abi.encode(uint256(type(uint128).max) + 1))), 1)[0]);
        _assertV3NotOk(lens.getV3Pools(_one(_liar(pool, fee, abi.encode(uint256(type(uint24).max) + 1))), 1)[0]);
    }

    /// @dev A spacing of zero, negative, or not an int24 is not ok: zero would divide by zero in the window
    ///      arithmetic and revert the whole batch, so the real pool read alongside proves the batch survives.
    function test_getV3Pools_spacingNotAPositiveInt24_notOk_batchSurvives() public {
        address pool = v3Pools[3];
        bytes memory spacing = _sel(IUniswapV3Pool.tickSpacing.selector);
        uint256[5] memory bad = [
            uint256(0),
            uint256(int256(-60)),
            uint256(int256(type(int24).min)),
            uint256(int256(type(int24).max) + 1),
            (uint256(1) << 255) | 60
        ];
        address[] memory pools = new address[](bad.length + 1);
        for (uint256 i; i < bad.length; ++i) {
            pools[i] = _liar(pool, spacing, abi.encode(bad[i]));
        }
        pools[bad.length] = pool;
        PoolLens.V3Pool[] memory got = lens.getV3Pools(pools, 2);
        for (uint256 i; i < bad.length; ++i) {
            _assertV3NotOk(got[i]);
        }
        assertTrue(got[bad.length].ok);
        _assertSameV3(got[bad.length], lens.getV3Pools(_one(pool), 2)[0]);

        // The smallest positive spacing is a spacing.
        PoolLens.V3Pool memory one = lens.getV3Pools(_one(_liar(pool, spacing, abi.encode(1))), 0)[0];
        assertTrue(one.ok);
        assertEq(one.tickSpacing, 1);
        assertEq(one.tickUpperBound - one.tickLowerBound, 255, "one word of 256 ticks");
    }

    /// @dev A bitmap word that reverts spoils the pool only if it is inside the window the lens reads.
    function test_getV3Pools_bitmapWordUnreadable_notOkOnlyInsideTheWindow() public {
        address pool = v3Pools[0];
        PoolLens.V3Pool memory honest = lens.getV3Pools(_one(pool), 2)[0];
        int256 word = _compress(honest.tick, honest.tickSpacing) >> 8;
        for (int256 w = word - 3; w <= word + 3; ++w) {
            address f = _refuser(pool, abi.encodeCall(IUniswapV3Pool.tickBitmap, (int16(w))));
            PoolLens.V3Pool memory got = lens.getV3Pools(_one(f), 2)[0];
            if (w < word - 2 || w > word + 2) {
                assertTrue(got.ok, "outside the window");
                _assertSameV3(got, honest);
            } else {
                _assertV3NotOk(got);
            }
        }
        // Every word answered short.
        address shortWords = _liar(pool, _sel(IUniswapV3Pool.tickBitmap.selector), new bytes(31));
        _assertV3NotOk(lens.getV3Pools(_one(shortWords), 2)[0]);
    }

    /// @dev An initialised tick whose ticks() reverts or answers short spoils the pool; a tick the bitmap does
    ///      not list is never asked.
    function test_getV3Pools_tickUnreadable_notOk() public {
        address pool = v3Pools[4];
        PoolLens.V3Pool memory honest = lens.getV3Pools(_one(pool), 2)[0];
        uint256 n = honest.ticks.length;
        assertGt(n, 1);
        int24[2] memory listed = [honest.ticks[0].tick, honest.ticks[n - 1].tick];
        for (uint256 i; i < 2; ++i) {
            address f = _refuser(pool, abi.encodeCall(IUniswapV3Pool.ticks, (listed[i])));
            _assertV3NotOk(lens.getV3Pools(_one(f), 2)[0]);
        }
        address unlisted =
            _refuser(pool, abi.encodeCall(IUniswapV3Pool.ticks, (honest.ticks[0].tick + honest.tickSpacing)));
        PoolLens.V3Pool memory got = lens.getV3Pools(_one(unlisted), 2)[0];
        assertTrue(got.ok);
        _assertSameV3(got, honest);
        // liquidityGross alone: one word of the two needed.
        address shortTicks = _liar(pool, _sel(IUniswapV3Pool.ticks.selector), abi.encode(1));
        _assertV3NotOk(lens.getV3Pools(_one(shortTicks), 2)[0]);
    }

    /// @dev liquidityNet is reported as answered at the int128 bounds and spoils the pool one past them.
    function test_getV3Pools_liquidityNetAtAndPastTheInt128Bounds() public {
        address pool = v3Pools[0];
        PoolLens.V3Pool memory honest = lens.getV3Pools(_one(pool), 2)[0];
        int24 t = honest.ticks[1].tick;
        bytes memory call = abi.encodeCall(IUniswapV3Pool.ticks, (t));
        int128[2] memory bounds = [type(int128).min, type(int128).max];
        for (uint256 i; i < 2; ++i) {
            PoolLens.V3Pool memory got = lens.getV3Pools(_one(_liar(pool, call, abi.encode(1, bounds[i]))), 2)[0];
            assertTrue(got.ok);
            assertEq(got.ticks.length, honest.ticks.length);
            assertEq(got.ticks[1].tick, t);
            assertEq(got.ticks[1].liquidityNet, bounds[i]);
            assertEq(got.ticks[0].liquidityNet, honest.ticks[0].liquidityNet);
        }
        int256[3] memory outside = [int256(type(int128).min) - 1, int256(type(int128).max) + 1, type(int256).min];
        for (uint256 i; i < outside.length; ++i) {
            _assertV3NotOk(lens.getV3Pools(_one(_liar(pool, call, abi.encode(1, outside[i]))), 2)[0]);
        }
    }

    // ------------------------------------------------------------------ helpers

    /// @dev The lens's ticks are exactly the initialised ticks of the pool inside its window, ascending, each
    ///      with the pool's own liquidityNet.
    function _assertTicksMatchPool(IUniswapV3Pool pool, PoolLens.V3Pool memory got) internal view {
        int24 spacing = got.tickSpacing;
        uint256 n;
        int256 lastWord = _compress(got.tickUpperBound, spacing) >> 8;
        for (int256 w = _compress(got.tickLowerBound, spacing) >> 8; w <= lastWord; ++w) {
            uint256 bits = pool.tickBitmap(int16(w));
            for (uint256 b; b < 256; ++b) {
                if (bits & (1 << b) == 0) continue;
                int24 t = int24((w * 256 + int256(b)) * spacing);
                assertLt(n, got.ticks.length, "lens missed a tick");
                assertEq(got.ticks[n].tick, t);
                (uint128 gross, int128 net,,,,,, bool initialized) = pool.ticks(t);
                assertTrue(initialized && gross > 0);
                assertEq(got.ticks[n].liquidityNet, net);
                ++n;
            }
        }
        assertEq(n, got.ticks.length, "lens returned extra ticks");
    }

    function _compress(int24 tick, int24 spacing) internal pure returns (int256 c) {
        c = int256(tick) / spacing;
        if (tick < 0 && tick % spacing != 0) --c;
    }

    function _clamp(int256 tick) internal pure returns (int24) {
        if (tick < MIN_TICK) return MIN_TICK;
        if (tick > MAX_TICK) return MAX_TICK;
        return int24(tick);
    }

    function _one(address a) internal pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = a;
    }

    /// @dev A forwarder to `target` that answers `call` (whole calldata, or a bare selector) with `answer`.
    function _liar(address target, bytes memory call, bytes memory answer) internal returns (address) {
        LyingForwarder f = new LyingForwarder(target);
        f.lieAbout(call, answer);
        return address(f);
    }

    /// @dev A forwarder to `target` that reverts on `call` (whole calldata, or a bare selector).
    function _refuser(address target, bytes memory call) internal returns (address) {
        LyingForwarder f = new LyingForwarder(target);
        f.refuse(call);
        return address(f);
    }

    function _sel(bytes4 selector) internal pure returns (bytes memory) {
        return abi.encodePacked(selector);
    }

    /// @dev slot0's seven words with `tick` as the (sign-extended) second.
    function _slot0(uint160 sqrtPriceX96, int256 tick) internal pure returns (bytes memory) {
        return abi.encode(sqrtPriceX96, tick, uint16(0), uint16(1), uint16(1), uint8(0), true);
    }

    function _assertV2NotOk(PoolLens.V2Pair memory p) internal pure {
        assertFalse(p.ok);
        assertEq(p.reserve0, 0);
        assertEq(p.reserve1, 0);
        assertEq(p.blockTimestampLast, 0);
        assertEq(p.token0, address(0));
        assertEq(p.token1, address(0));
    }

    function _assertSameV2(PoolLens.V2Pair memory a, PoolLens.V2Pair memory b) internal pure {
        assertEq(a.ok, b.ok);
        assertEq(a.reserve0, b.reserve0);
        assertEq(a.reserve1, b.reserve1);
        assertEq(a.blockTimestampLast, b.blockTimestampLast);
        assertEq(a.token0, b.token0);
        assertEq(a.token1, b.token1);
    }

    /// @dev Not ok and every field zero, even those read before the failing read.
    function _assertV3NotOk(PoolLens.V3Pool memory p) internal pure {
        assertFalse(p.ok);
        assertEq(p.sqrtPriceX96, 0);
        assertEq(p.tick, 0);
        assertEq(p.liquidity, 0);
        assertEq(p.fee, 0);
        assertEq(p.tickSpacing, 0);
        assertEq(p.tickLowerBound, 0);
        assertEq(p.tickUpperBound, 0);
        assertEq(p.ticks.length, 0);
    }

    function _assertSameV3(PoolLens.V3Pool memory a, PoolLens.V3Pool memory b) internal pure {
        assertEq(a.ok, b.ok);
        assertEq(a.sqrtPriceX96, b.sqrtPriceX96);
        assertEq(a.tick, b.tick);
        assertEq(a.liquidity, b.liquidity);
        assertEq(a.fee, b.fee);
        assertEq(a.tickSpacing, b.tickSpacing);
        assertEq(a.tickLowerBound, b.tickLowerBound);
        assertEq(a.tickUpperBound, b.tickUpperBound);
        assertEq(a.ticks.length, b.ticks.length);
        for (uint256 i; i < a.ticks.length; ++i) {
            assertEq(a.ticks[i].tick, b.ticks[i].tick);
            assertEq(a.ticks[i].liquidityNet, b.ticks[i].liquidityNet);
        }
    }
}
