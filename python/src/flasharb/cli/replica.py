"""``flasharb replica``: the local Polygon replica (tools/deploy-replica.sh puts it on a running anvil)."""

from __future__ import annotations

import click

from flasharb.cli import out, settings


@click.group("replica")
def cli() -> None:
    """The local Polygon replica's addresses."""


@cli.command("show")
@click.option("--chain-id", type=int, default=31337, show_default=True)
@click.pass_context
def show(ctx: click.Context, chain_id: int) -> None:
    """Print the replica's protocol addresses from deployments/replica-<chainId>.json."""
    from rich.table import Table

    from flasharb.replica import Replica

    cfg = settings(ctx)
    replica = Replica.load(cfg.deployments_path / f"replica-{chain_id}.json")
    table = Table(title=f"Replica on chain {replica.chain_id}", title_justify="left")
    table.add_column("what")
    table.add_column("address")
    table.add_row("Aave V3 Pool", replica.aave_v3.pool)
    table.add_row("Balancer V2 Vault", replica.balancer_v2.vault)
    table.add_row("QuickSwap factory", replica.quickswap.factory)
    table.add_row("SushiSwap factory", replica.sushiswap.factory)
    table.add_row("Uniswap V3 factory", replica.uniswap_v3.factory)
    for symbol, token in sorted(replica.tokens.items()):
        table.add_row(symbol, token.address)
    table.add_row("pools", f"{len(replica.pools.v2)} V2, {len(replica.pools.v3)} V3")
    out.print(table)
