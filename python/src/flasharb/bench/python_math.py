"""Timings of the pure-Python pool math (flasharb.math): V2 quotes and V3 quotes crossing 0, 1 and 10 ticks.

``run()`` returns medians in microseconds per quote. The V3 state is a realistic 0.3% pool (tick spacing 60,
~50 initialised ticks from a full-range position plus nested and staggered ones around a WETH/USDC-like price)
built once; each quote starts from that state and nothing remembers earlier answers. The only cache involved
is
``tick_math``'s memo of the pure function tick -> sqrt price: the ``*_us`` numbers run with it warm (as in the
bot, where a pool's ticks are looked up again and again), the ``*_cold_us`` numbers clear it before every
quote.

Headline V3 keys report the slower direction (zero-for-one does the token0 divisions); per-direction numbers
carry a ``_zero_for_one`` / ``_one_for_zero`` suffix.
"""

from __future__ import annotations

import random
import statistics
import time
import timeit

from flasharb.math.uniswap_v2 import get_amount_out
from flasharb.math.uniswap_v3 import MAX_TICK, V3PoolState, quote_exact_input, swap
from flasharb.math.uniswap_v3.tick_math import (
    clear_sqrt_ratio_cache,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
)

__all__ = ["run", "realistic_v3_state"]

FEE = 3000
TICK_SPACING = 60


def realistic_v3_state(seed: int = 7, n_ticks: int = 50) -> V3PoolState:
    """A WETH/USDC-like 0.3% pool: price near tick -196260 (3000 USDC per WETH with 6/18 decimals), a
    full-range position and positions of 1 to 200 spacings around the price until ~n_ticks ticks are
    initialised."""
    rng = random.Random(seed)
    centre = -196260 // TICK_SPACING
    sqrt_price = get_sqrt_ratio_at_tick(centre * TICK_SPACING + 17) + 987654321987654321
    tick = get_tick_at_sqrt_ratio(sqrt_price)
    full = MAX_TICK // TICK_SPACING * TICK_SPACING
    positions = [(-full, full, 3 * 10**17)]
    initialised = {-full, full}
    while len(initialised) < n_ticks:
        lower = centre + rng.randint(-120, 110)
        upper = lower + rng.choice([1, 2, 3, 5, 10, 20, 50, 100, 200])
        positions.append((lower * TICK_SPACING, upper * TICK_SPACING, rng.randint(10**15, 10**18)))
        initialised |= {lower * TICK_SPACING, upper * TICK_SPACING}
    return V3PoolState.from_positions(
        sqrt_price_x96=sqrt_price, tick=tick, fee=FEE, tick_spacing=TICK_SPACING, positions=positions
    )


def _amount_crossing(state: V3PoolState, zero_for_one: bool, ticks: int) -> int:
    """An exact-input amount whose swap crosses exactly ``ticks`` initialised ticks (0: half-way to the
    first)."""
    want = max(ticks, 1)
    lo, hi = 1, 1
    while swap(state, zero_for_one, hi).ticks_crossed < want:
        hi *= 2
    while lo < hi:  # least amount crossing `want` ticks
        mid = (lo + hi) // 2
        if swap(state, zero_for_one, mid).ticks_crossed >= want:
            hi = mid
        else:
            lo = mid + 1
    amount = lo // 2 if ticks == 0 else lo + lo // 10_000
    result = swap(state, zero_for_one, amount)
    assert result.ticks_crossed == ticks and not result.partial, (ticks, result)
    return amount


def _median_us(fn, number: int, repeat: int) -> float:
    """Median over `repeat` runs of the mean time of `number` calls, in microseconds."""
    timer = timeit.Timer(fn)
    return statistics.median(t / number * 1e6 for t in timer.repeat(repeat=repeat, number=number))


def _median_cold_us(fn, calls: int) -> float:
    """Median of single calls, each after emptying the tick -> sqrt price memo."""
    samples = []
    clock = time.perf_counter_ns
    for _ in range(calls):
        clear_sqrt_ratio_cache()
        start = clock()
        fn()
        samples.append(clock() - start)
    return statistics.median(samples) / 1000


def run(number: int = 2000, repeat: int = 15) -> dict:
    """Medians, in microseconds per quote (see the module docstring for the setup)."""
    results: dict[str, float | int] = {}
    reserve_in, reserve_out = 1_234_567 * 10**18, 3_703_701_000 * 10**6
    results["v2_quote_us"] = _median_us(
        lambda: get_amount_out(10**18, reserve_in, reserve_out, 3000), number * 10, repeat
    )

    state = realistic_v3_state()
    results["v3_state_initialised_ticks"] = len(state.ticks)
    for ticks, key in ((0, "0_ticks"), (1, "1_tick"), (10, "10_ticks")):
        worst_warm = worst_cold = 0.0
        for zero_for_one, side in ((True, "zero_for_one"), (False, "one_for_zero")):
            amount = _amount_crossing(state, zero_for_one, ticks)

            def quote(zero_for_one=zero_for_one, amount=amount):
                return quote_exact_input(state, zero_for_one, amount)

            quote()  # fills the memo for the warm runs
            warm = _median_us(quote, number, repeat)
            cold = _median_cold_us(quote, max(200, number // 10))
            results[f"v3_quote_{key}_{side}_us"] = warm
            results[f"v3_quote_{key}_{side}_cold_us"] = cold
            worst_warm, worst_cold = max(worst_warm, warm), max(worst_cold, cold)
        results[f"v3_quote_{key}_us"] = worst_warm
        results[f"v3_quote_{key}_cold_us"] = worst_cold

    # the full simulation (SwapResult with the final tick, which the quotes skip)
    amount = _amount_crossing(state, True, 0)
    results["v3_swap_0_ticks_us"] = _median_us(lambda: swap(state, True, amount), number, repeat)
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in results.items()}


if __name__ == "__main__":
    for name, value in run().items():
        print(f"{name:40s} {value}")
