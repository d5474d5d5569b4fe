"""Health factors off-chain: the float ``HealthScreen`` never misses a borrower whose exact health factor is
below 1 (hypothesis over random markets, positions, price moves and elapsed time, including the adversarial
corner of borrowers right at HF 1), row updates/removals equal a rebuild, revision handling. Exactness of
``account_data`` against the Pool is in test_aave_replica_math.py."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flasharb.aave.health import HealthScreen, UnsupportedPoolRevision, account_data, rules_for_revision
from flasharb.aave.types import UserPosition
from flasharb.bench.liquidation_math import move_prices, synthetic_market, synthetic_positions


def _near_one(market, positions: list[UserPosition], seed: int) -> list[UserPosition]:
    """Rescales each borrower's debt so its exact HF lands within a few 1e-9 of 1 (either side)."""
    rng = random.Random(seed)
    out = []
    for p in positions:
        hf = account_data(market, p).health_factor / 10**18
        factor = hf * (1 + rng.uniform(-3e-9, 3e-9))
        debt = {a: max(1, int(v * factor)) for a, v in p.scaled_variable_debt.items()}
        out.append(replace(p, scaled_variable_debt=debt))
    return out


@settings(max_examples=40, deadline=None)
@given(
    st.integers(0, 10**6),
    st.sampled_from([1, 4, 5, 7]),
    st.floats(0.0, 0.2),
    st.integers(0, 400 * 86_400),
    st.booleans(),
)
def test_screen_never_misses_a_liquidatable_borrower(seed: int, revision: int, move: float, seconds: int, at_one: bool) -> None:
    market = synthetic_market(seed, revision)
    positions = synthetic_positions(market, 300, seed + 1)
    if at_one:
        positions = _near_one(market, positions, seed)
    screen = HealthScreen(market, positions)
    moved = move_prices(market, seed + 2, max_move=move, seconds=seconds) if move else market
    result = screen.screen(moved)
    candidates = set(result.candidates)
    exact = {p.user: account_data(moved, p) for p in positions}
    missed = [u for u, d in exact.items() if d.liquidatable and u not in candidates]
    assert not missed
    # the approximation is close to the exact value wherever there is debt
    for i, user in enumerate(result.users):
        hf = exact[user].health_factor
        if hf < 10**30:
            assert abs(result.approx_health_factor[i] - hf / 1e18) <= 2e-4 * max(1.0, hf / 1e18) + 1e-6
    # and not wildly over-inclusive: candidates are liquidatable or within 1e-3 of it
    for user in candidates:
        assert exact[user].health_factor < 1.001 * 10**18
    assert {p.user for p, _ in screen.liquidatable(moved)} == {u for u, d in exact.items() if d.liquidatable}


def test_row_updates_equal_a_rebuild() -> None:
    market = synthetic_market(3)
    positions = synthetic_positions(market, 500, 4)
    screen = HealthScreen(market, positions[:200], capacity=16)  # grows several times
    for p in positions[200:]:
        screen.upsert(p)
    rng = random.Random(5)
    removed = set(rng.sample([p.user for p in positions], 150))
    for user in removed:
        screen.remove(user)
    changed = []
    for p in positions[:100]:
        if p.user not in removed:
            q = replace(p, scaled_variable_debt={a: v * 2 for a, v in p.scaled_variable_debt.items()})
            screen.upsert(q)
            changed.append(q)
    kept = {p.user: p for p in positions if p.user not in removed}
    kept.update({q.user: q for q in changed})
    rebuilt = HealthScreen(market, kept.values())
    assert len(screen) == len(kept) == len(rebuilt)
    moved = move_prices(market, 9, max_move=0.1, seconds=3600)
    a, b = screen.screen(moved), rebuilt.screen(moved)
    assert set(a.candidates) == set(b.candidates) and a.candidates
    by_user_a = dict(zip(a.users, a.approx_health_factor, strict=True))
    by_user_b = dict(zip(b.users, b.approx_health_factor, strict=True))
    assert by_user_a.keys() == by_user_b.keys()
    assert all(by_user_a[u] == by_user_b[u] for u in by_user_a)
    with pytest.raises(KeyError):
        screen.remove(next(iter(removed)))


def test_config_change_rebuilds_weights() -> None:
    """A liquidation threshold cut (governance) must reach the screen: rows carry per-row LT weights."""
    market = synthetic_market(7)
    positions = synthetic_positions(market, 300, 8)
    screen = HealthScreen(market, positions)
    weth = market.reserves[1]
    cut = replace(market, reserves=(market.reserves[0], replace(weth, configuration=weth.configuration & ~(0xFFFF << 16) | 5_000 << 16), *market.reserves[2:]))
    exact = {p.user for p in positions if account_data(cut, p).liquidatable}
    assert exact - {p.user for p, _ in [(p, 0) for p in positions if account_data(market, p).liquidatable]}
    assert exact <= set(screen.screen(cut).candidates)


def test_no_debt_and_empty_positions() -> None:
    market = synthetic_market(1)
    empty = UserPosition("0xE", 0, 0)
    data = account_data(market, empty)
    assert data.health_factor == 2**256 - 1 and not data.liquidatable
    collateral_only = UserPosition("0xC", 1 << 3, 0, {market.reserves[1].asset: 10**18})
    assert account_data(market, collateral_only).total_collateral_base > 0
    screen = HealthScreen(market, [empty, collateral_only])
    result = screen.screen(market)
    assert result.candidates == () and np.isinf(result.approx_health_factor).all()


def test_zero_lt_reserve_counts_no_collateral() -> None:
    market = synthetic_market(1)
    r = market.reserves[1]
    zero_lt = replace(market, reserves=(market.reserves[0], replace(r, configuration=r.configuration & ~0xFFFFFFFF), *market.reserves[2:]))
    position = UserPosition("0xZ", 1 << 3 | 1 << 4, 0, {r.asset: 10**18}, {market.reserves[2].asset: 10**6})
    assert account_data(market, position).total_collateral_base > 0
    data = account_data(zero_lt, position)
    assert data.total_collateral_base == 0 and data.health_factor == 0 and data.liquidatable


def test_revisions() -> None:
    assert rules_for_revision(1).version == "v3.0" and rules_for_revision(4).version == "v3.1"
    assert rules_for_revision(5).version == rules_for_revision(6).version == "v3.2"
    assert rules_for_revision(7).position_close_factor
    for rev in (8, 9, 10, 11, 12):
        with pytest.raises(UnsupportedPoolRevision, match=f"revision {rev}"):
            rules_for_revision(rev)
    market = replace(synthetic_market(1), pool_revision=9)
    with pytest.raises(UnsupportedPoolRevision, match="v3.5"):
        account_data(market, UserPosition("0xU", 1, 0))
