"""One block through the pipeline: sync + detect + size (engine) -> risk -> simulate -> send -> track ->
record. ``Bot.process_block`` is the one piece of stage wiring; ``flasharb run`` calls it per new head and the
demo calls it after each market block, so both run the same code.

The hot path (head to signed transaction sent) does no database or metrics-server I/O: decisions and sends are
recorded right after the block's transactions are out, and receipts are tracked in background tasks that the
bot awaits on shutdown (``drain``), so no record is ever lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from flasharb.bot.simulate import Simulator, execute_calldata
from flasharb.engine import Engine, Opportunity
from flasharb.engine.errors import RpcError as EngineRpcError
from flasharb.tx import TxError
from flasharb.metrics import BotMetrics
from flasharb.risk import RiskContext, RiskManager
from flasharb.route import PlanError
from flasharb.store import Store, route_shape
from flasharb.tx import TxSender

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Refusal:
    opportunity: Opportunity
    decision: str  # "refuse" (risk) or "drop" (simulation)
    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Dispatch:
    """An opportunity that passed every check and was sent (or prepared, in dry run)."""

    opportunity: Opportunity
    simulated_profit: int
    simulated_gas: int
    tx_hash: str
    nonce: int
    gas_limit: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    head_to_send_ms: float
    simulate_ms: float = 0.0
    send_ms: float = 0.0


@dataclass(slots=True)
class BlockReport:
    number: int
    opportunities: int = 0
    dispatches: list[Dispatch] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    stages_ms: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a sent opportunity became once its transaction was settled."""

    dispatch: Dispatch
    status: str  # mined | reverted | dropped | timeout | dry_run
    realized_profit: int | None
    predicted_profit: int
    revert: str = ""

    @property
    def exact(self) -> bool:
        return self.realized_profit is not None and self.realized_profit == self.predicted_profit


def record_opportunity(batch: Any, opp: Opportunity) -> str:
    """The opportunity's row in the P&L store (the bot's and the relay recorder's, so both write the same). The
    route shape is the plan's; a plan this codec cannot read (another version, from a relayed message) is
    described by its hops instead, so the record is never lost."""
    try:
        shape = route_shape(opp.plan)
    except PlanError:
        shape = f"{len(opp.cycle)}-hop " + "/".join(h.kind.name for h in opp.cycle)
    return batch.record_opportunity(
        route_shape=shape,
        chain_id=opp.chain_id,
        block_number=opp.block_number,
        loan_token=opp.loan_token,
        amount_in=opp.amount_in,
        expected_profit=opp.profit_after_premium,
        premium=opp.flash_premium,
        gas_estimate=opp.gas_estimate,
        plan=opp.plan,
        dexes=[h.dex for h in opp.cycle],
        pools=opp.pools,
        lender=opp.lender.name,
        strategy=opp.strategy,
    )


class Bot:
    def __init__(
        self,
        *,
        engine: Engine,
        sender: TxSender,
        simulator: Simulator,
        risk: RiskManager,
        store: Store,
        metrics: BotMetrics,
        executor: str,
        chain_id: int,
        replace_after: float | None = 6.0,
        receipt_timeout: float = 120.0,
    ) -> None:
        self.engine = engine
        self.sender = sender
        self.simulator = simulator
        self.risk = risk
        self.store = store
        self.metrics = metrics
        self.executor = executor
        self.chain_id = chain_id
        self.replace_after = replace_after
        self.receipt_timeout = receipt_timeout
        self._tracking: set[asyncio.Task[Outcome]] = set()
        self.outcomes: list[Outcome] = []
        self.rpc_failures = 0
        self.metrics.bind_risk(risk)

    # ------------------------------------------------------------------ per block
    def start(self) -> list[Opportunity]:
        """Discovers pools and reads their state (the engine's bootstrap)."""
        return self.engine.start()

    async def process_block(self, received_at: float | None = None) -> BlockReport:
        """Follows the chain to its head and acts on that head's opportunities."""
        t0 = received_at if received_at is not None else time.perf_counter()
        opportunities = self.engine.step()
        t_detect = time.perf_counter()
        head = self.engine.last_update.head if self.engine.last_update else None
        report = BlockReport(number=head.number if head else -1, opportunities=len(opportunities))
        report.stages_ms["detect"] = (t_detect - t0) * 1e3
        if head is not None:
            self.metrics.block_seen(head.number)
        fees = self.sender.fees.current or await self.sender.fees.refresh()
        gas_price = fees.max_fee_per_gas

        in_flight: list[tuple[Dispatch, Any]] = []
        for opp in opportunities:
            self.metrics.opportunity(opp.strategy)
            decision = self.risk.check(opp, RiskContext(gas_price=gas_price))
            if not decision.ok:
                report.refusals.append(Refusal(opp, "refuse", str(decision.reason), decision.detail))
                self.metrics.refusal(str(decision.reason))
                continue
            t_sim = time.perf_counter()
            sim = await self.simulator.simulate(opp.plan)
            simulate_ms = (time.perf_counter() - t_sim) * 1e3
            if not sim.ok:
                name = sim.revert.name if sim.revert else "error"
                report.refusals.append(Refusal(opp, "drop", "simulation_reverted", name))
                self.metrics.drop("simulation_reverted")
                continue
            self.metrics.observe_block_to_decision(time.perf_counter() - t0)
            t_send = time.perf_counter()
            try:
                sent = await self.sender.send(self.executor, execute_calldata(opp.plan), simulated_gas=sim.gas)
            except Exception as exc:  # the nonce manager has released the nonce; nothing is in flight
                log.warning("send failed for an opportunity at block %d: %s", opp.block_number, exc)
                report.refusals.append(Refusal(opp, "drop", "send_failed", type(exc).__name__))
                self.metrics.send_failed()
                continue
            now = time.perf_counter()
            self.metrics.observe_decision_to_send(now - t_send)
            self.metrics.sent()
            self.risk.on_sent(sent.tx_hash, opp)
            dispatch = Dispatch(
                opp,
                sim.profit,
                sim.gas,
                sent.tx_hash,
                sent.nonce,
                sent.gas,
                sent.fees.max_fee_per_gas,
                sent.fees.max_priority_fee_per_gas,
                (now - t0) * 1e3,
                simulate_ms,
                (now - t_send) * 1e3,
            )
            report.dispatches.append(dispatch)
            in_flight.append((dispatch, sent))

        await asyncio.to_thread(self._record_block, report)
        # Receipts are tracked only once the sends are on record, so an outcome always finds its transaction.
        for dispatch, sent in in_flight:
            task = asyncio.create_task(self._track(dispatch, sent), name=dispatch.tx_hash)
            self._tracking.add(task)
            task.add_done_callback(self._tracking.discard)
        self.metrics.refresh_risk()
        return report

    def outcome_of(self, tx_hash: str) -> asyncio.Task[Outcome] | None:
        """The task tracking a transaction this bot sent, until it settles and is on record (None once done
        or unknown): how a caller of ``process_block`` (a relay agent) follows a send to its outcome."""
        return next((t for t in self._tracking if t.get_name() == tx_hash), None)

    async def tick(self, received_at: float | None = None) -> BlockReport | None:
        """``process_block`` that survives the node: an RPC failure (node down, restarting, answering errors)
        is logged and counted, the sender re-reads its nonces, and the next tick carries on (the engine
        re-syncs from the chain it finds, through its reorg and resync paths). Returns None on such a block."""
        try:
            return await self.process_block(received_at)
        except (EngineRpcError, TxError, OSError) as exc:
            log.warning("node unavailable, block skipped: %s", exc)
            self.metrics.rpc_call("primary", ok=False)
            self.rpc_failures += 1
            with contextlib.suppress(TxError, OSError):
                await self.sender.nonces.resync()
            return None

    # ------------------------------------------------------------------ bookkeeping (off the hot path)
    def _record_block(self, report: BlockReport) -> None:
        with self.store.atomic() as batch:
            for r in report.refusals:
                opp_id = record_opportunity(batch, r.opportunity)
                batch.record_decision(opp_id, r.decision, r.reason, r.detail)
            for d in report.dispatches:
                opp_id = record_opportunity(batch, d.opportunity)
                batch.record_decision(opp_id, "execute", "ok", f"simulated profit {d.simulated_profit}")
                if self.sender.dry_run:
                    continue
                batch.record_tx_sent(
                    tx_hash=d.tx_hash,
                    chain_id=self.chain_id,
                    nonce=d.nonce,
                    from_address=self.sender.address,
                    to_address=self.executor,
                    gas_limit=d.gas_limit,
                    max_fee_per_gas=d.max_fee_per_gas,
                    max_priority_fee_per_gas=d.max_priority_fee_per_gas,
                    opportunity_id=opp_id,
                )

    async def _track(self, dispatch: Dispatch, sent: Any) -> Outcome:
        t_sent = sent.submitted_at
        result = await self.sender.wait(
            sent, timeout=self.receipt_timeout, replace_after=self.replace_after, fee_cap=self.risk.max_gas_price
        )
        opp = dispatch.opportunity
        predicted = opp.profit_after_premium
        revert = result.revert.name if result.revert else ""
        outcome = Outcome(dispatch, result.status, result.profit, predicted, revert)
        if result.status in ("mined", "reverted"):
            self.metrics.observe_send_to_mined(time.perf_counter() - t_sent)
            fee_wei = result.fee_wei or 0
            gas_token = opp.gas_cost * (result.gas_used or 0) // max(opp.gas_estimate, 1)
            realized = result.profit if result.status == "mined" and result.profit is not None else 0
            pnl = realized - gas_token
            self.risk.on_outcome(
                dispatch.tx_hash,
                "success" if result.status == "mined" else "reverted",
                token=opp.loan_token,
                pnl=pnl,
            )
            self.metrics.landed(
                success=result.status == "mined", token=opp.loan_token, net_profit=pnl, gas_cost_native=fee_wei
            )
            await asyncio.to_thread(self._record_outcome, dispatch, result, realized, gas_token)
        elif result.status != "dry_run":
            self.risk.on_outcome(dispatch.tx_hash, "failed")
            await asyncio.to_thread(self.store.record_tx_outcome, result.sent.tx_hash, result.status)
        self.outcomes.append(outcome)
        return outcome

    def _record_outcome(self, dispatch: Dispatch, result: Any, realized: int, gas_token: int) -> None:
        opp = dispatch.opportunity
        with self.store.atomic() as batch:
            batch.record_tx_outcome(
                result.tx_hash,
                result.status,
                block_number=result.block_number,
                gas_used=result.gas_used,
                effective_gas_price=result.effective_gas_price,
            )
            batch.record_result(
                result.tx_hash,
                success=result.status == "mined",
                loan_token=opp.loan_token,
                realized_profit=realized,
                premium=result.premium or 0,
                gas_cost_native=result.fee_wei or 0,
                gas_cost_token=gas_token,
                predicted_profit=opp.profit_after_premium,
            )

    async def drain(self) -> list[Outcome]:
        """Waits for every transaction in flight to settle and be recorded (graceful shutdown)."""
        while self._tracking:
            results = await asyncio.gather(*list(self._tracking), return_exceptions=True)
            for r in results:
                if isinstance(r, BaseException):
                    log.error("tracking a transaction failed", exc_info=r)
        return self.outcomes
