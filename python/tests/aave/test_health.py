"""Health factors off-chain: the float ``HealthScreen`` never misses a borrower whose exact health factor is
below 1 (hypothesis over random markets, positions, price moves and elapsed time, including the adversarial
corner of borrowers right at HF 1), row updates/removals equal a rebuild, revision handling. Exactness of
``account_data`` against the Pool is in test_aave_replica_math.py."""

from __future__ import annotations

import math
import random
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flasharb.aave.health import HealthScreen, UnsupportedPoolRevision, account_data, rules_for_revision
from flasharb.aave.types import EModeCategory, MarketSnapshot, ReserveState, UserPosition
from flasharb.aave.wadray import RAY
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
    st.sampled_from([1, 4, 5, 7, 8, 9, 10]),
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
    assert rules_for_revision(7).position_close_factor and not rules_for_revision(7).interest_v3_4
    r8, r9, r10 = rules_for_revision(8), rules_for_revision(9), rules_for_revision(10)
    assert (r8.version, r9.version, r10.version) == ("v3.4", "v3.5", "v3.6")
    assert r8.interest_v3_4 and not r8.directed_rounding and r9.directed_rounding and not r9.zero_lt_collateral
    assert r10.zero_lt_collateral and all(r.position_close_factor and not r.stable_debt for r in (r8, r9, r10))
    for rev in (0, 11, 12):
        with pytest.raises(UnsupportedPoolRevision, match=f"revision {rev}"):
            rules_for_revision(rev)
    market = replace(synthetic_market(1), pool_revision=11)
    with pytest.raises(UnsupportedPoolRevision, match="v3.7"):
        account_data(market, UserPosition("0xU", 1, 0))


# ---------------------------------------------------------------- v3.5+ rounding, hand-computed
TS = 1_700_000_000


def _cfg(lt: int, decimals: int, ltv: int | None = None) -> int:
    ltv = max(lt - 500, 0) if ltv is None else ltv
    return ltv | lt << 16 | 10_500 << 32 | decimals << 48 | 1 << 56 | 1 << 58


def _two_reserves(revision: int, income: int, debt_index: int, decimals: int = 6, lt: int = 8_000, emodes=None) -> MarketSnapshot:
    """Collateral C (id 0) and debt D (id 1), 1 USD each (1e8), indexes fixed at TS (no accrual)."""
    return MarketSnapshot(
        1, 1, TS, "0xPool", "0xOracle", revision, 10**8,
        (
            ReserveState(0, "C", _cfg(lt, decimals), income, RAY, 0, 0, TS, "aC", "vC", "0x0", 10**8),
            ReserveState(1, "D", _cfg(8_000, decimals), RAY, debt_index, 0, 0, TS, "aD", "vD", "0x0", 10**8),
        ),
        emodes or {},
    )


def _half_up(x: Fraction) -> int:
    return math.floor(x + Fraction(1, 2))


def test_v3_5_floor_collateral_ceil_debt_and_hf_formula() -> None:
    """Collateral scaled 1,000,001 at index 1.5 = 1,500,001.5 units of a 6-decimal 1 USD token: half up (v3.4)
    1,500,002, floor (v3.5) 1,500,001, i.e. exactly 100 base units (1e-6 USD * 1e8) less collateral. Debt
    scaled 960,001 at index 1.25 = 1,200,001.25: half up 1,200,001, ceil 1,200,002: 100 base units more."""
    position = UserPosition("0xU", 1 << 1 | 1 << 2, 0, {"C": 1_000_001}, {"D": 960_001})
    v34 = account_data(_two_reserves(8, 3 * RAY // 2, 5 * RAY // 4), position)
    v35 = account_data(_two_reserves(9, 3 * RAY // 2, 5 * RAY // 4), position)
    assert (v34.total_collateral_base, v34.total_debt_base) == (150_000_200, 120_000_100)
    assert (v35.total_collateral_base, v35.total_debt_base) == (150_000_100, 120_000_200)
    assert v34.total_collateral_base - v35.total_collateral_base == 100 == v35.total_debt_base - v34.total_debt_base
    # v3.4: percentMul(collateral, avg LT).wadDiv(debt), both half up
    assert v34.health_factor == _half_up(Fraction(_half_up(Fraction(150_000_200 * 8_000, 10_000)) * 10**18, 120_000_100))
    # v3.5: sum(value * LT).wadDiv(debt) / 1e4 (half up, then floor)
    assert v35.health_factor == _half_up(Fraction(150_000_100 * 8_000 * 10**18, 120_000_200)) // 10_000
    assert v35.health_factor < v34.health_factor and v35.avg_liquidation_threshold == 8_000
    # one unit less debt (scaled 960,000 = 1,200,000 exactly): the ceil no longer adds anything
    exact = replace(position, scaled_variable_debt={"D": 960_000})
    assert account_data(_two_reserves(9, 3 * RAY // 2, 5 * RAY // 4), exact).total_debt_base == 120_000_000


def test_v3_5_dust_debt_counts_at_least_one_base_unit() -> None:
    """1 wei of an 18-decimal 1 USD debt is 1e-10 base units: 0 (no debt, HF max) before v3.5, 1 from v3.5."""
    position = UserPosition("0xU", 1 << 1 | 1 << 2, 0, {"C": 10**18}, {"D": 1})
    assert account_data(_two_reserves(8, RAY, RAY, 18), position).health_factor == 2**256 - 1
    v35 = account_data(_two_reserves(9, RAY, RAY, 18), position)
    assert v35.total_debt_base == 1 and v35.health_factor == 10**8 * 8_000 * 10**18 // 10_000


def test_v3_6_zero_lt_collateral_and_emode_ltvzero() -> None:
    """v3.6 GenericLogic counts every enabled collateral (LT 0 adds value, not threshold); an LT-0 reserve in
    the user's e-mode collateral bitmap takes the category's LT."""
    position = UserPosition("0xU", 1 << 1 | 1 << 2, 0, {"C": 2_000_000}, {"D": 1_000_000})
    v35 = account_data(_two_reserves(9, RAY, RAY, lt=0), position)
    v36 = account_data(_two_reserves(10, RAY, RAY, lt=0), position)
    assert (v35.total_collateral_base, v35.health_factor) == (0, 0)
    assert (v36.total_collateral_base, v36.health_factor, v36.avg_liquidation_threshold) == (200_000_000, 0, 0)
    assert v36.has_zero_ltv_collateral
    emode = {1: EModeCategory(1, 9_000, 9_500, 10_100, collateral_bitmap=0b01, borrowable_bitmap=0b11)}
    in_emode = replace(position, emode=1)
    v36e = account_data(_two_reserves(10, RAY, RAY, lt=0, emodes=emode), in_emode)
    assert v36e.health_factor == 200_000_000 * 9_500 * 10**18 // 100_000_000 // 10_000 and v36e.avg_ltv == 9_000
    assert account_data(_two_reserves(9, RAY, RAY, lt=0, emodes=emode), in_emode).total_collateral_base == 0
    screen = HealthScreen(_two_reserves(10, RAY, RAY, lt=0, emodes=emode), [in_emode, replace(in_emode, user="0xV", emode=0)])
    assert set(screen.screen(_two_reserves(10, RAY, RAY, lt=0, emodes=emode)).candidates) == {"0xV"}


def test_screen_bound_holds_at_the_rounding_edge() -> None:
    """Borrowers whose v3.5 HF is below 1 only because of the floor/ceil (>= 1 with half-up balances) are
    still candidates of the v3.5 screen."""
    market9 = _two_reserves(9, 3 * RAY // 2, 5 * RAY // 4, decimals=0)
    positions = []
    # whole-unit tokens (1 unit = 1 USD): collateral 1.5 c units (floor loses 0.5 for odd c), debt 1.25 d
    for c in range(1, 40):
        for d in range(max(1, c * 9 // 10 - 3), c + 3):
            positions.append(UserPosition(f"0x{c:x}{d:04x}", 1 << 1 | 1 << 2, 0, {"C": c}, {"D": d}))
    exact = {p.user: account_data(market9, p) for p in positions}
    liquidatable = {u for u, d in exact.items() if d.liquidatable}
    at_v34 = {p.user for p in positions if account_data(replace(market9, pool_revision=8), p).liquidatable}
    assert liquidatable - at_v34  # the new rounding makes some of them liquidatable
    assert liquidatable <= set(HealthScreen(market9, positions).screen(market9).candidates)
