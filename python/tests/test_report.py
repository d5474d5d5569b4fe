"""flasharb.report and ``flasharb report``: tables from a known store, rich output, CSV, CLI options."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from flasharb._cli import cli
from flasharb.report import build_report, format_amount, render, write_csv
from flasharb.route import Lender, Plan, V2Step, V3Step, encode_plan
from flasharb.store import Store, sqlite_url

USDC = "0x2791Bca1f2de4661ED88A30C99A7a9449Aa84174"
WETH = "0x7ceB23fD6bC0adD59E62ac25578270cFf1b9f619"
SENDER = "0x1111111111111111111111111111111111111111"
EXECUTOR = "0x2222222222222222222222222222222222222222"
POOLS = ["0x" + f"{n:040x}" for n in (0xA1, 0xB2, 0xC3)]
DAY1 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
DAY2 = DAY1 + timedelta(days=1)
GAS_NATIVE = 200_000 * 30 * 10**9


def _plan(kinds: tuple[str, ...], token: str) -> bytes:
    steps = [
        V2Step(pool, True, 3000) if kind == "V2" else V3Step(pool, False, token)
        for kind, pool in zip(kinds, POOLS, strict=False)
    ]
    return encode_plan(Plan(Lender.BALANCER, 10**6, token, 10**9, 0, tuple(steps)))


class Book:
    """Writes trades into a store the way the bot does."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.n = 0

    def trade(
        self,
        *,
        at: datetime,
        realized: int,
        predicted: int | None = None,
        gas_token: int,
        token: str = USDC,
        kinds: tuple[str, ...] = ("V2", "V3"),
        dexes: tuple[str, ...] = ("QuickSwap", "UniswapV3"),
        success: bool = True,
    ) -> None:
        self.n += 1
        with self.store.atomic() as b:
            oid = b.record_opportunity(
                chain_id=137,
                block_number=self.n,
                loan_token=token,
                amount_in=10**9,
                expected_profit=realized - gas_token,
                premium=0,
                gas_estimate=200_000,
                plan=_plan(kinds, token),
                dexes=list(dexes),
                pools=POOLS[: len(kinds)],
                created_at=at,
            )
            b.record_decision(oid, "execute", "ok", at=at)
            h = b.record_tx_sent(
                tx_hash="0x" + f"{self.n:064x}",
                chain_id=137,
                nonce=self.n,
                from_address=SENDER,
                to_address=EXECUTOR,
                gas_limit=300_000,
                max_fee_per_gas=50 * 10**9,
                max_priority_fee_per_gas=30 * 10**9,
                opportunity_id=oid,
                sent_at=at,
            )
            b.record_tx_outcome(
                h,
                "mined" if success else "reverted",
                block_number=self.n + 1,
                gas_used=200_000,
                effective_gas_price=30 * 10**9,
                mined_at=at + timedelta(seconds=2),
            )
            b.record_result(
                h,
                success=success,
                loan_token=token,
                realized_profit=realized if success else 0,
                premium=500 if success else 0,
                gas_cost_native=GAS_NATIVE,
                gas_cost_token=gas_token,
                predicted_profit=realized if predicted is None else predicted,
            )

    def refuse(self, reason: str, detail: str, *, at: datetime, decision: str = "refuse") -> None:
        self.n += 1
        oid = self.store.record_opportunity(
            chain_id=137,
            block_number=self.n,
            loan_token=USDC,
            amount_in=10**9,
            expected_profit=1,
            premium=0,
            gas_estimate=200_000,
            plan=_plan(("V2", "V2"), USDC),
            dexes=["QuickSwap", "SushiSwap"],
            pools=POOLS[:2],
            created_at=at,
        )
        self.store.record_decision(oid, decision, reason, detail, at=at)


@pytest.fixture()
def db_url(tmp_path: Path) -> str:
    url = sqlite_url(tmp_path / "flasharb.db")
    with Store.open(url) as store:
        store.record_token(chain_id=137, address=USDC, symbol="USDC", decimals=6)
        store.record_token(chain_id=137, address=WETH, symbol="WETH", decimals=18)
        book = Book(store)
        book.trade(at=DAY1, realized=2_000_000, gas_token=10_000)  # +1.99 USDC, exact
        book.trade(
            at=DAY1,
            realized=1_000_000,
            predicted=1_000_003,
            gas_token=10_000,
            kinds=("V2", "V3", "V2"),
            dexes=("QuickSwap", "UniswapV3", "QuickSwap"),
        )  # off by 3 wei
        book.trade(at=DAY2, realized=0, gas_token=12_000, success=False)  # a revert: -0.012 USDC
        book.trade(
            at=DAY2,
            realized=3 * 10**15,
            gas_token=10**14,
            token=WETH,
            kinds=("V3", "V3"),
            dexes=("UniswapV3", "UniswapV3"),
        )
        book.refuse("profit_too_low", "net 5 < min 10", at=DAY1)
        book.refuse("profit_too_low", "net 7 < min 10", at=DAY2)
        book.refuse("gas_price_too_high", "600 gwei > 500 gwei", at=DAY2)
        book.refuse("simulation_reverted", "InsufficientProfit(4)", at=DAY2, decision="drop")
    return url


@pytest.fixture()
def store(db_url: str):
    with Store.open(db_url) as s:
        yield s


def test_summary(store: Store) -> None:
    s = build_report(store).summary
    assert s == {
        "opportunities": 8,
        "decided_execute": 4,
        "refused": 3,
        "dropped": 1,
        "sent": 4,
        "executed": 3,
        "profitable": 3,
        "reverted": 1,
        "pending": 0,
        "replaced": 0,
        "dropped_txs": 0,
        "predicted_equals_realized": 2,
        "profit_by_token": {"USDC": 1_990_000 + 990_000 - 12_000, "WETH": 29 * 10**14},
    }
    json.dumps(s)  # the demo writes it as JSON


def test_pnl_by_day(store: Store) -> None:
    rows = build_report(store).table("pnl_by_day").as_dicts()
    assert [(r["day"], r["token"]) for r in rows] == [
        ("2026-03-01", "USDC"),
        ("2026-03-02", "USDC"),
        ("2026-03-02", "WETH"),
    ]
    day1 = rows[0]
    assert (day1["landed"], day1["succeeded"], day1["reverted"]) == (2, 2, 0)
    assert day1["realized_profit"] == 3_000_000 and day1["premium"] == 1_000
    assert day1["gas_token"] == 20_000 and day1["gas_native"] == 2 * GAS_NATIVE
    assert day1["net_pnl"] == 2_980_000
    assert (rows[1]["reverted"], rows[1]["net_pnl"]) == (1, -12_000)


def test_pnl_by_route_and_dex(store: Store) -> None:
    report = build_report(store)
    routes = {(r["route_shape"], r["token"]): r for r in report.table("pnl_by_route").as_dicts()}
    assert set(routes) == {("2-hop V2/V3", "USDC"), ("3-hop V2/V3/V2", "USDC"), ("2-hop V3/V3", "WETH")}
    assert routes[("2-hop V2/V3", "USDC")]["net_pnl"] == 1_990_000 - 12_000
    assert routes[("2-hop V2/V3", "USDC")]["landed"] == 2

    dexes = {(r["dex"], r["token"]): r for r in report.table("pnl_by_dex").as_dicts()}
    # QuickSwap used twice in one run counts once for it.
    assert dexes[("QuickSwap", "USDC")]["landed"] == 3
    assert dexes[("UniswapV3", "USDC")]["landed"] == 3
    assert dexes[("UniswapV3", "WETH")]["landed"] == 1
    tokens = {r["token"]: r["net_pnl"] for r in report.table("pnl_by_token").as_dicts()}
    assert tokens == build_report(store).summary["profit_by_token"]


def test_accuracy(store: Store) -> None:
    rows = {r["token"]: r for r in build_report(store).table("accuracy").as_dicts()}
    usdc = rows["USDC"]
    assert (usdc["runs"], usdc["exact_to_the_wei"]) == (2, 1)  # the revert is not a run
    assert usdc["exact_pct"] == Decimal("50.00")
    assert usdc["mean_abs_error_wei"] == Decimal("1.50") and usdc["max_abs_error_wei"] == 3
    assert (rows["WETH"]["runs"], rows["WETH"]["exact_pct"], rows["WETH"]["max_abs_error_wei"]) == (
        1,
        Decimal("100.00"),
        0,
    )


def test_refusals(store: Store) -> None:
    rows = build_report(store).table("refusals").as_dicts()
    assert [(r["decision"], r["reason"], r["count"]) for r in rows] == [
        ("refuse", "profit_too_low", 2),
        ("drop", "simulation_reverted", 1),
        ("refuse", "gas_price_too_high", 1),
    ]
    assert rows[0]["share_pct"] == Decimal("50.00") and rows[0]["last_detail"] == "net 7 < min 10"


def test_window_and_chain(store: Store) -> None:
    day2 = build_report(store, since=DAY2.replace(hour=0), until=DAY2.replace(hour=0) + timedelta(days=1))
    assert day2.summary["executed"] == 1 and day2.summary["reverted"] == 1 and day2.summary["refused"] == 2
    other = build_report(store, chain_id=1)
    assert other.summary["executed"] == 0 and other.summary["opportunities"] == 0


def test_empty_store(tmp_path: Path) -> None:
    with Store.open(sqlite_url(tmp_path / "e.db")) as s:
        report = build_report(s)
    assert report.summary["executed"] == 0 and report.summary["profit_by_token"] == {}
    console = Console(record=True, width=140)
    render(report, console)
    assert "(none)" in console.export_text()


def test_render_shows_scaled_amounts(store: Store) -> None:
    console = Console(record=True, width=200)
    render(build_report(store), console)
    text = console.export_text()
    for title in (
        "Summary",
        "P&L by day",
        "P&L by route shape",
        "P&L by DEX",
        "Simulation accuracy",
        "Refusals",
    ):
        assert title in text
    assert "2.98" in text  # day 1's USDC net P&L, 2_980_000 base units at 6 decimals
    assert "-0.012" in text
    assert "0.0029" in text  # WETH
    assert "3-hop V2/V3/V2" in text and "profit_too_low" in text


def test_format_amount() -> None:
    assert format_amount(1_234_567_890, 6) == "1,234.56789"
    assert format_amount(-12_000, 6) == "-0.012"
    assert format_amount(5 * 10**18, 18) == "5"
    assert format_amount(123456789, None) == "123,456,789"


def test_csv_export_is_exact(store: Store, tmp_path: Path) -> None:
    report = build_report(store)
    paths = write_csv(report, tmp_path / "csv")
    assert sorted(p.name for p in paths) == sorted(f"{t.name}.csv" for t in report.tables)
    with (tmp_path / "csv" / "pnl_by_day.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["net_pnl"] == "2980000" and rows[0]["decimals"] == "6"
    assert (
        rows[2]["token"] == "WETH" and rows[2]["net_pnl"] == str(29 * 10**14) and rows[2]["decimals"] == "18"
    )
    with (tmp_path / "csv" / "accuracy.csv").open() as f:
        acc = list(csv.DictReader(f))
    assert acc[0]["mean_abs_error_wei"] == "1.50"
    with (tmp_path / "csv" / "refusals.csv").open() as f:
        assert list(csv.reader(f))[0] == [
            "decision",
            "reason",
            "count",
            "share_pct",
            "last_at",
            "last_detail",
        ]


def test_unknown_token_uses_its_address(tmp_path: Path) -> None:
    with Store.open(sqlite_url(tmp_path / "u.db")) as s:
        Book(s).trade(at=DAY1, realized=10, gas_token=1)
        report = build_report(s)
    assert report.summary["profit_by_token"] == {USDC: 9}


# ---------------------------------------------------------------------------------------------- the command
def test_cli_report_tables_csv_and_json(db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli, ["report", "--db", db_url, "--csv", str(tmp_path / "out"), "--json", str(tmp_path / "s.json")]
    )
    assert result.exit_code == 0, result.output
    assert "P&L by day" in result.output and "Simulation accuracy" in result.output
    assert (tmp_path / "out" / "pnl_by_dex.csv").is_file()
    assert json.loads((tmp_path / "s.json").read_text())["predicted_equals_realized"] == 2


def test_cli_report_window_options(db_url: str, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "report",
            "--db",
            db_url,
            "--since",
            "2026-03-02",
            "--until",
            "2026-03-02",
            "-q",
            "--json",
            str(tmp_path / "s.json"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "s.json").read_text())["executed"] == 1
    bad = runner.invoke(cli, ["report", "--db", db_url, "--since", "2026-03-02", "--days", "3"])
    assert bad.exit_code == 2 and "not both" in bad.output
    backwards = runner.invoke(
        cli, ["report", "--db", db_url, "--since", "2026-03-02", "--until", "2026-03-01"]
    )
    assert backwards.exit_code == 2


def test_cli_report_default_database_is_next_to_the_config(tmp_path: Path, monkeypatch, db_url: str) -> None:
    config = tmp_path / "bot.toml"
    config.write_text("")
    monkeypatch.delenv("FLASHARB_CONFIG", raising=False)
    monkeypatch.delenv("FLASHARB_DATABASE_URL", raising=False)
    # The fixture's database is tmp_path/flasharb.db: exactly the default next to bot.toml.
    result = CliRunner().invoke(
        cli, ["--config", str(config), "report", "-q", "--json", str(tmp_path / "s.json")]
    )
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "s.json").read_text())["executed"] == 3


def test_cli_report_missing_database_is_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["report", "--db", sqlite_url(tmp_path / "none.db")])
    assert result.exit_code == 1
    assert "no database at" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "none.db").exists()


def test_cli_report_hides_passwords(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["report", "--db", "mysql://bot:hunter2@localhost/x"])
    assert result.exit_code == 1 and "unsupported database" in result.output
    assert "hunter2" not in result.output
