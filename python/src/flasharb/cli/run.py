"""``flasharb run``: the bot (single process, no broker) and ``flasharb demo``: the main job on a local chain."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from flasharb.cli import settings, state
from flasharb.exceptions import ConfigError


@click.command("run")
@click.option("--executor", required=True, help="The deployed FlashArbExecutor (see deployments/<chainId>.json).")
@click.option("--rpc-url", "rpc_urls", multiple=True, help="RPC endpoint(s), in failover order [default: settings].")
@click.option(
    "--replica",
    "replica_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Trade the local replica described by this file (deployments/replica-31337.json); else Polygon mainnet.",
)
@click.option("--db", default=None, help="P&L database URL [default: flasharb.db by the config].")
@click.option("--blocks", type=int, default=None, help="Stop after this many blocks [default: run until signalled].")
@click.option("--dry-run", is_flag=True, help="Do everything but send.")
@click.option("--live", is_flag=True, help="A live view of each block in the terminal.")
@click.option(
    "--max-loan",
    type=int,
    default=None,
    help="Largest loan per token, in base units. Without it every opportunity is refused (safe default).",
)
@click.option("--metrics-port", type=int, default=None, help="Serve Prometheus metrics on this port.")
@click.option(
    "--liquidations",
    is_flag=True,
    help="Also liquidate Aave V3 borrowers under health factor 1 (the replica's market, or Polygon's).",
)
@click.pass_context
def cli(ctx, executor, rpc_urls, replica_file, db, blocks, dry_run, live, max_loan, metrics_port, liquidations):
    """Run the bot: per block sync, detect, size, simulate, check risk, sign, send, track and record."""
    from rich.console import Console
    from rich.live import Live
    from rich.table import Table

    from flasharb.bot.app import BotSpec, open_bot, run_forever
    from flasharb.cli.report import database_url
    from flasharb.engine import EngineConfig
    from flasharb.replica import Replica
    from flasharb.risk import RiskLimits
    from flasharb.tx import Signer

    cfg = settings(ctx)
    urls = tuple(rpc_urls) or ((str(cfg.rpc_url),) if cfg.rpc_url else ())
    if not urls:
        raise ConfigError("no RPC endpoint: pass --rpc-url (or set FLASHARB_RPC_URL)")
    engine_config = (
        EngineConfig.from_replica(Replica.load(replica_file)) if replica_file else EngineConfig.polygon_mainnet()
    )
    signer = Signer.from_settings(cfg)
    liquidation_config = None
    if liquidations:
        from flasharb.aave.strategy import LiquidationConfig
        from flasharb.devchain import ReplicaAave

        if replica_file:
            aave_file = replica_file.with_name(replica_file.stem + "-aave.json")
            liquidation_config = LiquidationConfig.from_replica(ReplicaAave.load(aave_file))
        else:
            liquidation_config = LiquidationConfig.polygon_mainnet()
    spec = BotSpec(
        rpc_urls=urls,
        executor=executor,
        engine_config=engine_config,
        database_url=database_url(ctx, db),
        state_dir=(state(ctx).config_file.parent if state(ctx).config_file else cfg.root) / ".flasharb",
        limits=RiskLimits(
            max_loan_default=max_loan,
            chain_id=engine_config.chain_id,
        ),
        dry_run=dry_run,
        liquidations=liquidation_config,
    )
    console = Console()
    table = Table("block", "opportunities", "sent", "refused/dropped", "head->send ms")

    async def main() -> None:
        async with open_bot(spec, signer) as bot:
            server = bot.metrics.serve(metrics_port) if metrics_port else None
            try:
                def on_block(report) -> None:
                    ms = ", ".join(f"{d.head_to_send_ms:.1f}" for d in report.dispatches)
                    table.add_row(
                        str(report.number), str(report.opportunities), str(len(report.dispatches)),
                        str(len(report.refusals)), ms,
                    )
                    if not live:
                        console.print(f"block {report.number}: {report.opportunities} found, "
                                      f"{len(report.dispatches)} sent {ms}")

                rpc = bot.sender.rpc
                if live:
                    with Live(table, console=console, refresh_per_second=4):
                        await run_forever(bot, rpc, blocks=blocks, on_block=on_block)
                else:
                    await run_forever(bot, rpc, blocks=blocks, on_block=on_block)
            finally:
                if server is not None:
                    server.stop()

    asyncio.run(main())


@click.command("demo")
@click.option("--blocks", type=int, default=40, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True)
def demo(blocks: int, seed: int) -> None:
    """The main job on a local chain: anvil + replica + executor + a seeded market + the bot, then the report."""
    from flasharb.demo.run import main

    raise SystemExit(main(blocks=blocks, seed=seed))
