// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {IUniswapV2Pair} from "../interfaces/external/IUniswapV2.sol";
import {IUniswapV3Pool} from "../interfaces/external/IUniswapV3.sol";

/// @title PoolLens
/// @notice Reads the state of many Uniswap V2 pairs and V3 pools in one `eth_call`. Nothing needs deploying: the
///         bot places this contract's runtime code at any address with an `eth_call` state override and calls it
///         there (it also works deployed). Every function is a view that holds no state.
/// @dev One pool never breaks the batch: each read is a `staticcall` with a gas cap that copies at most three
///      words of the answer (no return bomb), and a pool without code, one that reverts, answers short or with
///      values out of their Solidity types (or a V3 pool not initialised) comes back with `ok = false` and
///      zeroed fields.
contract PoolLens {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice One V2 pair. `token0`/`token1` are zero unless asked for.
    struct V2Pair {
        bool ok;
        uint112 reserve0;
        uint112 reserve1;
        uint32 blockTimestampLast;
        address token0;
        address token1;
    }

    /// @notice One initialised tick and the liquidity that enters (left to right) when the price crosses it.
    struct V3Tick {
        int24 tick;
        int128 liquidityNet;
    }

    /// @notice One V3 pool: slot0's price and tick, in-range liquidity, fee, spacing, and every initialised tick
    ///         in [tickLowerBound, tickUpperBound] (the bitmap words read), sorted ascending.
    struct V3Pool {
        bool ok;
        uint160 sqrtPriceX96;
        int24 tick;
        uint128 liquidity;
        uint24 fee;
        int24 tickSpacing;
        int24 tickLowerBound;
        int24 tickUpperBound;
        V3Tick[] ticks;
    }

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Gas given to each pool read; an honest view costs under 15k, a hostile pool burns no more.
    uint256 public constant CALL_GAS = 100_000;

    int24 internal constant MIN_TICK = -887272;
    int24 internal constant MAX_TICK = 887272;

    /*//////////////////////////////////////////////////////////////
                                 READS
    //////////////////////////////////////////////////////////////*/

    /// @notice V2 pairs and V3 pools in one call, with the block they were read at.
    /// @param pairs V2 pairs (any fork with `getReserves`).
    /// @param withTokens Also read `token0`/`token1` of each pair.
    /// @param pools V3 pools.
    /// @param wordsEachSide Tick bitmap words read on each side of the current tick's word (each covers 256
    ///        tick spacings).
    function snapshot(address[] calldata pairs, bool withTokens, address[] calldata pools, uint256 wordsEachSide)
        external
        view
        returns (uint256 blockNumber, V2Pair[] memory v2, V3Pool[] memory v3)
    {
        blockNumber = block.number;
        v2 = getV2Pairs(pairs, withTokens);
        v3 = getV3Pools(pools, wordsEachSide);
    }

    /// @notice Reserves (and optionally tokens) of each pair; `ok = false` for a pair that cannot be read.
    function getV2Pairs(address[] calldata pairs, bool withTokens) public view returns (V2Pair[] memory out) {
        out = new V2Pair[](pairs.length);
        for (uint256 i; i < pairs.length; ++i) {
            out[i] = _v2(pairs[i], withTokens);
        }
    }

    /// @notice State and nearby initialised ticks of each pool; `ok = false` for a pool that cannot be read.
    function getV3Pools(address[] calldata pools, uint256 wordsEachSide) public view returns (V3Pool[] memory out) {
        out = new V3Pool[](pools.length);
        for (uint256 i; i < pools.length; ++i) {
            out[i] = _v3(pools[i], wordsEachSide);
        }
    }

    /*//////////////////////////////////////////////////////////////
                               INTERNALS
    //////////////////////////////////////////////////////////////*/

    function _v2(address pair, bool withTokens) private view returns (V2Pair memory p) {
        (bool ok, uint256 r0, uint256 r1, uint256 ts) = _read(pair, IUniswapV2Pair.getReserves.selector, 96);
        if (!ok || r0 > type(uint112).max || r1 > type(uint112).max || ts > type(uint32).max) return p;
        if (withTokens) {
            uint256 t0;
            uint256 t1;
            (ok, t0,,) = _read(pair, IUniswapV2Pair.token0.selector, 32);
            if (!ok || t0 > type(uint160).max) return p;
            (ok, t1,,) = _read(pair, IUniswapV2Pair.token1.selector, 32);
            if (!ok || t1 > type(uint160).max) return p;
            p.token0 = address(uint160(t0));
            p.token1 = address(uint160(t1));
        }
        p.ok = true;
        p.reserve0 = uint112(r0);
        p.reserve1 = uint112(r1);
        p.blockTimestampLast = uint32(ts);
    }

    function _v3(address pool, uint256 wordsEachSide) private view returns (V3Pool memory p) {
        if (!_v3State(pool, p)) return _notOk();
        (int256 lo, int256 hi) = _window(p.tick, p.tickSpacing, wordsEachSide);
        (bool ok, uint256[] memory bitmaps, uint256 count) = _bitmaps(pool, lo, hi);
        if (!ok) return _notOk();
        V3Tick[] memory ticks = new V3Tick[](count);
        uint256 n;
        for (uint256 j; j < bitmaps.length; ++j) {
            (ok, n) = _wordTicks(pool, p.tickSpacing, (lo + int256(j)) << 8, bitmaps[j], ticks, n);
            if (!ok) return _notOk();
        }
        p.ok = true;
        p.tickLowerBound = int24(_max((lo << 8) * p.tickSpacing, MIN_TICK));
        p.tickUpperBound = int24(_min(((hi << 8) + 255) * p.tickSpacing, MAX_TICK));
        p.ticks = ticks;
    }

    /// @dev Fills price, tick, liquidity, fee and spacing; false if any read fails or is out of its type, or the
    ///      pool is not initialised.
    function _v3State(address pool, V3Pool memory p) private view returns (bool) {
        (bool ok, uint256 sqrtPrice, uint256 tick,) = _read(pool, IUniswapV3Pool.slot0.selector, 64);
        // An uninitialised pool (price 0) cannot trade: not ok either.
        if (!ok || sqrtPrice == 0 || sqrtPrice > type(uint160).max || !_isInt24(tick)) return false;
        if (int256(tick) < MIN_TICK || int256(tick) > MAX_TICK) return false;
        (bool okL, uint256 liquidity,,) = _read(pool, IUniswapV3Pool.liquidity.selector, 32);
        (bool okF, uint256 fee,,) = _read(pool, IUniswapV3Pool.fee.selector, 32);
        (bool okS, uint256 spacing,,) = _read(pool, IUniswapV3Pool.tickSpacing.selector, 32);
        if (!okL || !okF || !okS || liquidity > type(uint128).max || fee > type(uint24).max) return false;
        if (!_isInt24(spacing) || int256(spacing) <= 0) return false;
        p.sqrtPriceX96 = uint160(sqrtPrice);
        p.tick = int24(int256(tick));
        p.liquidity = uint128(liquidity);
        p.fee = uint24(fee);
        p.tickSpacing = int24(int256(spacing));
        return true;
    }

    /// @dev Bitmap words [lo, hi]: `wordsEachSide` around the current tick's word, clamped to the words that can
    ///      hold a usable tick.
    function _window(int24 tick, int24 spacing, uint256 wordsEachSide) private pure returns (int256 lo, int256 hi) {
        int256 word = _compress(tick, spacing) >> 8;
        int256 side = int256(_min(wordsEachSide, 1 << 16));
        lo = _max(word - side, _compress(MIN_TICK, spacing) >> 8);
        hi = _min(word + side, _compress(MAX_TICK, spacing) >> 8);
    }

    /// @dev The bitmap words [lo, hi] and the number of bits set in them.
    function _bitmaps(address pool, int256 lo, int256 hi)
        private
        view
        returns (bool ok, uint256[] memory words, uint256 count)
    {
        words = new uint256[](uint256(hi - lo + 1));
        for (uint256 j; j < words.length; ++j) {
            uint256 bits;
            (ok, bits,,) = _readAt(pool, IUniswapV3Pool.tickBitmap.selector, uint256(lo + int256(j)), 32);
            if (!ok) return (false, words, 0);
            words[j] = bits;
            count += _popCount(bits);
        }
        ok = true;
    }

    /// @dev Appends, from index `n`, the ticks whose bits are set in `bits` (compressed ticks `base` + bit), in
    ///      ascending order, each with its liquidityNet; returns the next free index.
    function _wordTicks(address pool, int24 spacing, int256 base, uint256 bits, V3Tick[] memory ticks, uint256 n)
        private
        view
        returns (bool ok, uint256)
    {
        while (bits != 0) {
            int24 t = int24((base + int256(_lsb(bits))) * spacing);
            bits &= bits - 1; // clears the lowest set bit
            uint256 net;
            (ok,, net,) = _readAt(pool, IUniswapV3Pool.ticks.selector, uint256(int256(t)), 64);
            if (!ok || !_isInt128(net)) return (false, n);
            ticks[n++] = V3Tick(t, int128(int256(net)));
        }
        return (true, n);
    }

    /// @dev A pool that could not be read: every field zero.
    function _notOk() private pure returns (V3Pool memory p) {}

    /// @dev Reads a view without arguments; see `_staticcall`.
    function _read(address target, bytes4 selector, uint256 minSize)
        private
        view
        returns (bool ok, uint256 w0, uint256 w1, uint256 w2)
    {
        return _staticcall(target, selector, 0, 0x04, minSize);
    }

    /// @dev Reads a view that takes one word (`tickBitmap(int16)`, `ticks(int24)`: sign-extended); see `_staticcall`.
    function _readAt(address target, bytes4 selector, uint256 arg, uint256 minSize)
        private
        view
        returns (bool ok, uint256 w0, uint256 w1, uint256 w2)
    {
        return _staticcall(target, selector, arg, 0x24, minSize);
    }

    /// @dev `staticcall`s `target` with `selector` (followed by `arg` when `inSize` is 0x24) under CALL_GAS and
    ///      returns the first three words of the answer. `ok` is false if the call reverted or answered fewer
    ///      than `minSize` bytes (a target without code answers nothing).
    function _staticcall(address target, bytes4 selector, uint256 arg, uint256 inSize, uint256 minSize)
        private
        view
        returns (bool ok, uint256 w0, uint256 w1, uint256 w2)
    {
        assembly ("memory-safe") {
            // Scratch space past the free memory pointer, not allocated: it is read back before anything else
            // touches memory.
            let m := mload(0x40)
            mstore(m, selector) // bytes4 is left-aligned
            mstore(add(m, 0x04), arg) // the one argument, when inSize says so
            // The answer overwrites the input; at most 0x60 bytes are copied whatever the callee returns.
            ok := staticcall(CALL_GAS, target, m, inSize, m, 0x60)
            ok := and(ok, iszero(lt(returndatasize(), minSize)))
            w0 := mload(m)
            w1 := mload(add(m, 0x20))
            w2 := mload(add(m, 0x40))
        }
    }

    /// @dev Equivalent to `floor(tick / spacing)` (Solidity's `/` rounds toward zero).
    function _compress(int24 tick, int24 spacing) private pure returns (int256 c) {
        c = int256(tick) / spacing;
        if (tick < 0 && tick % spacing != 0) --c;
    }

    /// @dev True when `w` is a sign-extended int24, as the ABI encodes one.
    function _isInt24(uint256 w) private pure returns (bool) {
        return int256(w) >= type(int24).min && int256(w) <= type(int24).max;
    }

    /// @dev True when `w` is a sign-extended int128.
    function _isInt128(uint256 w) private pure returns (bool) {
        return int256(w) >= type(int128).min && int256(w) <= type(int128).max;
    }

    /// @dev Number of set bits (Kernighan: one iteration per set bit).
    function _popCount(uint256 x) private pure returns (uint256 n) {
        unchecked {
            for (; x != 0; ++n) {
                x &= x - 1;
            }
        }
    }

    /// @dev Index of the least significant set bit of a nonzero `x` (binary search, as BitMath).
    function _lsb(uint256 x) private pure returns (uint256 r) {
        r = 255;
        if (x & type(uint128).max > 0) r -= 128;
        else x >>= 128;
        if (x & type(uint64).max > 0) r -= 64;
        else x >>= 64;
        if (x & type(uint32).max > 0) r -= 32;
        else x >>= 32;
        if (x & type(uint16).max > 0) r -= 16;
        else x >>= 16;
        if (x & type(uint8).max > 0) r -= 8;
        else x >>= 8;
        if (x & 0xf > 0) r -= 4;
        else x >>= 4;
        if (x & 0x3 > 0) r -= 2;
        else x >>= 2;
        if (x & 0x1 > 0) r -= 1;
    }

    function _min(uint256 a, uint256 b) private pure returns (uint256) {
        return a < b ? a : b;
    }

    function _min(int256 a, int256 b) private pure returns (int256) {
        return a < b ? a : b;
    }

    function _max(int256 a, int256 b) private pure returns (int256) {
        return a > b ? a : b;
    }
}
