"""An agent's execution side: the bot's own stage code (``Bot.process_block``: risk -> simulate -> sign and send
-> record -> track) fed with one relayed opportunity at a time instead of the engine's output; a send's outcome
comes from ``Bot.outcome_of``.

Composition, not a copy: ``FeedEngine`` stands in for the ``Engine`` inside a real ``Bot`` (``step()`` returns
what the agent fed it, ``last_update.head`` the block it was computed at), so ``flasharb run`` and
``flasharb agent`` run the same risk, simulation, send, record and tracking code. Each agent has its own
signer, nonce manager (state dir), risk limits and metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flasharb.bot.app import assemble_bot
from flasharb.bot.pipeline import Bot, Dispatch, Outcome
from flasharb.engine.state import SyncUpdate
from flasharb.engine.types import BlockRef, Opportunity
from flasharb.risk import RiskLimits
from flasharb.tx import RpcClient, Signer

__all__ = ["FeedEngine", "AgentSpec", "Execution", "BotExecutor", "open_agent_executor"]


class FeedEngine:
    """The ``Engine`` surface ``Bot`` uses (``start``, ``step``, ``last_update``), fed by the relay."""

    def __init__(self) -> None:
        self.last_update: SyncUpdate | None = None
        self._pending: list[Opportunity] = []

    def start(self) -> list[Opportunity]:
        return []

    def feed(self, opportunities: list[Opportunity]) -> None:
        self._pending = list(opportunities)
        if opportunities:
            o = opportunities[0]
            self.last_update = SyncUpdate(head=BlockRef(o.block_number, o.block_hash), changed=frozenset())

    def step(self) -> list[Opportunity]:
        out, self._pending = self._pending, []
        return out

    def close(self) -> None:
        pass


@dataclass(frozen=True, slots=True)
class Execution:
    """What the stage code decided for one relayed opportunity. ``settled`` (when sent) resolves to the
    ``Outcome`` once the transaction is mined, reverted or dropped and on record."""

    decision: str  # sent | refuse | drop
    reason: str = ""
    detail: str = ""
    dispatch: Dispatch | None = None
    settled: asyncio.Future[Outcome] | None = None


class BotExecutor:
    """Runs relayed opportunities through a ``Bot`` built on a ``FeedEngine`` (one at a time)."""

    def __init__(self, bot: Bot, feed: FeedEngine, rpc: RpcClient) -> None:
        self.bot = bot
        self.feed = feed
        self.rpc = rpc
        self._lock = asyncio.Lock()

    @property
    def address(self) -> str:
        return self.bot.sender.address

    @property
    def contract(self) -> str:
        return self.bot.executor

    @property
    def dry_run(self) -> bool:
        return bool(self.bot.sender.dry_run)

    async def head(self) -> int:
        return await self.rpc.block_number()

    async def heads(self) -> AsyncIterator[int]:
        """New head numbers (the node's newHeads subscription, polling as a fallback)."""
        async with self.rpc.heads(poll_interval=0.1) as heads:
            async for h in heads:
                yield h.number

    async def execute(self, opp: Opportunity, received_at: float) -> Execution:
        async with self._lock:
            self.feed.feed([opp])
            report = await self.bot.process_block(received_at=received_at)
        if report.dispatches:
            d = report.dispatches[0]
            return Execution("sent", "ok", dispatch=d, settled=self.bot.outcome_of(d.tx_hash))
        if report.refusals:
            r = report.refusals[0]
            return Execution(r.decision, r.reason, r.detail)
        return Execution("drop", "no_decision")

    async def ledger(self, tx_hash: str) -> dict[str, Any]:
        """A settled transaction's receipt figures as this agent's own store recorded them (the recorder
        writes the same into the shared P&L store)."""

        def read() -> dict[str, Any]:
            tx = self.bot.store.get_transaction(tx_hash)
            res = self.bot.store.get_result(tx_hash)
            out: dict[str, Any] = {}
            if tx is not None:
                price = tx.effective_gas_price
                out.update(tx_status=tx.status.value, block_number=tx.block_number, gas_used=tx.gas_used,
                           effective_gas_price=None if price is None else str(price))  # fmt: skip
            if res is not None:
                out.update(success=res.success, premium=str(res.premium), gas_native=str(res.gas_cost_native),
                           gas_token=str(res.gas_cost_token), realized_recorded=str(res.realized_profit))  # fmt: skip
            return out

        try:
            return await asyncio.to_thread(read)
        except Exception:  # the outcome still goes out; the recorder then keeps the status only
            return {}

    async def drain(self) -> list[Outcome]:
        return await self.bot.drain()


@dataclass(frozen=True, slots=True)
class AgentSpec:
    """An agent's chain side: like ``BotSpec`` without the engine (opportunities come from the relay)."""

    rpc_urls: tuple[str, ...]
    executor: str
    chain_id: int
    database_url: str
    state_dir: Path  # this agent's nonce file
    limits: RiskLimits
    dry_run: bool = False


@contextlib.asynccontextmanager
async def open_agent_executor(spec: AgentSpec, signer: Signer, **bot_kwargs: Any) -> AsyncIterator[BotExecutor]:
    """``flasharb.bot.app.assemble_bot`` with a ``FeedEngine`` in place of the engine."""
    feed = FeedEngine()
    async with assemble_bot(
        feed,
        signer,
        rpc_urls=spec.rpc_urls,
        executor=spec.executor,
        chain_id=spec.chain_id,
        database_url=spec.database_url,
        state_dir=spec.state_dir,
        limits=spec.limits,
        dry_run=spec.dry_run,
        **bot_kwargs,
    ) as bot:
        ex = BotExecutor(bot, feed, bot.sender.rpc)
        yield ex
        await ex.drain()
