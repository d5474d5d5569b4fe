"""flasharb.risk: each limit refuses with its own reason code; breaker, blacklists, loss limit over time."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flasharb.risk import (
    ALLOW,
    BreakerState,
    Decision,
    RefusalReason,
    RiskContext,
    RiskLimits,
    RiskManager,
    RiskOpportunity,
    TxOutcome,
)

USDC = "0x2791Bca1f2de4661ED88A30C99A7a9449Aa84174"
WETH = "0x7ceB23fD6bC0adD59E62ac25578270cFf1b9f619"
P1, P2, P3, P4 = (f"0x{n:040x}" for n in (0xA1, 0xB2, 0xC3, 0xD4))
GWEI = 10**9
NOON = datetime(2026, 3, 1, 12, 0, tzinfo=UTC).timestamp()


@dataclass(frozen=True)
class Opp:
    """Stands in for flasharb.engine's opportunity (only the fields the risk layer reads, plus extras)."""

    loan_token: str = USDC
    amount_in: int = 1_000 * 10**6
    net_profit: int = 5 * 10**6
    pools: tuple[str, ...] = (P1, P2)
    chain_id: int = 137
    block_number: int = 1
    gas_estimate: int = 200_000
    lender: int = 3
    plan: bytes = b"\x01"


class Clock:
    def __init__(self, t: float = NOON) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def limits(**over) -> RiskLimits:
    base = dict(
        max_loan={USDC: 10_000 * 10**6, WETH.lower(): 5 * 10**18},
        min_net_profit={USDC: 10**6},
        max_gas_price=500 * GWEI,
        max_in_flight=2,
        daily_loss_limit={USDC: 50 * 10**6},
        breaker_failures=3,
        breaker_cooldown=60,
        route_blacklist_seconds=120,
        chain_id=137,
    )
    base.update(over)
    return RiskLimits(**base)


CTX = RiskContext(gas_price=100 * GWEI)


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def risk(clock: Clock) -> RiskManager:
    return RiskManager(limits(), clock=clock)


def test_opportunity_stand_in_satisfies_the_protocol() -> None:
    opp: RiskOpportunity = Opp()
    assert opp.loan_token == USDC


def test_allows_within_limits(risk: RiskManager) -> None:
    d = risk.check(Opp(), CTX)
    assert d is ALLOW and d.ok and bool(d) and d.reason is RefusalReason.OK


# --------------------------------------------------------------------------------------------- one limit each
@pytest.mark.parametrize(
    ("opp", "ctx", "reason"),
    [
        (Opp(net_profit=10**6 - 1), CTX, RefusalReason.PROFIT_TOO_LOW),
        (Opp(net_profit=-1), CTX, RefusalReason.PROFIT_TOO_LOW),
        (Opp(amount_in=10_000 * 10**6 + 1), CTX, RefusalReason.LOAN_TOO_LARGE),
        (Opp(loan_token="0x" + "ee" * 20), CTX, RefusalReason.TOKEN_NOT_ALLOWED),
        (Opp(), RiskContext(gas_price=500 * GWEI + 1), RefusalReason.GAS_PRICE_TOO_HIGH),
        (Opp(), RiskContext(gas_price=1, in_flight=2), RefusalReason.TOO_MANY_IN_FLIGHT),
        (Opp(chain_id=80002), CTX, RefusalReason.WRONG_CHAIN),
    ],
)
def test_each_limit_refuses_with_its_reason(risk: RiskManager, opp: Opp, ctx: RiskContext, reason) -> None:
    d = risk.check(opp, ctx)
    assert not d.ok and not d and d.reason is reason and d.detail


def test_boundaries_are_inclusive(risk: RiskManager) -> None:
    assert risk.check(Opp(net_profit=10**6, amount_in=10_000 * 10**6), RiskContext(500 * GWEI, 1)).ok


def test_token_keys_are_case_insensitive_and_defaults_apply(clock: Clock) -> None:
    r = RiskManager(limits(), clock=clock)
    # WETH has a max loan (given lower-case) but no min profit: the default (1 wei) applies.
    assert r.check(Opp(loan_token=WETH, amount_in=5 * 10**18, net_profit=1), CTX).ok
    assert r.check(Opp(loan_token=WETH.upper().replace("0X", "0x"), net_profit=0), CTX).reason is (
        RefusalReason.PROFIT_TOO_LOW
    )
    open_r = RiskManager(limits(max_loan={}, max_loan_default=10), clock=clock)
    assert open_r.check(Opp(loan_token="0x" + "ee" * 20, amount_in=10, net_profit=1), CTX).ok


def test_no_gas_limit_and_no_chain_limit(clock: Clock) -> None:
    assert RiskManager(limits(), clock=clock).max_gas_price == 500 * GWEI
    r = RiskManager(limits(max_gas_price=None, chain_id=None), clock=clock)
    assert r.max_gas_price is None
    assert r.check(Opp(chain_id=1), RiskContext(gas_price=10**20)).ok


def test_limits_validate() -> None:
    with pytest.raises(ValueError):
        RiskLimits(max_in_flight=0)
    with pytest.raises(ValueError):
        RiskLimits(breaker_failures=0)
    with pytest.raises(ValueError):
        RiskLimits(breaker_cooldown=-1)
    with pytest.raises(ValueError):
        RiskLimits(max_loan={USDC: -1})


# ---------------------------------------------------------------------------------------------- in flight
def test_in_flight_is_counted_from_sends_and_outcomes(risk: RiskManager) -> None:
    risk.on_sent("a", Opp(pools=(P1, P2)))
    assert risk.in_flight == 1
    risk.on_sent("a", Opp(pools=(P1, P2)))  # a replacement of the same attempt
    assert risk.in_flight == 1
    risk.on_sent("b", Opp(pools=(P3, P4)))
    assert risk.check(Opp(pools=(P3,)), CTX).reason is RefusalReason.TOO_MANY_IN_FLIGHT
    risk.on_outcome("b", TxOutcome.SUCCESS)
    assert risk.in_flight == 1
    assert risk.check(Opp(pools=(P3, P4)), CTX).ok


def test_one_transaction_per_pool(risk: RiskManager) -> None:
    risk.on_sent("a", Opp(pools=(P1, P2)))
    d = risk.check(Opp(pools=(P3, P2.upper().replace("0X", "0x"))), CTX)
    assert d.reason is RefusalReason.POOL_IN_FLIGHT and P2 in d.detail
    risk.on_outcome("a", "success")
    assert risk.check(Opp(pools=(P3, P2)), CTX).ok
    relaxed = RiskManager(limits(one_tx_per_pool=False), clock=Clock())
    relaxed.on_sent("a", Opp(pools=(P1, P2)))
    assert relaxed.check(Opp(pools=(P1, P2)), CTX).ok


# -------------------------------------------------------------------------------------------- circuit breaker
def test_breaker_opens_after_n_consecutive_failures_then_probes(risk: RiskManager, clock: Clock) -> None:
    for i, outcome in enumerate([TxOutcome.FAILED, TxOutcome.REVERTED]):
        risk.on_sent(str(i), Opp(pools=(P1, f"0x{i + 1:040x}")))
        risk.on_outcome(str(i), outcome)
    assert risk.breaker_state is BreakerState.CLOSED and risk.consecutive_failures == 2
    risk.on_outcome(
        "x", TxOutcome.FAILED
    )  # an attempt the manager never saw sent (after a restart) counts too
    assert risk.breaker_state is BreakerState.OPEN
    d = risk.check(Opp(pools=(P3,)), CTX)
    assert d.reason is RefusalReason.BREAKER_OPEN and "probe in 60s" in d.detail

    clock.advance(59.9)
    assert risk.check(Opp(pools=(P3,)), CTX).reason is RefusalReason.BREAKER_OPEN
    clock.advance(0.1)
    assert risk.breaker_state is BreakerState.HALF_OPEN
    assert risk.check(Opp(pools=(P3,)), CTX).ok
    risk.on_sent("probe", Opp(pools=(P3,)))
    assert risk.check(Opp(pools=(P4,)), CTX).reason is RefusalReason.BREAKER_PROBING

    risk.on_outcome("probe", TxOutcome.FAILED)  # the probe failed: a full cooldown again
    assert risk.breaker_state is BreakerState.OPEN
    clock.advance(60)
    risk.on_sent("probe2", Opp(pools=(P3,)))
    risk.on_outcome("probe2", TxOutcome.SUCCESS)
    assert risk.breaker_state is BreakerState.CLOSED and risk.consecutive_failures == 0
    assert risk.check(Opp(pools=(P3,)), CTX).ok


def test_a_success_resets_the_failure_count(risk: RiskManager) -> None:
    for key, outcome in [
        ("a", "failed"),
        ("b", "failed"),
        ("c", "success"),
        ("d", "failed"),
        ("e", "failed"),
    ]:
        risk.on_outcome(key, outcome)
    assert risk.breaker_state is BreakerState.CLOSED


def test_half_open_allows_a_single_probe_even_with_room(clock: Clock) -> None:
    r = RiskManager(limits(max_in_flight=5, breaker_failures=1), clock=clock)
    r.on_outcome("a", "failed")
    clock.advance(60)
    r.on_sent("old", Opp(pools=(P4,)))  # sent as the probe
    assert r.check(Opp(pools=(P1,)), CTX).reason is RefusalReason.BREAKER_PROBING


def test_manual_breaker_controls(risk: RiskManager) -> None:
    risk.trip_breaker()
    assert risk.check(Opp(), CTX).reason is RefusalReason.BREAKER_OPEN
    risk.reset_breaker()
    assert risk.check(Opp(), CTX).ok


# ---------------------------------------------------------------------------------------------- blacklists
def test_reverted_route_is_blacklisted_until_expiry(risk: RiskManager, clock: Clock) -> None:
    risk.on_sent("a", Opp(pools=(P1, P2)))
    risk.on_outcome("a", TxOutcome.REVERTED)
    d = risk.check(Opp(pools=(P1, P2)), CTX)
    assert d.reason is RefusalReason.ROUTE_BLACKLISTED
    assert risk.check(Opp(pools=(P2, P1)), CTX).ok  # another route over the same pools
    clock.advance(119)
    assert risk.check(Opp(pools=(P1, P2)), CTX).reason is RefusalReason.ROUTE_BLACKLISTED
    clock.advance(1)
    assert risk.check(Opp(pools=(P1, P2)), CTX).ok


def test_failed_send_does_not_blacklist(risk: RiskManager) -> None:
    risk.on_sent("a", Opp(pools=(P1, P2)))
    risk.on_outcome("a", TxOutcome.FAILED)
    assert risk.check(Opp(pools=(P1, P2)), CTX).ok


def test_pool_blacklist_after_revert_and_by_hand(clock: Clock) -> None:
    r = RiskManager(limits(pool_blacklist_seconds=30, route_blacklist_seconds=0), clock=clock)
    r.on_sent("a", Opp(pools=(P1, P2)))
    r.on_outcome("a", "reverted")
    assert r.check(Opp(pools=(P3, P2)), CTX).reason is RefusalReason.POOL_BLACKLISTED
    clock.advance(30)
    assert r.check(Opp(pools=(P3, P2)), CTX).ok
    r.blacklist_pool(P4.upper().replace("0X", "0x"), 10)
    assert r.check(Opp(pools=(P4, P1)), CTX).reason is RefusalReason.POOL_BLACKLISTED
    r.blacklist_route([P3, P1], 10)
    assert r.check(Opp(pools=(P3, P1)), CTX).reason is RefusalReason.ROUTE_BLACKLISTED
    clock.advance(10)
    assert r.check(Opp(pools=(P4, P1)), CTX).ok and r.check(Opp(pools=(P3, P1)), CTX).ok


# ---------------------------------------------------------------------------------------------- daily loss
def test_daily_loss_limit_stops_everything_until_the_next_utc_day(risk: RiskManager, clock: Clock) -> None:
    risk.on_sent("a", Opp())
    risk.on_outcome("a", "reverted", token=USDC, pnl=-30 * 10**6)
    assert risk.check(Opp(pools=(P3,)), CTX).ok
    risk.record_pnl(USDC.lower(), +5 * 10**6)
    risk.record_pnl(USDC, -25 * 10**6)  # net -50: the limit
    d = risk.check(Opp(loan_token=WETH, amount_in=1, pools=(P3,)), CTX)  # any token is stopped
    assert d.reason is RefusalReason.DAILY_LOSS_LIMIT and "limit 50000000" in d.detail
    assert risk.daily_loss_ratio() == {USDC.lower(): 1.0}
    clock.advance(12 * 3600)  # midnight UTC
    assert risk.daily_pnl() == {}
    assert risk.check(Opp(pools=(P3,)), CTX).ok


def test_tokens_without_loss_limit_are_not_stopped(risk: RiskManager) -> None:
    risk.record_pnl(WETH, -(10**30))
    assert risk.check(Opp(), CTX).ok
    assert risk.daily_loss_ratio() == {}


def test_pnl_needs_a_token(risk: RiskManager) -> None:
    with pytest.raises(ValueError):
        risk.on_outcome("a", "success", pnl=5)


# ---------------------------------------------------------------------------------------------- kill switch
def test_kill_switch_by_call(risk: RiskManager) -> None:
    risk.kill("SIGUSR1")
    d = risk.check(Opp(), CTX)
    assert d.reason is RefusalReason.KILL_SWITCH and "SIGUSR1" in d.detail and risk.killed
    risk.revive()
    assert risk.check(Opp(), CTX).ok and not risk.killed


def test_kill_switch_file(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "STOP"
    r = RiskManager(limits(kill_switch_file=path), clock=clock)
    assert r.check(Opp(), CTX).ok
    path.touch()
    d = r.check(Opp(), CTX)
    assert d.reason is RefusalReason.KILL_SWITCH and str(path) in d.detail and r.killed
    path.unlink()
    assert r.check(Opp(), CTX).ok


def test_kill_switch_file_probe_is_injectable() -> None:
    seen = []
    r = RiskManager(
        limits(kill_switch_file=Path("/x/STOP")), clock=Clock(), file_exists=lambda p: seen.append(p) or True
    )
    assert r.check(Opp(), CTX).reason is RefusalReason.KILL_SWITCH and seen == [Path("/x/STOP")]


def test_kill_from_a_real_signal_handler(risk: RiskManager) -> None:
    import os
    import signal

    previous = signal.signal(signal.SIGUSR1, lambda signum, frame: risk.kill(signal.Signals(signum).name))
    try:
        os.kill(os.getpid(), signal.SIGUSR1)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert risk.check(Opp(), CTX).detail == "kill switch engaged (SIGUSR1)"


def test_global_stops_come_first(risk: RiskManager) -> None:
    risk.kill()
    risk.trip_breaker()
    assert risk.check(Opp(net_profit=-5, chain_id=1), CTX).reason is RefusalReason.KILL_SWITCH


def test_every_reason_has_a_distinct_code() -> None:
    values = [r.value for r in RefusalReason]
    assert len(values) == len(set(values)) and all(v == v.lower() and " " not in v for v in values)
    assert Decision(False, RefusalReason.PROFIT_TOO_LOW).detail == ""


# ---------------------------------------------------------------------------------------------- properties
tokens = st.sampled_from([USDC, WETH, "0x" + "ee" * 20])
amounts = st.integers(min_value=0, max_value=2**128 - 1)
profits = st.integers(min_value=-(2**100), max_value=2**100)
gas_prices = st.integers(min_value=0, max_value=10**13)
pool_sets = st.lists(st.sampled_from([P1, P2, P3, P4]), min_size=2, max_size=4).map(tuple)


def _expected(lim: RiskLimits, opp: Opp, ctx: RiskContext) -> RefusalReason:
    """The oracle: the first limit broken, checked the slow obvious way (fresh manager: no state)."""
    if lim.chain_id is not None and opp.chain_id != lim.chain_id:
        return RefusalReason.WRONG_CHAIN
    if lim.max_gas_price is not None and ctx.gas_price > lim.max_gas_price:
        return RefusalReason.GAS_PRICE_TOO_HIGH
    if (ctx.in_flight or 0) >= lim.max_in_flight:
        return RefusalReason.TOO_MANY_IN_FLIGHT
    cap = {k.lower(): v for k, v in lim.max_loan.items()}.get(opp.loan_token.lower(), lim.max_loan_default)
    if cap is None:
        return RefusalReason.TOKEN_NOT_ALLOWED
    if opp.amount_in > cap:
        return RefusalReason.LOAN_TOO_LARGE
    floor = {k.lower(): v for k, v in lim.min_net_profit.items()}.get(
        opp.loan_token.lower(), lim.min_net_profit_default
    )
    if opp.net_profit < floor:
        return RefusalReason.PROFIT_TOO_LOW
    return RefusalReason.OK


@settings(max_examples=300, deadline=None)
@given(
    token=tokens,
    amount=amounts,
    profit=profits,
    gas=gas_prices,
    in_flight=st.none() | st.integers(0, 4),
    max_gas=st.none() | gas_prices,
    max_loan=amounts,
    min_profit=profits,
    chain=st.sampled_from([137, 80002]),
)
def test_check_matches_the_oracle(
    token, amount, profit, gas, in_flight, max_gas, max_loan, min_profit, chain
) -> None:
    lim = limits(max_loan={USDC: max_loan}, min_net_profit={USDC: min_profit, WETH: 0}, max_gas_price=max_gas)
    opp = Opp(loan_token=token, amount_in=amount, net_profit=profit, chain_id=chain)
    ctx = RiskContext(gas_price=gas, in_flight=in_flight)
    d = RiskManager(lim, clock=Clock()).check(opp, ctx)
    assert d.reason is _expected(lim, opp, ctx)
    assert d.ok == (d.reason is RefusalReason.OK)
    assert d.ok or d.detail


@settings(max_examples=200, deadline=None)
@given(
    opp=st.builds(Opp, loan_token=tokens, amount_in=amounts, net_profit=profits),
    gas=gas_prices,
    extra=st.integers(0, 2**64),
)
def test_tighter_limits_never_admit_more(opp: Opp, gas: int, extra: int) -> None:
    loose = limits(max_loan={USDC: 2**128, WETH: 2**128}, min_net_profit={USDC: 0}, max_gas_price=10**13)
    tight = replace(
        loose,
        max_loan={USDC: max(0, 2**128 - extra), WETH: max(0, 2**128 - extra)},
        min_net_profit={USDC: extra},
        max_gas_price=max(0, 10**13 - extra),
    )
    ctx = RiskContext(gas_price=gas)
    if RiskManager(tight, clock=Clock()).check(opp, ctx).ok:
        assert RiskManager(loose, clock=Clock()).check(opp, ctx).ok


@settings(max_examples=200, deadline=None)
@given(
    outcomes=st.lists(st.sampled_from(list(TxOutcome)), max_size=30),
    n=st.integers(1, 5),
)
def test_breaker_opens_exactly_at_n_consecutive_failures(outcomes: list[TxOutcome], n: int) -> None:
    clock = Clock()
    r = RiskManager(limits(breaker_failures=n, breaker_cooldown=10**9), clock=clock)
    run = 0
    opened = False
    for i, outcome in enumerate(outcomes):
        r.on_outcome(str(i), outcome)
        run = 0 if outcome is TxOutcome.SUCCESS else run + 1
        opened = opened or run >= n  # once open (with an endless cooldown) it stays open
        assert (r.breaker_state is BreakerState.OPEN) == opened
        assert r.check(Opp(), CTX).reason is (RefusalReason.BREAKER_OPEN if opened else RefusalReason.OK)


@settings(max_examples=200, deadline=None)
@given(
    pnls=st.lists(st.integers(-(10**8), 10**8), max_size=20),
    limit=st.integers(0, 10**8),
)
def test_daily_loss_limit_is_the_running_sum(pnls: list[int], limit: int) -> None:
    r = RiskManager(limits(daily_loss_limit={USDC: limit}), clock=Clock())
    total = 0
    for pnl in pnls:
        r.record_pnl(USDC, pnl)
        total += pnl
        stopped = total < 0 and -total >= limit
        assert (r.check(Opp(), CTX).reason is RefusalReason.DAILY_LOSS_LIMIT) == stopped


@settings(max_examples=100, deadline=None)
@given(sends=st.lists(st.tuples(st.integers(0, 5), pool_sets, st.booleans()), max_size=25))
def test_in_flight_pools_are_released_exactly(sends) -> None:
    """After any interleaving of sends and outcomes, the tracked pools are those of attempts still open."""
    r = RiskManager(limits(max_in_flight=100, route_blacklist_seconds=0), clock=Clock())
    open_: dict[str, tuple[str, ...]] = {}
    for key, pools, finish in sends:
        k = str(key)
        if finish:
            r.on_outcome(k, "success")
            open_.pop(k, None)
        elif k not in open_:
            r.on_sent(k, Opp(pools=pools))
            open_[k] = pools
    busy = {p.lower() for pools in open_.values() for p in pools}
    assert r.in_flight == len(open_)
    for pool in (P1, P2, P3, P4):
        reason = r.check(Opp(pools=(pool,)), CTX).reason
        assert (reason is RefusalReason.POOL_IN_FLIGHT) == (pool.lower() in busy)
