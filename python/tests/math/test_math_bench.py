"""flasharb.bench.python_math: the benchmark runs and reports the keys the bench runner prints."""

from __future__ import annotations

from flasharb.bench.python_math import realistic_v3_state, run


def test_run_reports_the_quote_timings():
    results = run(number=20, repeat=3)
    for key in ("v2_quote_us", "v3_quote_0_ticks_us", "v3_quote_1_tick_us", "v3_quote_10_ticks_us"):
        assert isinstance(results[key], float) and results[key] > 0
    assert results["v3_quote_10_ticks_cold_us"] > 0
    assert 45 <= results["v3_state_initialised_ticks"] <= 60


def test_bench_state_is_a_realistic_pool():
    state = realistic_v3_state()
    assert state.fee == 3000 and state.tick_spacing == 60 and state.complete
    assert state.liquidity > 0
