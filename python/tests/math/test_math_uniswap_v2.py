"""flasharb.math.uniswap_v2 against UniswapV2Library's formulas and revert conditions."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from math_strategies import math_settings, wide_ints

from flasharb.math import (
    InsufficientInputAmount,
    InsufficientLiquidity,
    InsufficientOutputAmount,
    MathError,
    Overflow,
)
from flasharb.math.uniswap_v2 import MAX_UINT112, get_amount_in, get_amount_out

reserves = wide_ints(1, MAX_UINT112)
amounts = wide_ints(1, MAX_UINT112)
fees = st.sampled_from([0, 1000, 2500, 3000, 10000]) | st.integers(0, 999_999)


def library_get_amount_out(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    """UniswapV2Library.getAmountOut, literally (997/1000)."""
    with_fee = amount_in * 997
    return with_fee * reserve_out // (reserve_in * 1000 + with_fee)


def library_get_amount_in(amount_out: int, reserve_in: int, reserve_out: int) -> int:
    """UniswapV2Library.getAmountIn, literally."""
    return reserve_in * amount_out * 1000 // ((reserve_out - amount_out) * 997) + 1


# ---------------------------------------------------------------- known vectors


def test_get_amount_out_vectors():
    # 1 token into a 1000/1000 pool: 997 * 1000 / (1000 * 1000 + 997) in wei-scaled units
    assert get_amount_out(10**18, 1000 * 10**18, 1000 * 10**18) == 996006981039903216
    assert get_amount_out(1, 10**18, 10**18) == 0  # the library returns 0 (the pair would refuse to swap)
    assert get_amount_out(1000, 1000, 1000, fee_pips=0) == 500
    assert get_amount_out(2000, 1000, 1000, fee_pips=0) == 666


def test_get_amount_in_vectors():
    assert get_amount_in(996006981039903216, 1000 * 10**18, 1000 * 10**18) == 10**18
    assert get_amount_in(500, 1000, 1000, fee_pips=0) == 1001  # exact 1000, plus the library's +1
    assert get_amount_in(1, 10**18, 10**18) == library_get_amount_in(1, 10**18, 10**18) == 2


@pytest.mark.parametrize("amount_in", [0, -1])
def test_get_amount_out_rejects_no_input(amount_in):
    with pytest.raises(InsufficientInputAmount) as err:
        get_amount_out(amount_in, 10, 10)
    assert err.value.reason == "UniswapV2Library: INSUFFICIENT_INPUT_AMOUNT"


@pytest.mark.parametrize("reserves", [(0, 10), (10, 0), (0, 0)])
def test_get_amount_out_rejects_empty_reserves(reserves):
    with pytest.raises(InsufficientLiquidity):
        get_amount_out(1, *reserves)


def test_get_amount_in_reverts_like_the_library():
    with pytest.raises(InsufficientOutputAmount):
        get_amount_in(0, 10, 10)
    with pytest.raises(InsufficientLiquidity):
        get_amount_in(1, 0, 10)
    with pytest.raises(InsufficientLiquidity):
        get_amount_in(10, 10, 10)  # the whole reserve: the library divides by zero
    with pytest.raises(InsufficientLiquidity):
        get_amount_in(11, 10, 10)  # more than the reserve: SafeMath underflow


def test_uint112_reserve_overflow():
    # the pair's _update requires balances <= uint112.max
    assert get_amount_out(1, MAX_UINT112 - 1, 10**18) >= 0
    with pytest.raises(Overflow) as err:
        get_amount_out(2, MAX_UINT112 - 1, 10**18)
    assert err.value.reason == "UniswapV2: OVERFLOW"
    with pytest.raises(Overflow):
        get_amount_in(10**18 - 1, MAX_UINT112 - 10, 10**18)


def test_uint256_overflow():
    with pytest.raises(Overflow) as err:
        get_amount_out(1 << 250, 10, 1 << 100)
    assert err.value.reason == "ds-math-mul-overflow"


@pytest.mark.parametrize("fee", [-1, 1_000_000, 2_000_000])
def test_rejects_invalid_fee(fee):
    with pytest.raises(MathError):
        get_amount_out(1, 10, 10, fee)
    with pytest.raises(MathError):
        get_amount_in(1, 10, 10, fee)


# ---------------------------------------------------------------- properties


@math_settings(400)
@given(amounts, reserves, reserves)
def test_pips_3000_equals_the_library(amount_in, reserve_in, reserve_out):
    assume(reserve_in + amount_in <= MAX_UINT112)
    assert get_amount_out(amount_in, reserve_in, reserve_out) == library_get_amount_out(
        amount_in, reserve_in, reserve_out
    )
    amount_out = min(amount_in, reserve_out - 1)
    if amount_out > 0:
        expected = library_get_amount_in(amount_out, reserve_in, reserve_out)
        if reserve_in + expected <= MAX_UINT112:
            assert get_amount_in(amount_out, reserve_in, reserve_out) == expected


@math_settings(400)
@given(amounts, reserves, reserves, fees)
def test_amount_in_buys_at_least_the_amount_out(amount_out, reserve_in, reserve_out, fee):
    """get_amount_in(out) is enough to get `out` back, and one wei less is not (the +1 aside)."""
    assume(amount_out < reserve_out)
    try:
        amount_in = get_amount_in(amount_out, reserve_in, reserve_out, fee)
    except Overflow:
        return
    assert get_amount_out(amount_in, reserve_in, reserve_out, fee) >= amount_out
    if amount_in > 2:
        assert get_amount_out(amount_in - 2, reserve_in, reserve_out, fee) < amount_out


@math_settings(400)
@given(amounts, reserves, reserves, fees)
def test_round_trip_out_then_in_never_gains(amount_in, reserve_in, reserve_out, fee):
    assume(reserve_in + amount_in <= MAX_UINT112)
    amount_out = get_amount_out(amount_in, reserve_in, reserve_out, fee)
    assert 0 <= amount_out < reserve_out
    if amount_out > 0:
        # buying back what we got never costs more than we paid (+1 for the library's rounding)
        assert get_amount_in(amount_out, reserve_in, reserve_out, fee) <= amount_in + 1
        # the constant product never decreases (the pair's K check, at our fee)
        new_in, new_out = reserve_in + amount_in, reserve_out - amount_out
        assert new_in * new_out >= reserve_in * reserve_out


@math_settings(300)
@given(amounts, amounts, reserves, reserves, fees)
def test_monotonic_in_amount(a, b, reserve_in, reserve_out, fee):
    lo, hi = sorted((a, b))
    assume(reserve_in + hi <= MAX_UINT112)
    out_lo, out_hi = (get_amount_out(x, reserve_in, reserve_out, fee) for x in (lo, hi))
    assert out_lo <= out_hi
    # and a higher fee never pays more
    if fee < 999_999:
        assert get_amount_out(hi, reserve_in, reserve_out, fee + 1) <= out_hi
