"""The report over both backends: the same numbers from SQLite and from PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from store_helpers import T0, TOKEN, WETH, record_trade

from flasharb.report import build_report
from flasharb.store import Store


def test_report_numbers_are_backend_independent(store: Store) -> None:
    store.record_token(chain_id=137, address=TOKEN, symbol="USDC", decimals=6)
    record_trade(store, 1, realized=2**100, gas_token=7)  # far past 64 bits
    record_trade(store, 2, realized=50, predicted=47, gas_token=7, kinds=("V3", "V3"), dexes=["UniswapV3"])
    record_trade(store, 3, realized=0, success=False, gas_token=9, at=T0 + timedelta(days=1))
    record_trade(store, 4, realized=10**18, gas_token=10**15, token=WETH)

    report = build_report(store)
    assert report.summary["profit_by_token"] == {"USDC": 2**100 - 7 + 43 - 9, WETH: 10**18 - 10**15}
    assert report.summary["executed"] == 3 and report.summary["reverted"] == 1
    assert report.summary["predicted_equals_realized"] == 2
    days = [(r["day"], r["token"], r["net_pnl"]) for r in report.table("pnl_by_day").as_dicts()]
    assert days == [
        ("2026-03-01", WETH, 10**18 - 10**15),  # no token record: labelled by address
        ("2026-03-01", "USDC", 2**100 - 7 + 43),
        ("2026-03-02", "USDC", -9),
    ]
    dexes = {(r["dex"], r["token"]): r["landed"] for r in report.table("pnl_by_dex").as_dicts()}
    assert dexes[("UniswapV3", "USDC")] == 3 and dexes[("QuickSwap", "USDC")] == 2
    accuracy = {r["token"]: r for r in report.table("accuracy").as_dicts()}
    assert accuracy["USDC"]["max_abs_error_wei"] == 3
