"""The bot end to end on the replica: a seeded market trades every block, the bot finds, simulates, sends and
records arbitrages through the real executor. The planning overview's phase-1 bar: at least 10 profitable
arbitrages; here also more than 95% of sent transactions profitable and every success exact to the wei."""

from __future__ import annotations

import asyncio

from flasharb.demo.run import run_demo, write_results


def test_bot_executes_profitable_arbitrages_with_exact_predictions(tmp_path):
    result = asyncio.run(run_demo(blocks=12, trades_per_block=2, seed=11))
    s = result.summary
    assert s["executed"] >= 10, s
    assert s["sent"] > 0 and s["profitable"] / s["sent"] > 0.95, s
    assert s["predicted_equals_realized"] == s["executed"], "every success exact to the wei"
    mined = [t for t in result.executed if t["status"] == "mined"]
    assert len(mined) == s["executed"]
    assert all(t["exact"] and int(t["realized"]) > 0 for t in mined)
    # Nothing lost: every sent transaction has an outcome on record.
    assert len(result.executed) == s["sent"]
    out = write_results(result, tmp_path / "demo.json")
    assert set(("executed", "profitable", "reverted", "refused", "predicted_equals_realized", "profit_by_token")) <= set(
        __import__("json").loads(out.read_text())
    )
