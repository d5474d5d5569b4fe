"""sqrt_price_math against SqrtPriceMath.sol's edge cases (ported from v3-core's SqrtPriceMath.spec.ts)."""

from __future__ import annotations

from math import isqrt

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from math_strategies import MAX_UINT128, MAX_UINT160, MAX_UINT256, math_settings, wide_ints

from flasharb.math import MathError, Overflow
from flasharb.math.uniswap_v3.sqrt_price_math import (
    get_amount0_delta,
    get_amount0_delta_signed,
    get_amount1_delta,
    get_amount1_delta_signed,
    get_next_sqrt_price_from_input,
    get_next_sqrt_price_from_output,
)
from flasharb.math.uniswap_v3.tick_math import MAX_SQRT_RATIO, MIN_SQRT_RATIO


def encode_price_sqrt(reserve1: int, reserve0: int) -> int:
    """sqrt(reserve1 / reserve0) as Q64.96, rounded down (the upstream tests' helper)."""
    return isqrt((reserve1 << 192) // reserve0)


ONE = encode_price_sqrt(1, 1)


# ---------------------------------------------------------------- getNextSqrtPriceFromInput


def test_input_fails_on_zero_price_or_liquidity():
    with pytest.raises(MathError):
        get_next_sqrt_price_from_input(0, 1, 10**17, False)
    with pytest.raises(MathError):
        get_next_sqrt_price_from_input(1, 0, 10**17, True)


def test_input_fails_if_the_price_overflows():
    with pytest.raises(Overflow):
        get_next_sqrt_price_from_input(MAX_UINT160, 1024, 1024, False)


def test_input_cannot_underflow_the_price():
    assert get_next_sqrt_price_from_input(1, 1, 1 << 255, True) == 1


@pytest.mark.parametrize("zero_for_one", [True, False])
def test_input_of_zero_returns_the_price(zero_for_one):
    assert get_next_sqrt_price_from_input(ONE, 10**17, 0, zero_for_one) == ONE


def test_input_returns_the_minimum_price_for_max_inputs():
    liquidity = MAX_UINT128
    amount = MAX_UINT256 - (liquidity << 96) // MAX_UINT160
    assert get_next_sqrt_price_from_input(MAX_UINT160, liquidity, amount, True) == 1


def test_input_of_a_tenth_of_each_token():
    assert get_next_sqrt_price_from_input(ONE, 10**18, 10**17, False) == 87150978765690771352898345369
    assert get_next_sqrt_price_from_input(ONE, 10**18, 10**17, True) == 72025602285694852357767227579


def test_input_beyond_uint96_zero_for_one():
    assert get_next_sqrt_price_from_input(ONE, 10**19, 1 << 100, True) == 624999999995069620


def test_input_can_return_1_with_enough_input():
    assert get_next_sqrt_price_from_input(ONE, 1, MAX_UINT256 // 2, True) == 1


# ---------------------------------------------------------------- getNextSqrtPriceFromOutput


def test_output_fails_on_zero_price_or_liquidity():
    with pytest.raises(MathError):
        get_next_sqrt_price_from_output(0, 1, 10**17, False)
    with pytest.raises(MathError):
        get_next_sqrt_price_from_output(1, 0, 10**17, True)


@pytest.mark.parametrize(
    ("amount_out", "zero_for_one"), [(4, False), (5, False), (262144, True), (262145, True)]
)
def test_output_at_or_beyond_the_virtual_reserves_fails(amount_out, zero_for_one):
    price = (
        20282409603651670423947251286016  # 2**104 / 2**96 = 256 -> reserves 4 token0, 262144 token1 at L=1024
    )
    with pytest.raises(MathError):
        get_next_sqrt_price_from_output(price, 1024, amount_out, zero_for_one)


def test_output_just_below_the_token1_reserves():
    assert get_next_sqrt_price_from_output(20282409603651670423947251286016, 1024, 262143, True) == (
        77371252455336267181195264
    )


@pytest.mark.parametrize("zero_for_one", [True, False])
def test_output_of_zero_returns_the_price(zero_for_one):
    assert get_next_sqrt_price_from_output(ONE, 10**17, 0, zero_for_one) == ONE


def test_output_of_a_tenth_of_each_token():
    assert get_next_sqrt_price_from_output(ONE, 10**18, 10**17, False) == 88031291682515930659493278152
    assert get_next_sqrt_price_from_output(ONE, 10**18, 10**17, True) == 71305346262837903834189555302


@pytest.mark.parametrize("zero_for_one", [True, False])
def test_impossible_output_reverts(zero_for_one):
    with pytest.raises(MathError):
        get_next_sqrt_price_from_output(ONE, 1, MAX_UINT256, zero_for_one)


# ---------------------------------------------------------------- deltas


def test_amount0_delta_zero_cases():
    assert get_amount0_delta(ONE, encode_price_sqrt(2, 1), 0, True) == 0
    assert get_amount0_delta(ONE, ONE, 10**18, True) == 0


def test_amount0_delta_for_price_1_to_1_21():
    p = encode_price_sqrt(121, 100)
    assert get_amount0_delta(ONE, p, 10**18, True) == 90909090909090910
    assert get_amount0_delta(ONE, p, 10**18, False) == 90909090909090909


def test_amount0_delta_for_prices_that_overflow_the_product():
    lo, hi = encode_price_sqrt(1 << 90, 1), encode_price_sqrt(1 << 96, 1)
    up, down = get_amount0_delta(lo, hi, 10**18, True), get_amount0_delta(lo, hi, 10**18, False)
    assert up == down + 1


def test_amount1_delta_for_price_1_to_1_21():
    p = encode_price_sqrt(121, 100)
    assert get_amount1_delta(ONE, encode_price_sqrt(2, 1), 0, True) == 0
    assert get_amount1_delta(ONE, ONE, 10**18, True) == 0
    assert get_amount1_delta(ONE, p, 10**18, True) == 10**17
    assert get_amount1_delta(ONE, p, 10**18, False) == 10**17 - 1


def test_swap_computation_vector():
    price = 1025574284609383690408304870162715216695788925244
    liquidity = 50015962439936049619261659728067971248
    after = get_next_sqrt_price_from_input(price, liquidity, 406, True)
    assert after == 1025574284609383582644711336373707553698163132913
    assert get_amount0_delta(after, price, liquidity, True) == 406


def test_signed_deltas_round_by_sign():
    p = encode_price_sqrt(121, 100)
    assert get_amount0_delta_signed(ONE, p, 10**18) == 90909090909090910
    assert get_amount0_delta_signed(ONE, p, -(10**18)) == -90909090909090909
    assert get_amount1_delta_signed(ONE, p, 10**18) == 10**17
    assert get_amount1_delta_signed(ONE, p, -(10**18)) == -(10**17 - 1)


# ---------------------------------------------------------------- properties

prices = wide_ints(MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1)
liquidities = wide_ints(1, MAX_UINT128)
amounts = wide_ints(0, MAX_UINT128 << 20)


@math_settings(500)
@given(prices, prices, liquidities)
def test_deltas_round_up_by_at_most_one(a, b, liquidity):
    for delta in (get_amount0_delta, get_amount1_delta):
        down, up = delta(a, b, liquidity, False), delta(a, b, liquidity, True)
        assert down <= up <= down + 1
        assert delta(b, a, liquidity, True) == up  # order of the prices does not matter


@math_settings(500)
@given(prices, liquidities, amounts, st.booleans())
def test_input_moves_the_price_no_further_than_the_input_pays_for(price, liquidity, amount, zero_for_one):
    try:
        after = get_next_sqrt_price_from_input(price, liquidity, amount, zero_for_one)
    except MathError:
        return
    if zero_for_one:
        assert after <= price
        assume(after > 0)
        assert get_amount0_delta(after, price, liquidity, True) <= amount
    else:
        assert after >= price
        assert get_amount1_delta(price, after, liquidity, True) <= amount


@math_settings(500)
@given(prices, liquidities, amounts, st.booleans())
def test_output_moves_the_price_far_enough_to_pay_the_output(price, liquidity, amount, zero_for_one):
    try:
        after = get_next_sqrt_price_from_output(price, liquidity, amount, zero_for_one)
    except MathError:
        return
    if zero_for_one:
        assert after <= price
        assert get_amount1_delta(after, price, liquidity, False) >= amount
    else:
        assert after >= price
        assert get_amount0_delta(price, after, liquidity, False) >= amount
