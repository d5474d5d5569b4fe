"""``flasharb verify``: publish the executor's source on Polygonscan (see ``flasharb.verify``)."""

from __future__ import annotations

import click

from flasharb.cli import out, settings, setup_logging


@click.command("verify")
@click.option(
    "-n", "--network", default=None, help="polygon:mainnet or polygon:amoy [default: from settings]."
)
@click.option("--chain-id", type=click.Choice(["137", "80002"]), default=None, help="Instead of --network.")
@click.option(
    "--all-sources", is_flag=True, help="Send every source of the forge build, not just the imports."
)
@click.option("--no-wait", is_flag=True, help="Submit and print the GUID without polling.")
@click.option("--guid", default=None, help="Only poll an earlier submission.")
@click.pass_context
def cli(
    ctx: click.Context,
    network: str | None,
    chain_id: str | None,
    all_sources: bool,
    no_wait: bool,
    guid: str | None,
) -> None:
    """Verify the recorded executor (deployments/<chainId>.json) with the build in out/.

    Needs ETHERSCAN_API_KEY; the API URL can be changed with FLASHARB_ETHERSCAN_API_URL.
    """
    cfg = settings(ctx, network=network)
    setup_logging(ctx)
    from flasharb.verify import chain_id_for_network, verify_executor

    chain = int(chain_id) if chain_id else chain_id_for_network(cfg.network)
    result = verify_executor(cfg, chain, all_sources=all_sources, wait=not no_wait, guid=guid)
    if result.status == "submitted":
        out.print(
            f"Submitted {result.address}; guid {result.guid} (poll: flasharb verify --guid {result.guid})"
        )
    elif result.status == "already_verified":
        out.print(f"[green]Already verified[/green] {result.address}: {result.explorer_url}")
    else:
        out.print(f"[green]Verified[/green] {result.address} ({result.message}): {result.explorer_url}")
