"""``flasharb deploy``: deploy (or find) the executor, configure it, record it (see ``flasharb.deploy``)."""

from __future__ import annotations

import json

import click

from flasharb.cli import err, out, settings, setup_logging


@click.command("deploy")
@click.option("-n", "--network", default=None, help="ape network choice [default: ethereum:local:foundry].")
@click.option(
    "--rpc-url", default=None, help="Node URL for the network (overrides config and ape-config.yaml)."
)
@click.option(
    "--account", default=None, help="ape keystore alias; passphrase from APE_ACCOUNTS_<alias>_PASSPHRASE."
)
@click.option("--owner", default=None, help="Final owner (two-step transfer; default: the signer).")
@click.option("--profit-receiver", default=None, help="Profit receiver [default: the owner].")
@click.option(
    "--executor", "executors", multiple=True, help="Address allowed to call execute() (repeatable)."
)
@click.option("--aave-pool", default=None, help="Aave V3 Pool (default: known for the chain / the replica).")
@click.option("--balancer-vault", default=None, help="Balancer V2 Vault (default: known / the replica).")
@click.option("--redeploy", is_flag=True, help="Deploy a new executor even if the recorded one matches.")
@click.option("--json", "as_json", is_flag=True, help="Print the deployment record as JSON.")
@click.pass_context
def cli(
    ctx: click.Context, as_json: bool, redeploy: bool, executors: tuple[str, ...], **options: str | None
) -> None:
    """Deploy FlashArbExecutor from forge's out/ and record it in deployments/<chainId>.json.

    Idempotent: with the same artifact and lenders the recorded executor is reused, and only the profit
    receiver, the executor allow-list and the owner are brought in line. Signs with --account (ape keystore)
    or FLASHARB_PRIVATE_KEY.
    """
    cfg = settings(ctx, executors=executors or None, **options)
    setup_logging(ctx, ape=True)
    from flasharb.deploy import deploy_executor

    with err.status(f"deploying on {cfg.network}…") if not as_json else _Null():
        outcome = deploy_executor(cfg, redeploy=redeploy)
    record = outcome.record
    if as_json:
        payload = {"action": outcome.action, "chain_id": outcome.chain_id, "changes": outcome.changes}
        payload |= {"record_file": str(outcome.record_path), "record": record.model_dump(mode="json")}
        click.echo(json.dumps(payload, indent=2))
        return

    from rich.table import Table

    verb = {"deployed": "Deployed", "unchanged": "Unchanged", "reconfigured": "Reconfigured"}[outcome.action]
    table = Table(
        title=f"{verb}: FlashArbExecutor on chain {outcome.chain_id}", show_header=False, title_justify="left"
    )
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("address", record.address),
        ("tx", f"{record.tx_hash} (block {record.block_number})"),
        ("owner", record.owner + (f" (pending: {record.pending_owner})" if record.pending_owner else "")),
        ("profit receiver", record.profit_receiver),
        ("executors", ", ".join(record.executors) or "-"),
        ("lenders", f"Aave {record.aave_pool}, Balancer {record.balancer_vault}"),
        ("record", str(outcome.record_path)),
    ]
    if outcome.reason and outcome.action == "deployed":
        rows.append(("why", outcome.reason))
    for label, value in rows:
        table.add_row(label, value)
    out.print(table)
    for change in outcome.changes:
        out.print(f"  sent {change}")
    if record.pending_owner:
        out.print(f"[yellow]{record.pending_owner} must call acceptOwnership() to become the owner[/yellow]")


class _Null:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None
