"""Prometheus metrics for one bot instance: its own ``CollectorRegistry`` (no global state), an HTTP endpoint.

``BotMetrics()`` builds every metric below in a fresh registry; the pipeline calls its small methods
(``opportunity``, ``refusal``, ``sent``, ``landed``, ``block_seen``, ``rpc_call``, the ``observe_*``
latencies) and ``serve(port)`` starts ``/metrics`` on a thread, returning a ``MetricsServer`` whose ``stop()``
shuts it down. ``bind_risk(manager)`` makes the breaker, kill-switch, in-flight and daily-loss gauges read the
risk manager at scrape time, so they never go stale; ``bind_liquidations(stats)`` does the same for the
liquidation strategy's borrowers, liquidatable count and health-factor drift checks. ``ops/alerts.yml`` holds the alert rules over these
names.

Amounts are in the token's base units (wei); ``token`` labels are whatever the caller passes (a symbol reads
best). Label values are bounded sets (reasons, tokens, strategies, RPC endpoint names): never a hash or a
block.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, start_http_server

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from flasharb.risk import RiskManager

PREFIX = "flasharb"

# The hot path's stages are milliseconds; inclusion (Polygon: ~2 s blocks) is seconds.
FAST_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0)
MINED_BUCKETS = (0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0, 30.0, 60.0, 120.0, 300.0)


@dataclass
class MetricsServer:
    """A running ``/metrics`` endpoint; ``stop()`` shuts it down and frees the port."""

    server: WSGIServer
    thread: threading.Thread

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        raw = self.server.server_address[0]
        host = raw.decode() if isinstance(raw, bytes) else str(raw)
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}/metrics"

    def stop(self, timeout: float = 5.0) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout)

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


class BotMetrics:
    """Every metric the bot exports, in ``self.registry``. Metric names are listed in ``METRIC_NAMES``."""

    def __init__(
        self,
        *,
        registry: CollectorRegistry | None = None,
        clock: Callable[[], float] = time.time,
        strategies: Iterable[str] = ("arbitrage",),
    ) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        self._clock = clock
        r = self.registry
        p = PREFIX

        # ---------------------------------------------------------------------------------- counters
        self.opportunities = Counter(f"{p}_opportunities", "Opportunities found", ["strategy"], registry=r)
        self.decisions = Counter(
            f"{p}_decisions", "Decisions taken (execute/refuse/drop)", ["decision"], registry=r
        )
        self.refusals = Counter(
            f"{p}_refusals", "Opportunities refused by a risk check", ["reason"], registry=r
        )
        self.drops = Counter(
            f"{p}_drops", "Opportunities dropped before the risk checks", ["reason"], registry=r
        )
        self.sends = Counter(f"{p}_sends", "Transactions sent (replacements included)", registry=r)
        self.send_errors = Counter(
            f"{p}_send_errors", "Sends that failed (rejected by every endpoint)", registry=r
        )
        self.mined = Counter(f"{p}_mined", "Sent transactions whose run executed", registry=r)
        self.reverts = Counter(f"{p}_reverts", "Sent transactions mined with status 0", registry=r)
        self.profit = Counter(
            f"{p}_profit_wei",
            "Realized net profit of profitable runs, token base units",
            ["token"],
            registry=r,
        )
        self.loss = Counter(
            f"{p}_loss_wei",
            "Realized net loss (gas of reverts, losing runs), token base units",
            ["token"],
            registry=r,
        )
        self.gas_spent = Counter(f"{p}_gas_spent_wei", "Native gas paid by landed transactions", registry=r)
        self.rpc_requests = Counter(f"{p}_rpc_requests", "RPC requests", ["endpoint"], registry=r)
        self.rpc_errors = Counter(f"{p}_rpc_errors", "RPC requests that failed", ["endpoint"], registry=r)

        # ---------------------------------------------------------------------------------- gauges
        self.breaker_open = Gauge(
            f"{p}_breaker_open", "1 while the circuit breaker is open, else 0", registry=r
        )
        self.breaker_half_open = Gauge(
            f"{p}_breaker_half_open", "1 while the breaker waits on its probe transaction", registry=r
        )
        self.kill_switch = Gauge(
            f"{p}_kill_switch_engaged", "1 while the kill switch refuses everything", registry=r
        )
        self.in_flight = Gauge(
            f"{p}_txs_in_flight", "Transactions sent and not yet landed or given up", registry=r
        )
        self.last_block = Gauge(f"{p}_last_block_number", "Number of the newest block seen", registry=r)
        self.last_block_seen = Gauge(
            f"{p}_last_block_seen_timestamp_seconds", "Wall time the newest block was seen", registry=r
        )
        self.last_block_age = Gauge(
            f"{p}_last_block_seen_age_seconds",
            "Seconds since a new block was last seen (at scrape time)",
            registry=r,
        )
        self.daily_loss_ratio = Gauge(
            f"{p}_daily_loss_limit_ratio", "Today's realized loss over the daily limit", ["token"], registry=r
        )
        self.rpc_endpoints_healthy = Gauge(
            f"{p}_rpc_endpoints_healthy", "RPC endpoints currently considered healthy", registry=r
        )
        self.started = Gauge(f"{p}_start_time_seconds", "Wall time this bot instance started", registry=r)
        # the liquidation strategy (bind_liquidations): read at scrape time, cumulative since start
        self.liquidation_borrowers = Gauge(
            f"{p}_liquidation_borrowers", "Borrowers the liquidation strategy follows", registry=r
        )
        self.liquidation_liquidatable = Gauge(
            f"{p}_liquidation_liquidatable", "Borrowers under health factor 1 at the last head", registry=r
        )
        self.liquidation_hf_checks = Gauge(
            f"{p}_liquidation_hf_checks", "Off-chain health factors compared with the Pool's, since start", registry=r
        )
        self.liquidation_hf_mismatches = Gauge(
            f"{p}_liquidation_hf_mismatches",
            "Off-chain health factors that differed from the Pool's getUserAccountData, since start",
            registry=r,
        )

        # ---------------------------------------------------------------------------------- histograms
        self.block_to_decision = Histogram(
            f"{p}_block_to_decision_seconds",
            "New block seen -> risk decision",
            buckets=FAST_BUCKETS,
            registry=r,
        )
        self.decision_to_send = Histogram(
            f"{p}_decision_to_send_seconds",
            "Risk decision -> signed transaction sent",
            buckets=FAST_BUCKETS,
            registry=r,
        )
        self.send_to_mined = Histogram(
            f"{p}_send_to_mined_seconds",
            "Transaction sent -> receipt seen",
            buckets=MINED_BUCKETS,
            registry=r,
        )

        self._risk: RiskManager | None = None
        self._last_block_at: float | None = None
        self._started_at = clock()
        self.started.set(self._started_at)
        # Age since the last block, or since start while none was seen (so "no blocks" alerts fire at startup
        # too).
        self.last_block_age.set_function(
            lambda: max(
                0.0,
                self._clock()
                - (self._last_block_at if self._last_block_at is not None else self._started_at),
            )
        )
        for strategy in strategies:
            self.opportunities.labels(
                strategy
            )  # export 0 from the start: "no opportunities" alerts need a series

    # ------------------------------------------------------------------------------------------------ events
    def opportunity(self, strategy: str = "arbitrage", n: int = 1) -> None:
        self.opportunities.labels(strategy).inc(n)

    def executed(self) -> None:
        """The risk checks passed (the decision was "execute")."""
        self.decisions.labels("execute").inc()

    def refusal(self, reason: str) -> None:
        """A risk check refused (``reason``: a ``RefusalReason``)."""
        self.decisions.labels("refuse").inc()
        self.refusals.labels(str(getattr(reason, "value", reason))).inc()

    def drop(self, reason: str) -> None:
        self.decisions.labels("drop").inc()
        self.drops.labels(str(getattr(reason, "value", reason))).inc()

    def sent(self) -> None:
        self.sends.inc()

    def send_failed(self) -> None:
        self.send_errors.inc()

    def landed(self, *, success: bool, token: str, net_profit: int, gas_cost_native: int) -> None:
        """A transaction got its receipt: ``success`` (RunExecuted) or a revert; its net P&L in ``token``."""
        (self.mined if success else self.reverts).inc()
        if net_profit > 0:
            self.profit.labels(token).inc(net_profit)
        elif net_profit < 0:
            self.loss.labels(token).inc(-net_profit)
        if gas_cost_native > 0:
            self.gas_spent.inc(gas_cost_native)

    def block_seen(self, number: int, *, at: float | None = None) -> None:
        self._last_block_at = self._clock() if at is None else at
        self.last_block.set(number)
        self.last_block_seen.set(self._last_block_at)

    def rpc_call(self, endpoint: str, *, ok: bool) -> None:
        self.rpc_requests.labels(endpoint).inc()
        if not ok:
            self.rpc_errors.labels(endpoint).inc()

    def set_rpc_healthy(self, n: int) -> None:
        self.rpc_endpoints_healthy.set(n)

    def set_in_flight(self, n: int) -> None:
        self.in_flight.set(n)

    def set_breaker(self, state: str) -> None:
        """``state``: a ``flasharb.risk.BreakerState`` value (``bind_risk`` keeps these gauges by itself)."""
        value = str(getattr(state, "value", state))
        self.breaker_open.set(1 if value == "open" else 0)
        self.breaker_half_open.set(1 if value == "half_open" else 0)

    # --------------------------------------------------------------------------------------------- latencies
    def observe_block_to_decision(self, seconds: float) -> None:
        self.block_to_decision.observe(seconds)

    def observe_decision_to_send(self, seconds: float) -> None:
        self.decision_to_send.observe(seconds)

    def observe_send_to_mined(self, seconds: float) -> None:
        self.send_to_mined.observe(seconds)

    # -------------------------------------------------------------------------------------------------- risk
    def bind_risk(self, risk: RiskManager) -> None:
        """Gauges that read ``risk`` at scrape time: breaker state, kill switch, in flight, daily loss ratio.

        The scrape runs on the server's thread and only reads the manager's fields (no locking needed for
        gauges; a scrape racing an update sees the old or the new value). Per-token daily loss ratios are
        refreshed by ``refresh_risk`` (call it once per block), as their label set changes.
        """
        self.breaker_open.set_function(lambda: 1.0 if risk.breaker_state.value == "open" else 0.0)
        self.breaker_half_open.set_function(lambda: 1.0 if risk.breaker_state.value == "half_open" else 0.0)
        self.kill_switch.set_function(lambda: 1.0 if risk.killed else 0.0)
        self.in_flight.set_function(lambda: float(risk.in_flight))
        self._risk = risk

    def bind_liquidations(self, stats) -> None:
        """Gauges that read a liquidation strategy's ``LiquidationStats`` at scrape time."""
        self.liquidation_borrowers.set_function(lambda: float(stats.borrowers))
        self.liquidation_liquidatable.set_function(lambda: float(stats.liquidatable))
        self.liquidation_hf_checks.set_function(lambda: float(stats.drift_checked))
        self.liquidation_hf_mismatches.set_function(lambda: float(stats.drift_mismatches))

    def refresh_risk(self) -> None:
        risk = self._risk
        if risk is None:
            return
        ratios = risk.daily_loss_ratio()
        self.daily_loss_ratio.clear()
        for token, ratio in ratios.items():
            self.daily_loss_ratio.labels(token).set(ratio)

    # ------------------------------------------------------------------------------------------------ export
    def render(self) -> bytes:
        """The text exposition of this instance's registry (what ``/metrics`` serves)."""
        return generate_latest(self.registry)

    def serve(self, port: int, addr: str = "127.0.0.1") -> MetricsServer:
        """Starts ``http://addr:port/metrics`` on a daemon thread (port 0: any free port; see ``.port``)."""
        server, thread = start_http_server(port, addr=addr, registry=self.registry)
        return MetricsServer(server, thread)

    def metric_names(self) -> set[str]:
        """Every sample name this instance exports (counters' ``_total``/``_created``, histograms' series)."""
        return registry_metric_names(self.registry)


def registry_metric_names(registry: CollectorRegistry) -> set[str]:
    """Every sample name a registry exports (counters' ``_total``/``_created``, histograms' series)."""
    names: set[str] = set()
    for metric in registry.collect():
        names.add(metric.name)
        for sample in metric.samples:
            names.add(sample.name)
        if metric.type == "counter":
            names.add(metric.name + "_total")
        elif metric.type == "histogram":
            names.update(metric.name + s for s in ("_bucket", "_sum", "_count"))
    return names


#: Every exported metric family name (for the alert-rules test and dashboards).
METRIC_NAMES: frozenset[str] = frozenset(BotMetrics().metric_names())
