"""Prometheus metrics of one agent's (or the recorder's) relay side, in their own ``CollectorRegistry`` (no
global state). The alert rules on them are in ``ops/alerts.yml`` (group ``flasharb-relay``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["RelayMetrics", "poll_queue_depth"]

log = logging.getLogger(__name__)

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
        self.queue_depth = Gauge("flasharb_relay_queue_depth",
                                 "Messages waiting for a consumer or held un-acked (num_pending + num_ack_pending).",
                                 ["consumer"], registry=r)  # fmt: skip
        self.recorded = Counter("flasharb_relay_recorded_total", "Results written to the P&L store by the recorder.",
                                ["decision"], registry=r)  # fmt: skip

    def serve(self, port: int, addr: str = "127.0.0.1") -> Any:
        """Serves these metrics over HTTP (``/metrics``); returns the server (``shutdown()`` stops it)."""
        from prometheus_client import start_http_server

        server, _thread = start_http_server(port, addr=addr, registry=self.registry)
        return server


async def poll_queue_depth(js: Any, stream: str, consumer: str, metrics: RelayMetrics, interval: float) -> None:
    """Sets ``flasharb_relay_queue_depth{consumer}`` every ``interval`` seconds from the consumer's info."""
    gauge = metrics.queue_depth.labels(consumer)
    while True:
        with contextlib.suppress(Exception):  # broker away: keep the last value
            info = await js.consumer_info(stream, consumer, timeout=max(interval, 1.0))
            gauge.set(int(info.num_pending or 0) + int(info.num_ack_pending or 0))
        await asyncio.sleep(interval)
