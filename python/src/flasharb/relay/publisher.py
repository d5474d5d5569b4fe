"""The scanner's side of the relay: each opportunity the engine finds, encoded and published once.

``Nats-Msg-Id`` is the opportunity id, so a scanner that publishes the same opportunity twice (a retry after a
lost ack, a restart, two scanners) leaves one message in the stream. ``Flasharb-Sent-Ns`` (wall clock, ns)
lets an agent measure the relay lag.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from flasharb.engine.types import Opportunity
from flasharb.relay.broker import RelayLayout
from flasharb.relay.wire import encode_opportunity, message_id

__all__ = ["Publisher", "Published", "SENT_HEADER", "scan_once"]

SENT_HEADER = "Flasharb-Sent-Ns"


@dataclass(frozen=True, slots=True)
class Published:
    id: str
    duplicate: bool
    size: int


@dataclass(slots=True)
class Publisher:
    js: object
    layout: RelayLayout
    published: int = field(default=0)

    async def publish_bytes(self, data: bytes) -> Published:
        mid = message_id(data)
        ack = await self.js.publish(  # type: ignore[attr-defined]
            self.layout.opp_subject, data, headers={"Nats-Msg-Id": mid, SENT_HEADER: str(time.time_ns())}
        )
        self.published += 1
        return Published(mid, bool(getattr(ack, "duplicate", False)), len(data))

    async def publish(self, opp: Opportunity) -> Published:
        return await self.publish_bytes(encode_opportunity(opp))

    async def publish_all(self, opps: list[Opportunity]) -> list[Published]:
        return list(await asyncio.gather(*(self.publish(o) for o in opps)))


async def scan_once(engine, publisher: Publisher) -> list[Published]:
    """One head through the engine (collect, sync, detect, size), then publish: ``flasharb scan`` per block."""
    opps = engine.step()  # on the loop thread, as Bot.process_block does (the registry is thread-bound)
    return await publisher.publish_all(opps)
