"""An execution agent: pull from the shared work-queue consumer, check, claim, execute, report.

Per message, in order: decode (a ``WireError`` dead-letters the original bytes with the reason and acks, the
agent carries on); drop it if the agent's head is past its deadline; claim ``opp.<id>`` with an atomic create
in the claim bucket (TTL to the deadline) and ``pool.<address>`` for each pool (TTL ``pool_ttl``, refreshed
while its transaction is pending, deleted when it settles), in one round trip; run it through the bot's stage
code; ack; publish the decision, and the outcome once settled. A message whose claim exists is never executed
again: a redelivery after an agent died holding it, a duplicate, or another agent's work. At most once is the
claim, not the ack.

Throughput without giving that up: messages stream in through a ``PullFeed`` (pull requests kept outstanding,
no round trip per message) and up to ``concurrency`` are handled at once (the claims are atomic in the bucket,
so concurrency inside one agent is as safe as between agents; the bot's stage code itself runs one at a time).
The head for the stale check is a cache kept fresh by a background task (the executor's new-heads stream, or
polling), not an RPC per message. Results are published in order, pipelined (``publish_async``, one timer for
a batch of acks), each with a ``Nats-Msg-Id`` of ``<id>:<agent>:<decision>`` so a retry after a lost ack is
deduplicated by the stream. Claims go straight to the bucket's subjects (``nc.request``), not through
nats-py's KeyValue/JetStream wrappers, and ``run()`` freezes the objects alive at start out of the garbage
collector's sight (``freeze_gc``): both were measured (CPU per message, the lag's p99).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from flasharb.engine.types import Opportunity
from flasharb.relay.broker import RelayLayout
from flasharb.relay.execution import Execution
from flasharb.relay.feed import PullFeed
from flasharb.relay.metrics import RelayMetrics, poll_queue_depth
from flasharb.relay.publisher import SENT_HEADER, acked, wait_acks
from flasharb.relay.wire import WireError, decode_opportunity, message_id

__all__ = ["Agent", "AgentStats", "Executor", "REASON_HEADER", "result_msg_id"]

log = logging.getLogger(__name__)

REASON_HEADER = "Flasharb-Reason"


class Executor(Protocol):
    """What an agent runs messages through. Optional extras an executor may have: ``heads()`` (an async
    iterator of new head numbers, else ``head()`` is polled), ``ledger(tx_hash)`` (an outcome's receipt
    figures for the recorder), ``address`` (the signer), ``contract`` (the executor contract), ``dry_run``."""

    async def head(self) -> int: ...

    async def execute(self, opp: Opportunity, received_at: float) -> Execution: ...


def result_msg_id(opp_id: str, agent: str, decision: str) -> str:
    """A result's ``Nats-Msg-Id`` and the recorder's idempotency key: one per opportunity, agent and decision."""
    return f"{opp_id}:{agent}:{decision}"


@dataclass(slots=True)
class AgentStats:
    received: int = 0
    dead_letters: int = 0
    stale: int = 0
    claims_refused: int = 0
    executed: int = 0  # sent
    refused: int = 0  # by the stage code (risk or simulation)
    redeliveries: int = 0
    pool_refreshes: int = 0
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
        concurrency: int = 64,
        window: int = 128,
        head_interval: float = 0.25,
        depth_interval: float = 1.0,
        on_claimed: Callable[[Opportunity], Awaitable[None]] | None = None,
        metrics: RelayMetrics | None = None,
        freeze_gc: bool = True,
    ) -> None:
        self.nc, self.js, self.kv, self.layout, self.executor = nc, js, kv, layout, executor
        self.name = name
        self.block_time = block_time
        self.claim_margin_blocks = claim_margin_blocks
        self.pool_ttl = pool_ttl
        self.max_claim_ttl = max_claim_ttl  # far deadlines: the server refuses huge per-key TTLs
        self.concurrency = concurrency
        self.window = window
        self.head_interval = head_interval
        self.depth_interval = depth_interval
        self.on_claimed = on_claimed  # test hook: runs after the claim, before execution
        self.freeze_gc = freeze_gc
        self.stats = AgentStats()
        self.metrics = metrics or RelayMetrics()
        self.paused = False
        self.stop = asyncio.Event()
        self.head: int | None = None  # the newest head seen (the stale check's reference)
        self._head_known = asyncio.Event()
        self._settling: set[asyncio.Task[None]] = set()
        self._handling: set[asyncio.Task[Any]] = set()
        self._results: asyncio.Queue[tuple[bytes, dict[str, str]]] | None = None
        self._pool_revs: dict[str, int] = {}  # our pool claims' revisions (refreshed by compare-and-set)

    # ------------------------------------------------------------------ loop
    async def run(self) -> None:
        if self.freeze_gc:
            # everything imported and built so far lives as long as the process: out of the collector's
            # sight, a full collection no longer walks it (tens of ms on this machine, a relay-lag p99 spike)
            gc.collect()
            gc.freeze()
        feed = await PullFeed(self.nc, self.layout.opp_stream, self.layout.consumer, window=self.window).start()
        control = await self.nc.subscribe(self.layout.control_subject, cb=self._on_control)
        self._results = asyncio.Queue()
        background = [
            asyncio.create_task(self._write_results()),
            asyncio.create_task(self._watch_head()),
            asyncio.create_task(poll_queue_depth(self.js, self.layout.opp_stream, self.layout.consumer,
                                                 self.metrics, self.depth_interval)),
        ]  # fmt: skip
        slots = asyncio.Semaphore(self.concurrency)
        try:
            while not self.stop.is_set():
                feed.paused = self.paused
                msg = await feed.next(timeout=0.05)
                if msg is None:
                    continue
                if self.paused or self.stop.is_set():  # requested before the pause: give it back
                    with contextlib.suppress(Exception):
                        await msg.nak()
                    continue
                await slots.acquire()
                task = asyncio.create_task(self._guarded(msg))
                self._handling.add(task)
                task.add_done_callback(self._handling.discard)
                task.add_done_callback(lambda _t: slots.release())
        finally:
            for msg in await feed.stop():
                with contextlib.suppress(Exception):
                    await msg.nak()
            with contextlib.suppress(Exception):
                await control.unsubscribe()
            while self._handling:
                await asyncio.gather(*list(self._handling), return_exceptions=True)
            await self.drain()
            await self._results.join()
            for t in background:
                t.cancel()
            await asyncio.gather(*background, return_exceptions=True)
            self._results = None

    async def _guarded(self, msg: Any) -> None:
        try:
            await self.handle(msg)
        except Exception:  # never crash on one message; it stays un-acked and is redelivered
            log.exception("agent %s failed on a message", self.name)

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

    async def _watch_head(self) -> None:
        """Keeps ``self.head`` fresh: the executor's new-heads stream when it has one, else polling."""
        heads: Callable[[], AsyncIterator[int]] | None = getattr(self.executor, "heads", None)
        while True:
            try:
                if heads is not None:
                    async for number in heads():
                        self._set_head(number)
                else:
                    self._set_head(await self.executor.head())
                    await asyncio.sleep(self.head_interval)
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # node away: keep the last head, try again
                log.warning("agent %s: head unavailable: %s", self.name, exc)
            await asyncio.sleep(self.head_interval)

    def _set_head(self, number: int) -> None:
        self.head = number
        self._head_known.set()

    async def _current_head(self) -> int:
        if self.head is None:
            self._set_head(await self.executor.head())
        assert self.head is not None
        return self.head

    # ------------------------------------------------------------------ one message
    async def handle(self, msg: Any) -> str:
        """Handles one message; returns what happened (the result's ``decision``)."""
        received_at = time.perf_counter()
        received_ns = time.time_ns()
        self.stats.received += 1
        self.metrics.messages.inc()
        sent_ns = (msg.headers or {}).get(SENT_HEADER)
        lag_ms = (received_ns - int(sent_ns)) / 1e6 if sent_ns and sent_ns.isdigit() else None
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
        wire = base64.b64encode(data).decode()  # the recorder records the opportunity from these bytes

        head = await self._current_head()
        if head > opp.deadline_block:
            self.stats.stale += 1
            self.metrics.stale.inc()
            await msg.ack()
            await self._result(base, "stale", f"head {head} past deadline {opp.deadline_block}", opp=wire)
            return "stale"

        held = await self._claim(opp_id, opp, max(head, opp.block_number))
        if held:
            self.stats.claims_refused += 1
            self.metrics.claims_refused.inc()
            await msg.ack()
            await self._result(base, "claimed", held)
            return "claimed"
        if self.on_claimed is not None:
            await self.on_claimed(opp)

        claimed_ms = (time.perf_counter() - received_at) * 1e3  # decode, stale check, claims
        try:
            ex = await self.executor.execute(opp, received_at)
        except Exception as exc:  # unknown whether anything was signed: keep every claim until its TTL
            log.exception("agent %s: execution failed", self.name)
            await msg.ack()
            await self._result(base, "error", type(exc).__name__, reason="agent_error", opp=wire)
            return "error"
        await msg.ack()
        if ex.decision != "sent" or ex.dispatch is None:
            self.stats.refused += 1
            await self._release_pools(opp)
            await self._result(base, ex.decision, ex.detail, reason=ex.reason, opp=wire)
            return ex.decision
        self.stats.executed += 1
        d = ex.dispatch
        await self._result(
            base,
            "sent",
            f"simulated profit {d.simulated_profit}",
            opp=wire,
            tx=d.tx_hash,
            nonce=d.nonce,
            gas_limit=d.gas_limit,
            max_fee=str(d.max_fee_per_gas),
            priority_fee=str(d.max_priority_fee_per_gas),
            account=getattr(self.executor, "address", None),
            contract=getattr(self.executor, "contract", None),
            dry_run=bool(getattr(self.executor, "dry_run", False)),
            predicted=str(opp.profit_after_premium),
            simulated=str(d.simulated_profit),
            head_to_send_ms=d.head_to_send_ms,
            claimed_ms=round(claimed_ms, 3),
            simulate_ms=d.simulate_ms,
            send_ms=d.send_ms,  # signing and the node taking the transaction
            sent_ns=received_ns + int(d.head_to_send_ms * 1e6),  # when the transaction went out
        )
        if ex.settled is not None:
            task = asyncio.create_task(self._settle(base, opp, ex))
            self._settling.add(task)
            task.add_done_callback(self._settling.discard)
        else:  # without a settle future the pool claims are kept until their TTL (never refreshed)
            for pool in opp.pools:
                self._pool_revs.pop(f"pool.{pool.lower()}", None)
        return "sent"

    async def _settle(self, base: dict, opp: Opportunity, ex: Execution) -> None:
        assert ex.settled is not None and ex.dispatch is not None
        keeper = asyncio.create_task(self._keep_pools(opp))
        try:
            outcome = await ex.settled
        finally:
            keeper.cancel()
            await asyncio.gather(keeper, return_exceptions=True)
            await self._release_pools(opp)
        ledger = getattr(self.executor, "ledger", None)
        extra = await ledger(ex.dispatch.tx_hash) if ledger is not None else {}
        await self._result(
            base,
            "outcome",
            outcome.revert,
            tx=ex.dispatch.tx_hash,
            status=outcome.status,
            predicted=str(outcome.predicted_profit),
            realized=None if outcome.realized_profit is None else str(outcome.realized_profit),
            exact=outcome.exact,
            loan_token=opp.loan_token,
            **extra,
        )

    # ------------------------------------------------------------------ claims
    def _ttl(self, opp: Opportunity, head: int) -> int:
        blocks_left = opp.deadline_block - head + self.claim_margin_blocks
        return min(self.max_claim_ttl, max(1, int(blocks_left * self.block_time + 0.999)))

    async def _claim(self, opp_id: str, opp: Opportunity, head: int) -> str:
        """Claims the opportunity and its pools, all at once (one round trip); returns "" when all are ours,
        else who holds what. Pool claims taken for an opportunity that is not ours to run are given back; the
        opportunity's claim is kept whatever happens to the pools (it is what makes the message at most once).

        (An atomic batch publish of all the claims, nats-server 2.12+, was measured here at ~300 batches/s
        against thousands of plain creates/s: not used.)"""
        from nats.js.errors import KeyWrongLastSequenceError

        value = self.name.encode()
        opp_key = f"opp.{opp_id}"
        keys = [f"pool.{pool.lower()}" for pool in opp.pools]
        pool_ttl = max(1, int(self.pool_ttl))
        got = await asyncio.gather(
            self._create(opp_key, value, self._ttl(opp, head)),
            *(self._create(k, value, pool_ttl) for k in keys),
            return_exceptions=True,
        )
        opp_got, pools_got = got[0], got[1:]
        busy = [k for k, g in zip(keys, pools_got) if isinstance(g, BaseException)]
        if busy or isinstance(opp_got, BaseException):
            for k, g in zip(keys, pools_got):
                if not isinstance(g, BaseException):
                    with contextlib.suppress(Exception):
                        await self.kv.delete(k)
            if isinstance(opp_got, KeyWrongLastSequenceError):
                return f"opportunity claimed by {await self._holder(opp_key)}"
            held = KeyWrongLastSequenceError
            errors = [g for g in got if isinstance(g, BaseException) and not isinstance(g, held)]
            if errors:
                raise errors[0]
            return f"pool {busy[0].removeprefix('pool.')} in flight ({await self._holder(busy[0])})"
        for k, rev in zip(keys, pools_got):
            self._pool_revs[k] = rev
        return ""

    async def _create(self, key: str, value: bytes, ttl: int) -> int:
        """``KeyValue.create`` (an atomic create with a per-key TTL; a deleted key counts as free) without the
        client's wrapping layers (a third of an agent's CPU at high rates went to them); returns the key's
        revision. Raises ``KeyWrongLastSequenceError`` when the key is held."""
        from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError

        try:
            return await self._put_expecting(key, value, ttl, last=0)
        except KeyWrongLastSequenceError:
            # a released claim leaves a delete marker as the key's last message: free (as KeyValue.create)
            try:
                await self.kv.get(key)
            except KeyNotFoundError as gone:
                entry = getattr(gone, "entry", None)
                last = entry.revision if entry is not None else 0
                return await self._put_expecting(key, value, ttl, last=last)
            raise

    async def _put_expecting(self, key: str, value: bytes, ttl: int, last: int) -> int:
        from nats.js.errors import APIError, KeyWrongLastSequenceError

        reply = await self.nc.request(
            f"$KV.{self.layout.claims_bucket}.{key}", value, timeout=5.0,
            headers={"Nats-Expected-Last-Subject-Sequence": str(last), "Nats-TTL": str(ttl)},
        )  # fmt: skip
        ack = json.loads(reply.data)
        err = ack.get("error")
        if err:
            if err.get("err_code") in (10071, 10164):  # wrong last sequence: the key was written meanwhile
                raise KeyWrongLastSequenceError(description=err.get("description"))
            raise APIError.from_error(err)
        return int(ack["seq"])

    async def _keep_pools(self, opp: Opportunity) -> None:
        """Refreshes our pool claims while the transaction is pending, so a slow one never loses its pools
        (compare-and-set on the claim's revision: a claim that is no longer ours is left alone)."""
        every = max(0.2, self.pool_ttl / 3)
        value = self.name.encode()
        while True:
            await asyncio.sleep(every)
            for pool in opp.pools:
                key = f"pool.{pool.lower()}"
                rev = self._pool_revs.get(key)
                if rev is None:
                    continue
                try:
                    ack = await self.js.publish(
                        f"$KV.{self.layout.claims_bucket}.{key}", value,
                        headers={"Nats-Expected-Last-Subject-Sequence": str(rev)}, msg_ttl=max(1, int(self.pool_ttl)),
                    )  # fmt: skip
                    self._pool_revs[key] = ack.seq
                    self.stats.pool_refreshes += 1
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("agent %s: pool claim %s not refreshed: %s", self.name, key, exc)

    async def _holder(self, key: str) -> str:
        try:
            entry = await self.kv.get(key)
            return (entry.value or b"").decode() or "?"
        except Exception:
            return "?"

    async def _release_pools(self, opp: Opportunity) -> None:
        for pool in opp.pools:
            key = f"pool.{pool.lower()}"
            self._pool_revs.pop(key, None)
            with contextlib.suppress(Exception):
                await self.kv.delete(key)

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
        headers = {"Nats-Msg-Id": result_msg_id(base["id"], self.name, decision)}
        if self._results is None:
            await self.js.publish(self.layout.result_subject, data, headers=headers)
        else:  # in order, off the hot path: the writer pipelines the publishes
            self._results.put_nowait((data, headers))

    async def _write_results(self, max_batch: int = 256, ack_timeout: float = 5.0) -> None:
        assert self._results is not None
        queue = self._results
        while True:
            items = [await queue.get()]
            while len(items) < max_batch and not queue.empty():
                items.append(queue.get_nowait())
            try:
                await self._publish_in_order(items, ack_timeout)
            finally:
                for _ in items:
                    queue.task_done()

    async def _publish_in_order(self, items: list[tuple[bytes, dict[str, str]]], ack_timeout: float) -> None:
        """Pipelined publishes; the ones not acked are published again, one by one, until they are (the
        ``Nats-Msg-Id`` makes a repeat harmless): nothing is lost while the broker is away."""
        futures: list[Any] = []
        for data, headers in items:
            try:
                futures.append(await self.js.publish_async(self.layout.result_subject, data, headers=dict(headers)))
            except Exception as exc:
                futures.append(exc)
        await wait_acks(futures, ack_timeout)
        for (data, headers), fut in zip(items, futures):
            ok = acked(fut)
            while not ok:
                try:
                    await self.js.publish(self.layout.result_subject, data, headers=dict(headers), timeout=ack_timeout)
                    ok = True
                except Exception:  # broker away: keep it and retry (nothing lost)
                    log.warning("agent %s: result publish failed, retrying", self.name)
                    await asyncio.sleep(0.5)

