"""The engine benchmark runs (at a small scale here; `make bench-engine` runs it at Polygon scale)."""

from __future__ import annotations

from flasharb.bench import engine as bench


def test_bench_engine_runs_small():
    result = bench.run(n_tokens=60, n_pools=400, full_repeats=1, blocks=3, touched=10)
    for key in ("pools", "cycles", "full_ms", "incremental_ms", "rss_mb", "cores"):
        assert key in result
    assert result["pools"] == 400 and result["cycles"] > 1_000
    assert result["stress"]["eager_equals_lazy"] and result["calm"]["eager_equals_lazy"]
    assert result["calm"]["planted_found"] >= result["calm"]["planted"] - 3
