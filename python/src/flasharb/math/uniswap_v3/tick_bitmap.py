"""The packed tick bitmap. Mirrors v3-core 1.0.1 ``contracts/libraries/TickBitmap.sol``.

The swap simulation (``pool.py``) does not walk a bitmap: it bisects the sorted initialised ticks and applies
the same one-word search limit, which gives the same step boundaries. This module is the literal version, used
to decode bitmap words read from chain (``ticks_in_word``) and as the reference the tests compare against. A
bitmap is a ``dict[int, int]`` from word position (int16) to word (uint256); missing words are zero.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping

from flasharb.math import Revert
from flasharb.math.uniswap_v3.bit_math import least_significant_bit, most_significant_bit

__all__ = ["position", "flip_tick", "next_initialized_tick_within_one_word", "ticks_in_word", "compress"]


def compress(tick: int, tick_spacing: int) -> int:
    """tick / tickSpacing rounded towards negative infinity (the Solidity's ``compressed``)."""
    return tick // tick_spacing


def position(tick: int) -> tuple[int, int]:
    """(word position, bit position) of a compressed tick."""
    return tick >> 8, tick & 0xFF


def flip_tick(bitmap: MutableMapping[int, int], tick: int, tick_spacing: int) -> None:
    """Flips the initialised state of ``tick`` (which must be a multiple of the spacing)."""
    if tick % tick_spacing:
        raise Revert(f"tick {tick} is not a multiple of the spacing {tick_spacing}", reason="")
    word_pos, bit_pos = position(tick // tick_spacing)
    bitmap[word_pos] = bitmap.get(word_pos, 0) ^ (1 << bit_pos)


def next_initialized_tick_within_one_word(
    bitmap: Mapping[int, int], tick: int, tick_spacing: int, lte: bool
) -> tuple[int, bool]:
    """Next initialised tick at or left of ``tick`` (``lte``) or right of it, looking no further than the
    word of the start: returns (tick, initialised), the word's edge when nothing is initialised there."""
    compressed = tick // tick_spacing
    if lte:
        word_pos, bit_pos = position(compressed)
        masked = bitmap.get(word_pos, 0) & ((1 << bit_pos) - 1 + (1 << bit_pos))
        if masked:
            return (compressed - (bit_pos - most_significant_bit(masked))) * tick_spacing, True
        return (compressed - bit_pos) * tick_spacing, False
    word_pos, bit_pos = position(compressed + 1)
    masked = bitmap.get(word_pos, 0) & ~((1 << bit_pos) - 1) & ((1 << 256) - 1)
    if masked:
        return (compressed + 1 + (least_significant_bit(masked) - bit_pos)) * tick_spacing, True
    return (compressed + 1 + (255 - bit_pos)) * tick_spacing, False


def ticks_in_word(word_pos: int, word: int, tick_spacing: int) -> Iterator[int]:
    """The initialised ticks a bitmap word (as read from ``pool.tickBitmap(word_pos)``) marks, ascending."""
    base = word_pos << 8
    while word:
        low = word & -word
        yield (base + low.bit_length() - 1) * tick_spacing
        word ^= low
