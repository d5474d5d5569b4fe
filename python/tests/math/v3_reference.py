"""A slow, literal transcription of UniswapV3Pool.swap (v3-core 1.0.1) built from the library modules and a
real tick bitmap. ``flasharb.math.uniswap_v3.pool.swap`` is the optimised version; the tests hold the two
equal."""

from __future__ import annotations

from collections.abc import Mapping

from flasharb.math import IncompleteTickData, InvalidPriceLimit, Overflow, ZeroAmount
from flasharb.math.uniswap_v3 import liquidity_math, swap_math, tick_bitmap, tick_math
from flasharb.math.uniswap_v3.pool import SwapResult, V3PoolState

INT256_MAX = (1 << 255) - 1


def bitmap_of(ticks, spacing: int) -> dict[int, int]:
    bitmap: dict[int, int] = {}
    for t in ticks:
        tick_bitmap.flip_tick(bitmap, t, spacing)
    return bitmap


def reference_swap(
    state: V3PoolState, zero_for_one: bool, amount_specified: int, sqrt_price_limit_x96: int | None = None
) -> SwapResult:
    """Only for complete tick data (the window is ignored except for a sanity check)."""
    if not state.complete:
        raise IncompleteTickData("reference_swap needs complete tick data")
    if sqrt_price_limit_x96 is None:
        sqrt_price_limit_x96 = tick_math.MIN_SQRT_RATIO + 1 if zero_for_one else tick_math.MAX_SQRT_RATIO - 1
    if amount_specified == 0:
        raise ZeroAmount
    if zero_for_one:
        ok = tick_math.MIN_SQRT_RATIO < sqrt_price_limit_x96 < state.sqrt_price_x96
    else:
        ok = state.sqrt_price_x96 < sqrt_price_limit_x96 < tick_math.MAX_SQRT_RATIO
    if not ok:
        raise InvalidPriceLimit
    bitmap = bitmap_of(state.ticks, state.tick_spacing)
    nets: Mapping[int, int] = state.liquidity_net
    exact_input = amount_specified > 0
    remaining, calculated = amount_specified, 0
    sqrt_price, tick, liquidity = state.sqrt_price_x96, state.tick, state.liquidity
    crossed = 0

    while remaining != 0 and sqrt_price != sqrt_price_limit_x96:
        start = sqrt_price
        tick_next, initialized = tick_bitmap.next_initialized_tick_within_one_word(
            bitmap, tick, state.tick_spacing, zero_for_one
        )
        tick_next = min(max(tick_next, tick_math.MIN_TICK), tick_math.MAX_TICK)
        sqrt_next = tick_math.get_sqrt_ratio_at_tick(tick_next)
        if zero_for_one:
            target = sqrt_price_limit_x96 if sqrt_next < sqrt_price_limit_x96 else sqrt_next
        else:
            target = sqrt_price_limit_x96 if sqrt_next > sqrt_price_limit_x96 else sqrt_next
        sqrt_price, amount_in, amount_out, fee_amount = swap_math.compute_swap_step(
            sqrt_price, target, liquidity, remaining, state.fee
        )
        if exact_input:
            remaining -= amount_in + fee_amount
            calculated -= amount_out
        else:
            remaining += amount_out
            calculated += amount_in + fee_amount
        if abs(calculated) > INT256_MAX + 1:
            raise Overflow(reason="")
        if sqrt_price == sqrt_next:
            if initialized:
                net = nets[tick_next]
                liquidity = liquidity_math.add_delta(liquidity, -net if zero_for_one else net)
                crossed += 1
            tick = tick_next - 1 if zero_for_one else tick_next
        elif sqrt_price != start:
            tick = tick_math.get_tick_at_sqrt_ratio(sqrt_price)

    if zero_for_one == exact_input:
        amount0, amount1 = amount_specified - remaining, calculated
    else:
        amount0, amount1 = calculated, amount_specified - remaining
    return SwapResult(
        amount0=amount0,
        amount1=amount1,
        sqrt_price_x96=sqrt_price,
        tick=tick,
        liquidity=liquidity,
        ticks_crossed=crossed,
        zero_for_one=zero_for_one,
        amount_specified_remaining=remaining,
    )
