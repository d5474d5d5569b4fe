"""An agent's execution side: the bot's own stage code (``Bot.process_block``: risk -> simulate -> sign and send
-> record -> track) fed with one relayed opportunity at a time instead of the engine's output.

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

    async def head(self) -> int:
        return await self.rpc.block_number()

    async def execute(self, opp: Opportunity, received_at: float) -> Execution:
        async with self._lock:
            before = set(self.bot._tracking)
            self.feed.feed([opp])
            report = await self.bot.process_block(received_at=received_at)
            tracking = [t for t in self.bot._tracking if t not in before]
        if report.dispatches:
            settled: asyncio.Future[Outcome] | None = tracking[0] if tracking else None  # type: ignore[assignment]
            return Execution("sent", "ok", dispatch=report.dispatches[0], settled=settled)
        if report.refusals:
            r = report.refusals[0]
            return Execution(r.decision, r.reason, r.detail)
        return Execution("drop", "no_decision")

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
