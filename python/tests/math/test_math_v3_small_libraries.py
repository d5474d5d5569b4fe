"""full_math, bit_math, liquidity_math and tick_bitmap against their Solidity libraries' cases."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from math_strategies import MAX_UINT128, MAX_UINT256, math_settings, uint256, wide_ints

from flasharb.math import LiquidityOverflow, LiquidityUnderflow, MathError, Overflow
from flasharb.math.uniswap_v3.bit_math import least_significant_bit, most_significant_bit
from flasharb.math.uniswap_v3.full_math import mul_div, mul_div_rounding_up
from flasharb.math.uniswap_v3.liquidity_math import add_delta
from flasharb.math.uniswap_v3.tick_bitmap import (
    flip_tick,
    next_initialized_tick_within_one_word,
    ticks_in_word,
)

Q128 = 1 << 128

# ---------------------------------------------------------------- FullMath (FullMath.spec.ts)


def test_mul_div_reverts():
    with pytest.raises(MathError):
        mul_div(Q128, 5, 0)
    with pytest.raises(MathError):
        mul_div(Q128, Q128, 0)
    with pytest.raises(Overflow):
        mul_div(Q128, Q128, 1)
    with pytest.raises(Overflow):
        mul_div(MAX_UINT256, MAX_UINT256, MAX_UINT256 - 1)


def test_mul_div_values():
    assert mul_div(MAX_UINT256, MAX_UINT256, MAX_UINT256) == MAX_UINT256
    assert mul_div(Q128, 50 * Q128 // 100, 150 * Q128 // 100) == Q128 // 3
    assert mul_div(Q128, 35 * Q128, 8 * Q128) == 4375 * Q128 // 1000
    assert mul_div(Q128, 1000 * Q128, 3000 * Q128) == Q128 // 3


def test_mul_div_rounding_up():
    with pytest.raises(Overflow):
        mul_div_rounding_up(
            535006138814359, 432862656469423142931042426214547535783388063929571229938474969, 2
        )
    with pytest.raises(Overflow):
        mul_div_rounding_up(
            115792089237316195423570985008687907853269984659341747863450311749907997002549,
            115792089237316195423570985008687907853269984659341747863450311749907997002550,
            115792089237316195423570985008687907853269984653042931687443039491902864365164,
        )
    assert mul_div_rounding_up(MAX_UINT256, MAX_UINT256, MAX_UINT256) == MAX_UINT256
    assert mul_div_rounding_up(Q128, 50 * Q128 // 100, 150 * Q128 // 100) == Q128 // 3 + 1
    assert mul_div_rounding_up(Q128, 35 * Q128, 8 * Q128) == 4375 * Q128 // 1000
    assert mul_div_rounding_up(Q128, 1000 * Q128, 3000 * Q128) == Q128 // 3 + 1


@math_settings(300)
@given(uint256, uint256, wide_ints(1, MAX_UINT256))
def test_mul_div_matches_exact_division(a, b, d):
    exact, rem = divmod(a * b, d)
    if exact > MAX_UINT256:
        with pytest.raises(Overflow):
            mul_div(a, b, d)
        return
    assert mul_div(a, b, d) == exact
    if rem and exact == MAX_UINT256:
        with pytest.raises(Overflow):
            mul_div_rounding_up(a, b, d)
    else:
        assert mul_div_rounding_up(a, b, d) == exact + (1 if rem else 0)


# ---------------------------------------------------------------- BitMath (BitMath.spec.ts)


def test_bit_math():
    with pytest.raises(MathError):
        most_significant_bit(0)
    with pytest.raises(MathError):
        least_significant_bit(0)
    assert most_significant_bit(1) == least_significant_bit(1) == 0
    assert most_significant_bit(2) == least_significant_bit(2) == 1
    for i in range(256):
        assert most_significant_bit(1 << i) == least_significant_bit(1 << i) == i
    assert most_significant_bit(MAX_UINT256) == 255
    assert least_significant_bit(MAX_UINT256) == 0


# ---------------------------------------------------------------- LiquidityMath (LiquidityMath.spec.ts)


def test_add_delta():
    assert add_delta(1, 0) == 1
    assert add_delta(1, -1) == 0
    assert add_delta(1, 1) == 2
    with pytest.raises(LiquidityOverflow) as err:
        add_delta(MAX_UINT128 - 14, 15)
    assert err.value.reason == "LA"
    with pytest.raises(LiquidityUnderflow) as err:
        add_delta(0, -1)
    assert err.value.reason == "LS"
    with pytest.raises(LiquidityUnderflow):
        add_delta(3, -4)


# ---------------------------------------------------------------- TickBitmap (TickBitmap.spec.ts)

INITIALISED = [-200, -55, -4, 70, 78, 84, 139, 240, 535]


@pytest.fixture()
def bitmap():
    b: dict[int, int] = {}
    for t in INITIALISED:
        flip_tick(b, t, 1)
    return b


@pytest.mark.parametrize(
    ("tick", "expected"),
    [
        (78, (84, True)),
        (-55, (-4, True)),
        (77, (78, True)),
        (-56, (-55, True)),
        (255, (511, False)),
        (383, (511, False)),
        (511, (535, True)),
        (-257, (-200, True)),
        (-1, (70, True)),
        (328, (511, False)),
    ],
)
def test_next_tick_to_the_right(bitmap, tick, expected):
    assert next_initialized_tick_within_one_word(bitmap, tick, 1, False) == expected


@pytest.mark.parametrize(
    ("tick", "expected"),
    [
        (78, (78, True)),
        (79, (78, True)),
        (258, (256, False)),
        (256, (256, False)),
        (72, (70, True)),
        (-257, (-512, False)),
        (1023, (768, False)),
        (900, (768, False)),
    ],
)
def test_next_tick_at_or_to_the_left(bitmap, tick, expected):
    assert next_initialized_tick_within_one_word(bitmap, tick, 1, True) == expected


def test_next_tick_to_the_left_after_a_flip(bitmap):
    flip_tick(bitmap, 329, 1)
    assert next_initialized_tick_within_one_word(bitmap, 456, 1, True) == (329, True)


def test_flip_twice_clears(bitmap):
    flip_tick(bitmap, 70, 1)
    flip_tick(bitmap, 70, 1)
    assert next_initialized_tick_within_one_word(bitmap, 70, 1, True) == (70, True)
    flip_tick(bitmap, 70, 1)
    assert next_initialized_tick_within_one_word(bitmap, 70, 1, True) == (0, False)  # -4 is in the word below


def test_ticks_in_word_decodes_what_flip_encodes():
    for spacing in (1, 10, 60, 200):
        b: dict[int, int] = {}
        wanted = sorted({t * spacing for t in INITIALISED + [-30000, 12345, -1, 0, 255, 256]})
        for t in wanted:
            flip_tick(b, t, spacing)
        decoded = sorted(t for pos, word in b.items() for t in ticks_in_word(pos, word, spacing))
        assert decoded == wanted


@math_settings(300)
@given(
    st.lists(st.integers(-3000, 3000), max_size=30, unique=True),
    st.integers(-3500, 3500),
    st.sampled_from([1, 10, 60]),
    st.booleans(),
)
def test_next_tick_is_the_nearest_in_the_word(compressed_ticks, tick, spacing, lte):
    """The bisect-style rule pool.swap uses equals the bitmap walk."""
    ticks = sorted(t * spacing for t in compressed_ticks)
    b: dict[int, int] = {}
    for t in ticks:
        flip_tick(b, t, spacing)
    compressed = tick // spacing
    if lte:
        edge = (compressed - (compressed & 255)) * spacing
        candidates = [t for t in ticks if edge <= t <= tick]
        expected = (max(candidates), True) if candidates else (edge, False)
    else:
        edge = (compressed + 1 - ((compressed + 1) & 255) + 255) * spacing
        candidates = [t for t in ticks if tick < t <= edge]
        expected = (min(candidates), True) if candidates else (edge, False)
    assert next_initialized_tick_within_one_word(b, tick, spacing, lte) == expected
