"""Risk checks between "simulated" and "signed": pure logic, no I/O but one ``stat`` of the kill-switch file.

``RiskManager.check(opportunity, context)`` answers with a ``Decision``: ``ok``, or a ``RefusalReason`` code
and a one-line detail (the bot records both in the P&L store and counts the code in the metrics). The manager
keeps the state the checks need, fed by the pipeline:

- ``on_sent(key, opportunity)`` when a transaction goes out; ``on_outcome(key, outcome, token=..., pnl=...)``
  when it lands or is given up. ``key`` names the *attempt* (the opportunity id or the nonce), not the
  transaction hash, so a fee-bumped replacement keeps it.
- ``record_pnl(token, amount)`` for realized P&L recorded outside ``on_outcome``.
- ``kill(reason)`` from a signal handler (it only sets a flag); ``revive()`` undoes it. The kill-switch file
  refuses everything for as long as it exists.

Limits (``RiskLimits``): least net profit and largest loan per token (amounts in the token's base units, keys
any-case addresses), highest gas price, most transactions in flight, a per-UTC-day realized-loss limit per
token (reaching it in any token stops all trading until the next UTC day), a circuit breaker that opens after
N consecutive failed or reverted transactions and half-opens after a cooldown (one probe transaction is then
let through: its success closes the breaker, its failure re-opens it), a blacklist of a reverted route (and,
when configured, of its pools) with an expiry, and at most one in-flight transaction per pool.

The clock is injected (seconds since the epoch, ``time.time`` by default); nothing here sleeps or reads the
network. The manager is meant for one thread (the bot's event loop); ``kill`` is safe from a signal handler.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol


class RefusalReason(StrEnum):
    """Why an opportunity was refused (``OK``: it was not); the values are the codes stored and exported."""

    OK = "ok"
    KILL_SWITCH = "kill_switch"
    BREAKER_OPEN = "breaker_open"
    BREAKER_PROBING = "breaker_probing"  # half-open: the one probe transaction is still in flight
    DAILY_LOSS_LIMIT = "daily_loss_limit"
    WRONG_CHAIN = "wrong_chain"
    GAS_PRICE_TOO_HIGH = "gas_price_too_high"
    TOO_MANY_IN_FLIGHT = "too_many_in_flight"
    TOKEN_NOT_ALLOWED = "token_not_allowed"
    LOAN_TOO_LARGE = "loan_too_large"
    PROFIT_TOO_LOW = "profit_too_low"
    ROUTE_BLACKLISTED = "route_blacklisted"
    POOL_BLACKLISTED = "pool_blacklisted"
    POOL_IN_FLIGHT = "pool_in_flight"


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class TxOutcome(StrEnum):
    """What became of a sent attempt, as the risk layer counts it."""

    SUCCESS = "success"  # mined and the run executed
    REVERTED = "reverted"  # mined, status 0: counts toward the breaker and blacklists the route
    FAILED = "failed"  # never landed (send error, dropped, cancelled): counts toward the breaker


@dataclass(frozen=True, slots=True)
class Decision:
    ok: bool
    reason: RefusalReason
    detail: str = ""

    def __bool__(self) -> bool:
        return self.ok


ALLOW = Decision(True, RefusalReason.OK, "")


class RiskOpportunity(Protocol):
    """The fields of ``flasharb.engine``'s opportunity that the checks read."""

    @property
    def chain_id(self) -> int: ...

    @property
    def loan_token(self) -> str: ...

    @property
    def amount_in(self) -> int: ...

    @property
    def net_profit(self) -> int: ...

    @property
    def pools(self) -> Sequence[str]: ...


@dataclass(frozen=True, slots=True)
class RiskContext:
    """What the checks need from the moment: the gas price the transaction would pay (max fee per gas, wei)
    and, optionally, the in-flight count as the sender sees it (default: the manager's own count)."""

    gas_price: int
    in_flight: int | None = None


def _lower_map(values: Mapping[str, int]) -> dict[str, int]:
    return {k.lower(): int(v) for k, v in values.items()}


@dataclass(frozen=True, kw_only=True)
class RiskLimits:
    """The user's limits. Per-token amounts are in base units (wei); keys are token addresses, any case."""

    min_net_profit: Mapping[str, int] = field(default_factory=dict)
    min_net_profit_default: int = 1  # net profit must be at least this for tokens not listed (1: positive)
    max_loan: Mapping[str, int] = field(default_factory=dict)
    max_loan_default: int | None = None  # None: a token without a max_loan entry is not traded at all
    max_gas_price: int | None = None  # wei per gas; None: no limit
    max_in_flight: int = 1
    daily_loss_limit: Mapping[str, int] = field(default_factory=dict)
    daily_loss_limit_default: int | None = None  # None: no daily limit for tokens not listed
    breaker_failures: int = 3  # consecutive failed/reverted transactions that open the breaker
    breaker_cooldown: float = 300.0  # seconds open before one probe is let through
    route_blacklist_seconds: float = 600.0  # a reverted route is refused this long (0: never)
    pool_blacklist_seconds: float = (
        0.0  # ... and each of its pools (0: pools are not blacklisted on a revert)
    )
    one_tx_per_pool: bool = True  # refuse an opportunity touching a pool an in-flight transaction touches
    chain_id: int | None = None  # refuse opportunities from another chain (None: any)
    kill_switch_file: Path | None = None  # while this file exists, everything is refused

    def __post_init__(self) -> None:
        for name in ("min_net_profit", "max_loan", "daily_loss_limit"):
            object.__setattr__(self, name, _lower_map(getattr(self, name)))
        if self.max_in_flight < 1:
            raise ValueError("max_in_flight must be at least 1")
        if self.breaker_failures < 1:
            raise ValueError("breaker_failures must be at least 1")
        if self.breaker_cooldown < 0 or self.route_blacklist_seconds < 0 or self.pool_blacklist_seconds < 0:
            raise ValueError("durations must not be negative")
        for name in ("max_loan", "daily_loss_limit"):
            if any(v < 0 for v in getattr(self, name).values()):
                raise ValueError(f"{name} values must not be negative")

    def min_profit_for(self, token: str) -> int:
        return self.min_net_profit.get(token.lower(), self.min_net_profit_default)

    def max_loan_for(self, token: str) -> int | None:
        return self.max_loan.get(token.lower(), self.max_loan_default)

    def loss_limit_for(self, token: str) -> int | None:
        return self.daily_loss_limit.get(token.lower(), self.daily_loss_limit_default)


@dataclass(slots=True)
class _InFlight:
    pools: tuple[str, ...]
    probe: bool


class RiskManager:
    """The checks and the state behind them. See the module docstring."""

    def __init__(
        self,
        limits: RiskLimits | None = None,
        *,
        clock: Callable[[], float] = time.time,
        file_exists: Callable[[Path], bool] = os.path.exists,
    ) -> None:
        self.limits = limits or RiskLimits()
        self._clock = clock
        self._file_exists = file_exists
        self._killed: str | None = None
        self._in_flight: dict[str, _InFlight] = {}
        self._pool_users: dict[str, int] = {}
        self._consecutive_failures = 0
        self._opened_at: float | None = None  # breaker open (or half-open once the cooldown passed)
        self._route_blacklist: dict[tuple[str, ...], float] = {}  # route -> expiry
        self._pool_blacklist: dict[str, float] = {}  # pool -> expiry
        self._pnl_day: date | None = None
        self._pnl: dict[str, int] = {}  # token -> today's realized P&L

    # ------------------------------------------------------------------------------------------ the check
    def check(self, opp: RiskOpportunity, ctx: RiskContext) -> Decision:
        """``ALLOW``, or the first limit ``opp`` breaks (global stops first, then the opportunity's own)."""
        limits = self.limits
        now = self._clock()

        if self._killed is not None:
            return Decision(False, RefusalReason.KILL_SWITCH, f"kill switch engaged ({self._killed})")
        if limits.kill_switch_file is not None and self._file_exists(limits.kill_switch_file):
            return Decision(
                False, RefusalReason.KILL_SWITCH, f"kill-switch file {limits.kill_switch_file} exists"
            )

        state = self._breaker_state(now)
        if state is BreakerState.OPEN:
            left = self._opened_at + limits.breaker_cooldown - now  # type: ignore[operator]
            return Decision(
                False,
                RefusalReason.BREAKER_OPEN,
                f"circuit breaker open after {self._consecutive_failures} failures; probe in {left:.0f}s",
            )
        if state is BreakerState.HALF_OPEN and any(f.probe for f in self._in_flight.values()):
            return Decision(
                False, RefusalReason.BREAKER_PROBING, "circuit breaker half-open: probe in flight"
            )

        self._roll_day(now)
        for token, pnl in self._pnl.items():
            limit = limits.loss_limit_for(token)
            if limit is not None and pnl < 0 and -pnl >= limit:
                return Decision(
                    False, RefusalReason.DAILY_LOSS_LIMIT, f"lost {-pnl} of {token} today (limit {limit})"
                )

        if limits.chain_id is not None and opp.chain_id != limits.chain_id:
            return Decision(
                False, RefusalReason.WRONG_CHAIN, f"chain {opp.chain_id}, expected {limits.chain_id}"
            )
        if limits.max_gas_price is not None and ctx.gas_price > limits.max_gas_price:
            return Decision(
                False,
                RefusalReason.GAS_PRICE_TOO_HIGH,
                f"gas price {ctx.gas_price} wei > max {limits.max_gas_price} wei",
            )
        in_flight = len(self._in_flight) if ctx.in_flight is None else ctx.in_flight
        cap = 1 if state is BreakerState.HALF_OPEN else limits.max_in_flight
        if in_flight >= cap:
            return Decision(False, RefusalReason.TOO_MANY_IN_FLIGHT, f"{in_flight} in flight (max {cap})")

        token = opp.loan_token
        max_loan = limits.max_loan_for(token)
        if max_loan is None:
            return Decision(False, RefusalReason.TOKEN_NOT_ALLOWED, f"no max loan configured for {token}")
        if opp.amount_in > max_loan:
            return Decision(
                False, RefusalReason.LOAN_TOO_LARGE, f"loan {opp.amount_in} > max {max_loan} of {token}"
            )
        min_profit = limits.min_profit_for(token)
        if opp.net_profit < min_profit:
            return Decision(
                False,
                RefusalReason.PROFIT_TOO_LOW,
                f"net profit {opp.net_profit} < min {min_profit} of {token}",
            )

        pools = tuple(p.lower() for p in opp.pools)
        if self._route_blacklist:
            expiry = self._route_blacklist.get(pools)
            if expiry is not None:
                if expiry > now:
                    return Decision(
                        False,
                        RefusalReason.ROUTE_BLACKLISTED,
                        f"route reverted; blacklisted {expiry - now:.0f}s more",
                    )
                del self._route_blacklist[pools]
        if self._pool_blacklist:
            for pool in pools:
                expiry = self._pool_blacklist.get(pool)
                if expiry is None:
                    continue
                if expiry > now:
                    return Decision(
                        False,
                        RefusalReason.POOL_BLACKLISTED,
                        f"pool {pool} blacklisted {expiry - now:.0f}s more",
                    )
                del self._pool_blacklist[pool]
        if limits.one_tx_per_pool and self._pool_users:
            for pool in pools:
                if self._pool_users.get(pool):
                    return Decision(
                        False, RefusalReason.POOL_IN_FLIGHT, f"pool {pool} has a transaction in flight"
                    )
        return ALLOW

    # ------------------------------------------------------------------------------------------ feeding it
    def on_sent(self, key: str, opp: RiskOpportunity) -> None:
        """A transaction for ``opp`` went out; ``key`` names the attempt until ``on_outcome(key, ...)``."""
        if key in self._in_flight:
            return  # a replacement of the same attempt
        probe = self._breaker_state(self._clock()) is BreakerState.HALF_OPEN
        pools = tuple(p.lower() for p in opp.pools)
        self._in_flight[key] = _InFlight(pools, probe)
        for pool in set(pools):
            self._pool_users[pool] = self._pool_users.get(pool, 0) + 1

    def on_outcome(
        self, key: str, outcome: TxOutcome | str, *, token: str | None = None, pnl: int | None = None
    ) -> None:
        """The attempt ``key`` ended. ``pnl`` (with ``token``): its realized net P&L (profit less gas, in the
        loan token; negative for a revert), added to today's total for the daily loss limit."""
        outcome = TxOutcome(outcome)
        now = self._clock()
        flight = self._in_flight.pop(key, None)
        pools: tuple[str, ...] = ()
        probe = False
        if flight is not None:
            pools, probe = flight.pools, flight.probe
            for pool in set(pools):
                left = self._pool_users.get(pool, 0) - 1
                if left > 0:
                    self._pool_users[pool] = left
                else:
                    self._pool_users.pop(pool, None)
        if pnl is not None:
            if token is None:
                raise ValueError("pnl needs its token")
            self.record_pnl(token, pnl)

        state = self._breaker_state(now)
        if outcome is TxOutcome.SUCCESS:
            self._consecutive_failures = 0
            if state is BreakerState.HALF_OPEN and probe:
                self._opened_at = None
            return
        self._consecutive_failures += 1
        if outcome is TxOutcome.REVERTED and pools:
            if self.limits.route_blacklist_seconds > 0:
                self._route_blacklist[pools] = now + self.limits.route_blacklist_seconds
            if self.limits.pool_blacklist_seconds > 0:
                for pool in pools:
                    self._pool_blacklist[pool] = now + self.limits.pool_blacklist_seconds
        if state is BreakerState.HALF_OPEN and probe:
            self._opened_at = now  # the probe failed: another full cooldown
        elif state is BreakerState.CLOSED and self._consecutive_failures >= self.limits.breaker_failures:
            self._opened_at = now

    def record_pnl(self, token: str, amount: int) -> None:
        """Adds realized net P&L (base units of ``token``) to today's total (UTC day of the clock)."""
        self._roll_day(self._clock())
        key = token.lower()
        self._pnl[key] = self._pnl.get(key, 0) + int(amount)

    # ---------------------------------------------------------------------------------------- manual controls
    def kill(self, reason: str = "signal") -> None:
        """Refuse everything from now on (safe to call from a signal handler: it only sets a flag)."""
        self._killed = reason or "signal"

    def revive(self) -> None:
        self._killed = None

    def trip_breaker(self) -> None:
        """Open the breaker now (an operator or a fault detector outside the risk layer)."""
        self._opened_at = self._clock()

    def reset_breaker(self) -> None:
        self._opened_at = None
        self._consecutive_failures = 0

    def blacklist_pool(self, pool: str, seconds: float) -> None:
        """Refuse routes through ``pool`` for ``seconds`` (say, after the revert decoder blamed it)."""
        self._pool_blacklist[pool.lower()] = self._clock() + seconds

    def blacklist_route(self, pools: Sequence[str], seconds: float) -> None:
        self._route_blacklist[tuple(p.lower() for p in pools)] = self._clock() + seconds

    # ------------------------------------------------------------------------------------------ state
    def _breaker_state(self, now: float) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if now - self._opened_at >= self.limits.breaker_cooldown:
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    def _roll_day(self, now: float) -> None:
        today = datetime.fromtimestamp(now, UTC).date()
        if today != self._pnl_day:
            self._pnl_day = today
            self._pnl = {}

    @property
    def breaker_state(self) -> BreakerState:
        return self._breaker_state(self._clock())

    @property
    def max_gas_price(self) -> int | None:
        """The gas price cap (wei), for the sender's fee-bump ceiling; None: no cap."""
        return self.limits.max_gas_price

    @property
    def consecutive_failures(self) -> int:
        return self._consecutive_failures

    @property
    def killed(self) -> bool:
        """The kill switch is engaged (by ``kill`` or by the file)."""
        if self._killed is not None:
            return True
        path = self.limits.kill_switch_file
        return path is not None and self._file_exists(path)

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    def daily_pnl(self) -> dict[str, int]:
        """Today's realized net P&L per token (lower-case address)."""
        self._roll_day(self._clock())
        return dict(self._pnl)

    def daily_loss_ratio(self) -> dict[str, float]:
        """Today's loss over the limit, per token with a limit (1.0 and above: trading is stopped)."""
        out = {}
        for token, pnl in self.daily_pnl().items():
            limit = self.limits.loss_limit_for(token)
            if limit is not None:
                loss = max(-pnl, 0)
                out[token] = (loss / limit) if limit else (1.0 if loss else 0.0)
        return out
