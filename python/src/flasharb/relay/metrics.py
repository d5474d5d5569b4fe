"""Prometheus metrics of one agent's relay side, in their own ``CollectorRegistry`` (no global state).

Alert rules to add to ``ops/alerts.yml`` (the lead's file): relay lag p99 above 5 ms for 5 min
(``histogram_quantile(0.99, rate(flasharb_relay_lag_seconds_bucket[5m])) > 0.005``), any dead letter
(``increase(flasharb_relay_dead_letters_total[5m]) > 0``), and a silent scanner
(``increase(flasharb_relay_messages_total[2m]) == 0``).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["RelayMetrics"]

_LAG_BUCKETS = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)


class RelayMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.lag = Histogram("flasharb_relay_lag_seconds", "Publish to an agent holding the message.",
                             buckets=_LAG_BUCKETS, registry=r)  # fmt: skip
        self.messages = Counter("flasharb_relay_messages_total", "Messages taken from the relay.", registry=r)
        self.dead_letters = Counter("flasharb_relay_dead_letters_total", "Messages dead-lettered.", ["reason"],
                                    registry=r)  # fmt: skip
        self.claims_refused = Counter("flasharb_relay_claims_refused_total", "Claims already held.", registry=r)
        self.redeliveries = Counter("flasharb_relay_redeliveries_total", "Messages delivered again.", registry=r)
        self.stale = Counter("flasharb_relay_stale_total", "Messages past their deadline.", registry=r)
