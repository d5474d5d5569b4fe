"""Aave V3 health factors: exact per borrower (``account_data``, GenericLogic.calculateUserAccountData of the
Pool revision in the snapshot) and a vectorised float screen over many borrowers (``HealthScreen``) whose only
job is to pick the few that need the exact computation.

Revision differences that change the arithmetic (``AaveRules``):

- v3.0 (revisions 1-3, npm @aave/core-v3) and v3.1 (4): stable debt counts (``balanceOf``); a borrower's
  e-mode applies to reserves whose configuration carries the same category id; a category with a price source
  prices every such reserve at that source's price.
- v3.2 (5-6) and v3.3 (7): no stable debt; e-mode applies to reserves in the category's collateral bitmap; no
  price source. v3.3 changes the liquidation rules only (``flasharb.aave.sizing``).
- v3.4 (8): a new compounded-interest polynomial (``wadray.compounded_interest_v3_4``); otherwise v3.3.
- v3.5 (9): rounding in the protocol's favour (GenericLogic.sol at v3.5.0): collateral balances
  ``rayMulFloor``, debt balances ``rayMulCeil`` and debt values ``mulDivCeil`` (any debt is >= 1 base unit);
  HF = sum(value * LT).wadDiv(total debt) / 1e4, without percentMul of an averaged LT.
- v3.6 (10): collateral enabled by the user counts even when its liquidation threshold is 0 (and takes the
  e-mode LT when in the category's bitmap); LTV 0 for reserves in the category's ``ltvzeroBitmap``
  (``ValidationLogic.getUserReserveLtv``), read from ``EModeCategory.ltvzero_bitmap``.
- main (11, v3.7 unreleased): liquidation rounding and isolated e-modes change: not modelled, raises.

The screen's margin is a proven bound, not a tuning knob: see ``HealthScreen.screen``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from flasharb.aave.types import MarketSnapshot, ReserveState, UserPosition
from flasharb.aave.wadray import (
    MAX_UINT256,
    PERCENTAGE_FACTOR,
    RAY,
    WAD,
    mul_div_ceil,
    normalized_debt,
    normalized_income,
    percent_mul,
    ray_mul,
    ray_mul_ceil,
    ray_mul_floor,
    wad_div,
)
from flasharb.exceptions import FlasharbError

__all__ = [
    "AaveRules",
    "AccountData",
    "HealthScreen",
    "ScreenResult",
    "UnsupportedPoolRevision",
    "account_data",
    "market_indexes",
    "rules_for_revision",
    "HEALTH_FACTOR_LIQUIDATION_THRESHOLD",
]

HEALTH_FACTOR_LIQUIDATION_THRESHOLD = WAD
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"


class UnsupportedPoolRevision(FlasharbError):
    """The snapshot's Pool revision has arithmetic this package does not model: no number is better than a
    wrong one."""


@dataclass(frozen=True, slots=True)
class AaveRules:
    """What a Pool revision computes differently (health factor and liquidation)."""

    revision: int
    version: str  # "v3.0", "v3.1", "v3.2", "v3.3", "v3.4", "v3.5", "v3.6"
    stable_debt: bool  # v3.0-v3.1: stable debt balances count
    emode_by_reserve_category: bool  # v3.0-v3.1: reserve config category id; v3.2+: category bitmaps
    emode_price_source: bool  # v3.0-v3.1
    grace_period: bool  # v3.1+: reserves may carry a liquidation grace period (not in ReserveState: see sizing)
    position_close_factor: bool  # v3.3+: close factor on the whole position, dust rules
    close_factor_hf_threshold: int = 95 * 10**16  # 0.95e18
    default_close_factor: int = 5_000  # bps
    min_base_max_close_factor_threshold: int = 2_000 * 10**8  # v3.3 LiquidationLogic
    min_leftover_base: int = 1_000 * 10**8  # MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD / 2
    interest_v3_4: bool = False  # v3.4+: MathUtils.calculateCompoundedInterest's new polynomial
    directed_rounding: bool = False  # v3.5+: floor collateral, ceil debt, new HF formula, ceil in liquidations
    zero_lt_collateral: bool = False  # v3.6+: LT-0 collateral counts and can be liquidated; e-mode ltvzero


_LATER = {8: "v3.4", 9: "v3.5", 10: "v3.6"}


def rules_for_revision(revision: int) -> AaveRules:
    """The rules of ``Pool.POOL_REVISION()``: 1-3 v3.0.x, 4 v3.1, 5-6 v3.2, 7 v3.3, 8 v3.4, 9 v3.5, 10 v3.6
    (``PoolInstance.POOL_REVISION`` at each aave-v3-origin tag). Anything else raises."""
    if 1 <= revision <= 3:
        return AaveRules(revision, "v3.0", True, True, True, False, False)
    if revision == 4:
        return AaveRules(revision, "v3.1", True, True, True, True, False)
    if revision in (5, 6):
        return AaveRules(revision, "v3.2", False, False, False, True, False)
    if revision == 7:
        return AaveRules(revision, "v3.3", False, False, False, True, True)
    if revision in _LATER:
        return AaveRules(
            revision, _LATER[revision], False, False, False, True, True,
            interest_v3_4=True, directed_rounding=revision >= 9, zero_lt_collateral=revision >= 10,
        )
    if revision == 11:
        raise UnsupportedPoolRevision(
            "Aave Pool revision 11 (v3.7/main) is not modelled: it changes the liquidation rounding "
            "(percentMulFloor/percentDivFloor/percentMulCeil in _calculateAvailableCollateralToLiquidate, "
            "scaled hasNoCollateralLeft) and adds isolated e-modes; revisions 1-10 (v3.0-v3.6) are exact here"
        )
    raise UnsupportedPoolRevision(f"unknown Aave Pool revision {revision}: only revisions 1-10 (v3.0-v3.6) are modelled")


@dataclass(frozen=True, slots=True)
class AccountData:
    """``Pool.getUserAccountData``'s numbers, as GenericLogic computes them (base currency units, bps, wad)."""

    total_collateral_base: int
    total_debt_base: int
    avg_ltv: int
    avg_liquidation_threshold: int
    health_factor: int
    has_zero_ltv_collateral: bool

    @property
    def liquidatable(self) -> bool:
        return self.health_factor < HEALTH_FACTOR_LIQUIDATION_THRESHOLD


def _in_emode(market: MarketSnapshot, rules: AaveRules, category: int, reserve: ReserveState) -> bool:
    if category == 0:
        return False
    if rules.emode_by_reserve_category:
        return reserve.config.emode_category == category
    emode = market.emodes.get(category)
    return emode is not None and bool((emode.collateral_bitmap >> reserve.id) & 1)


def _emode_price(market: MarketSnapshot, rules: AaveRules, category: int) -> int:
    """The e-mode price override (v3.0-v3.1, a category with a price source), else 0."""
    if category == 0 or not rules.emode_price_source:
        return 0
    emode = market.emodes.get(category)
    if emode is None or emode.price_source == ZERO_ADDRESS:
        return 0
    return emode.price


Indexes = dict[int, tuple[int, int]]  # reserve id -> (normalized income, normalized debt) at one timestamp


def market_indexes(market: MarketSnapshot, timestamp: int) -> Indexes:
    """Every reserve's normalized income and debt at ``timestamp``: computed once, shared by many borrowers."""
    rev = market.pool_revision
    return {r.id: (normalized_income(r, timestamp), normalized_debt(r, timestamp, rev)) for r in market.reserves}


def _collateral_lt(market: MarketSnapshot, rules: AaveRules, category: int, reserve: ReserveState) -> int | None:
    """The liquidation threshold GenericLogic weighs a user's collateral with, or None when it does not count
    the reserve at all (before v3.6: a reserve LT of 0; v3.6 counts every enabled collateral)."""
    emode = market.emodes.get(category) if category else None
    in_emode = emode is not None and _in_emode(market, rules, category, reserve)
    if not rules.zero_lt_collateral and reserve.config.liquidation_threshold == 0:
        return None
    return emode.liquidation_threshold if in_emode else reserve.config.liquidation_threshold  # type: ignore[union-attr]


def _collateral_ltv(market: MarketSnapshot, rules: AaveRules, category: int, reserve: ReserveState) -> int:
    """The LTV of a collateral: v3.6 ``ValidationLogic.getUserReserveLtv`` (e-mode ltvzero bitmap -> 0)."""
    emode = market.emodes.get(category) if category else None
    if emode is not None and _in_emode(market, rules, category, reserve):
        ltvzero = emode.ltvzero_bitmap if rules.zero_lt_collateral else 0
        return 0 if (ltvzero >> reserve.id) & 1 else emode.ltv
    return reserve.config.ltv


def _check_emode(market: MarketSnapshot, category: int) -> None:
    if category != 0 and category not in market.emodes:
        raise KeyError(f"user is in e-mode category {category}, which the market snapshot does not carry")


def _check_stable(market: MarketSnapshot, rules: AaveRules, position: UserPosition, timestamp: int) -> None:
    if not position.stable_debt:
        return
    if not rules.stable_debt:
        raise ValueError(f"{rules.version} has no stable debt, yet the position of {position.user} carries some")
    if timestamp != market.block_timestamp:
        # stable balances compound at the user's own rate, which the snapshot does not carry
        raise ValueError("a position with stable debt can only be evaluated at the snapshot's block timestamp")


def account_data(
    market: MarketSnapshot, position: UserPosition, timestamp: int | None = None, indexes: Indexes | None = None
) -> AccountData:
    """GenericLogic.calculateUserAccountData for ``position`` at ``timestamp`` (default: the snapshot's block),
    to the wei: balances are scaled.rayMul(index at timestamp) (floor/ceil from v3.5), prices the snapshot's.
    ``indexes`` (from ``market_indexes`` at the same timestamp) saves recomputing them per borrower."""
    rules = rules_for_revision(market.pool_revision)
    ts = market.block_timestamp if timestamp is None else timestamp
    emode_price = _emode_price(market, rules, position.emode)
    _check_stable(market, rules, position, ts)
    if position.configuration == 0:
        return AccountData(0, 0, 0, 0, MAX_UINT256, False)
    category = position.emode
    _check_emode(market, category)
    if rules.directed_rounding:
        return _account_data_v3_5(market, rules, position, ts, indexes)
    emode = market.emodes.get(category)
    total_collateral = total_debt = avg_ltv = avg_lt = 0
    has_zero_ltv = False
    for reserve in market.reserves:
        rid = reserve.id
        is_collateral, is_borrowing = position.is_collateral(rid), position.is_borrowing(rid)
        if not (is_collateral or is_borrowing):
            continue
        cfg = reserve.config
        income, debt_index = indexes[rid] if indexes is not None else (
            normalized_income(reserve, ts), normalized_debt(reserve, ts, market.pool_revision)
        )
        # GenericLogic's price: the e-mode source's when set and the reserve is in the category (v3.0-v3.1)
        price = emode_price if emode_price != 0 and cfg.emode_category == category else reserve.price
        unit = 10**cfg.decimals
        if cfg.liquidation_threshold != 0 and is_collateral:
            scaled = position.scaled_collateral.get(reserve.asset, 0)
            value = ray_mul(scaled, income) * price // unit
            total_collateral += value
            in_emode = emode is not None and _in_emode(market, rules, category, reserve)
            if cfg.ltv != 0:
                avg_ltv += value * (emode.ltv if in_emode else cfg.ltv)  # type: ignore[union-attr]
            else:
                has_zero_ltv = True
            avg_lt += value * (emode.liquidation_threshold if in_emode else cfg.liquidation_threshold)  # type: ignore[union-attr]
        if is_borrowing:
            scaled_debt = position.scaled_variable_debt.get(reserve.asset, 0)
            debt = ray_mul(scaled_debt, debt_index) if scaled_debt != 0 else 0
            if rules.stable_debt:
                debt += position.stable_debt.get(reserve.asset, 0)
            total_debt += debt * price // unit
    if total_collateral != 0:
        avg_ltv //= total_collateral
        avg_lt //= total_collateral
    else:
        avg_ltv = avg_lt = 0
    hf = MAX_UINT256 if total_debt == 0 else wad_div(percent_mul(total_collateral, avg_lt), total_debt)
    return AccountData(total_collateral, total_debt, avg_ltv, avg_lt, hf, has_zero_ltv)


def _account_data_v3_5(
    market: MarketSnapshot, rules: AaveRules, position: UserPosition, ts: int, indexes: Indexes | None
) -> AccountData:
    """GenericLogic.calculateUserAccountData at v3.5.0 / v3.6.0 (the e-mode price source is gone since v3.2):
    ``_getUserBalanceInBaseCurrency`` = scaled.getATokenBalance(income) * price / unit (floor),
    ``_getUserDebtInBaseCurrency`` = mulDivCeil(scaled.getVTokenBalance(debt index), price, unit),
    HF = avgLiquidationThreshold.wadDiv(totalDebt) / 100_00 with avgLiquidationThreshold still the sum of
    value * LT (divided by the total collateral only after the HF)."""
    category = position.emode
    total_collateral = total_debt = avg_ltv = sum_lt = 0
    has_zero_ltv = False
    for reserve in market.reserves:
        rid = reserve.id
        is_collateral, is_borrowing = position.is_collateral(rid), position.is_borrowing(rid)
        if not (is_collateral or is_borrowing):
            continue
        income, debt_index = indexes[rid] if indexes is not None else (
            normalized_income(reserve, ts), normalized_debt(reserve, ts, market.pool_revision)
        )
        price, unit = reserve.price, 10**reserve.config.decimals
        lt = _collateral_lt(market, rules, category, reserve) if is_collateral else None
        if lt is not None:
            value = ray_mul_floor(position.scaled_collateral.get(reserve.asset, 0), income) * price // unit
            total_collateral += value
            ltv = _collateral_ltv(market, rules, category, reserve)
            if ltv != 0:
                avg_ltv += value * ltv
            else:
                has_zero_ltv = True
            sum_lt += value * lt
        if is_borrowing:
            debt = ray_mul_ceil(position.scaled_variable_debt.get(reserve.asset, 0), debt_index)
            total_debt += mul_div_ceil(debt, price, unit)
    hf = MAX_UINT256 if total_debt == 0 else wad_div(sum_lt, total_debt) // PERCENTAGE_FACTOR
    if total_collateral != 0:
        avg_ltv //= total_collateral
        avg_lt = sum_lt // total_collateral
    else:
        avg_ltv = avg_lt = 0
    return AccountData(total_collateral, total_debt, avg_ltv, avg_lt, hf, has_zero_ltv)


# ---------------------------------------------------------------------------------------------------- screen
@dataclass(frozen=True, slots=True)
class ScreenResult:
    """One screen pass: the borrowers that may be liquidatable (a superset of those that are) and the
    approximate health factor of every row (float, inf without debt), in the screen's row order."""

    candidates: tuple[str, ...]
    approx_health_factor: np.ndarray
    users: tuple[str, ...]


# Relative error of a float64 dot product of <= 64 non-negative terms, with margin: 64 * 2**-53 < 1e-14.
_FLOAT_REL = 1e-12


class HealthScreen:
    """Every borrower's health factor at once, in float64, to find the few that need ``account_data``.

    Rows are borrowers, columns the market's reserves (snapshot order). Built once; ``upsert``/``remove``
    change one row in O(reserves) (removal swaps the last row in; capacity doubles), so a borrower's events
    never cost a rebuild. Per-row liquidation thresholds (e-mode applied) are baked into the rows, so a change
    of reserve configuration or e-mode categories (detected by ``screen``) rebuilds the weights once.
    Borrowers in an e-mode with its own price source (v3.0-v3.1) are always candidates.
    """

    def __init__(self, market: MarketSnapshot, positions: Iterable[UserPosition] = (), capacity: int = 1024) -> None:
        self._rules = rules_for_revision(market.pool_revision)
        self._market = market
        self._assets = tuple(r.asset for r in market.reserves)
        self._col = {a: i for i, a in enumerate(self._assets)}
        self._config_key = self._key(market)
        r = len(self._assets)
        cap = max(capacity, 16)
        self._n = 0
        self._users: list[str] = []
        self._row: dict[str, int] = {}
        self._positions: dict[str, UserPosition] = {}
        # one row per borrower, six column blocks of `r` (one GEMM per screen):
        # 0 scaled collateral x its liquidation threshold (bps), 1 scaled collateral (counted by GenericLogic),
        # 2 collateral mask, 3 scaled variable debt, 4 stable debt (a balance already), 5 debt mask
        self._r = r
        self._m = np.zeros((cap, 6 * r))
        self._forced = np.zeros(cap, dtype=bool)
        for position in positions:
            self.upsert(position)

    # -- rows
    @staticmethod
    def _key(market: MarketSnapshot) -> tuple:
        return (
            market.pool_revision,
            tuple((r.asset, r.id, r.configuration) for r in market.reserves),
            tuple(sorted((k, v.liquidation_threshold, v.collateral_bitmap, v.price_source) for k, v in market.emodes.items())),
        )

    def __len__(self) -> int:
        return self._n

    def __contains__(self, user: object) -> bool:
        return user in self._row

    @property
    def users(self) -> tuple[str, ...]:
        return tuple(self._users)

    def position(self, user: str) -> UserPosition:
        return self._positions[user]

    def _grow(self) -> None:
        cap = self._m.shape[0] * 2
        for name in ("_m", "_forced"):
            old = getattr(self, name)
            new = np.zeros((cap, *old.shape[1:]), dtype=old.dtype)
            new[: self._n] = old[: self._n]
            setattr(self, name, new)

    def _fill(self, i: int, position: UserPosition) -> None:
        market, rules = self._market, self._rules
        category = position.emode
        emode = market.emodes.get(category) if category else None
        if category and emode is None:
            raise KeyError(f"{position.user} is in e-mode category {category}, unknown to the market snapshot")
        row = self._m[i]
        row[:] = 0.0
        r = self._r
        self._forced[i] = _emode_price(market, rules, category) != 0
        for j, reserve in enumerate(market.reserves):
            lt = _collateral_lt(market, rules, category, reserve) if position.is_collateral(reserve.id) else None
            if lt is not None:
                scaled = position.scaled_collateral.get(reserve.asset, 0)
                row[j] = float(scaled) * lt
                row[r + j] = float(scaled)
                row[2 * r + j] = 1.0
            if position.is_borrowing(reserve.id):
                row[3 * r + j] = float(position.scaled_variable_debt.get(reserve.asset, 0))
                row[4 * r + j] = float(position.stable_debt.get(reserve.asset, 0)) if rules.stable_debt else 0.0
                row[5 * r + j] = 1.0

    def upsert(self, position: UserPosition) -> None:
        """Adds or replaces one borrower's row (after its Supply/Borrow/Repay/Withdraw/Liquidation events)."""
        i = self._row.get(position.user)
        if i is None:
            if self._n == self._m.shape[0]:
                self._grow()
            i = self._n
            self._n += 1
            self._row[position.user] = i
            self._users.append(position.user)
        self._positions[position.user] = position
        self._fill(i, position)

    def remove(self, user: str) -> None:
        """Drops a borrower: the last row moves into its place."""
        i = self._row.pop(user)
        del self._positions[user]
        last = self._n - 1
        if i != last:
            moved = self._users[last]
            self._m[i] = self._m[last]
            self._forced[i] = self._forced[last]
            self._users[i] = moved
            self._row[moved] = i
        self._users.pop()
        self._n -= 1

    # -- screening
    def screen(self, market: MarketSnapshot, timestamp: int | None = None) -> ScreenResult:
        """Approximate health factors at ``timestamp`` with ``market``'s prices and indexes, and the borrowers
        whose *lower bound* on the exact health factor is below 1.

        The bound: with b the real balance, GenericLogic's value floor(round(b) * p / u) is within
        s = p / (2u) + 1 of b * p / u; so W (sum of value * LT) and T (total collateral) are within
        S_c * 1e4 and S_c of their float counterparts, debt within S_d. Flooring the average LT loses at most T
        (in W units), percentMul and wadDiv at most half a unit each, so
        HF_exact >= ((W - T) / 1e4 - 1.0001 S_c - 0.5) / (D + S_d) - 0.5e-18, with float error < 1e-12
        relative on each sum. A borrower is a candidate when that bound is < 1: none is ever missed.

        From v3.5 the balances round down (collateral) and up (debt) instead of half up, so the per-reserve
        slack doubles to s = p / u + 1 (value floor(floor(b) p / u) >= b p / u - p / u - 1, debt value
        ceil(ceil(b) p / u) <= b p / u + p / u + 1); HF = floor(round(W * 1e18 / D) / 1e4) loses less than
        1e-18 + 0.5e-22, and the same bound (whose -T / 1e4 and -0.5 terms are now pure margin) holds.
        """
        if market.pool_revision != self._market.pool_revision or [r.asset for r in market.reserves] != list(self._assets):
            raise ValueError("the market's reserves differ from the screen's: build a new HealthScreen")
        key = self._key(market)
        if key != self._config_key:
            self._market, self._config_key = market, key
            for user, i in self._row.items():
                self._fill(i, self._positions[user])
        ts = market.block_timestamp if timestamp is None else timestamp
        n = self._n
        # float64 throughout (an int as large as RAY would turn the arrays into slow Python objects)
        price = np.array([float(r.price) for r in market.reserves], dtype=np.float64)
        unit = np.array([float(10 ** r.config.decimals) for r in market.reserves], dtype=np.float64)
        income = np.array([normalized_income(r, ts) / RAY for r in market.reserves], dtype=np.float64)
        rev = market.pool_revision
        dindex = np.array([normalized_debt(r, ts, rev) / RAY for r in market.reserves], dtype=np.float64)
        per_unit = price / unit
        v_coll, v_debt = income * per_unit, dindex * per_unit
        slack = per_unit * (1.0 if self._rules.directed_rounding else 0.5) + 1.0
        r = self._r
        vectors = np.zeros((6 * r, 5))
        vectors[0:r, 0] = v_coll  # W
        vectors[r : 2 * r, 1] = v_coll  # T
        vectors[2 * r : 3 * r, 2] = slack  # S_c
        vectors[3 * r : 4 * r, 3] = v_debt  # D
        vectors[4 * r : 5 * r, 3] = per_unit
        vectors[5 * r :, 4] = slack  # S_d
        sums = self._m[:n] @ vectors
        w, t, s_c, d, s_d = sums.T
        with np.errstate(divide="ignore", invalid="ignore"):
            approx = np.where(d > 0, w / 1e4 / d, np.inf)
            num_lo = (w * (1 - _FLOAT_REL) - t * (1 + _FLOAT_REL)) / 1e4 - 1.0001 * s_c - 0.5
            den_hi = (d + s_d) * (1 + _FLOAT_REL)
            lower = np.where(d > 0, num_lo / den_hi - 1e-18, np.inf)
        has_debt = s_d > 0
        hit = (has_debt & (lower < 1.0)) | (has_debt & self._forced[:n])
        users = self._users
        candidates = tuple(users[i] for i in np.flatnonzero(hit))
        return ScreenResult(candidates=candidates, approx_health_factor=approx, users=tuple(users))

    def liquidatable(self, market: MarketSnapshot, timestamp: int | None = None) -> list[tuple[UserPosition, AccountData]]:
        """The borrowers whose exact health factor is below 1: the screen's candidates, then ``account_data``.
        The positions are the screen's: refresh them with ``upsert`` as their events arrive."""
        ts = market.block_timestamp if timestamp is None else timestamp
        indexes = market_indexes(market, ts)
        out = []
        for user in self.screen(market, ts).candidates:
            data = account_data(market, self._positions[user], ts, indexes)
            if data.liquidatable:
                out.append((self._positions[user], data))
        return out
