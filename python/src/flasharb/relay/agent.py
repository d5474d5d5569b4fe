"""An execution agent: pull from the shared work-queue consumer, check, claim, execute, report.

Per message, in order: decode (a ``WireError`` dead-letters the original bytes with the reason and acks, the
agent carries on); drop it if the agent's own head is past its deadline; claim ``opp.<id>`` with an atomic
create in the claim bucket (TTL to the deadline), then ``pool.<address>`` for each pool (TTL ``pool_ttl``,
deleted when the transaction settles); run it through the bot's stage code; ack; publish the decision, and the
outcome once settled. A message whose claim exists is never executed again: a redelivery after an agent died
holding it, a duplicate, or another agent's work. At most once is the claim, not the ack.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from flasharb.engine.types import Opportunity
from flasharb.relay.broker import RelayLayout
from flasharb.relay.execution import Execution
from flasharb.relay.metrics import RelayMetrics
from flasharb.relay.publisher import SENT_HEADER
from flasharb.relay.wire import WireError, decode_opportunity, message_id

__all__ = ["Agent", "AgentStats", "Executor", "REASON_HEADER"]

log = logging.getLogger(__name__)

REASON_HEADER = "Flasharb-Reason"


class Executor(Protocol):
    async def head(self) -> int: ...

    async def execute(self, opp: Opportunity, received_at: float) -> Execution: ...


@dataclass(slots=True)
class AgentStats:
    received: int = 0
    dead_letters: int = 0
    stale: int = 0
    claims_refused: int = 0
    executed: int = 0  # sent
    refused: int = 0  # by the stage code (risk or simulation)
    redeliveries: int = 0
    lag_ms: list[float] = field(default_factory=list)


class Agent:
    def __init__(
        self,
        nc: Any,
        js: Any,
        kv: Any,
        layout: RelayLayout,
        executor: Executor,
        *,
        name: str,
        block_time: float = 2.0,
        claim_margin_blocks: int = 2,
        pool_ttl: float = 60.0,
        max_claim_ttl: int = 600,
        fetch_timeout: float = 0.25,
        on_claimed: Callable[[Opportunity], Awaitable[None]] | None = None,
        metrics: RelayMetrics | None = None,
    ) -> None:
        self.nc, self.js, self.kv, self.layout, self.executor = nc, js, kv, layout, executor
        self.name = name
        self.block_time = block_time
        self.claim_margin_blocks = claim_margin_blocks
        self.pool_ttl = pool_ttl
        self.max_claim_ttl = max_claim_ttl  # far deadlines: the server refuses huge per-key TTLs
        self.fetch_timeout = fetch_timeout
        self.on_claimed = on_claimed  # test hook: runs after the claim, before execution
        self.stats = AgentStats()
        self.metrics = metrics or RelayMetrics()
        self.paused = False
        self.stop = asyncio.Event()
        self._settling: set[asyncio.Task[None]] = set()
        self._results: asyncio.Queue[bytes] | None = None

    # ------------------------------------------------------------------ loop
    async def run(self) -> None:
        sub = await self.js.pull_subscribe_bind(durable=self.layout.consumer, stream=self.layout.opp_stream)
        control = await self.nc.subscribe(self.layout.control_subject, cb=self._on_control)
        import nats.errors

        self._results = asyncio.Queue()
        writer = asyncio.create_task(self._write_results())

        try:
            while not self.stop.is_set():
                if self.paused:
                    await asyncio.sleep(0.05)
                    continue
                try:
                    msgs = await sub.fetch(batch=1, timeout=self.fetch_timeout)
                except (nats.errors.TimeoutError, asyncio.TimeoutError):
                    continue
                for msg in msgs:
                    if self.paused or self.stop.is_set():  # taken by a fetch already waiting: give it back
                        with contextlib.suppress(Exception):
                            await msg.nak()
                        continue
                    try:
                        await self.handle(msg)
                    except Exception:  # never crash on one message; it stays un-acked and is redelivered
                        log.exception("agent %s failed on a message", self.name)
        finally:
            with contextlib.suppress(Exception):
                await control.unsubscribe()
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
            await self.drain()
            await self._results.join()
            writer.cancel()
            self._results = None

    async def drain(self) -> None:
        while self._settling:
            await asyncio.gather(*list(self._settling), return_exceptions=True)

    async def _on_control(self, msg: Any) -> None:
        cmd = msg.data.decode(errors="replace").strip().lower()
        if cmd == "pause":
            self.paused = True
        elif cmd == "resume":
            self.paused = False
        elif cmd == "kill":
            self.stop.set()
        else:
            log.warning("agent %s: unknown control command %r", self.name, cmd)

    # ------------------------------------------------------------------ one message
    async def handle(self, msg: Any) -> str:
        """Handles one message; returns what happened (the result's ``decision``)."""
        received_at = time.perf_counter()
        self.stats.received += 1
        self.metrics.messages.inc()
        sent_ns = (msg.headers or {}).get(SENT_HEADER)
        lag_ms = (time.time_ns() - int(sent_ns)) / 1e6 if sent_ns and sent_ns.isdigit() else None
        if lag_ms is not None:
            self.stats.lag_ms.append(lag_ms)
            self.metrics.lag.observe(max(lag_ms, 0.0) / 1e3)
        with contextlib.suppress(Exception):
            if msg.metadata.num_delivered > 1:
                self.stats.redeliveries += 1
                self.metrics.redeliveries.inc()
        data = bytes(msg.data)
        try:
            opp = decode_opportunity(data, chain_id=self.layout.chain_id)
        except WireError as exc:
            await self._dead_letter(msg, data, exc)
            return "dead_letter"
        opp_id = message_id(data)
        base = {"id": opp_id, "block": opp.block_number, "lag_ms": lag_ms}

        head = await self.executor.head()
        if head > opp.deadline_block:
            self.stats.stale += 1
            self.metrics.stale.inc()
            await msg.ack()
            await self._result(base, "stale", f"head {head} past deadline {opp.deadline_block}")
            return "stale"

        held = await self._claim(opp_id, opp, head)
        if held:
            self.stats.claims_refused += 1
            self.metrics.claims_refused.inc()
            await msg.ack()
            await self._result(base, "claimed", held)
            return "claimed"
        if self.on_claimed is not None:
            await self.on_claimed(opp)

        try:
            ex = await self.executor.execute(opp, received_at)
        except Exception as exc:  # unknown whether anything was signed: keep every claim until its TTL
            log.exception("agent %s: execution failed", self.name)
            await msg.ack()
            await self._result(base, "error", type(exc).__name__)
            return "error"
        await msg.ack()
        if ex.decision != "sent" or ex.dispatch is None:
            self.stats.refused += 1
            await self._release_pools(opp)
            await self._result(base, ex.decision, f"{ex.reason} {ex.detail}".strip())
            return ex.decision
        self.stats.executed += 1
        d = ex.dispatch
        await self._result(
            base,
            "sent",
            "",
            tx=d.tx_hash,
            predicted=str(opp.profit_after_premium),
            simulated=str(d.simulated_profit),
            head_to_send_ms=d.head_to_send_ms,
            sent_ns=time.time_ns(),
        )
        if ex.settled is not None:
            task = asyncio.create_task(self._settle(base, opp, ex))
            self._settling.add(task)
            task.add_done_callback(self._settling.discard)
        return "sent"

    async def _settle(self, base: dict, opp: Opportunity, ex: Execution) -> None:
        assert ex.settled is not None and ex.dispatch is not None
        try:
            outcome = await ex.settled
        finally:
            await self._release_pools(opp)
        await self._result(
            base,
            "outcome",
            outcome.revert,
            tx=ex.dispatch.tx_hash,
            status=outcome.status,
            predicted=str(outcome.predicted_profit),
            realized=None if outcome.realized_profit is None else str(outcome.realized_profit),
            exact=outcome.exact,
        )

    # ------------------------------------------------------------------ claims
    async def _claim(self, opp_id: str, opp: Opportunity, head: int) -> str:
        """Claims the opportunity, then its pools; returns "" when all are ours, else who holds what."""
        from nats.js.errors import KeyWrongLastSequenceError

        blocks_left = opp.deadline_block - head + self.claim_margin_blocks
        ttl = min(self.max_claim_ttl, max(1, int(blocks_left * self.block_time + 0.999)))
        value = self.name.encode()
        try:
            await self.kv.create(f"opp.{opp_id}", value, msg_ttl=ttl)
        except KeyWrongLastSequenceError:
            return f"opportunity claimed by {await self._holder(f'opp.{opp_id}')}"
        keys = [f"pool.{pool.lower()}" for pool in opp.pools]
        pool_ttl = max(1, int(self.pool_ttl))
        got = await asyncio.gather(*(self.kv.create(k, value, msg_ttl=pool_ttl) for k in keys), return_exceptions=True)
        busy = [k for k, g in zip(keys, got) if isinstance(g, BaseException)]
        if busy:
            for k, g in zip(keys, got):
                if not isinstance(g, BaseException):
                    with contextlib.suppress(Exception):
                        await self.kv.delete(k)
            errors = [g for g in got if isinstance(g, BaseException) and not isinstance(g, KeyWrongLastSequenceError)]
            if errors:
                raise errors[0]
            return f"pool {busy[0].removeprefix('pool.')} in flight ({await self._holder(busy[0])})"
        return ""

    async def _holder(self, key: str) -> str:
        try:
            entry = await self.kv.get(key)
            return (entry.value or b"").decode() or "?"
        except Exception:
            return "?"

    async def _release_pools(self, opp: Opportunity) -> None:
        for pool in opp.pools:
            with contextlib.suppress(Exception):
                await self.kv.delete(f"pool.{pool.lower()}")

    # ------------------------------------------------------------------ publishing
    async def _dead_letter(self, msg: Any, data: bytes, exc: WireError) -> None:
        self.stats.dead_letters += 1
        self.metrics.dead_letters.labels(exc.reason).inc()
        log.warning("agent %s: dead letter (%s): %s", self.name, exc.reason, exc)
        await self.js.publish(
            self.layout.dead_subject,
            data,
            headers={REASON_HEADER: exc.reason, "Flasharb-Detail": str(exc)[:200], "Flasharb-Agent": self.name},
        )
        await msg.ack()

    async def _result(self, base: dict, decision: str, detail: str, **extra: Any) -> None:
        body = {**base, "agent": self.name, "decision": decision, "detail": detail, **extra}
        data = json.dumps(body, separators=(",", ":")).encode()
        if self._results is None:
            await self.js.publish(self.layout.result_subject, data)
        else:  # in order, off the hot path: the writer awaits each publish's ack
            self._results.put_nowait(data)

    async def _write_results(self) -> None:
        assert self._results is not None
        while True:
            data = await self._results.get()
            try:
                while True:
                    try:
                        await self.js.publish(self.layout.result_subject, data)
                        break
                    except Exception:  # broker away: keep it and retry (nothing lost)
                        log.warning("agent %s: result publish failed, retrying", self.name)
                        await asyncio.sleep(0.5)
            finally:
                self._results.task_done()
