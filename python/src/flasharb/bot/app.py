"""Assembling a bot from its parts (shared by ``flasharb run`` and the demo) and the long-running loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flasharb.bot.pipeline import BlockReport, Bot
from flasharb.bot.simulate import Simulator
from flasharb.engine import Engine, EngineConfig
from flasharb.metrics import BotMetrics
from flasharb.risk import RiskLimits, RiskManager
from flasharb.store import Store
from flasharb.tx import FeeOracle, FeePolicy, NonceManager, RpcClient, Signer, TxSender, parse_endpoints

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BotSpec:
    """Everything a bot needs besides its signer's secret."""

    rpc_urls: tuple[str, ...]
    executor: str
    engine_config: EngineConfig
    database_url: str
    state_dir: Path  # registry and nonce files
    limits: RiskLimits
    dry_run: bool = False
    gas_price: int | None = None  # fixed gas price for costing (else eth_gasPrice)
    liquidations: Any = None  # flasharb.aave.strategy.LiquidationConfig: also liquidate on that Aave market


@contextlib.asynccontextmanager
async def assemble_bot(
    engine: Any,
    signer: Signer,
    *,
    rpc_urls: tuple[str, ...],
    executor: str,
    chain_id: int,
    database_url: str,
    state_dir: Path,
    limits: RiskLimits,
    dry_run: bool = False,
    **bot_kwargs: Any,
) -> AsyncIterator[Bot]:
    """The bot around any opportunity source with ``step()`` (the engine, or a relay feed): store, RPC client,
    nonces, fees, sender (recovered), simulator, risk and metrics. On exit, in-flight transactions are drained."""
    state_dir.mkdir(parents=True, exist_ok=True)
    store = Store.open(database_url)
    try:
        async with RpcClient(parse_endpoints(list(rpc_urls))) as rpc:
            nonces = await NonceManager.open(rpc, signer.address, state_dir / "nonces.sqlite")
            try:
                fees = FeeOracle(rpc, FeePolicy())
                await fees.refresh()
                sender = TxSender(rpc, signer, nonces, fees=fees, executor=executor, dry_run=dry_run)
                await sender.recover()
                bot = Bot(
                    engine=engine,
                    sender=sender,
                    simulator=Simulator(rpc, executor, signer.address),
                    risk=RiskManager(limits),
                    store=store,
                    metrics=BotMetrics(),
                    executor=executor,
                    chain_id=chain_id,
                    **bot_kwargs,
                )
                yield bot
                await bot.drain()
            finally:
                nonces.close()
    finally:
        store.close()


@contextlib.asynccontextmanager
async def open_bot(spec: BotSpec, signer: Signer) -> AsyncIterator[Bot]:
    """The single-process bot: the engine on ``spec``'s chain (with the liquidation strategy beside it when
    ``spec.liquidations`` is set), assembled by ``assemble_bot``."""
    spec.state_dir.mkdir(parents=True, exist_ok=True)
    chain_id = spec.engine_config.chain_id
    engine = Engine.connect(
        spec.engine_config,
        spec.rpc_urls[0],
        registry_path=spec.state_dir / f"registry-{chain_id}.sqlite",
        gas_price=spec.gas_price,
    )
    source: Any = engine
    if spec.liquidations is not None:
        from flasharb.aave.strategy import LiquidationStrategy
        from flasharb.bot.sources import StrategySet

        liquidations = LiquidationStrategy.connect(
            spec.liquidations, engine, spec.rpc_urls[0], book_path=str(spec.state_dir / f"borrowers-{chain_id}.sqlite")
        )
        source = StrategySet(engine, [liquidations])
    try:
        async with assemble_bot(
            source,
            signer,
            rpc_urls=spec.rpc_urls,
            executor=spec.executor,
            chain_id=spec.engine_config.chain_id,
            database_url=spec.database_url,
            state_dir=spec.state_dir,
            limits=spec.limits,
            dry_run=spec.dry_run,
        ) as bot:
            for strategy in getattr(source, "strategies", ()):
                if hasattr(strategy, "stats"):
                    bot.metrics.bind_liquidations(strategy.stats)
            yield bot
    finally:
        source.close()


async def run_forever(bot: Bot, rpc: RpcClient, *, blocks: int | None = None, on_block=None) -> None:
    """Per new head: the pipeline. SIGINT/SIGTERM stop taking new blocks at once (even between heads); the
    transactions in flight are then tracked to their outcome and recorded before this returns."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        bot.start()
        seen = 0
        stopped = asyncio.create_task(stop.wait())
        async with rpc.heads() as heads:
            stream = aiter(heads)
            while not stop.is_set():
                nxt = asyncio.ensure_future(anext(stream))
                done, _ = await asyncio.wait({nxt, stopped}, return_when=asyncio.FIRST_COMPLETED)
                if nxt not in done:
                    nxt.cancel()
                    break
                head = nxt.result()
                report: BlockReport | None = await bot.tick(received_at=getattr(head, "received_at", None))
                if report is not None and on_block is not None:
                    on_block(report)
                seen += 1
                if blocks is not None and seen >= blocks:
                    break
        stopped.cancel()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)
    await bot.drain()
