"""Shared hypothesis settings and strategies for the math tests (decorators, not a global profile, so other
suites' hypothesis settings are left alone). ``MATH_EXAMPLES`` scales the example counts (default 1.0)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from flasharb.math.uniswap_v3 import MAX_SQRT_RATIO, MAX_TICK, MIN_SQRT_RATIO, MIN_TICK

_SCALE = float(os.environ.get("MATH_EXAMPLES", "1"))


def math_settings(max_examples: int) -> settings:
    return settings(
        deadline=None,
        max_examples=max(1, int(max_examples * _SCALE)),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


MAX_UINT128 = (1 << 128) - 1
MAX_UINT160 = (1 << 160) - 1
MAX_UINT256 = (1 << 256) - 1

uint128 = st.integers(0, MAX_UINT128)
uint160 = st.integers(0, MAX_UINT160)
uint256 = st.integers(0, MAX_UINT256)
ticks = st.integers(MIN_TICK, MAX_TICK)
sqrt_prices = st.integers(MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1)
fees = st.sampled_from([0, 1, 100, 500, 3000, 10000, 999_999]) | st.integers(0, 999_999)


def wide_ints(lo: int, hi: int):
    """Integers in [lo, hi] spread over magnitudes (plain st.integers clusters small), plus the edges."""
    bits = max(1, hi.bit_length())

    def at_magnitude(b: int):
        a, z = max(lo, (1 << b) >> 1), min(hi, 1 << b)
        return st.integers(a, z) if a <= z else st.just(lo)

    return st.one_of(
        st.integers(lo, hi), st.integers(0, bits).flatmap(at_magnitude), st.sampled_from([lo, hi])
    )
