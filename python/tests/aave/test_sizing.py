"""Liquidation sizing by Pool revision: the worked examples of Aave's v3.3 docs
(aave-v3-origin v3.3.0, docs/3.3/Aave-v3.3-features.md, sections 2.1, 2.2 and 2.3), hand-built cases for each
rule (the 2,000 USD close-factor threshold, the 1,000 USD leftover, the e-mode bonus, the protocol fee), v3.0
vs v3.3 close factors, refusals, and ``best_liquidation`` against a brute-force search. Exactness against the
real v3.0 bytecode is in test_aave_replica_math.py."""

from __future__ import annotations

from dataclasses import replace

import pytest

from flasharb.aave.health import UnsupportedPoolRevision, account_data, rules_for_revision
from flasharb.aave.sizing import Refusal, best_liquidation, liquidation_amounts, max_debt_to_cover
from flasharb.aave.types import EModeCategory, MarketSnapshot, ReserveState, UserPosition
from flasharb.aave.wadray import RAY, percent_mul

TS = 1_700_000_000
E8 = 10**8


def _cfg(lt: int, bonus: int, decimals: int = 8, fee: int = 0, ltv: int | None = None) -> int:
    ltv = max(lt - 500, 0) if ltv is None else ltv
    return ltv | lt << 16 | bonus << 32 | decimals << 48 | 1 << 56 | 1 << 58 | fee << 152


def _market(revision: int, reserves: list[tuple[int, int, int]], decimals: int = 8, emodes=None) -> MarketSnapshot:
    """Reserves (lt, bonus, fee) priced 1 USD (1e8) with ``decimals``, indexes 1, updated at TS."""
    return MarketSnapshot(
        chain_id=1, block_number=1, block_timestamp=TS, pool="0xPool", oracle="0xOracle", pool_revision=revision,
        base_currency_unit=E8,
        reserves=tuple(
            ReserveState(i, f"A{i}", _cfg(lt, bonus, decimals, fee), RAY, RAY, 0, 0, TS, f"a{i}", f"v{i}", "0x0", E8)
            for i, (lt, bonus, fee) in enumerate(reserves)
        ),
        emodes=emodes or {},
    )


def _position(collateral: dict[int, int], debt: dict[int, int], emode: int = 0) -> UserPosition:
    config = 0
    for i in collateral:
        config |= 1 << (2 * i + 1)
    for i in debt:
        config |= 1 << (2 * i)
    return UserPosition("0xUser", config, emode, {f"A{i}": v for i, v in collateral.items()}, {f"A{i}": v for i, v in debt.items()})


# the docs' examples use MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD = 1_000e8 and MIN_LEFTOVER_BASE = 500e8
def _docs_rules(monkeypatch) -> None:
    import flasharb.aave.sizing as sizing

    base = sizing.rules_for_revision
    monkeypatch.setattr(
        sizing, "rules_for_revision", lambda rev: replace(base(rev), min_base_max_close_factor_threshold=1_000 * E8, min_leftover_base=500 * E8)
    )


def test_docs_2_1_close_factor_applies_to_the_whole_position() -> None:
    """v3.3 docs 2.1: 3k GHO + 3k USDC + 3k DAI debt, 9k ETH collateral: the whole 3k of one reserve in one
    liquidation (HF 0.97 here); before v3.3 only 50% of that reserve."""
    reserves = [(9_700, 10_100, 0), (9_000, 10_100, 0), (9_000, 10_100, 0), (9_000, 10_100, 0)]
    position = _position({0: 9_000 * E8}, {1: 3_000 * E8, 2: 3_000 * E8, 3: 3_000 * E8})
    v33 = liquidation_amounts(_market(7, reserves), position, "A0", "A1", 2**256 - 1)
    assert account_data(_market(7, reserves), position).health_factor == 97 * 10**16
    assert v33.allowed and v33.actual_debt == 3_000 * E8
    v30 = liquidation_amounts(_market(1, reserves), position, "A0", "A1", 2**256 - 1)
    assert v30.allowed and v30.actual_debt == 1_500 * E8


def test_docs_2_2_small_positions_get_a_full_close_factor(monkeypatch) -> None:
    """v3.3 docs 2.2: 1,200 $ collateral A, 900 $ debt B, HF 0.96: below the threshold, 100% of debt B."""
    _docs_rules(monkeypatch)
    reserves = [(8_000, 10_500, 0), (8_000, 10_500, 0)]
    position = _position({0: 1_200 * E8}, {1: 900 * E8})
    market = replace(_market(7, reserves), reserves=(replace(_market(7, reserves).reserves[0], configuration=_cfg(7_200, 10_500)), _market(7, reserves).reserves[1]))
    assert account_data(market, position).health_factor == 96 * 10**16
    liq = liquidation_amounts(market, position, "A0", "A1", 2**256 - 1)
    assert liq.allowed and liq.actual_debt == 900 * E8 and liq.seized == 945 * E8
    # ten times larger: above the threshold, 50% of the total debt
    big = _position({0: 12_000 * E8}, {1: 9_000 * E8})
    assert liquidation_amounts(market, big, "A0", "A1", 2**256 - 1).actual_debt == 4_500 * E8


def test_docs_2_3_forced_position_cleanup(monkeypatch) -> None:
    """v3.3 docs 2.3: collateral A 400e8, B 1000e8, debt A 900e8, B 400e8, HF 0.94, MIN_LEFTOVER_BASE 500e8:
    liquidate 100% of debt B, or 100% of collateral A, or up to 400e8 of debt A (or all of it)."""
    _docs_rules(monkeypatch)
    market = _market(7, [(8_729, 10_500, 0), (8_729, 10_500, 0)])
    position = _position({0: 400 * E8, 1: 1_000 * E8}, {0: 900 * E8, 1: 400 * E8})
    hf = account_data(market, position).health_factor
    assert 94 * 10**16 <= hf < 95 * 10**16
    # 100% of debt B (against collateral B) passes; a part of it leaves dust debt
    assert liquidation_amounts(market, position, "A1", "A1", 400 * E8).allowed
    assert liquidation_amounts(market, position, "A1", "A1", 300 * E8).refusal is Refusal.MUST_NOT_LEAVE_DUST
    # 100% of collateral A passes (capped at the balance); a part of it leaves dust collateral
    all_a = liquidation_amounts(market, position, "A0", "A0", 900 * E8)
    assert all_a.allowed and all_a.seized == 400 * E8 and all_a.actual_debt < 900 * E8
    assert liquidation_amounts(market, position, "A0", "A0", 100 * E8).refusal is Refusal.MUST_NOT_LEAVE_DUST
    # debt A against collateral B: up to 400e8, or all 900e8
    assert liquidation_amounts(market, position, "A1", "A0", 400 * E8).allowed
    assert liquidation_amounts(market, position, "A1", "A0", 400 * E8 + 1).refusal is Refusal.MUST_NOT_LEAVE_DUST
    assert liquidation_amounts(market, position, "A1", "A0", 900 * E8).allowed
    cover = max_debt_to_cover(market, position, "A1", "A0")
    assert (cover.maximum, cover.partial_max, cover.full_min, cover.maximum_allowed) == (900 * E8, 400 * E8, 900 * E8, True)


def test_leftover_collateral_bound_and_real_constants() -> None:
    """MIN_LEFTOVER_BASE = 1,000 USD (v3.3.0 LiquidationLogic) on the collateral side: with 2,500 $ of
    collateral the seized amount (bonus 5%) may not leave less than 1,000 $."""
    rules = rules_for_revision(7)
    assert (rules.min_base_max_close_factor_threshold, rules.min_leftover_base) == (2_000 * E8, 1_000 * E8)
    market = _market(7, [(8_000, 10_500, 0), (8_000, 10_500, 0)])
    position = _position({0: 2_500 * E8}, {1: 3_000 * E8})  # HF 0.667: the collateral side binds first
    cover = max_debt_to_cover(market, position, "A0", "A1")
    # the largest d with percentMul(d, 10500) <= 1500e8 leaves exactly >= 1,000 $ of collateral
    assert percent_mul(cover.partial_max, 10_500) <= 1_500 * E8 < percent_mul(cover.partial_max + 1, 10_500)
    assert liquidation_amounts(market, position, "A0", "A1", cover.partial_max + 1).refusal is Refusal.MUST_NOT_LEAVE_DUST
    # the full amount would need 3,150 $ of collateral: more than there is, so all collateral goes
    full = liquidation_amounts(market, position, "A0", "A1", 2**256 - 1)
    assert full.allowed and full.seized == 2_500 * E8 and cover.full_min > 0


@pytest.mark.parametrize(("collateral_usd", "half"), [(2_000, True), (1_999, False)])
def test_close_factor_threshold_2000_usd(collateral_usd: int, half: bool) -> None:
    """v3.3: 50% of total debt only when the collateral reserve and the debt reserve are both >= 2,000 $."""
    market = _market(7, [(9_000, 10_100, 0), (9_000, 10_100, 0), (9_000, 10_100, 0)])
    # debt 2,100 + 2,000 $; HF in (0.95, 1)
    position = _position({0: collateral_usd * E8, 2: 2_350 * E8}, {1: 2_100 * E8, 2: 2_000 * E8})
    hf = account_data(market, position).health_factor
    assert 95 * 10**16 < hf < 10**18
    liq = liquidation_amounts(market, position, "A0", "A1", 2**256 - 1)
    assert liq.max_liquidatable_debt == (2_050 * E8 if half else 2_100 * E8)


@pytest.mark.parametrize("revision", [7, 8, 9, 10])
def test_protocol_fee_and_emode_bonus_v3_3(revision: int) -> None:
    """The fee is a share of the bonus part: 100 $ at 5% bonus seizes 105 $, 5 $ of which is bonus; a 10%
    fee takes 0.5 $. In e-mode (v3.2+ bitmap) the category's bonus replaces the reserve's."""
    market = _market(revision, [(8_000, 10_500, 1_000), (8_000, 10_500, 1_000)])
    position = _position({0: 1_000 * E8}, {1: 1_000 * E8})
    liq = liquidation_amounts(market, position, "A0", "A1", 100 * E8)
    assert (liq.actual_debt, liq.seized, liq.protocol_fee) == (100 * E8, 10_450_000_000, 50_000_000)
    emode_market = replace(market, emodes={1: EModeCategory(1, 9_000, 9_500, 10_100, collateral_bitmap=0b11, borrowable_bitmap=0b11)})
    emode_position = _position({0: 10_000 * E8}, {1: 9_600 * E8}, emode=1)
    assert account_data(emode_market, emode_position).avg_liquidation_threshold == 9_500
    liq = liquidation_amounts(emode_market, emode_position, "A0", "A1", 100 * E8)
    assert liq.allowed and liq.liquidation_bonus == 10_100
    assert (liq.seized, liq.protocol_fee) == (10_090_000_000, 10_000_000)  # 101 $, 1 $ bonus, 10% fee


def test_v3_0_close_factor_and_emode_category_id() -> None:
    """v3.0: 50% of the reserve's debt above HF 0.95, 100% at or below; e-mode by the reserve's category id."""
    market = _market(1, [(8_000, 10_500, 0), (8_000, 10_500, 0)])
    assert liquidation_amounts(market, _position({0: 1_000 * E8}, {1: 820 * E8}), "A0", "A1", 10**30).actual_debt == 410 * E8
    assert liquidation_amounts(market, _position({0: 1_000 * E8}, {1: 850 * E8}), "A0", "A1", 10**30).actual_debt == 850 * E8
    reserves = tuple(replace(r, configuration=r.configuration | 1 << 168) for r in market.reserves)
    emode_market = replace(market, reserves=reserves, emodes={1: EModeCategory(1, 9_000, 9_500, 10_100)})
    liq = liquidation_amounts(emode_market, _position({0: 1_000 * E8}, {1: 960 * E8}, emode=1), "A0", "A1", 100 * E8)
    assert liq.allowed and liq.liquidation_bonus == 10_100 and liq.seized == 101 * E8


def test_refusals() -> None:
    market = _market(7, [(8_000, 10_500, 0), (0, 0, 0), (8_000, 10_500, 0)])
    position = _position({0: 1_000 * E8, 1: 500 * E8}, {2: 900 * E8})
    assert liquidation_amounts(market, _position({0: 1_000 * E8}, {2: 100 * E8}), "A0", "A2", 1).refusal is Refusal.HEALTH_FACTOR_NOT_BELOW_THRESHOLD
    assert liquidation_amounts(market, position, "A1", "A2", 1).refusal is Refusal.COLLATERAL_CANNOT_BE_LIQUIDATED
    assert liquidation_amounts(market, position, "A0", "A1", 1).refusal is Refusal.SPECIFIED_CURRENCY_NOT_BORROWED_BY_USER
    assert liquidation_amounts(market, position, "A0", "A9", 1).refusal is Refusal.UNKNOWN_RESERVE
    v30 = replace(market, pool_revision=1)
    assert liquidation_amounts(v30, position, "A0", "A2", 0).refusal is Refusal.INVALID_BURN_AMOUNT
    assert liquidation_amounts(market, position, "A0", "A2", 0).refusal is Refusal.MUST_NOT_LEAVE_DUST  # v3.3 checks first
    paused = replace(market, reserves=(replace(market.reserves[0], configuration=market.reserves[0].configuration | 1 << 60), *market.reserves[1:]))
    assert liquidation_amounts(paused, position, "A0", "A2", 1).refusal is Refusal.RESERVE_PAUSED
    inactive = replace(market, reserves=(*market.reserves[:2], replace(market.reserves[2], configuration=market.reserves[2].configuration & ~(1 << 56))))
    assert liquidation_amounts(inactive, position, "A0", "A2", 1).refusal is Refusal.RESERVE_INACTIVE


@pytest.mark.parametrize("revision", [11, 12, 0, 99])
def test_unmodelled_revisions_raise(revision: int) -> None:
    market = _market(revision, [(8_000, 10_500, 0)])
    with pytest.raises(UnsupportedPoolRevision, match=str(revision)):
        liquidation_amounts(market, _position({0: E8}, {0: E8}), "A0", "A0", 1)


@pytest.mark.parametrize("revision", [1, 7, 9])
def test_best_liquidation_matches_brute_force(revision: int) -> None:
    """0-decimal reserves (1 unit = 1 $) so every debtToCover can be tried: the search finds the best profit
    within 2 units (integer rounding makes the profit curve only nearly unimodal)."""
    market = _market(revision, [(8_000, 10_800, 1_000), (8_000, 10_500, 0), (8_000, 10_500, 0)], decimals=0)
    position = _position({0: 4_000, 1: 1_500}, {2: 5_300})

    def quote_back(collateral: str, debt: str, amount: int) -> int:
        reserve = 3_000 if collateral == "A0" else 100_000
        return reserve * amount * 997 // (reserve * 1_000 + amount * 997)

    plan = best_liquidation(market, position, quote_back, premium_bps=5)
    assert plan is not None and plan.profitable
    brute = max(
        quote_back(c, "A2", liq.seized) - liq.actual_debt - percent_mul(d, 5)
        for c in ("A0", "A1")
        for d in range(1, 5_400)
        if (liq := liquidation_amounts(market, position, c, "A2", d)).allowed
    )
    assert brute - 2 <= plan.profit <= brute
    check = liquidation_amounts(market, position, plan.collateral_asset, plan.debt_asset, plan.debt_to_cover)
    assert (check.actual_debt, check.seized, check.protocol_fee) == (plan.actual_debt, plan.seized, plan.protocol_fee)
    assert plan.expected_out == quote_back(plan.collateral_asset, plan.debt_asset, plan.seized)
    assert plan.premium == percent_mul(plan.debt_to_cover, 5)


def test_best_liquidation_reports_no_route() -> None:
    market = _market(1, [(8_000, 10_500, 0), (8_000, 10_500, 0)])
    plan = best_liquidation(market, _position({0: 1_000 * E8}, {1: 900 * E8}), lambda c, d, a: 0, premium_bps=5)
    assert plan is not None and not plan.profitable and plan.reason == "no swap route back"


# ------------------------------------------------------------------------------ v3.4 - v3.6 (revisions 8-10)
def test_v3_5_capped_collateral_needs_percent_div_ceil() -> None:
    """All 1,000 units of collateral (bonus 5%) against 2,000 of debt: the debt needed is 1000 / 1.05 = 952.38,
    percentDiv (half up, v3.4) 952, percentDivCeil (v3.5 _calculateAvailableCollateralToLiquidate) 953."""
    position = _position({0: 1_000}, {1: 2_000})
    amounts = {}
    for revision in (7, 8, 9, 10):
        liq = liquidation_amounts(_market(revision, [(8_000, 10_500, 0), (8_000, 10_500, 0)]), position, "A0", "A1", 10**9)
        assert liq.allowed and liq.seized == 1_000 and liq.max_liquidatable_debt == 2_000
        amounts[revision] = liq.actual_debt
    assert amounts[7] == amounts[8] == (1_000 * 10_000 + 10_500 // 2) // 10_500 == 952
    assert amounts[9] == amounts[10] == -(-1_000 * 10_000 // 10_500) == 953


def test_v3_5_balances_and_fee_cap_use_floor_and_ceil() -> None:
    """Collateral scaled 1,001 at liquidity index 1.5: balance 1,501 (floor; 1,502 half up); debt scaled 2,001
    at index 1.25: 2,502 (ceil; 2,501 half up). Seizing it all with a 10% fee: the aToken burn is rayDivCeil
    and the fee is capped at the scaled balance left, then rayMulFloor."""
    reserves = [(8_000, 10_500, 1_000), (8_000, 10_500, 0)]
    position = _position({0: 1_001}, {1: 2_001})

    def market(revision: int) -> MarketSnapshot:
        m = _market(revision, reserves)
        c, d = m.reserves
        return replace(m, reserves=(replace(c, liquidity_index=3 * RAY // 2), replace(d, variable_borrow_index=5 * RAY // 4)))

    v8 = liquidation_amounts(market(8), position, "A0", "A1", 10**9)
    v9 = liquidation_amounts(market(9), position, "A0", "A1", 10**9)
    assert (v8.user_collateral_balance, v8.user_reserve_debt) == (1_502, 2_501)
    assert (v9.user_collateral_balance, v9.user_reserve_debt) == (1_501, 2_502)
    assert v9.allowed and v9.actual_debt == -(-1_501 * 10_000 // 10_500)  # percentDivCeil(1501, 10500) = 1430
    bonus = 1_501 - (1_501 * 10_000 + 10_500 // 2) // 10_500  # collateral - percentDiv(collateral, bonus)
    fee = (bonus * 1_000 + 5_000) // 10_000  # percentMul(bonus, 10%)
    seized = 1_501 - fee
    burnt = -(-seized * RAY // (3 * RAY // 2))  # rayDivCeil
    left = 1_001 - burnt
    fee_scaled = -(-fee * RAY // (3 * RAY // 2))
    expected_fee = left * (3 * RAY // 2) // RAY if fee_scaled > left else fee
    assert (v9.seized, v9.protocol_fee) == (seized, expected_fee)
    assert v9.seized + v9.protocol_fee <= v9.user_collateral_balance


def test_v3_5_debt_in_base_currency_rounds_up_for_the_close_factor() -> None:
    """The 2,000 USD threshold compares mulDivCeil(debt, price, unit) from v3.5: a debt 1 wei of an 18-decimal
    token short of 2,000 USD is 1,999.99999999 USD (floor, v3.4: full close factor) but 2,000 USD (ceil, v3.5:
    50% of the total debt)."""
    reserves = [(9_000, 10_100, 0), (9_000, 10_100, 0), (9_000, 10_100, 0)]
    debt = 2_000 * 10**18 - 1
    position = _position({0: 2_050 * 10**18, 2: 1_200 * 10**18}, {1: debt, 2: 1_000 * 10**18})
    for revision, half in ((8, False), (9, True)):
        market = _market(revision, reserves, decimals=18)
        hf = account_data(market, position).health_factor
        assert 95 * 10**16 < hf < 10**18
        liq = liquidation_amounts(market, position, "A0", "A1", 2**256 - 1)
        total = account_data(market, position).total_debt_base
        assert liq.max_liquidatable_debt == (percent_mul(total, 5_000) * 10**18 // E8 if half else debt)


def test_v3_6_liquidates_zero_lt_collateral() -> None:
    """v3.6 validateLiquidationCall drops the collateral's liquidationThreshold != 0 check."""
    reserves = [(8_000, 10_500, 0), (0, 10_500, 0), (8_000, 10_500, 0)]
    position = _position({0: 1_000 * E8, 1: 500 * E8}, {2: 900 * E8})
    assert liquidation_amounts(_market(9, reserves), position, "A1", "A2", 100 * E8).refusal is Refusal.COLLATERAL_CANNOT_BE_LIQUIDATED
    v36 = liquidation_amounts(_market(10, reserves), position, "A1", "A2", 900 * E8)  # all of A1 (no dust)
    assert v36.allowed and v36.seized == 500 * E8 and v36.actual_debt == -(-500 * E8 * 10_000 // 10_500)
    assert liquidation_amounts(_market(10, reserves), position, "A1", "A2", 100 * E8).refusal is Refusal.MUST_NOT_LEAVE_DUST
