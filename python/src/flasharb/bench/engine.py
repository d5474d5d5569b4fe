"""Benchmark: the opportunity engine on a synthetic Polygon-scale market (targets: full <= 50 ms, incremental
<= 5 ms after a block touching 50 pools, RSS <= 1 GiB).

The market comes from a seeded generator (``synthetic_market``): 500 tokens with Polygon-like decimals and
lognormal USD prices, 8 hub tokens that Aave and Balancer lend, 5,000+ pools (2/3 V2 on two forks, 1/3 V3 at
0.05/0.3/1% with a full-range position and several concentrated ones, read like the lens reads them: two
bitmap words each side of the price), pool prices off the reference by a small noise (the market is mostly
arbitraged) plus a few planted dislocations. Cycles of 2 and 3 hops from the hubs number well over 100,000.

``full_ms``: ``OpportunityEngine.evaluate`` (every pool's screen rows and gas prices, the numpy screen of all
cycles, exact sizing of the survivors, selection), median of several runs. ``incremental_ms``: one block moves
50 random pools (V2 reserves after a trade, V3 price inside its range), the new states are put in place and
``OpportunityEngine.update`` re-evaluates the cycles through them; median over many blocks.

    python -m flasharb.bench.engine      # prints the result as JSON
"""

from __future__ import annotations

import json
import math
import os
import random
import resource
import statistics
import time
from dataclasses import dataclass

from flasharb.engine.config import EngineConfig
from flasharb.engine.detect import OpportunityEngine
from flasharb.engine.lenders import HALF_UP, UP, FlashSource, LenderBook
from flasharb.engine.types import BlockRef, PoolInfo, PoolKind, PoolState, V2State
from flasharb.math.uniswap_v3 import V3PoolState
from flasharb.math.uniswap_v3.tick_math import (
    MAX_TICK,
    MIN_TICK,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
)
from flasharb.route import Lender

__all__ = ["Market", "synthetic_market", "v3_state", "run"]

_SPACING = {100: 1, 500: 10, 3000: 60, 10000: 200}


def _address(i: int, salt: int) -> str:
    from flasharb.engine._util import checksum

    return checksum("0x" + f"{salt:08x}{i:032x}")


@dataclass
class Market:
    config: EngineConfig
    pools: list[PoolInfo]
    states: dict[str, PoolState]
    lenders: LenderBook
    usd: dict[str, float]  # token -> USD per whole token
    decimals: dict[str, int]
    planted: list[str]  # pools given a large dislocation


def v3_state(
    sqrt_price_x96: int,
    fee: int,
    positions: list[tuple[int, int, int]],
    *,
    words_each_side: int | None = 2,
) -> V3PoolState:
    """A V3 state with ``positions`` (lower, upper, liquidity) at ``sqrt_price_x96``, its tick window like the
    lens's (``words_each_side`` bitmap words around the price; None: the whole tick range)."""
    spacing = _SPACING[fee]
    tick = get_tick_at_sqrt_ratio(sqrt_price_x96)
    nets: dict[int, int] = {}
    liquidity = 0
    for lo, hi, liq in positions:
        nets[lo] = nets.get(lo, 0) + liq
        nets[hi] = nets.get(hi, 0) - liq
        if lo <= tick < hi:
            liquidity += liq
    if words_each_side is None:
        lo_b, hi_b = MIN_TICK, MAX_TICK
    else:
        word = (tick // spacing) >> 8
        lo_b = max(((word - words_each_side) << 8) * spacing, MIN_TICK)
        hi_b = min((((word + words_each_side) << 8) + 255) * spacing, MAX_TICK)
    nets = {t: n for t, n in nets.items() if lo_b <= t <= hi_b}
    return V3PoolState.from_tick_data(
        sqrt_price_x96=sqrt_price_x96,
        tick=tick,
        liquidity=liquidity,
        fee=fee,
        tick_spacing=spacing,
        tick_data=nets.items(),
        tick_lower_bound=lo_b,
        tick_upper_bound=hi_b,
    )


def _sqrt_price(raw_price: float) -> int:
    """sqrtPriceX96 of a raw price (token1 raw per token0 raw), clamped into the valid range."""
    s = int(math.sqrt(raw_price) * (1 << 96))
    return min(max(s, get_sqrt_ratio_at_tick(MIN_TICK + 1000)), get_sqrt_ratio_at_tick(MAX_TICK - 1000))


def synthetic_market(
    seed: int = 1,
    *,
    n_tokens: int = 500,
    n_pools: int = 5_000,
    n_hubs: int = 8,
    v3_share: float = 1 / 3,
    noise: float = 0.0015,
    n_planted: int = 20,
    planted_size: tuple[float, float] = (0.01, 0.04),
    depth_usd: float = 150_000.0,
    max_hops: int = 3,
    words_each_side: int | None = 2,
) -> Market:
    """A seeded random market; see the module docstring."""
    rng = random.Random(seed)
    tokens = [_address(i, 0x70CE) for i in range(n_tokens)]
    hubs = tokens[:n_hubs]
    decimals = {
        t: (18, 6, 6, 18, 8, 18, 18, 18)[i] if i < n_hubs else rng.choice((18, 18, 18, 6, 8))
        for i, t in enumerate(tokens)
    }
    hub_usd = (0.4, 1.0, 1.0, 3000.0, 90000.0, 1.0, 15.0, 250.0)
    usd = {
        t: (hub_usd[i % len(hub_usd)] if i < n_hubs else math.exp(rng.gauss(0.0, 2.5)))
        for i, t in enumerate(tokens)
    }

    venues_v2 = (("quickswap", 3000), ("sushiswap", 3000))
    fees_v3 = (500, 3000, 10000)
    pairs: list[tuple[str, str, str]] = []  # (a, b, venue)
    seen: set[tuple[str, str, str]] = set()

    def add(a: str, b: str, venue: str) -> None:
        key = (min(a, b), max(a, b), venue)
        if a != b and key not in seen:
            seen.add(key)
            pairs.append(key)

    for i, a in enumerate(hubs):
        for b in hubs[i + 1 :]:
            for venue in ("quickswap", "sushiswap", "v3:500", "v3:3000"):
                add(a, b, venue)
    others = tokens[n_hubs:]
    while len(pairs) < n_pools:
        a = rng.choice(others)
        b = rng.choice(hubs) if rng.random() < 0.8 else rng.choice(others)
        if rng.random() < v3_share:
            venue = f"v3:{rng.choice(fees_v3)}"
        else:
            venue = rng.choice(venues_v2)[0]
        add(a, b, venue)

    pools: list[PoolInfo] = []
    states: dict[str, PoolState] = {}
    for n, (t0, t1, venue) in enumerate(pairs):
        address = _address(n, 0x9001)
        fair = (usd[t0] / 10 ** decimals[t0]) / (usd[t1] / 10 ** decimals[t1])  # raw t1 per raw t0
        price = fair * math.exp(rng.gauss(0.0, noise))
        depth = depth_usd * math.exp(rng.gauss(0.0, 1.2)) * (20 if t0 in hubs and t1 in hubs else 1)
        r0 = max(int(depth / usd[t0] * 10 ** decimals[t0]), 10**3)
        if venue.startswith("v3:"):
            fee = int(venue[3:])
            spacing = _SPACING[fee]
            sqrt_p = _sqrt_price(price)
            tick = get_tick_at_sqrt_ratio(sqrt_p)
            full = MAX_TICK // spacing * spacing
            l_total = int(math.sqrt(r0 * r0 * price))  # L = x * sqrt(P)
            positions = [(-full, full, max(l_total // 4, 1))]
            for _ in range(rng.randint(2, 4)):
                width = rng.choice((2, 5, 10, 30, 100, 300)) * spacing
                centre = (tick // spacing + rng.randint(-3, 3)) * spacing
                positions.append(
                    (centre - width, centre + width, max(int(l_total * rng.uniform(0.2, 1.5)), 1))
                )
            states[address] = v3_state(sqrt_p, fee, positions, words_each_side=words_each_side)
            pools.append(PoolInfo(address, PoolKind.V3, "uniswap_v3", t0, t1, fee, spacing))
        else:
            r1 = max(int(r0 * price), 10**3)
            states[address] = V2State(r0, r1)
            pools.append(PoolInfo(address, PoolKind.V2, venue, t0, t1, 3000, 0))

    # dislocations go where cycles exist: pools with a hub (loan) token on one side
    hub_set = set(hubs)
    planted = (
        rng.sample([p.address for p in pools if p.token0 in hub_set or p.token1 in hub_set], n_planted)
        if n_planted
        else []
    )
    for address in planted:
        move = math.exp(rng.choice((-1, 1)) * rng.uniform(*planted_size))
        states[address] = _moved(states[address], move)

    lenders = LenderBook(
        [
            FlashSource(Lender.AAVE_SIMPLE, t, int(5e6 / usd[t] * 10 ** decimals[t]), 5, 10_000, HALF_UP)
            for t in hubs
        ]
        + [
            FlashSource(Lender.BALANCER, t, int(1e6 / usd[t] * 10 ** decimals[t]), 0, 10**18, UP)
            for t in hubs
        ]
    )
    config = EngineConfig.model_validate(
        {
            "chain_id": 137,
            "native_token": hubs[0],
            "tokens": [
                {"symbol": f"T{i}", "address": t, "decimals": decimals[t]} for i, t in enumerate(tokens)
            ],
            "dexes": [
                {"name": "quickswap", "kind": "v2", "factory": _address(1, 0xFAC), "fee_pips": 3000},
                {"name": "sushiswap", "kind": "v2", "factory": _address(2, 0xFAC), "fee_pips": 3000},
                {"name": "uniswap_v3", "kind": "v3", "factory": _address(3, 0xFAC)},
            ],
            "max_hops": max_hops,
        }
    )
    return Market(config, pools, states, lenders, usd, decimals, planted)


def _moved(state: PoolState, factor: float) -> PoolState:
    """The pool with its price times ``factor`` (V2: reserve1 scaled; V3: price moved, same ranges)."""
    if type(state) is V2State:
        return V2State(state.reserve0, max(int(state.reserve1 * factor), 1))
    s = int(state.sqrt_price_x96 * math.sqrt(factor))
    s = min(
        max(s, get_sqrt_ratio_at_tick(state.tick_lower_bound) + 1),
        get_sqrt_ratio_at_tick(state.tick_upper_bound) - 1,
    )
    tick = get_tick_at_sqrt_ratio(s)
    # in-range liquidity at the new tick, from the nets between the old and new tick
    liquidity = state.liquidity
    if tick > state.tick:
        liquidity += sum(state.liquidity_net[t] for t in state.ticks if state.tick < t <= tick)
    elif tick < state.tick:
        liquidity -= sum(state.liquidity_net[t] for t in state.ticks if tick < t <= state.tick)
    return V3PoolState(
        sqrt_price_x96=s,
        tick=tick,
        liquidity=max(liquidity, 0),
        fee=state.fee,
        tick_spacing=state.tick_spacing,
        ticks=state.ticks,
        liquidity_net=state.liquidity_net,
        tick_lower_bound=state.tick_lower_bound,
        tick_upper_bound=state.tick_upper_bound,
    )


def _block(n: int) -> BlockRef:
    return BlockRef(n, "0x" + f"{n:064x}", "0x" + f"{n - 1:064x}")


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _scenario(
    market: Market, *, seed: int, full_repeats: int, blocks: int, touched: int, move: float, gas_price: int
) -> tuple[dict, OpportunityEngine]:
    t0 = time.perf_counter()
    engine = OpportunityEngine(market.config, market.pools, market.states, market.lenders)
    build_s = time.perf_counter() - t0

    full, full_cpu = [], []
    opps = []
    for _ in range(full_repeats):
        start, cpu = time.perf_counter(), time.process_time()
        opps = engine.evaluate(_block(1), gas_price)
        full.append((time.perf_counter() - start) * 1e3)
        full_cpu.append((time.process_time() - cpu) * 1e3)
    full_stats = engine.stats
    planted_found = sum(any(a in o.pools for o in opps) for a in market.planted)

    # the same full pass sizing every screen survivor (no lazy selection), for comparison
    eager = OpportunityEngine(
        market.config, market.pools, market.states, market.lenders, cycles=engine.cycles, eager=True
    )
    eager_ms = []
    for _ in range(max(1, full_repeats // 2)):
        start = time.process_time()
        eager_opps = eager.evaluate(_block(1), gas_price)
        eager_ms.append((time.process_time() - start) * 1e3)
    same = [(o.pools, o.amount_in) for o in eager_opps] == [(o.pools, o.amount_in) for o in opps]

    rng = random.Random(seed + 1)
    addresses = [p.address for p in market.pools]
    top = OpportunityEngine(
        market.config.model_copy(update={"max_opportunities": 16}),
        market.pools,
        dict(market.states),
        market.lenders,
        cycles=engine.cycles,
    )
    top.evaluate(_block(1), gas_price)
    incremental, incremental_cpu, sized, selected, top_ms = [], [], [], [], []
    for b in range(blocks):
        chosen = rng.sample(addresses, touched)
        new_states = {a: _moved(market.states[a], math.exp(rng.gauss(0.0, move))) for a in chosen}
        start, cpu = time.perf_counter(), time.process_time()
        market.states.update(new_states)
        engine.update(chosen, _block(2 + b), gas_price)
        incremental.append((time.perf_counter() - start) * 1e3)
        incremental_cpu.append((time.process_time() - cpu) * 1e3)
        sized.append(engine.stats.sized)
        selected.append(engine.stats.selected)
        start = time.process_time()
        top.states.update(new_states)  # type: ignore[attr-defined]
        top.update(chosen, _block(2 + b), gas_price)
        top_ms.append((time.process_time() - start) * 1e3)
    return {
        "full_ms": round(statistics.median(full), 2),
        "full_ms_min": round(min(full), 2),
        "full_cpu_ms": round(statistics.median(full_cpu), 2),
        "full_breakdown_ms": {k: round(v, 2) for k, v in full_stats.ms.items()},
        "full_screen": {
            "stage1": full_stats.stage1,
            "stage2": full_stats.stage2,
            "sized": full_stats.sized,
            "selected": full_stats.selected,
        },
        "full_eager_cpu_ms": round(statistics.median(eager_ms), 2),
        "full_eager_sized": eager.stats.sized,
        "eager_equals_lazy": same,
        "incremental_ms": round(statistics.median(incremental), 3),
        "incremental_ms_p90": round(sorted(incremental)[int(0.9 * len(incremental))], 3),
        "incremental_cpu_ms": round(statistics.median(incremental_cpu), 3),
        "incremental_sized_median": statistics.median(sized),
        "incremental_selected_median": statistics.median(selected),
        "incremental_cpu_ms_top16": round(statistics.median(top_ms), 3),
        "opportunities": len(opps),
        "planted": len(market.planted),
        "planted_found": planted_found,
        "engine_build_s": round(build_s, 2),
    }, engine


def run(
    *,
    seed: int = 1,
    full_repeats: int = 7,
    blocks: int = 40,
    touched: int = 50,
    gas_price: int = 30 * 10**9,
    n_tokens: int = 500,
    n_pools: int = 5_000,
    profile: bool = False,
) -> dict:
    """Two markets from the same generator: ``stress`` (pool prices scattered by 0.15% around the reference,
    so ~100 independent opportunities at any block, blocks moving 50 pools by 0.2%) gives the headline
    numbers; ``calm`` (0.03% scatter, i.e. already arbitraged, the planted dislocations only; blocks moving 50
    pools by 0.05%) is closer to a normal Polygon block."""
    t0 = time.perf_counter()
    market = synthetic_market(seed, n_tokens=n_tokens, n_pools=n_pools)
    build_market_s = time.perf_counter() - t0
    stress, engine = _scenario(
        market,
        seed=seed,
        full_repeats=full_repeats,
        blocks=blocks,
        touched=touched,
        move=0.002,
        gas_price=gas_price,
    )
    calm_market = synthetic_market(seed, n_tokens=n_tokens, n_pools=n_pools, noise=0.0003)
    calm, _ = _scenario(
        calm_market,
        seed=seed,
        full_repeats=full_repeats,
        blocks=blocks,
        touched=touched,
        move=0.0005,
        gas_price=gas_price,
    )
    result = {
        "pools": len(market.pools),
        "v3_pools": sum(p.kind is PoolKind.V3 for p in market.pools),
        "tokens": len(market.config.tokens),
        "cycles": len(engine.cycles),
        "cycles_by_hops": engine.cycles.counts(),
        "full_ms": stress["full_ms"],
        "incremental_ms": stress["incremental_ms"],
        "rss_mb": round(_rss_mb(), 1),
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),
        "touched_pools": touched,
        "build_market_s": round(build_market_s, 2),
        "stress": stress,
        "calm": calm,
    }
    if profile:
        import cProfile
        import pstats

        pr = cProfile.Profile()
        pr.enable()
        engine.evaluate(_block(1), gas_price)
        pr.disable()
        pstats.Stats(pr).sort_stats("cumulative").print_stats(25)
    return result


if __name__ == "__main__":  # pragma: no cover
    import sys

    print(json.dumps(run(profile="--profile" in sys.argv), indent=2))
