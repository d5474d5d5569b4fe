"""flasharb.engine.sizing: the closed form against a dense integer brute force with the math package's quotes,
for V2 cycles (exact, with and without a premium), V3 cycles crossing initialised ticks, caps and tick
windows."""

from __future__ import annotations

import random
from math import isqrt

import pytest
from engine_brute import aave_premium, brute_force_best, exact_cycle_out

from flasharb.bench.engine import v3_state
from flasharb.engine.sizing import V2Hop, V3Hop, confirm, cycle_output, optimum, size_cycle
from flasharb.engine.types import PoolInfo, PoolKind, V2State
from flasharb.math.uniswap_v3.tick_math import get_sqrt_ratio_at_tick

A, B, C = "0x" + "0a" * 20, "0x" + "0b" * 20, "0x" + "0c" * 20


def _v2(name: str, t0: str, t1: str, r0: int, r1: int, fee: int = 3000):
    return PoolInfo("0x" + name * 20, PoolKind.V2, "d", t0, t1, fee), V2State(r0, r1)


def _v3(name: str, t0: str, t1: str, tick: int, positions, fee: int = 3000, words: int | None = 2):
    st = v3_state(get_sqrt_ratio_at_tick(tick) + 7 * 10**15, fee, positions, words_each_side=words)
    return PoolInfo("0x" + name * 20, PoolKind.V3, "u", t0, t1, fee, st.tick_spacing), st


def _hop(pool: PoolInfo, state, zfo: bool):
    if pool.kind is PoolKind.V2:
        r_in, r_out = (state.reserve0, state.reserve1) if zfo else (state.reserve1, state.reserve0)
        return V2Hop(r_in, r_out, pool.fee_pips)
    return V3Hop(state, zfo)


def _check(cycle, premium_bps: int = 0, cap: int | None = None, hi: int | None = None):
    """Engine vs brute force on ``cycle`` [(pool, state, zfo)]; returns the engine's sizing."""
    states = {p.address: s for p, s, _ in cycle}
    hops = [_hop(p, s, z) for p, s, z in cycle]
    sizing = size_cycle(hops, premium_num=premium_bps, premium_den=10_000, cap=cap)

    def profit(x: int) -> int:
        out = exact_cycle_out([(p, z) for p, _, z in cycle], states, x)
        return -(1 << 200) if out is None else out - x - aave_premium(x, premium_bps)

    limit = cap or hi or 10**26
    best_profit, best_x = brute_force_best(profit, limit)
    if best_profit <= 0:
        assert sizing is None
        return None
    assert sizing is not None
    assert sizing.profit == profit(sizing.amount_in)  # the engine's number is the math package's, to the wei
    assert sizing.profit >= best_profit * 0.9999
    assert sizing.profit >= best_profit - 16  # in practice within a few wei
    if cap is not None:
        assert sizing.amount_in <= cap
    return sizing


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("premium_bps", [0, 5])
def test_v2_triangle_matches_brute_force(seed, premium_bps):
    rng = random.Random(seed)
    r = 10 ** rng.randint(18, 24)
    skew = 1 + rng.uniform(0.005, 0.05)
    p1, s1 = _v2("01", A, B, r, r * 3)
    p2, s2 = _v2("02", B, C, r * 3, r * 7 // 2)
    p3, s3 = _v2("03", A, C, int(r * skew), r * 7 // 2, fee=rng.choice((1000, 2500, 3000)))
    _check([(p1, s1, True), (p2, s2, True), (p3, s3, False)], premium_bps)


def test_v2_closed_form_is_the_papers():
    """x* = (sqrt(K*M) - M) / N for the composed K*x/(M + N*x), in integers."""
    hops = [V2Hop(10**21, 2 * 10**21, 3000), V2Hop(2 * 10**21, int(1.05e21), 3000)]
    K = hops[0].g * hops[0].reserve_out * hops[1].g * hops[1].reserve_out
    M = hops[0].reserve_in * 10**6 * hops[1].reserve_in * 10**6
    N = hops[0].g * hops[1].reserve_in * 10**6 + hops[1].g * hops[0].g * hops[0].reserve_out
    est = optimum(hops)
    assert est is not None and est.amount_in == (isqrt(K * M) - M) // N


def test_unprofitable_cycle_has_no_size():
    p1, s1 = _v2("01", A, B, 10**21, 10**21)
    p2, s2 = _v2("02", A, B, 10**21, 10**21)
    assert _check([(p1, s1, True), (p2, s2, False)]) is None


def test_premium_can_make_a_thin_edge_unprofitable():
    p1, s1 = _v2("01", A, B, 10**21, int(1.00605 * 10**21))  # ~0.6% apart: 0.6% of fees eat it all but a hair
    p2, s2 = _v2("02", A, B, 10**21, 10**21)
    with_nothing = _check([(p1, s1, True), (p2, s2, False)], 0)
    assert with_nothing is not None
    assert _check([(p1, s1, True), (p2, s2, False)], 50) is None


def test_cap_binds_at_the_cap():
    p1, s1 = _v2("01", A, B, 10**21, int(1.05 * 10**21))
    p2, s2 = _v2("02", A, B, 10**21, 10**21)
    free = _check([(p1, s1, True), (p2, s2, False)])
    capped = _check([(p1, s1, True), (p2, s2, False)], cap=free.amount_in // 3)
    assert capped.capped and free.amount_in // 3 - 2 <= capped.amount_in <= free.amount_in // 3
    assert capped.unconstrained >= free.amount_in - 2


POSITIONS = [(-887220, 887220, 10**20), (-600, 600, 5 * 10**20), (-120, 120, 10**21), (60, 900, 3 * 10**20)]


@pytest.mark.parametrize("skew", [1.002, 1.01, 1.03, 1.08])
@pytest.mark.parametrize("zfo", [True, False])
def test_v3_against_v2_crossing_ticks(skew, zfo):
    pool, st = _v3("31", A, B, 0, POSITIONS)
    r = 10**22
    # the V2 pair prices B in A a bit better than the V3 pool, in the direction that makes the cycle pay
    rate = skew if zfo else 1 / skew
    p2, s2 = _v2("02", A, B, r, int(r * (1 / rate)))
    sizing = _check([(pool, st, zfo), (p2, s2, not zfo)])
    if skew >= 1.03:
        assert (
            sizing is not None and sizing.crossed >= 1
        )  # the optimum lies past at least one initialised tick


@pytest.mark.parametrize("seed", range(4))
def test_v3_triangle_with_two_v3_hops(seed):
    rng = random.Random(seed)
    p1, s1 = _v3("31", A, B, 0, POSITIONS, fee=500)
    p2, s2 = _v3("32", B, C, 0, [(-887220, 887220, 10**20), (-1200, 1800, 2 * 10**21)], fee=3000)
    r = 10**22
    p3, s3 = _v2("03", A, C, int(r * (1 + rng.uniform(0.01, 0.05))), r)
    _check([(p1, s1, True), (p2, s2, True), (p3, s3, False)], premium_bps=rng.choice((0, 5)))


def test_v3_window_edge_caps_the_size():
    """A pool whose lens window ends close to the price: the size stops at what the known ticks can fill."""
    pool, st = _v3("31", A, B, 0, [(-887220, 887220, 10**19)], fee=500, words=0)  # window: one word
    r = 10**24
    p2, s2 = _v2("02", A, B, r, r * 3 // 4)  # a huge dislocation: the optimum is far past the window
    hops = [V3Hop(st, True), V2Hop(r * 3 // 4, r, 3000)]
    sizing = size_cycle(hops)
    assert sizing is not None and sizing.capped
    assert cycle_output(hops, sizing.amount_in) == sizing.amount_out  # runs inside the window
    # nothing larger can be simulated, so nothing larger could be planned
    assert (
        exact_cycle_out([(pool, True), (p2, False)], {pool.address: st, p2.address: s2}, sizing.amount_in * 2)
        is None
    )


def test_confirm_checks_neighbours():
    hops = [V2Hop(10**21, int(1.05 * 10**21), 3000), V2Hop(10**21, 10**21, 3000)]
    est = optimum(hops)
    s = confirm(hops, est.amount_in + 1, neighbours=3)
    assert s is not None and abs(s.amount_in - est.amount_in) <= 4
