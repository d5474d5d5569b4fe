"""The scanner's side of the relay: each opportunity the engine finds, encoded and published once.

``Nats-Msg-Id`` is the opportunity id, so a scanner that publishes the same opportunity twice (a retry after a
lost ack, a restart, two scanners) leaves one message in the stream. ``Flasharb-Sent-Ns`` (wall clock, ns)
lets an agent measure the relay lag.

``publish_all`` pipelines: every message goes out at once (``publish_async``) and the acks are awaited
together, so one scanner is not held to one round trip per message; a message whose ack does not come is
published again until it is acked (the id makes a repeat a no-op).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from flasharb.engine.types import Opportunity
from flasharb.relay.broker import RelayLayout
from flasharb.relay.wire import encode_opportunity, message_id

__all__ = ["Publisher", "Published", "SENT_HEADER", "scan_once", "wait_acks", "acked"]

SENT_HEADER = "Flasharb-Sent-Ns"

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Published:
    id: str
    duplicate: bool
    size: int


@dataclass(slots=True)
class Publisher:
    js: Any
    layout: RelayLayout
    ack_timeout: float = 5.0
    published: int = field(default=0)

    async def publish_bytes(self, data: bytes) -> Published:
        mid = message_id(data)
        ack = await self.js.publish(
            self.layout.opp_subject, data, headers={"Nats-Msg-Id": mid, SENT_HEADER: str(time.time_ns())}
        )
        self.published += 1
        return Published(mid, bool(getattr(ack, "duplicate", False)), len(data))

    async def publish(self, opp: Opportunity) -> Published:
        return await self.publish_bytes(encode_opportunity(opp))

    async def publish_all(self, opps: list[Opportunity]) -> list[Published]:
        return await self.publish_many([encode_opportunity(o) for o in opps])

    async def publish_many(self, messages: list[bytes]) -> list[Published]:
        """All of ``messages``, pipelined; returns once each is acked (in order)."""
        futures: list[Any] = []
        for data in messages:
            headers = {"Nats-Msg-Id": message_id(data), SENT_HEADER: str(time.time_ns())}
            try:
                futures.append(await self.js.publish_async(self.layout.opp_subject, data, headers=headers))
            except Exception as exc:  # too many pending, or the connection is away: retried below
                futures.append(exc)
        await wait_acks(futures, self.ack_timeout)
        out: list[Published] = []
        for data, fut in zip(messages, futures):
            ack = fut.result() if acked(fut) else None
            if ack is None:
                out.append(await self._publish_until_acked(data))
                continue
            self.published += 1
            out.append(Published(message_id(data), bool(getattr(ack, "duplicate", False)), len(data)))
        return out

    async def _publish_until_acked(self, data: bytes) -> Published:
        while True:
            try:
                return await self.publish_bytes(data)
            except Exception as exc:
                log.warning("relay publish failed (%s), retrying", type(exc).__name__)
                await asyncio.sleep(0.25)


async def wait_acks(futures: list[Any], timeout: float) -> None:
    """Waits for every pipelined publish's ack at once (one timer for the lot, not one per message); the
    ones not done by then are cancelled."""
    pending = [f for f in futures if isinstance(f, asyncio.Future)]
    if not pending:
        return
    _done, late = await asyncio.wait(pending, timeout=timeout)
    for f in late:
        f.cancel()


def acked(fut: Any) -> bool:
    return isinstance(fut, asyncio.Future) and fut.done() and not fut.cancelled() and fut.exception() is None


async def scan_once(engine, publisher: Publisher) -> list[Published]:
    """One head through the engine (collect, sync, detect, size), then publish: ``flasharb scan`` per block."""
    opps = engine.step()  # on the loop thread, as Bot.process_block does (the registry is thread-bound)
    return await publisher.publish_all(opps)
