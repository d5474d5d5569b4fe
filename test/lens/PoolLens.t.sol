// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Test} from "forge-std/Test.sol";
import {PolygonReplica} from "../../script/replica/PolygonReplica.sol";
import {PoolLens} from "../../src/lens/PoolLens.sol";
import {IUniswapV2Pair} from "../../src/interfaces/external/IUniswapV2.sol";
import {IUniswapV3Pool} from "../../src/interfaces/external/IUniswapV3.sol";

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
}
