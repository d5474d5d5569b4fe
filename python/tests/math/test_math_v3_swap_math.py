"""swap_math.compute_swap_step against SwapMath.sol's cases (ported from v3-core's SwapMath.spec.ts)."""

from __future__ import annotations

from math import isqrt

from hypothesis import given
from hypothesis import strategies as st
from math_strategies import MAX_UINT128, math_settings, wide_ints

from flasharb.math import MathError
from flasharb.math.uniswap_v3.sqrt_price_math import (
    get_next_sqrt_price_from_input,
    get_next_sqrt_price_from_output,
)
from flasharb.math.uniswap_v3.swap_math import compute_swap_step
from flasharb.math.uniswap_v3.tick_math import MAX_SQRT_RATIO, MIN_SQRT_RATIO


def encode_price_sqrt(reserve1: int, reserve0: int) -> int:
    return isqrt((reserve1 << 192) // reserve0)


ONE = encode_price_sqrt(1, 1)


def test_exact_in_capped_at_the_target_one_for_zero():
    target = encode_price_sqrt(101, 100)
    price, amount_in, amount_out, fee = compute_swap_step(ONE, target, 2 * 10**18, 10**18, 600)
    assert (amount_in, fee, amount_out) == (9975124224178055, 5988667735148, 9925619580021728)
    assert amount_in + fee < 10**18
    assert price == target


def test_exact_out_capped_at_the_target_one_for_zero():
    target = encode_price_sqrt(101, 100)
    price, amount_in, amount_out, fee = compute_swap_step(ONE, target, 2 * 10**18, -(10**18), 600)
    assert (amount_in, fee, amount_out) == (9975124224178055, 5988667735148, 9925619580021728)
    assert amount_out < 10**18
    assert price == target


def test_exact_in_fully_spent_one_for_zero():
    target = encode_price_sqrt(1000, 100)
    price, amount_in, amount_out, fee = compute_swap_step(ONE, target, 2 * 10**18, 10**18, 600)
    assert (amount_in, fee, amount_out) == (999400000000000000, 600000000000000, 666399946655997866)
    assert amount_in + fee == 10**18
    assert price < target
    assert price == get_next_sqrt_price_from_input(ONE, 2 * 10**18, 10**18 - fee, False)


def test_exact_out_fully_received_one_for_zero():
    target = encode_price_sqrt(10000, 100)
    price, amount_in, amount_out, fee = compute_swap_step(ONE, target, 2 * 10**18, -(10**18), 600)
    assert (amount_in, fee, amount_out) == (2 * 10**18, 1200720432259356, 10**18)
    assert price < target
    assert price == get_next_sqrt_price_from_output(ONE, 2 * 10**18, 10**18, False)


def test_output_is_capped_at_the_amount_asked_for():
    price, amount_in, amount_out, fee = compute_swap_step(
        417332158212080721273783715441582, 1452870262520218020823638996, 159344665391607089467575320103, -1, 1
    )
    assert (price, amount_in, amount_out, fee) == (417332158212080721273783715441581, 1, 1, 1)


def test_target_price_of_1_uses_partial_input():
    price, amount_in, amount_out, fee = compute_swap_step(2, 1, 1, 3915081100057732413702495386755767, 1)
    assert (price, amount_in, amount_out, fee) == (
        1,
        39614081257132168796771975168,
        0,
        39614120871253040049813,
    )
    assert amount_in + fee <= 3915081100057732413702495386755767


def test_entire_input_taken_as_fee():
    assert compute_swap_step(2413, 79887613182836312, 1985041575832132834610021537970, 10, 1872) == (
        2413,
        0,
        0,
        10,
    )


def test_intermediate_insufficient_liquidity_exact_output():
    price = 20282409603651670423947251286016
    # zero for one... in the upstream naming the target is above: one for zero, output token0
    assert compute_swap_step(price, price * 11 // 10, 1024, -4, 3000) == (price * 11 // 10, 26215, 0, 79)
    assert compute_swap_step(price, price * 9 // 10, 1024, -263000, 3000) == (price * 9 // 10, 1, 26214, 1)


prices = wide_ints(MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1)
liquidities = wide_ints(0, MAX_UINT128)
remaining = wide_ints(1, (1 << 255) - 1).flatmap(lambda a: st.sampled_from([a, -a]))
fees = st.sampled_from([0, 100, 500, 3000, 10000]) | st.integers(0, 999_999)


@math_settings(800)
@given(prices, prices, liquidities, remaining, fees)
def test_step_invariants(current, target, liquidity, amount_remaining, fee):
    """The upstream fuzz invariants: input + fee never exceed an exact input, output never exceeds an exact
    output, the price moves towards the target and never past it."""
    try:
        price, amount_in, amount_out, fee_amount = compute_swap_step(
            current, target, liquidity, amount_remaining, fee
        )
    except MathError:
        return
    if amount_remaining > 0:
        assert amount_in + fee_amount <= amount_remaining
    else:
        assert amount_out <= -amount_remaining
    if current >= target:
        assert target <= price <= current
    else:
        assert current <= price <= target
    if price != target and amount_remaining > 0:
        assert amount_in + fee_amount == amount_remaining
