"""The latency benchmark of the transaction layer runs and reports what the lead's latency report reads."""

from __future__ import annotations

from flasharb.bench.tx import run


def test_bench_tx_reports_medians():
    result = run(samples=15, warmup=3)
    assert result["tx_samples"] == 15 and result["tx_head_source"] == "ws"
    assert 0 < result["tx_sign_send_p50_ms"] <= result["tx_sign_send_p99_ms"] < 1000
    assert 0 < result["tx_head_to_sent_p50_ms"] < 1000
    assert set(result["tx_stages_ms"]) == {"nonce", "sign", "record", "submit", "total"}
