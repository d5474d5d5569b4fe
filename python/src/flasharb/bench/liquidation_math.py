"""Timing of the liquidation screen: ``hf_recompute_ms`` is the time to find every liquidatable borrower among
10,000 after a price move: the float ``HealthScreen`` over all of them plus the exact ``account_data`` of its
candidates. Also reported: the screen alone, one exact ``account_data``, one row update, and how many
candidates the screen passed on versus how many were liquidatable.

The market is the replica's shape (8 reserves, Polygon-like parameters and decimals, indexes a little above
1 and last updated an hour before); borrowers hold 1-4 collaterals and 1-3 debts with health factors spread
around 1. ``synthetic_market`` / ``synthetic_positions`` are shared with the tests.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import replace

from flasharb.aave.health import HealthScreen, account_data, market_indexes
from flasharb.aave.types import EModeCategory, MarketSnapshot, ReserveState, UserPosition
from flasharb.aave.wadray import RAY

__all__ = ["run", "synthetic_market", "synthetic_positions", "move_prices"]

# symbol: (decimals, price e8, ltv, lt, bonus, emode category)
_RESERVES = {
    "WMATIC": (18, 40_000_000, 6_500, 7_000, 11_000, 0),
    "WETH": (18, 3_000 * 10**8, 8_000, 8_250, 10_500, 0),
    "USDC": (6, 10**8, 8_000, 8_500, 10_500, 1),
    "USDT": (6, 10**8, 7_500, 8_000, 10_500, 1),
    "DAI": (18, 10**8, 7_600, 8_100, 10_500, 1),
    "WBTC": (8, 90_000 * 10**8, 7_300, 7_800, 10_650, 0),
    "LINK": (18, 15 * 10**8, 5_000, 6_500, 10_750, 0),
    "AAVE": (18, 250 * 10**8, 6_000, 7_000, 10_750, 0),
}


def _config(decimals: int, ltv: int, lt: int, bonus: int, emode: int, fee: int = 1_000) -> int:
    return (
        ltv | lt << 16 | bonus << 32 | decimals << 48 | 1 << 56 | 1 << 58 | fee << 152 | emode << 168
    )


def synthetic_market(seed: int = 1, revision: int = 1, timestamp: int = 1_700_000_000) -> MarketSnapshot:
    """The replica's eight reserves with random indexes and rates (v3.0 layout: e-mode category in the
    reserve configuration, and the same category as a bitmap for v3.2+)."""
    rng = random.Random(seed)
    reserves = []
    bitmap = 0
    for i, (symbol, (dec, price, ltv, lt, bonus, emode)) in enumerate(_RESERVES.items()):
        if emode:
            bitmap |= 1 << i
        reserves.append(
            ReserveState(
                id=i,
                asset=f"0x{i + 1:040x}",
                configuration=_config(dec, ltv, lt, bonus, emode if revision <= 4 else 0),
                liquidity_index=RAY + rng.randrange(0, RAY // 10),
                variable_borrow_index=RAY + rng.randrange(0, RAY // 5),
                current_liquidity_rate=rng.randrange(0, RAY // 10),
                current_variable_borrow_rate=rng.randrange(0, RAY // 4),
                last_update_timestamp=timestamp - rng.randrange(0, 3_600),
                a_token=f"0x{0xA00 + i:040x}",
                variable_debt_token=f"0x{0xB00 + i:040x}",
                stable_debt_token=f"0x{0xC00 + i:040x}",
                price=price,
            )
        )
    emodes = {1: EModeCategory(1, 9_300, 9_500, 10_100, collateral_bitmap=bitmap, borrowable_bitmap=bitmap, label="Stablecoins")}
    return MarketSnapshot(
        chain_id=31337,
        block_number=1,
        block_timestamp=timestamp,
        pool="0x" + "11" * 20,
        oracle="0x" + "22" * 20,
        pool_revision=revision,
        base_currency_unit=10**8,
        reserves=tuple(reserves),
        emodes=emodes,
    )


def synthetic_positions(market: MarketSnapshot, n: int, seed: int = 2) -> list[UserPosition]:
    """``n`` borrowers: 1-4 collaterals, 1-3 debts, debt sized for a health factor of 1.02 + Exp(mean 0.5)
    (2% of them in [0.9, 1.02]); one in ten in the stablecoin e-mode (stable collateral and debt only)."""
    rng = random.Random(seed)
    reserves = market.reserves
    stable_ids = [r.id for r in reserves if r.config.emode_category == 1 or (market.emodes[1].collateral_bitmap >> r.id) & 1]
    out = []
    for k in range(n):
        emode = 1 if rng.random() < 0.1 else 0
        pool_ids = stable_ids if emode else [r.id for r in reserves]
        colls = rng.sample(pool_ids, rng.randint(1, min(4, len(pool_ids))))
        debts = rng.sample(pool_ids, rng.randint(1, min(3, len(pool_ids))))
        config = 0
        scaled_c, scaled_d = {}, {}
        weighted = 0.0
        for rid in colls:
            r = reserves[rid]
            usd = 10 ** rng.uniform(2, 6)
            amount = int(usd * 10**8 / r.price * 10 ** r.config.decimals)
            scaled_c[r.asset] = max(amount * RAY // r.liquidity_index, 1)
            config |= 1 << (2 * rid + 1)
            lt = market.emodes[1].liquidation_threshold if emode else r.config.liquidation_threshold
            weighted += usd * lt / 1e4
        hf = rng.uniform(0.9, 1.02) if rng.random() < 0.02 else 1.02 + rng.expovariate(2.0)
        target_debt = weighted / hf
        shares = [rng.random() + 0.1 for _ in debts]
        for rid, share in zip(debts, shares, strict=True):
            r = reserves[rid]
            usd = target_debt * share / sum(shares)
            amount = int(usd * 10**8 / r.price * 10 ** r.config.decimals)
            scaled_d[r.asset] = max(amount * RAY // r.variable_borrow_index, 1)
            config |= 1 << (2 * rid)
        out.append(UserPosition(f"0x{0xB0000000 + k:040x}", config, emode, scaled_c, scaled_d, block=market.block_number))
    return out


def move_prices(market: MarketSnapshot, seed: int, max_move: float = 0.02, seconds: int = 2) -> MarketSnapshot:
    """The next block: each price moved by up to +-max_move, ``seconds`` later."""
    rng = random.Random(seed)
    reserves = tuple(replace(r, price=max(1, int(r.price * (1 + rng.uniform(-max_move, max_move))))) for r in market.reserves)
    return replace(market, reserves=reserves, block_number=market.block_number + 1, block_timestamp=market.block_timestamp + seconds)


def run(n: int = 10_000, rounds: int = 15) -> dict:
    market = synthetic_market()
    positions = synthetic_positions(market, n)
    t0 = time.perf_counter()
    screen = HealthScreen(market, positions, capacity=n)
    build_ms = (time.perf_counter() - t0) * 1e3
    totals, screens, candidates, liquidatable = [], [], [], []
    for k in range(rounds):
        moved = move_prices(market, seed=100 + k)
        t0 = time.perf_counter()
        result = screen.screen(moved)
        t1 = time.perf_counter()
        indexes = market_indexes(moved, moved.block_timestamp)
        hits = [u for u in result.candidates if account_data(moved, screen.position(u), None, indexes).liquidatable]
        t2 = time.perf_counter()
        screens.append((t1 - t0) * 1e3)
        totals.append((t2 - t0) * 1e3)
        candidates.append(len(result.candidates))
        liquidatable.append(len(hits))
    one = positions[0]
    t0 = time.perf_counter()
    indexes = market_indexes(market, market.block_timestamp)
    for _ in range(1_000):
        account_data(market, one, None, indexes)
    exact_us = (time.perf_counter() - t0) * 1e3
    t0 = time.perf_counter()
    for p in positions[:1_000]:
        screen.upsert(p)
    upsert_us = (time.perf_counter() - t0) * 1e3
    return {
        "hf_recompute_ms": round(statistics.median(totals), 3),
        "hf_screen_only_ms": round(statistics.median(screens), 3),
        "hf_screen_build_ms": round(build_ms, 1),
        "borrowers": n,
        "hf_reserves": len(market.reserves),
        "hf_candidates_median": int(statistics.median(candidates)),
        "hf_liquidatable_median": int(statistics.median(liquidatable)),
        "hf_exact_account_data_us": round(exact_us, 2),
        "hf_row_update_us": round(upsert_us, 2),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2))
