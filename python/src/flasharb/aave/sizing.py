"""Aave V3 liquidation sizing by the rules of the Pool revision, to the wei, and the choice of the most
profitable liquidation given a swap-back quote.

``liquidation_amounts`` mirrors ``LiquidationLogic.executeLiquidationCall`` (with ``receiveAToken = false``):

- v3.0-v3.2: the close factor applies to the debt reserve: 50% of the user's debt in it (stable + variable
  before v3.2), 100% when HF <= 0.95 (``CLOSE_FACTOR_HF_THRESHOLD``); the bonus is the collateral reserve's,
  or the e-mode category's when the collateral is in the user's category (v3.0-v3.1: same category id, whose
  price source, when set, prices collateral in the category and all debt; v3.2: the category's bitmap).
- v3.3: 100% of the reserve's debt unless the collateral reserve's and the debt reserve's values are both
  >= ``MIN_BASE_MAX_CLOSE_FACTOR_THRESHOLD`` (2,000 USD) and HF > 0.95, in which case the cap is 50% of the
  *total* debt in base currency (converted back to the debt asset), when the reserve's debt exceeds it; a
  partial liquidation must leave >= ``MIN_LEFTOVER_BASE`` (1,000 USD) of both that debt and that collateral,
  else the Pool reverts ``MUST_NOT_LEAVE_DUST``.

- v3.4 (revision 8): v3.3's rules (the new interest polynomial is in ``wadray``); self-liquidation reverts.
- v3.5-v3.6 (9-10, LiquidationLogic.executeLiquidationCall at v3.5.0 / v3.6.0): the balances are
  ``getATokenBalance`` (floor) and ``getVTokenBalance`` (ceil); the reserve debt in base currency and the
  debt leftover of the dust rule are ``mulDivCeil``; the debt needed for a capped collateral is
  ``percentDivCeil``; the aToken burn is ``rayDivCeil``, the debt burn ``rayDivFloor`` (a zero scaled burn
  reverts), the protocol fee's transfer ``rayDivCeil`` capped at the borrower's scaled balance left (then
  ``rayMulFloor``). v3.6 drops the collateral's ``liquidationThreshold != 0`` check of
  ``validateLiquidationCall``.
- v3.3+: when the liquidated collateral is all the collateral (``hasNoCollateralLeft``, compared in base
  currency), the whole reserve debt is burnt (bad debt): its scaled amount is what must not round to 0.

Then ``_calculateAvailableCollateralToLiquidate``: collateral = debt * price ratio * bonus, capped at the
user's balance (the debt then recomputed from the balance), minus the protocol fee (a share of the bonus),
which goes to the treasury (capped by the user's scaled balance left, as the Pool does).

Not modelled (the records do not carry them): the PriceOracleSentinel (absent on Polygon), v3.1+ liquidation
grace periods, v3.3's bad-debt burn (it changes nothing the liquidator receives).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from flasharb.aave.health import (
    HEALTH_FACTOR_LIQUIDATION_THRESHOLD,
    AaveRules,
    AccountData,
    _emode_price,
    _in_emode,
    account_data,
    rules_for_revision,
)
from flasharb.aave.types import MarketSnapshot, ReserveState, UserPosition
from flasharb.aave.wadray import (
    PERCENTAGE_FACTOR,
    a_token_balance,
    mul_div_ceil,
    normalized_debt,
    normalized_income,
    percent_div,
    percent_div_ceil,
    percent_mul,
    ray_div,
    ray_div_ceil,
    ray_div_floor,
    ray_mul,
    ray_mul_floor,
    v_token_balance,
)

__all__ = [
    "Refusal",
    "Liquidation",
    "MaxCover",
    "LiquidationPlan",
    "QuoteBack",
    "liquidation_amounts",
    "max_debt_to_cover",
    "best_liquidation",
    "plan_for",
]

QuoteBack = Callable[[str, str, int], int]


class Refusal(StrEnum):
    """Why the Pool would revert ``liquidationCall`` (its error name in the comment: v3.0 codes)."""

    RESERVE_INACTIVE = "reserve inactive"  # 27
    RESERVE_PAUSED = "reserve paused"  # 29
    HEALTH_FACTOR_NOT_BELOW_THRESHOLD = "health factor not below 1"  # 45
    COLLATERAL_CANNOT_BE_LIQUIDATED = "collateral not enabled or liquidation threshold 0"  # 46
    SPECIFIED_CURRENCY_NOT_BORROWED_BY_USER = "no debt in that reserve"  # 47
    INVALID_BURN_AMOUNT = "amount rounds to zero scaled tokens"  # 56
    MUST_NOT_LEAVE_DUST = "would leave dust below MIN_LEFTOVER_BASE"  # v3.3 103
    UNKNOWN_RESERVE = "asset is not a reserve of the market"


@dataclass(frozen=True, slots=True)
class Liquidation:
    """The outcome of ``liquidationCall(collateral, debt, user, debt_to_cover, false)``: ``actual_debt`` is
    the event's ``debtToCover``, ``seized`` its ``liquidatedCollateralAmount`` (what the liquidator receives),
    ``protocol_fee`` the collateral sent to the treasury. When ``refusal`` is set the call would revert and
    the amounts are what the Pool computed up to that point (zero before sizing)."""

    collateral_asset: str
    debt_asset: str
    debt_to_cover: int
    actual_debt: int
    seized: int
    protocol_fee: int
    max_liquidatable_debt: int
    user_reserve_debt: int
    user_collateral_balance: int
    health_factor: int
    liquidation_bonus: int
    refusal: Refusal | None = None

    @property
    def allowed(self) -> bool:
        return self.refusal is None


@dataclass(frozen=True, slots=True)
class MaxCover:
    """The debtToCover values the rules allow: ``maximum`` is the largest that changes the outcome (more is
    capped to it); on v3.3 ``partial_max`` is the largest partial amount that leaves no dust (every amount in
    [1, partial_max] passes the leftover rule), and ``full_min`` the least amount that clears the debt or the
    collateral (every amount >= it passes); 0 when no such amount exists."""

    maximum: int
    partial_max: int
    full_min: int
    maximum_allowed: bool


@dataclass(frozen=True, slots=True)
class LiquidationPlan:
    """A sized liquidation and its predicted profit in the debt asset:
    profit = expected_out + (debt_to_cover - actual_debt) - debt_to_cover - premium."""

    user: str
    collateral_asset: str
    debt_asset: str
    debt_to_cover: int
    actual_debt: int
    seized: int
    protocol_fee: int
    expected_out: int
    premium: int
    profit: int
    reason: str | None = None

    @property
    def profitable(self) -> bool:
        return self.reason is None and self.profit > 0


@dataclass(frozen=True, slots=True)
class _Context:
    """Everything about (user, collateral, debt) that does not depend on debtToCover."""

    rules: AaveRules
    collateral: ReserveState
    debt: ReserveState
    data: AccountData
    refusal: Refusal | None
    user_collateral_balance: int
    user_variable_debt: int
    user_reserve_debt: int
    max_liquidatable_debt: int
    bonus: int
    collateral_price: int
    debt_price: int
    collateral_unit: int
    debt_unit: int
    fee_bps: int
    income: int
    debt_index: int
    scaled_collateral: int


def _context(market: MarketSnapshot, position: UserPosition, collateral_asset: str, debt_asset: str, timestamp: int) -> _Context | Refusal:
    rules = rules_for_revision(market.pool_revision)
    try:
        coll, debt = market.reserve(collateral_asset), market.reserve(debt_asset)
    except KeyError:
        return Refusal.UNKNOWN_RESERVE
    data = account_data(market, position, timestamp)
    income = normalized_income(coll, timestamp)
    debt_index = normalized_debt(debt, timestamp, market.pool_revision)
    directed = rules.directed_rounding
    scaled_coll = position.scaled_collateral.get(collateral_asset, 0)
    coll_balance = a_token_balance(scaled_coll, income, directed)
    scaled_debt = position.scaled_variable_debt.get(debt_asset, 0)
    variable = v_token_balance(scaled_debt, debt_index, directed)
    stable = position.stable_debt.get(debt_asset, 0) if rules.stable_debt else 0
    reserve_debt = variable + stable
    ccfg, dcfg = coll.config, debt.config
    category = position.emode
    emode = market.emodes.get(category) if category else None
    coll_in_emode = emode is not None and _in_emode(market, rules, category, coll)
    bonus = emode.liquidation_bonus if coll_in_emode else ccfg.liquidation_bonus  # type: ignore[union-attr]
    coll_price, debt_price = coll.price, debt.price
    emode_price = _emode_price(market, rules, category)
    if emode_price != 0:  # v3.0-v3.1 _getConfigurationData
        if coll_in_emode:
            coll_price = emode_price
        debt_price = emode_price
    c_unit, d_unit = 10**ccfg.decimals, 10**dcfg.decimals
    hf = data.health_factor
    if rules.position_close_factor:
        max_debt = reserve_debt
        # v3.5+: borrowerReserveDebtInBaseCurrency = MathUtils.mulDivCeil(...)
        debt_base = mul_div_ceil(reserve_debt, debt_price, d_unit) if directed else reserve_debt * debt_price // d_unit
        coll_base = coll_balance * coll_price // c_unit
        threshold = rules.min_base_max_close_factor_threshold
        if coll_base >= threshold and debt_base >= threshold and hf > rules.close_factor_hf_threshold:
            half_total = percent_mul(data.total_debt_base, rules.default_close_factor)
            if debt_base > half_total:
                max_debt = half_total * d_unit // debt_price
    else:
        close = rules.default_close_factor if hf > rules.close_factor_hf_threshold else PERCENTAGE_FACTOR
        max_debt = percent_mul(reserve_debt, close)
    # ValidationLogic.validateLiquidationCall, in its order
    refusal: Refusal | None = None
    if not (ccfg.active and dcfg.active):
        refusal = Refusal.RESERVE_INACTIVE
    elif ccfg.paused or dcfg.paused:
        refusal = Refusal.RESERVE_PAUSED
    elif hf >= HEALTH_FACTOR_LIQUIDATION_THRESHOLD:
        refusal = Refusal.HEALTH_FACTOR_NOT_BELOW_THRESHOLD
    elif (ccfg.liquidation_threshold == 0 and not rules.zero_lt_collateral) or not position.is_collateral(coll.id):
        refusal = Refusal.COLLATERAL_CANNOT_BE_LIQUIDATED
    elif reserve_debt == 0:
        refusal = Refusal.SPECIFIED_CURRENCY_NOT_BORROWED_BY_USER
    return _Context(
        rules=rules,
        collateral=coll,
        debt=debt,
        data=data,
        refusal=refusal,
        user_collateral_balance=coll_balance,
        user_variable_debt=variable,
        user_reserve_debt=reserve_debt,
        max_liquidatable_debt=max_debt,
        bonus=bonus,
        collateral_price=coll_price,
        debt_price=debt_price,
        collateral_unit=c_unit,
        debt_unit=d_unit,
        fee_bps=ccfg.liquidation_protocol_fee,
        income=income,
        debt_index=debt_index,
        scaled_collateral=scaled_coll,
    )


def _size(ctx: _Context, collateral_asset: str, debt_asset: str, debt_to_cover: int) -> Liquidation:
    def result(actual: int = 0, seized: int = 0, fee: int = 0, refusal: Refusal | None = None) -> Liquidation:
        return Liquidation(
            collateral_asset=collateral_asset,
            debt_asset=debt_asset,
            debt_to_cover=debt_to_cover,
            actual_debt=actual,
            seized=seized,
            protocol_fee=fee,
            max_liquidatable_debt=ctx.max_liquidatable_debt,
            user_reserve_debt=ctx.user_reserve_debt,
            user_collateral_balance=ctx.user_collateral_balance,
            health_factor=ctx.data.health_factor,
            liquidation_bonus=ctx.bonus,
            refusal=refusal,
        )

    if ctx.refusal is not None:
        return result(refusal=ctx.refusal)
    actual = min(debt_to_cover, ctx.max_liquidatable_debt)
    cp, dp, cu, du, bonus = ctx.collateral_price, ctx.debt_price, ctx.collateral_unit, ctx.debt_unit, ctx.bonus
    directed = ctx.rules.directed_rounding
    balance = ctx.user_collateral_balance
    base_collateral = dp * actual * cu // (cp * du)
    max_collateral = percent_mul(base_collateral, bonus)
    if max_collateral > balance:
        collateral = balance
        # v3.5+: debtAmountNeeded = (...).percentDivCeil(liquidationBonus)
        needed = cp * collateral * du // (dp * cu)
        actual = percent_div_ceil(needed, bonus) if directed else percent_div(needed, bonus)
    else:
        collateral = max_collateral
    # LiquidationLogic: hasNoCollateralLeft = totalCollateralInBaseCurrency == collateralToLiquidateInBaseCurrency
    no_collateral_left = ctx.data.total_collateral_base == collateral * cp // cu
    fee = 0
    if ctx.fee_bps != 0:
        bonus_collateral = collateral - percent_div(collateral, bonus)
        fee = percent_mul(bonus_collateral, ctx.fee_bps)
    seized = collateral - fee
    if ctx.rules.position_close_factor and actual < ctx.user_reserve_debt and seized + fee < balance:
        left = ctx.user_reserve_debt - actual
        debt_left = mul_div_ceil(left, dp, du) if directed else left * dp // du
        coll_left = (balance - seized - fee) * cp // cu
        if debt_left < ctx.rules.min_leftover_base or coll_left < ctx.rules.min_leftover_base:
            return result(actual, seized, fee, Refusal.MUST_NOT_LEAVE_DUST)
    # VariableDebtToken.burn / AToken.burn: the scaled amount must not round to 0
    variable = ctx.user_variable_debt
    if directed:
        # v3.5 _burnDebtTokens: getVTokenBurnScaledAmount (rayDivFloor) of the debt burnt, all of it when no
        # collateral is left; _burnCollateralATokens: getATokenBurnScaledAmount (rayDivCeil)
        burn_debt = ctx.user_reserve_debt if no_collateral_left else actual
        if ctx.user_reserve_debt != 0 and ray_div_floor(burn_debt, ctx.debt_index) == 0:
            return result(actual, seized, fee, Refusal.INVALID_BURN_AMOUNT)
        burnt = ray_div_ceil(seized, ctx.income)
        if burnt == 0:
            return result(actual, seized, fee, Refusal.INVALID_BURN_AMOUNT)
        if fee != 0 and ray_div_ceil(fee, ctx.income) > ctx.scaled_collateral - burnt:
            # getATokenTransferScaledAmount(fee) capped at scaledBalanceOf(borrower), then getATokenBalance
            fee = ray_mul_floor(ctx.scaled_collateral - burnt, ctx.income)
        return result(actual, seized, fee)
    burn_debt = actual if variable >= actual else variable  # v3.0-v3.1: the rest is stable debt
    if ctx.rules.position_close_factor and no_collateral_left and ctx.user_reserve_debt != 0:
        burn_debt = ctx.user_reserve_debt  # v3.3-v3.4 _burnDebtTokens: hasNoCollateralLeft ? full debt : actual
    if (variable >= actual or variable != 0) and ray_div(burn_debt, ctx.debt_index) == 0:
        return result(actual, seized, fee, Refusal.INVALID_BURN_AMOUNT)
    if ray_div(seized, ctx.income) == 0:
        return result(actual, seized, fee, Refusal.INVALID_BURN_AMOUNT)
    if fee != 0:
        # the Pool caps the fee at what is left of the user's scaled balance after the burn
        scaled_left = ctx.scaled_collateral - ray_div(seized, ctx.income)
        if ray_div(fee, ctx.income) > scaled_left:
            fee = ray_mul(scaled_left, ctx.income)
    return result(actual, seized, fee)


def liquidation_amounts(
    market: MarketSnapshot,
    position: UserPosition,
    collateral_asset: str,
    debt_asset: str,
    debt_to_cover: int,
    timestamp: int | None = None,
) -> Liquidation:
    """What ``liquidationCall`` would do at ``timestamp`` (default: the snapshot's block; the Pool uses the
    block of the liquidation, so pass the next block's timestamp for a transaction not yet mined)."""
    ts = market.block_timestamp if timestamp is None else timestamp
    ctx = _context(market, position, collateral_asset, debt_asset, ts)
    if isinstance(ctx, Refusal):
        return Liquidation(collateral_asset, debt_asset, debt_to_cover, 0, 0, 0, 0, 0, 0, 0, 0, ctx)
    return _size(ctx, collateral_asset, debt_asset, debt_to_cover)


def _max_cover(ctx: _Context, collateral_asset: str, debt_asset: str) -> MaxCover:
    top = ctx.max_liquidatable_debt
    if ctx.refusal is not None or top == 0:
        return MaxCover(top, 0, 0, False)

    def ok(d: int) -> bool:
        return _size(ctx, collateral_asset, debt_asset, d).refusal is None

    def clears(d: int) -> bool:
        liq = _size(ctx, collateral_asset, debt_asset, d)
        return liq.actual_debt >= ctx.user_reserve_debt or liq.seized + liq.protocol_fee >= ctx.user_collateral_balance

    top_ok = ok(top)
    if not ctx.rules.position_close_factor:
        return MaxCover(top, top if top_ok else 0, 0, top_ok)
    # the leftovers fall as debtToCover grows: the partial amounts that pass form [1, partial_max]
    partial_max = 0
    lo, hi = 1, top
    while lo <= hi:
        mid = (lo + hi) // 2
        if not clears(mid) and ok(mid):
            partial_max, lo = mid, mid + 1
        elif clears(mid):
            hi = mid - 1
        else:
            hi = mid - 1
    full_min = 0
    if clears(top):
        lo, hi = 1, top
        while lo < hi:
            mid = (lo + hi) // 2
            if clears(mid):
                hi = mid
            else:
                lo = mid + 1
        full_min = lo
    return MaxCover(top, partial_max, full_min, top_ok)


def max_debt_to_cover(
    market: MarketSnapshot, position: UserPosition, collateral_asset: str, debt_asset: str, timestamp: int | None = None
) -> MaxCover:
    """The largest debtToCover the rules allow for this pair, and (v3.3) the amounts that avoid the dust
    revert."""
    ts = market.block_timestamp if timestamp is None else timestamp
    ctx = _context(market, position, collateral_asset, debt_asset, ts)
    if isinstance(ctx, Refusal):
        return MaxCover(0, 0, 0, False)
    return _max_cover(ctx, collateral_asset, debt_asset)


def plan_for(user: str, liq: Liquidation, quote_back: QuoteBack, premium_bps: int) -> LiquidationPlan:
    """``liq`` (a ``liquidation_amounts`` outcome) priced: the swap back of its seized collateral, the flash
    premium (percentMul of debtToCover) and the profit."""
    premium = percent_mul(liq.debt_to_cover, premium_bps)
    if liq.refusal is not None:
        return LiquidationPlan(user, liq.collateral_asset, liq.debt_asset, liq.debt_to_cover, liq.actual_debt,
                               liq.seized, liq.protocol_fee, 0, premium, 0, f"refused: {liq.refusal.value}")
    out = quote_back(liq.collateral_asset, liq.debt_asset, liq.seized) if liq.seized > 0 else 0
    profit = out + (liq.debt_to_cover - liq.actual_debt) - liq.debt_to_cover - premium
    reason = None if profit > 0 else ("no swap route back" if out == 0 else "not profitable")
    return LiquidationPlan(user, liq.collateral_asset, liq.debt_asset, liq.debt_to_cover, liq.actual_debt,
                           liq.seized, liq.protocol_fee, out, premium, profit, reason)


def best_liquidation(
    market: MarketSnapshot,
    position: UserPosition,
    quote_back: QuoteBack,
    premium_bps: int,
    timestamp: int | None = None,
    search_steps: int = 40,
) -> LiquidationPlan | None:
    """The most profitable liquidation of ``position``: every (collateral, debt) pair it has, at the largest
    allowed debtToCover and at the best of an integer ternary search below it (the swap back has diminishing
    returns, so profit is unimodal in the amount). ``quote_back(collateral, debt, amount)`` is the debt asset
    the seized collateral sells for (0: no route); the premium is the flash loan's (percentMul of
    debtToCover). Returns the best plan, unprofitable ones carry a ``reason``; None when the user has no
    pair at all."""
    ts = market.block_timestamp if timestamp is None else timestamp
    best: LiquidationPlan | None = None
    collaterals = [a for a, s in position.scaled_collateral.items() if s > 0]
    debts = [a for a in {*position.scaled_variable_debt, *position.stable_debt}]
    for coll in collaterals:
        for debt in debts:
            ctx = _context(market, position, coll, debt, ts)
            if isinstance(ctx, Refusal):
                continue
            memo: dict[int, LiquidationPlan] = {}

            def evaluate(d: int, ctx: _Context = ctx, coll: str = coll, debt: str = debt) -> LiquidationPlan:
                if d not in memo:
                    memo[d] = plan_for(position.user, _size(ctx, coll, debt, d), quote_back, premium_bps)
                return memo[d]

            cover = _max_cover(ctx, coll, debt)
            tried = [evaluate(max(cover.maximum, 1))]
            if cover.full_min:
                tried.append(evaluate(cover.full_min))
            hi = cover.partial_max if ctx.rules.position_close_factor else cover.maximum
            if ctx.refusal is None and hi >= 1:
                # amounts past the collateral cap seize nothing more: search below the actual debt it needs
                capped = _size(ctx, coll, debt, hi)
                hi = min(hi, max(capped.actual_debt, 1))
                tried.append(evaluate(hi))
                # profit still rising at the top (the usual case: the bonus beats the swap's slippage): with a
                # unimodal profit the top is the best, no search needed
                below = hi - max(1, hi // 1000)
                rising = below >= 1 and evaluate(below).profit <= tried[-1].profit
                lo = 1
                # stop at a millionth of the amount: finer steps change the profit by less than the rounding
                tolerance = max(3, hi // 1_000_000)
                for _ in range(0 if rising else search_steps):
                    if hi - lo < tolerance:
                        break
                    m1, m2 = lo + (hi - lo) // 3, hi - (hi - lo) // 3
                    if evaluate(m1).profit < evaluate(m2).profit:
                        lo = m1 + 1
                    else:
                        hi = m2 - 1
                if not rising:
                    tried.extend(evaluate(d) for d in (range(lo, hi + 1) if hi - lo <= 8 else (lo, (lo + hi) // 2, hi)))
            for plan in tried:
                if best is None or _rank(plan) > _rank(best):
                    best = plan
    return best


def _rank(plan: LiquidationPlan) -> tuple[int, int]:
    """Allowed plans first, then by profit."""
    return (0 if plan.reason is not None and plan.reason.startswith("refused") else 1, plan.profit)
