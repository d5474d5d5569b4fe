"""flasharb.engine.screen: the float64 first pass never drops a cycle that the exact path finds profitable.

Random markets (V2 and V3 pools with several ranges and lens-like tick windows, prices scattered so that many
cycles are profitable and many sit right at break-even), every cycle sized exactly (no screen), and both
stages checked against that: stage 1 keeps every cycle with any exact profit after premium, stage 2 every
cycle whose exact profit reaches the gas-and-minimum threshold."""

from __future__ import annotations

import math

import numpy as np
import pytest

from flasharb.bench.engine import synthetic_market
from flasharb.engine import BlockRef, OpportunityEngine
from flasharb.engine.lenders import HALF_UP
from flasharb.engine.screen import pool_rows
from flasharb.engine.sizing import size_cycle

BLOCK = BlockRef(1, "0x" + "00" * 32)


def _exact_best_profits(engine: OpportunityEngine) -> np.ndarray:
    """Best exact profit after premium of every cycle over its lenders (0 when none), no screen involved."""
    cs = engine.cycles
    out = np.zeros(len(cs))
    util = engine.config.risk.lender_utilisation_pips
    for c in range(len(cs)):
        hops = [engine._hop(d) for d in cs.dirs[c, : cs.n_hops[c]].tolist()]
        if any(h is None for h in hops):
            continue
        best = 0
        for src in engine.lenders.sources(cs.tokens[cs.start[c]]):
            s = size_cycle(
                hops,
                premium_num=src.premium_num,
                premium_den=src.premium_den,
                premium_half_up=src.rounding == HALF_UP,
                cap=src.available * util // 1_000_000,
            )
            if s is not None and s.profit > best:
                best = s.profit
        out[c] = best
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_screen_never_drops_an_exact_opportunity(seed):
    market = synthetic_market(
        seed,
        n_tokens=30,
        n_pools=160,
        n_hubs=4,
        noise=0.006,
        n_planted=6,
        planted_size=(0.003, 0.02),
        depth_usd=50_000,
    )
    engine = OpportunityEngine(market.config, market.pools, market.states, market.lenders, eager=True)
    gas_price = 30 * 10**9
    engine.evaluate(BLOCK, gas_price)  # fills the rows, prices and screen gas price
    cs = engine.cycles
    exact = _exact_best_profits(engine)
    assert (exact > 0).sum() >= 20, "the market should have profitable cycles to test against"

    keep1 = engine.screener.stage1(cs.dirs_t)
    dropped = np.flatnonzero((exact > 0) & ~keep1)
    assert not dropped.size, f"stage 1 dropped profitable cycles {dropped[:5]}"

    all_ids = np.arange(len(cs))
    thresholds = engine._thresholds(all_ids)
    bound = engine.screener.profit_bound(cs.dirs_t, engine._log_q)
    worth = exact > thresholds
    assert worth.sum() >= 5
    dropped = np.flatnonzero(worth & ~(bound > thresholds))
    assert not dropped.size, f"stage 2 dropped cycles worth their gas {dropped[:5]}"
    # the bound is an upper bound wherever there is a profit
    has = exact > 0
    assert np.all(bound[has] >= exact[has])
    # and the screen does its job: most cycles go
    assert keep1.sum() < 0.7 * len(cs)


def test_zero_size_bound_is_the_marginal_rate():
    """Stage 1's row is the marginal rate with the fee (a V2 pair's g*r_out/r_in), to float64 precision."""
    market = synthetic_market(4, n_tokens=12, n_pools=40, n_hubs=3, n_planted=0)
    for pool in market.pools:
        st = market.states[pool.address]
        rows = pool_rows(st, pool.fee_pips)
        if pool.kind.value == "v2":
            expected = math.log((1e6 - pool.fee_pips) / 1e6 * st.reserve1 / st.reserve0)
        else:
            expected = math.log((1e6 - st.fee) / 1e6 * (st.sqrt_price_x96 / 2**96) ** 2)
        assert rows.zfo[0] == pytest.approx(expected, rel=1e-12, abs=1e-12)
        assert rows.zfo[0] + rows.ofz[0] < 0  # a round trip through one pool never pays
