"""``flasharb scan`` (engine -> relay), ``flasharb agent`` (relay -> the bot's stage code) and ``flasharb record``
(results -> the one P&L store): the scanner-plus-agents mode over NATS JetStream. ``flasharb run`` stays the
single-process default."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from pathlib import Path

import click

from flasharb.cli import settings, state
from flasharb.exceptions import ConfigError

_nats = click.option(
    "--nats-url", default="nats://127.0.0.1:4222", show_default=True, envvar="FLASHARB_NATS_URL",
    help="NATS server with JetStream (tools/nats-server.sh DATA_DIR starts one on loopback).",
)  # fmt: skip
_rpc = click.option("--rpc-url", "rpc_urls", multiple=True, help="RPC endpoint(s), in failover order.")
_replica = click.option(
    "--replica", "replica_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
    help="The local replica described by this file; else Polygon mainnet.",
)  # fmt: skip


def _engine_config(replica_file: Path | None, deadline_blocks: int | None):
    from flasharb.engine import EngineConfig
    from flasharb.replica import Replica

    extra = {"deadline_blocks": deadline_blocks} if deadline_blocks else {}
    if replica_file:
        return EngineConfig.from_replica(Replica.load(replica_file), **extra)
    return EngineConfig.polygon_mainnet(**extra) if extra else EngineConfig.polygon_mainnet()


def _liquidation_config(replica_file: Path | None):
    """The Aave market ``--liquidations`` watches: the replica's (its ``-aave.json`` beside the replica
    file), or Polygon's."""
    from flasharb.aave.strategy import LiquidationConfig
    from flasharb.devchain import ReplicaAave

    if replica_file:
        aave_file = replica_file.with_name(replica_file.stem + "-aave.json")
        return LiquidationConfig.from_replica(ReplicaAave.load(aave_file))
    return LiquidationConfig.polygon_mainnet()


def _urls(ctx, rpc_urls) -> tuple[str, ...]:
    cfg = settings(ctx)
    urls = tuple(rpc_urls) or ((str(cfg.rpc_url),) if cfg.rpc_url else ())
    if not urls:
        raise ConfigError("no RPC endpoint: pass --rpc-url (or set FLASHARB_RPC_URL)")
    return urls


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


@click.command("scan")
@_nats
@_rpc
@_replica
@click.option("--deadline-blocks", type=int, default=None, help="Blocks an opportunity stays valid.")
@click.option("--blocks", type=int, default=None, help="Stop after this many heads [default: until signalled].")
@click.option(
    "--liquidations",
    is_flag=True,
    help="Also publish Aave V3 liquidations of borrowers under health factor 1 (the replica's market, else "
    "Polygon's).",
)
@click.pass_context
def scan(ctx, nats_url, rpc_urls, replica_file, deadline_blocks, blocks, liquidations):
    """Per new head: collect, sync, detect, size, and publish each opportunity to the relay."""
    import nats

    from flasharb.cli import err
    from flasharb.engine import Engine
    from flasharb.relay.broker import RelayLayout, ensure_relay
    from flasharb.relay.publisher import Publisher, scan_once
    from flasharb.tx import RpcClient, parse_endpoints

    urls = _urls(ctx, rpc_urls)
    config = _engine_config(replica_file, deadline_blocks)
    liquidation_config = _liquidation_config(replica_file) if liquidations else None
    state_dir = (state(ctx).config_file.parent if state(ctx).config_file else Path.cwd()) / ".flasharb"
    state_dir.mkdir(parents=True, exist_ok=True)

    async def main() -> None:
        stop = _stop_on_signals()
        nc = await nats.connect(nats_url, max_reconnect_attempts=-1)
        js = nc.jetstream()
        layout = RelayLayout(config.chain_id)
        await ensure_relay(js, layout)
        publisher = Publisher(js, layout)
        engine = Engine.connect(config, urls[0], registry_path=state_dir / f"registry-{config.chain_id}.sqlite")
        if liquidation_config is not None:  # the liquidation strategy beside the engine, as `flasharb run`
            from flasharb.aave.strategy import LiquidationStrategy
            from flasharb.bot.sources import StrategySet

            book = str(state_dir / f"borrowers-{config.chain_id}.sqlite")
            try:
                strategy = LiquidationStrategy.connect(liquidation_config, engine, urls[0], book_path=book)
            except BaseException:
                engine.close()
                raise
            engine = StrategySet(engine, [strategy])
        try:
            await publisher.publish_all(engine.start())

            async def follow() -> None:
                seen = 0
                async with RpcClient(parse_endpoints(list(urls))) as rpc, rpc.heads() as heads:
                    async for _head in heads:
                        out = await scan_once(engine, publisher)
                        err.print(f"block {engine.last_update.head.number if engine.last_update else '?'}: "
                                  f"published {len(out)}")  # fmt: skip
                        seen += 1
                        if stop.is_set() or (blocks is not None and seen >= blocks):
                            break

            # a signal ends the wait for the next head too (no new block may ever come)
            follower, stopper = asyncio.create_task(follow()), asyncio.create_task(stop.wait())
            await asyncio.wait({follower, stopper}, return_when=asyncio.FIRST_COMPLETED)
            stopper.cancel()
            if not follower.done():
                follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
        finally:
            engine.close()
            await nc.drain()

    asyncio.run(main())


@click.command("agent")
@_nats
@_rpc
@click.option("--executor", required=True, help="The deployed FlashArbExecutor.")
@click.option("--chain-id", type=int, required=True, help="The chain whose opportunities this agent takes.")
@click.option("--account", default=None, help="ape keystore alias that signs (else FLASHARB_PRIVATE_KEY).")
@click.option("--name", default=None, help="Agent name in claims and results [default: the signer address].")
@click.option("--db", default=None, help="P&L database URL [default: flasharb.db by the config].")
@click.option("--max-loan", type=int, default=None, help="Largest loan per token, base units (else refuse all).")
@click.option("--block-time", type=float, default=2.0, show_default=True, help="Seconds per block (claim TTLs).")
@click.option("--pool-ttl", type=float, default=60.0, show_default=True, help="Seconds a pool claim lives at most.")
@click.option("--concurrency", type=int, default=64, show_default=True, help="Messages handled at once.")
@click.option("--metrics-port", type=int, default=None, help="Serve the relay's Prometheus metrics on this port.")
@click.option(
    "--max-in-flight",
    type=int,
    default=8,
    show_default=True,
    help="Transactions of this account pending at once (its nonces are consecutive; risk checks run in turn).",
)
@click.option("--dry-run", is_flag=True, help="Do everything but send.")
@click.pass_context
def agent(ctx, nats_url, rpc_urls, executor, chain_id, account, name, db, max_loan, block_time, pool_ttl,
          concurrency, metrics_port, max_in_flight, dry_run):  # fmt: skip
    """Pull opportunities, drop stale ones, claim, simulate, check risk, sign, send, track, publish results."""
    import nats

    from flasharb.cli.report import database_url
    from flasharb.relay.agent import Agent
    from flasharb.relay.broker import RelayLayout, ensure_relay
    from flasharb.relay.execution import AgentSpec, open_agent_executor
    from flasharb.risk import RiskLimits
    from flasharb.tx import Signer

    urls = _urls(ctx, rpc_urls)
    cfg = settings(ctx, account=account) if account else settings(ctx)
    signer = Signer.from_settings(cfg)
    root = state(ctx).config_file.parent if state(ctx).config_file else Path.cwd()
    spec = AgentSpec(
        rpc_urls=urls,
        executor=executor,
        chain_id=chain_id,
        database_url=database_url(ctx, db),
        state_dir=root / ".flasharb" / f"agent-{signer.address.lower()}",
        limits=RiskLimits(max_loan_default=max_loan, chain_id=chain_id, max_in_flight=max_in_flight),
        dry_run=dry_run,
    )

    async def main() -> None:
        nc = await nats.connect(nats_url, max_reconnect_attempts=-1)
        js = nc.jetstream()
        layout = RelayLayout(chain_id)
        kv = await ensure_relay(js, layout)
        async with open_agent_executor(spec, signer) as ex:
            a = Agent(nc, js, kv, layout, ex, name=name or signer.address, block_time=block_time,
                      pool_ttl=pool_ttl, concurrency=concurrency)  # fmt: skip
            server = a.metrics.serve(metrics_port) if metrics_port else None
            stop = _stop_on_signals()
            stopper = asyncio.create_task(stop.wait())
            stopper.add_done_callback(lambda _: a.stop.set())
            try:
                await a.run()
            finally:
                stopper.cancel()
                if server is not None:
                    server.shutdown()
        await nc.drain()

    asyncio.run(main())


@click.command("record")
@_nats
@click.option("--chain-id", type=int, required=True, help="The chain whose results to record.")
@click.option("--db", default=None, help="The P&L database URL [default: flasharb.db by the config].")
@click.option("--metrics-port", type=int, default=None, help="Serve the recorder's Prometheus metrics on this port.")
@click.pass_context
def record(ctx, nats_url, chain_id, db, metrics_port):
    """Write every agent's decisions and outcomes (the results stream) into one P&L store, exactly once."""
    import nats

    from flasharb.cli import err
    from flasharb.cli.report import database_url
    from flasharb.relay.broker import RelayLayout, ensure_relay
    from flasharb.relay.recorder import Recorder
    from flasharb.store import Store

    url = database_url(ctx, db)

    async def main() -> None:
        nc = await nats.connect(nats_url, max_reconnect_attempts=-1)
        js = nc.jetstream()
        layout = RelayLayout(chain_id)
        await ensure_relay(js, layout)
        store = await asyncio.to_thread(Store.open, url)
        rec = Recorder(js, layout, store)
        server = rec.metrics.serve(metrics_port) if metrics_port else None
        stop = _stop_on_signals()
        stopper = asyncio.create_task(stop.wait())
        stopper.add_done_callback(lambda _: rec.stop.set())
        err.print(f"recording results of chain {chain_id} into {store.url}")
        try:
            await rec.run()
        finally:
            stopper.cancel()
            if server is not None:
                server.shutdown()
            store.close()
            await nc.drain()
        s = rec.stats
        err.print(f"recorded {s.recorded}, duplicates {s.duplicates}, skipped {s.skipped}, unrecordable {s.bad}")

    asyncio.run(main())
