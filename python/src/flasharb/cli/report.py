"""``flasharb report``: P&L by day, route shape and DEX, simulation accuracy, refusals (flasharb.report)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from flasharb.cli import err, out, settings, state


def database_url(ctx: click.Context, db: str | None) -> str:
    """``--db``, else the settings' ``database_url``, else ``flasharb.db`` by the config (or repo root)."""
    if db:
        return db
    cfg = settings(ctx)
    configured = getattr(cfg, "database_url", None)
    if configured:
        return str(configured.get_secret_value() if hasattr(configured, "get_secret_value") else configured)
    from flasharb.settings import CONFIG_ENV
    from flasharb.store import default_database_url

    config_file = state(ctx).config_file or os.environ.get(CONFIG_ENV) or None
    return default_database_url(config_file, cfg.root)


def _utc(day: datetime | None) -> datetime | None:
    return None if day is None else day.replace(tzinfo=UTC)


@click.command("report")
@click.option(
    "--db",
    default=None,
    help="Database URL [default: settings' database_url, else flasharb.db by the config].",
)
@click.option(
    "--csv",
    "csv_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Also write each table as DIR/<table>.csv (raw integer amounts).",
)
@click.option(
    "--json",
    "json_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write the summary (executed, profitable, reverted, refused, ...) as JSON.",
)
@click.option(
    "--since", type=click.DateTime(["%Y-%m-%d"]), default=None, help="From this UTC day (YYYY-MM-DD)."
)
@click.option(
    "--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Through this UTC day, inclusive."
)
@click.option(
    "--days", type=click.IntRange(min=1), default=None, help="The last N days (instead of --since)."
)
@click.option("--chain-id", type=int, default=None, help="Only this chain.")
@click.option("-q", "--quiet", is_flag=True, help="No tables on stdout (with --csv/--json).")
@click.pass_context
def cli(
    ctx: click.Context,
    db: str | None,
    csv_dir: Path | None,
    json_file: Path | None,
    since: datetime | None,
    until: datetime | None,
    days: int | None,
    chain_id: int | None,
    quiet: bool,
) -> None:
    """Print the P&L report of the bot's database as tables; export them with --csv."""
    from flasharb.report import build_report, render, write_csv
    from flasharb.store import Store

    if days is not None and since is not None:
        raise click.UsageError("give --since or --days, not both")
    now = datetime.now(UTC)
    start = _utc(since)
    if days is not None:
        start = (now - timedelta(days=days - 1)).replace(hour=0, minute=0, second=0, microsecond=0)
    end = None if until is None else until.replace(tzinfo=UTC) + timedelta(days=1)
    if start is not None and end is not None and end <= start:
        raise click.UsageError("--until is before --since")

    with Store.open(database_url(ctx, db), create=False) as store:
        report = build_report(store, since=start, until=end, chain_id=chain_id, now=now)
    if not quiet:
        render(report, out)
    if csv_dir is not None:
        paths = write_csv(report, csv_dir)
        err.print(f"wrote {len(paths)} CSV files to {csv_dir}")
    if json_file is not None:
        import json

        json_file.parent.mkdir(parents=True, exist_ok=True)
        json_file.write_text(json.dumps(report.summary, indent=2) + "\n", encoding="utf-8")
        err.print(f"wrote {json_file}")
