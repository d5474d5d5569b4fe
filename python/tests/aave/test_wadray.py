"""WadRayMath, PercentageMath and MathUtils (Aave v3.0-v3.3, and the v3.4 interest / v3.5 floor-ceil variants) on hand-computed values, their revert
boundaries, and properties: half-up rounding equals exact rational rounding, and the interest factors."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flasharb.aave.types import ReserveState
from flasharb.aave.wadray import (
    HALF_RAY,
    HALF_WAD,
    MAX_UINT256,
    RAY,
    SECONDS_PER_YEAR,
    WAD,
    AaveMathError,
    a_token_balance,
    compounded_interest,
    compounded_interest_for,
    compounded_interest_v3_4,
    linear_interest,
    mul_div_ceil,
    normalized_debt,
    percent_div,
    percent_div_ceil,
    percent_mul,
    percent_mul_ceil,
    percent_mul_floor,
    ray_div,
    ray_div_ceil,
    ray_div_floor,
    ray_mul,
    ray_mul_ceil,
    ray_mul_floor,
    ray_to_wad,
    v_token_balance,
    wad_div,
    wad_mul,
    wad_to_ray,
)

u256 = st.integers(0, MAX_UINT256)
small = st.integers(0, 2**128 - 1)  # (2**128)**2 overflows rayMul: the assembly reverts


def _half_up(x: Fraction) -> int:
    return int(x + Fraction(1, 2)) if x >= 0 else -1  # floor(x + 1/2) for x >= 0


def test_hand_values() -> None:
    assert ray_mul(3 * RAY // 2, 5) == 8  # 7.5 rounds up
    assert ray_mul(RAY // 2 - 1, 1) == 0 and ray_mul(RAY // 2, 1) == 1
    assert ray_div(1, 3) == 333333333333333333333333333  # 0.333..e27
    assert ray_div(2, 3) == 666666666666666666666666667
    assert wad_mul(15 * 10**17, 15 * 10**17) == 225 * 10**16
    assert wad_div(1, 3 * WAD) == 0 and wad_div(2, 3 * WAD) == 1  # 0.33.. / 0.66.. wei
    assert ray_to_wad(1_499_999_999) == 1 and ray_to_wad(1_500_000_000) == 2
    assert wad_to_ray(7) == 7 * 10**9
    assert percent_mul(10_001, 5_000) == 5_001  # 5000.5 up
    assert percent_mul(9_999, 5_000) == 5_000  # 4999.5 up
    assert percent_div(100, 10_500) == 95  # 95.238
    assert percent_div(21, 10_000) == 21


def test_overflow_guards_match_the_assembly() -> None:
    b = 10**30
    limit = (MAX_UINT256 - HALF_RAY) // b
    assert ray_mul(limit, b) >= 0
    with pytest.raises(AaveMathError):
        ray_mul(limit + 1, b)
    assert ray_mul(MAX_UINT256, 0) == 0
    with pytest.raises(AaveMathError):
        ray_div(1, 0)
    with pytest.raises(AaveMathError):
        ray_div((MAX_UINT256 - 5) // RAY + 1, 10)
    with pytest.raises(AaveMathError):
        wad_mul((MAX_UINT256 - HALF_WAD) // 3 + 1, 3)
    with pytest.raises(AaveMathError):
        percent_div(1, 0)
    with pytest.raises(AaveMathError):
        wad_to_ray(MAX_UINT256 // 10**9 + 1)
    with pytest.raises(AaveMathError):
        linear_interest(RAY, 100, 99)  # block.timestamp before the last update: checked subtraction
    with pytest.raises(AaveMathError):
        compounded_interest(RAY, 100, 99)


@given(small, small)
def test_ray_wad_percent_round_half_up(a: int, b: int) -> None:
    assert ray_mul(a, b) == _half_up(Fraction(a * b, RAY))
    assert wad_mul(a, b) == _half_up(Fraction(a * b, WAD))
    assert percent_mul(a, b % 20_000) == _half_up(Fraction(a * (b % 20_000), 10_000))
    if b:
        # a * UNIT + b // 2 over b: half up, except an odd b where b / 2 truncates
        assert ray_div(a, b) == (a * RAY + b // 2) // b
        assert abs(Fraction(ray_div(a, b)) - Fraction(a * RAY, b)) <= Fraction(1, 2)
        assert abs(Fraction(wad_div(a, b)) - Fraction(a * WAD, b)) <= Fraction(1, 2)
        assert abs(Fraction(percent_div(a, b)) - Fraction(a * 10_000, b)) <= Fraction(1, 2)


@given(u256)
def test_ray_to_wad_is_half_up(a: int) -> None:
    assert ray_to_wad(a) == _half_up(Fraction(a, 10**9))


def test_interest_hand_values() -> None:
    # 10% a year, linear, over half a year: 1.05
    assert linear_interest(RAY // 10, 0, SECONDS_PER_YEAR // 2) == RAY + RAY // 20
    # compounded: 1 + rt + (rt)^2/2 + (rt)^3/6 with the contract's per-second truncations
    rate, dt = RAY // 10, SECONDS_PER_YEAR
    bp2 = (rate * rate + HALF_RAY) // RAY // SECONDS_PER_YEAR**2
    bp3 = (bp2 * rate + HALF_RAY) // RAY // SECONDS_PER_YEAR
    expected = RAY + rate + dt * (dt - 1) * bp2 // 2 + dt * (dt - 1) * (dt - 2) * bp3 // 6
    assert compounded_interest(rate, 0, dt) == expected
    assert abs(compounded_interest(rate, 0, dt) - 1_105_170_918 * 10**18) < 10**24  # ~e^0.1 = 1.10517
    assert compounded_interest(rate, 5, 5) == RAY and compounded_interest(rate, 0, 1) == RAY + rate // SECONDS_PER_YEAR
    assert compounded_interest(rate, 0, 2) == RAY + 2 * rate // SECONDS_PER_YEAR + 2 * bp2 // 2
    # v3.4+: x = r t; 1 + x + x^2/2 + x^3/6 (ray products)
    x = rate
    assert compounded_interest_v3_4(rate, 0, dt) == RAY + x + ray_mul(x, x // 2 + ray_mul(x, x // 6))


@given(st.integers(0, 3 * RAY), st.integers(0, 10 * SECONDS_PER_YEAR))
def test_compounded_is_between_linear_and_exponential(rate: int, dt: int) -> None:
    c = compounded_interest(rate, 0, dt)
    assert c >= linear_interest(rate, 0, dt) - 1
    # the binomial approximation never exceeds e^(rt) (its terms are the first three of the series)
    assert Fraction(c, RAY) <= Fraction(1) + sum(Fraction(rate * dt, RAY * SECONDS_PER_YEAR) ** k / [1, 1, 2, 6][k] for k in range(1, 4)) + Fraction(1, RAY)


# ------------------------------------------------------------------ v3.4+ interest, v3.5+ directed rounding
def test_directed_rounding_hand_values() -> None:
    """WadRayMath.rayMulFloor/Ceil, rayDivFloor/Ceil, PercentageMath.percentMulFloor/Ceil/percentDivCeil and
    MathUtils.mulDivCeil (aave-v3-origin v3.5.0)."""
    assert (ray_mul_floor(3 * RAY // 2, 5), ray_mul(3 * RAY // 2, 5), ray_mul_ceil(3 * RAY // 2, 5)) == (7, 8, 8)
    assert (ray_mul_floor(5 * RAY // 4, 1), ray_mul(5 * RAY // 4, 1), ray_mul_ceil(5 * RAY // 4, 1)) == (1, 1, 2)
    assert ray_mul_ceil(RAY, 5) == ray_mul_floor(RAY, 5) == 5  # exact: no rounding either way
    assert ray_div_floor(2, 3) == 666666666666666666666666666 and ray_div_ceil(2, 3) == 666666666666666666666666667
    assert ray_div_floor(1, 3) == 333333333333333333333333333 and ray_div_ceil(1, 3) == 333333333333333333333333334
    assert (percent_mul_floor(10_001, 5_000), percent_mul_ceil(10_001, 5_000)) == (5_000, 5_001)
    assert (percent_mul_floor(9_999, 5_000), percent_mul_ceil(9_999, 5_000)) == (4_999, 5_000)
    assert percent_div_ceil(100, 10_500) == 96 and percent_div(100, 10_500) == 95  # 95.238
    assert percent_div_ceil(21, 10_000) == 21
    assert mul_div_ceil(1, 10**8, 10**18) == 1 and mul_div_ceil(0, 10**8, 10**18) == 0 and mul_div_ceil(10, 3, 5) == 6
    assert a_token_balance(3, RAY // 2, True) == 1 and a_token_balance(3, RAY // 2, False) == 2
    assert v_token_balance(5, RAY // 4, True) == 2 and v_token_balance(5, RAY // 4, False) == 1


def test_directed_overflow_guards() -> None:
    b = 10**30
    assert ray_mul_floor(MAX_UINT256 // b, b) >= 0 and ray_mul_ceil(MAX_UINT256 // b, b) >= 0
    for f in (ray_mul_floor, ray_mul_ceil, percent_mul_floor, percent_mul_ceil):
        with pytest.raises(AaveMathError):
            f(MAX_UINT256 // b + 1, b)
    for g in (ray_div_floor, ray_div_ceil, percent_div_ceil):
        with pytest.raises(AaveMathError):
            g(1, 0)
    with pytest.raises(AaveMathError):
        ray_div_ceil(MAX_UINT256 // RAY + 1, 1)
    with pytest.raises(AaveMathError):
        percent_div_ceil(MAX_UINT256 // 10_000 + 1, 1)
    with pytest.raises(AaveMathError):
        mul_div_ceil(1, 1, 0)
    with pytest.raises(AaveMathError):
        mul_div_ceil(MAX_UINT256, 2, 3)


@given(small, small)
def test_floor_and_ceil_are_exact(a: int, b: int) -> None:
    assert ray_mul_floor(a, b) == math.floor(Fraction(a * b, RAY))
    assert ray_mul_ceil(a, b) == math.ceil(Fraction(a * b, RAY))
    bps = b % 20_000
    assert percent_mul_floor(a, bps) == math.floor(Fraction(a * bps, 10_000))
    assert percent_mul_ceil(a, bps) == math.ceil(Fraction(a * bps, 10_000))
    if b:
        assert ray_div_floor(a, b) == math.floor(Fraction(a * RAY, b))
        assert ray_div_ceil(a, b) == math.ceil(Fraction(a * RAY, b))
        assert percent_div_ceil(a, b) == math.ceil(Fraction(a * 10_000, b))
        assert mul_div_ceil(a, 10**8, b) == math.ceil(Fraction(a * 10**8, b))


def test_normalized_debt_uses_the_revisions_polynomial() -> None:
    """v3.4 (revision 8) changed MathUtils.calculateCompoundedInterest: normalized_debt follows the revision."""
    rate, dt, index = RAY // 4, 30 * 86_400, RAY + RAY // 7
    reserve = ReserveState(0, "A", 0, RAY, index, 0, rate, 1_000, "a", "v", "s", 1)
    old = ray_mul(compounded_interest(rate, 1_000, 1_000 + dt), index)
    new = ray_mul(compounded_interest_v3_4(rate, 1_000, 1_000 + dt), index)
    assert old != new
    assert normalized_debt(reserve, 1_000 + dt, 1) == normalized_debt(reserve, 1_000 + dt, 7) == old
    assert normalized_debt(reserve, 1_000 + dt, 8) == normalized_debt(reserve, 1_000 + dt, 10) == new
    assert normalized_debt(reserve, 1_000, 9) == index
    assert compounded_interest_for(7) is compounded_interest and compounded_interest_for(9) is compounded_interest_v3_4
