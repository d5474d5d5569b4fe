"""The P&L report: what the bot earned (by day, route shape and DEX), how exact its simulation was, and why it
refused. ``build_report(store)`` computes plain tables from the P&L store; ``render`` prints them as rich
tables and ``write_csv`` exports the same tables, one CSV file each. ``Report.summary`` is the headline as a
dict (``bench/results/demo.json`` takes it as is).

Amounts are exact integers in the loan token's base units, and tables are per token (a wei of USDC and a wei
of WETH do not add up). The terminal shows them scaled by the token's decimals when the store knows the token
(``Store.record_token``); CSV files keep the raw integers and add a ``decimals`` column.

Net P&L of a landed transaction = the executor's ``RunExecuted.profit`` (already net of the flash-loan
premium) less the gas paid, converted to the loan token by the bot when it recorded the result; a reverted
transaction has profit 0 and loses its gas. A run that touched several DEXes counts once for each in the
by-DEX table.
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flasharb.store import DecisionKind, ResultView, Store, TxStatus

if TYPE_CHECKING:
    from rich.console import Console

PNL_COLUMNS = (
    "landed",
    "succeeded",
    "reverted",
    "realized_profit",
    "premium",
    "gas_native",
    "gas_token",
    "net_pnl",
)
AMOUNT_COLUMNS = frozenset({"realized_profit", "premium", "gas_token", "net_pnl"})


@dataclass(frozen=True)
class ReportTable:
    """One table: ``name`` is its CSV file's stem; ``rows`` hold raw values (ints exact)."""

    name: str
    title: str
    columns: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    def as_dicts(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, row, strict=True)) for row in self.rows]


@dataclass(frozen=True)
class Report:
    database: str  # URL, password masked
    generated_at: datetime
    since: datetime | None
    until: datetime | None
    tables: tuple[ReportTable, ...]
    summary: dict[str, Any]
    decimals: dict[str, int] = field(default_factory=dict)  # token label -> decimals, where known

    def table(self, name: str) -> ReportTable:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)


# ---------------------------------------------------------------------------------------------- building
def _new_pnl() -> dict[str, int]:
    return dict.fromkeys(PNL_COLUMNS, 0)


def _add(acc: dict[str, int], r: ResultView) -> None:
    acc["landed"] += 1
    acc["succeeded"] += 1 if r.success else 0
    acc["reverted"] += 0 if r.success else 1
    acc["realized_profit"] += r.realized_profit
    acc["premium"] += r.premium
    acc["gas_native"] += r.gas_cost_native
    acc["gas_token"] += r.gas_cost_token
    acc["net_pnl"] += r.net_profit


def _pnl_table(
    name: str,
    title: str,
    key_columns: tuple[str, ...],
    results: Iterable[ResultView],
    keys: Callable[[ResultView], Iterable[tuple[Any, ...]]],
    label: Callable[[ResultView], str],
) -> ReportTable:
    groups: dict[tuple[Any, ...], dict[str, int]] = defaultdict(_new_pnl)
    for r in results:
        for key in keys(r):
            _add(groups[(*key, label(r))], r)
    rows = [
        (*key, *(acc[c] for c in PNL_COLUMNS)) for key, acc in sorted(groups.items(), key=lambda kv: kv[0])
    ]
    return ReportTable(name, title, (*key_columns, "token", *PNL_COLUMNS), rows)


_CENT = Decimal("0.01")


def _mean(total: int, n: int) -> Decimal:
    """``total / n`` to two decimals, exact for any integer size (0 when n is 0)."""
    if not n:
        return Decimal(0)
    with localcontext() as ctx:
        ctx.prec = 100
        return (Decimal(total) / Decimal(n)).quantize(_CENT)


def _pct(part: int, whole: int) -> Decimal:
    return _mean(part * 100, whole)


def build_report(
    store: Store,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    chain_id: int | None = None,
    now: datetime | None = None,
) -> Report:
    """Every table of the report over ``since <= time < until`` (UTC; None: unbounded)."""
    results = store.result_rows(since=since, until=until, chain_id=chain_id)
    decisions = store.decision_counts(since=since, until=until, chain_id=chain_id)
    tx_counts = store.tx_status_counts(since=since, until=until, chain_id=chain_id)
    opportunities = store.opportunity_count(since=since, until=until, chain_id=chain_id)
    tokens = store.tokens()

    # Token labels: the symbol, or symbol and address when two known tokens share a symbol (bridged and
    # native).
    clashes = Counter(info.symbol for info in tokens.values())
    labels: dict[tuple[int, str], str] = {}
    decimals: dict[str, int] = {}
    for (chain, address), info in tokens.items():
        lab = info.symbol if clashes[info.symbol] == 1 else f"{info.symbol} ({address[:8]})"
        labels[(chain, address)] = lab
        decimals[lab] = info.decimals

    def label(r: ResultView) -> str:
        return labels.get((r.chain_id, r.loan_token), r.loan_token)

    by_token = _pnl_table("pnl_by_token", "P&L by token", (), results, lambda r: [()], label)
    by_strategy = _pnl_table(
        "pnl_by_strategy", "P&L by strategy", ("strategy",), results, lambda r: [(r.strategy or "?",)], label
    )
    by_day = _pnl_table(
        "pnl_by_day", "P&L by day (UTC)", ("day",), results, lambda r: [(r.day.isoformat(),)], label
    )
    by_route = _pnl_table(
        "pnl_by_route",
        "P&L by route shape",
        ("route_shape",),
        results,
        lambda r: [(r.route_shape or "?",)],
        label,
    )
    by_dex = _pnl_table(
        "pnl_by_dex",
        "P&L by DEX (a run counts once for each DEX it used)",
        ("dex",),
        results,
        lambda r: [(d,) for d in sorted(set(r.dexes))] or [("?",)],
        label,
    )

    # Simulation accuracy: successful runs only (a revert has nothing to compare).
    acc: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # runs, exact, sum |err|, max |err|
    for r in results:
        if not r.success:
            continue
        err = abs(r.realized_profit - r.predicted_profit)
        a = acc[label(r)]
        a[0] += 1
        a[1] += 1 if r.exact else 0
        a[2] += err
        a[3] = max(a[3], err)
    accuracy = ReportTable(
        "accuracy",
        "Simulation accuracy (predicted vs realized RunExecuted profit)",
        ("token", "runs", "exact_to_the_wei", "exact_pct", "mean_abs_error_wei", "max_abs_error_wei"),
        [
            (token, runs, exact, _pct(exact, runs), _mean(total, runs), worst)
            for token, (runs, exact, total, worst) in sorted(acc.items())
        ],
    )

    not_executed = [d for d in decisions if d.decision is not DecisionKind.EXECUTE]
    total_no = sum(d.count for d in not_executed)
    refusals = ReportTable(
        "refusals",
        "Refusals and drops by reason",
        ("decision", "reason", "count", "share_pct", "last_at", "last_detail"),
        [
            (
                d.decision.value,
                d.reason,
                d.count,
                _pct(d.count, total_no),
                d.last_at.isoformat(timespec="seconds"),
                d.last_detail,
            )
            for d in not_executed
        ],
    )

    count = dict.fromkeys(DecisionKind, 0)
    for d in decisions:
        count[d.decision] += d.count
    succeeded = [r for r in results if r.success]
    profit_by_token: dict[str, int] = defaultdict(int)
    for r in results:
        profit_by_token[label(r)] += r.net_profit
    summary = {
        "opportunities": opportunities,
        "decided_execute": count[DecisionKind.EXECUTE],
        "refused": count[DecisionKind.REFUSE],
        "dropped": count[DecisionKind.DROP],
        "sent": sum(tx_counts.values()),
        "executed": len(succeeded),
        "profitable": sum(1 for r in succeeded if r.net_profit > 0),
        "reverted": sum(1 for r in results if not r.success),
        "pending": tx_counts.get(TxStatus.PENDING, 0),
        "replaced": tx_counts.get(TxStatus.REPLACED, 0),
        "dropped_txs": tx_counts.get(TxStatus.DROPPED, 0),
        "predicted_equals_realized": sum(1 for r in succeeded if r.exact),
        "profit_by_token": dict(sorted(profit_by_token.items())),
    }
    summary_table = ReportTable(
        "summary",
        "Summary",
        ("metric", "value"),
        [(k, v) for k, v in summary.items() if k != "profit_by_token"],
    )
    return Report(
        database=store.url,
        generated_at=now or datetime.now(UTC),
        since=since,
        until=until,
        tables=(summary_table, by_token, by_strategy, by_day, by_route, by_dex, accuracy, refusals),
        summary=summary,
        decimals=decimals,
    )


# ---------------------------------------------------------------------------------------------- output
def format_amount(value: int, decimals: int | None) -> str:
    """``value`` base units as a decimal with thousands separators (exact; trailing zeros trimmed)."""
    if decimals is None or decimals == 0:
        return f"{value:,}"
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10**decimals)
    frac_text = f"{frac:0{decimals}d}".rstrip("0")
    return f"{sign}{whole:,}" + (f".{frac_text}" if frac_text else "")


def _cell(table: ReportTable, column: str, row: tuple[Any, ...], value: Any, decimals: dict[str, int]) -> str:
    """Rich markup for one cell: token amounts scaled by the row's token decimals, net P&L coloured."""
    from rich.markup import escape

    if column in AMOUNT_COLUMNS and isinstance(value, int):
        token = row[table.columns.index("token")] if "token" in table.columns else None
        text = format_amount(value, decimals.get(token) if token is not None else None)
        if column == "net_pnl" and value:
            colour = "green" if value > 0 else "red"
            return f"[{colour}]{text}[/{colour}]"
        return text
    if column == "gas_native" and isinstance(value, int):
        return format_amount(value, 18)  # MATIC/POL, like ETH, has 18 decimals
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return escape(str(value))


_TEXT_COLUMNS = frozenset(
    {"day", "token", "route_shape", "dex", "decision", "reason", "metric", "last_at", "last_detail"}
)


def render(report: Report, console: Console) -> None:
    """The report as rich tables on ``console``."""
    from rich.markup import escape
    from rich.table import Table

    window = (
        f"{report.since.isoformat() if report.since else 'start'} .. "
        f"{report.until.isoformat() if report.until else 'now'}"
    )
    console.print(f"[bold]flasharb P&L report[/bold]  {escape(report.database)}  ({window})")
    for t in report.tables:
        table = Table(title=t.title, title_justify="left")
        for column in t.columns:
            table.add_column(column, justify="left" if column in _TEXT_COLUMNS else "right", overflow="fold")
        for row in t.rows:
            table.add_row(
                *(_cell(t, c, row, v, report.decimals) for c, v in zip(t.columns, row, strict=True))
            )
        if not t.rows:
            table.add_row("(none)", *([""] * (len(t.columns) - 1)))
        console.print(table)


def write_csv(report: Report, folder: str | Path) -> list[Path]:
    """One ``<table>.csv`` per table in ``folder`` (created), raw exact values; the paths written."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for t in report.tables:
        path = out / f"{t.name}.csv"
        with_decimals = "token" in t.columns
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow([*t.columns, *(["decimals"] if with_decimals else [])])
            for row in t.rows:
                extra: Sequence[Any] = ()
                if with_decimals:
                    extra = (report.decimals.get(row[t.columns.index("token")], ""),)
                writer.writerow([*(_csv_value(v) for v in row), *extra])
        written.append(path)
    return written


def _csv_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return value
