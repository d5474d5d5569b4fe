"""The reference the engine's sizing is held to: a dense integer brute-force search over the input, evaluated
with the math package's own quote functions (not the engine's hop code)."""

from __future__ import annotations

from flasharb.engine.types import PoolInfo, PoolKind, V2State
from flasharb.math import MathError
from flasharb.math.uniswap_v2 import get_amount_out
from flasharb.math.uniswap_v3 import quote_exact_input


def exact_cycle_out(hops: list[tuple[PoolInfo, bool]], states: dict, amount: int) -> int | None:
    """Output of the cycle through the math package (None if any hop cannot fill)."""
    x = amount
    for pool, zfo in hops:
        st = states[pool.address]
        try:
            if pool.kind is PoolKind.V2:
                assert isinstance(st, V2State)
                r_in, r_out = (st.reserve0, st.reserve1) if zfo else (st.reserve1, st.reserve0)
                x = get_amount_out(x, r_in, r_out, pool.fee_pips)
            else:
                x = quote_exact_input(st, zfo, x)
        except MathError:
            return None
        if x <= 0:
            return None
    return x


def brute_force_best(profit_of, hi: int, *, points: int = 2000) -> tuple[int, int]:
    """(best profit, its input) of ``profit_of(x)`` over integers in [1, hi]: a dense grid, then denser grids
    around the best point down to every integer (the profit is concave in x, pieces of it flat)."""
    lo = 1
    best = (profit_of(1), 1)
    while True:
        step = max(1, (hi - lo) // points)
        for x in range(lo, hi + 1, step):
            p = profit_of(x)
            if p > best[0]:
                best = (p, x)
        if step == 1:
            return best
        lo, hi = max(1, best[1] - 2 * step), min(hi, best[1] + 2 * step)


def aave_premium(amount: int, bps: int = 5) -> int:
    return (amount * bps + 5_000) // 10_000
