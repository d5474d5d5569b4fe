"""Builders of consistent V3 pool states for the tests: positions -> liquidityNet per tick + active
liquidity."""

from __future__ import annotations

from collections.abc import Iterable

from flasharb.math.uniswap_v3 import MAX_TICK, MIN_TICK, V3PoolState
from flasharb.math.uniswap_v3.tick_math import get_sqrt_ratio_at_tick


def state_from_positions(
    *,
    sqrt_price_x96: int,
    fee: int,
    tick_spacing: int,
    positions: Iterable[tuple[int, int, int]],
    tick: int | None = None,
    tick_lower_bound: int = MIN_TICK,
    tick_upper_bound: int = MAX_TICK,
) -> V3PoolState:
    """positions: (tick_lower, tick_upper, liquidity); see ``V3PoolState.from_positions``."""
    return V3PoolState.from_positions(
        sqrt_price_x96=sqrt_price_x96,
        fee=fee,
        tick_spacing=tick_spacing,
        positions=positions,
        tick=tick,
        tick_lower_bound=tick_lower_bound,
        tick_upper_bound=tick_upper_bound,
    )


def realistic_state(
    n_ticks: int = 50, *, fee: int = 3000, tick_spacing: int = 60, seed: int = 1
) -> V3PoolState:
    """A 0.3% pool near 1:1 with ~n_ticks initialised ticks from nested and staggered positions, plus full
    range."""
    import random

    rng = random.Random(seed)
    tick0 = 0
    sqrt_price = get_sqrt_ratio_at_tick(tick0) + 123456789012345678901
    full = MAX_TICK // tick_spacing * tick_spacing
    positions = [(-full, full, 10**21)]
    while True:
        lo = rng.randrange(-n_ticks * 3, n_ticks * 3) * tick_spacing
        width = rng.randrange(1, n_ticks) * tick_spacing
        positions.append((lo, lo + width, rng.randrange(10**17, 10**20)))
        ticks = {t for p in positions for t in p[:2]}
        if len(ticks) >= n_ticks:
            break
    return state_from_positions(
        sqrt_price_x96=sqrt_price, fee=fee, tick_spacing=tick_spacing, positions=positions
    )
