"""The results recorder (``flasharb record``): every agent's decisions and outcomes into the one P&L store.

Agents publish what they did on the results stream (JSON, one message per opportunity, agent and decision;
see ``relay.agent``). The recorder reads it through a durable consumer and writes the same rows ``flasharb run``
writes (``Bot._record_block`` / ``Bot._record_outcome``): the opportunity (decoded from the wire bytes the
result carries), the decision, the sent transaction, its outcome and realized result. So ``flasharb report`` on
the recorder's database covers every agent, and agents need no shared database.

Exactly once: each result's key (opportunity id, agent, decision) is claimed in ``relay_records`` in the same
transaction as its rows, and the message is acked only after the commit. A redelivered result (a recorder that
died between commit and ack, a restart, an agent's retried publish) finds its key and writes nothing. An outcome
that arrives before its transaction is on record is given back (nak with a delay) and retried.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from flasharb.relay.broker import RelayLayout, ensure_recorder
from flasharb.relay.metrics import RelayMetrics, poll_queue_depth
from flasharb.relay.wire import WireError, decode_opportunity
from flasharb.bot.pipeline import record_opportunity
from flasharb.store import Batch, Store, StoreError, TxStatus, UnknownTransaction

__all__ = ["Recorder", "RecorderStats", "record_results"]

log = logging.getLogger(__name__)

_OPPORTUNITY_DECISIONS = {"sent", "refuse", "drop", "stale", "error"}
_SKIPPED = {"claimed", "dead_letter"}  # another agent's work, or no opportunity at all: nothing to record


@dataclass(slots=True)
class RecorderStats:
    recorded: int = 0
    duplicates: int = 0
    skipped: int = 0
    retried: int = 0
    bad: int = 0


def _record_one(batch: Batch, r: dict[str, Any], chain_id: int) -> str:
    """Writes one result; returns ``recorded``, ``duplicate``, ``skipped`` or ``retry``."""
    decision, agent, opp_id = r.get("decision"), r.get("agent"), r.get("id")
    if decision in _SKIPPED or not opp_id or not agent or not decision:
        return "skipped"
    tx = r.get("tx")
    if decision == "outcome" and r.get("status") != "dry_run" and not batch.is_sent(tx):
        return "retry"  # its "sent" is not on record yet (published later, or in a later batch)
    if not batch.mark_relayed(opp_id, agent, decision, tx_hash=tx):
        return "duplicate"
    who = f" [{agent}]"
    if decision in _OPPORTUNITY_DECISIONS:
        opp = decode_opportunity(base64.b64decode(r["opp"]), chain_id=chain_id)
        oid = record_opportunity(batch, opp)
        detail = str(r.get("detail") or "")
        if decision == "sent":
            batch.record_decision(oid, "execute", "ok", detail + who)
            if not r.get("dry_run") and r.get("account"):
                batch.record_tx_sent(
                    tx_hash=tx, chain_id=opp.chain_id, nonce=int(r["nonce"]), from_address=r["account"],
                    to_address=r.get("contract"), gas_limit=int(r["gas_limit"]), max_fee_per_gas=int(r["max_fee"]),
                    max_priority_fee_per_gas=int(r["priority_fee"]), opportunity_id=oid,
                )  # fmt: skip
        elif decision in ("refuse", "drop"):
            batch.record_decision(oid, decision, str(r.get("reason") or decision), detail + who)
        elif decision == "stale":
            batch.record_decision(oid, "drop", "stale", detail + who)
        else:
            batch.record_decision(oid, "drop", str(r.get("reason") or "agent_error"), detail + who)
        return "recorded"
    if decision == "outcome":
        status = str(r.get("tx_status") or r.get("status") or "")
        if status in (TxStatus.MINED, TxStatus.REVERTED) and r.get("block_number") is not None:
            batch.record_tx_outcome(tx, status, block_number=int(r["block_number"]), gas_used=int(r["gas_used"]),
                                    effective_gas_price=int(r["effective_gas_price"]))  # fmt: skip
            realized = r.get("realized_recorded", r.get("realized")) or 0
            batch.record_result(
                tx, success=bool(r.get("success", status == TxStatus.MINED)), loan_token=r["loan_token"],
                realized_profit=int(realized), premium=int(r.get("premium") or 0),
                gas_cost_native=int(r.get("gas_native") or 0), gas_cost_token=int(r.get("gas_token") or 0),
                predicted_profit=int(r["predicted"]),
            )  # fmt: skip
        elif status in {s.value for s in TxStatus}:
            batch.record_tx_outcome(tx, status)
        return "recorded"
    return "skipped"


def record_results(store: Store, results: list[bytes], chain_id: int) -> list[str]:
    """Writes a batch of results in one transaction (each in a savepoint); one verdict per result:
    ``recorded``, ``duplicate``, ``skipped``, ``retry`` (not yet recordable) or ``bad`` (never will be)."""
    verdicts: list[str] = []
    with store.atomic() as batch:
        for data in results:
            try:
                r = json.loads(data)
                with batch.savepoint():
                    verdicts.append(_record_one(batch, r, chain_id))
            except UnknownTransaction:
                verdicts.append("retry")
            except (StoreError, WireError, ValueError, KeyError, TypeError, ArithmeticError, AttributeError) as exc:
                log.warning("recorder: result not recordable (%s): %s", type(exc).__name__, exc)
                verdicts.append("bad")
    return verdicts


class Recorder:
    """Consumes the results stream into ``store``; ``stop`` ends ``run``."""

    def __init__(
        self,
        js: Any,
        layout: RelayLayout,
        store: Store,
        *,
        batch: int = 512,
        fetch_timeout: float = 0.25,
        retry_delay: float = 0.5,
        max_retries: int = 240,
        depth_interval: float = 1.0,
        metrics: RelayMetrics | None = None,
    ) -> None:
        self.js, self.layout, self.store = js, layout, store
        self.batch = batch
        self.fetch_timeout = fetch_timeout
        self.retry_delay = retry_delay
        self.max_retries = max_retries  # an outcome whose "sent" never comes is given up after this many
        self.depth_interval = depth_interval
        self.metrics = metrics or RelayMetrics()
        self.stats = RecorderStats()
        self.stop = asyncio.Event()

    async def run(self) -> None:
        import nats.errors

        await ensure_recorder(self.js, self.layout)
        sub = await self.js.pull_subscribe_bind(durable=self.layout.recorder, stream=self.layout.result_stream)
        depth = asyncio.create_task(poll_queue_depth(self.js, self.layout.result_stream, self.layout.recorder,
                                                     self.metrics, self.depth_interval))  # fmt: skip
        try:
            while not self.stop.is_set():
                try:
                    msgs = await sub.fetch(batch=self.batch, timeout=self.fetch_timeout)
                except (nats.errors.TimeoutError, asyncio.TimeoutError):
                    continue
                except Exception as exc:  # broker away: the client reconnects; try again
                    log.warning("recorder: fetch failed: %s", exc)
                    await asyncio.sleep(0.25)
                    continue
                try:
                    verdicts = await asyncio.to_thread(
                        record_results, self.store, [bytes(m.data) for m in msgs], self.layout.chain_id
                    )
                except Exception as exc:  # database away: nothing acked, all redelivered after ack_wait
                    log.error("recorder: store write failed: %s", exc)
                    await asyncio.sleep(1.0)
                    continue
                await self._settle(msgs, verdicts)
        finally:
            depth.cancel()
            await asyncio.gather(depth, return_exceptions=True)
            with contextlib.suppress(Exception):
                await sub.unsubscribe()

    async def _settle(self, msgs: list[Any], verdicts: list[str]) -> None:
        for msg, verdict in zip(msgs, verdicts):
            if verdict == "retry":
                delivered = 1
                with contextlib.suppress(Exception):
                    delivered = msg.metadata.num_delivered
                if delivered < self.max_retries:
                    self.stats.retried += 1
                    with contextlib.suppress(Exception):
                        await msg.nak(delay=self.retry_delay)
                    continue
                log.error("recorder: gave up on a result whose transaction never arrived: %s", msg.data[:200])
                verdict = "bad"
            if verdict == "recorded":
                self.stats.recorded += 1
                with contextlib.suppress(Exception):
                    self.metrics.recorded.labels(json.loads(msg.data).get("decision", "?")).inc()
            elif verdict == "duplicate":
                self.stats.duplicates += 1
            elif verdict == "skipped":
                self.stats.skipped += 1
            else:
                self.stats.bad += 1
            with contextlib.suppress(Exception):
                await msg.ack()
