"""flasharb.metrics: a registry per instance, events, risk-bound gauges, the HTTP endpoint, alert rules."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from prometheus_client import REGISTRY

from flasharb.metrics import METRIC_NAMES, BotMetrics, registry_metric_names
from flasharb.relay.metrics import RelayMetrics
from flasharb.risk import RefusalReason, RiskLimits, RiskManager, TxOutcome

ALERTS = Path(__file__).resolve().parents[2] / "ops" / "alerts.yml"


class Clock:
    def __init__(self, t: float = 1_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def value(m: BotMetrics, name: str, **labels: str) -> float | None:
    return m.registry.get_sample_value(name, labels)


def test_each_instance_has_its_own_registry() -> None:
    a, b = BotMetrics(), BotMetrics()
    a.sent()
    a.sent()
    assert value(a, "flasharb_sends_total") == 2
    assert value(b, "flasharb_sends_total") == 0
    assert REGISTRY.get_sample_value("flasharb_sends_total") is None  # the global registry is untouched


def test_counters_by_label() -> None:
    m = BotMetrics()
    assert (
        value(m, "flasharb_opportunities_total", strategy="arbitrage") == 0
    )  # exported before the first one
    m.opportunity()
    m.opportunity("liquidation", n=3)
    m.executed()
    m.refusal(RefusalReason.GAS_PRICE_TOO_HIGH)
    m.refusal("gas_price_too_high")
    m.drop("simulation_reverted")
    m.sent()
    m.send_failed()
    m.landed(success=True, token="USDC", net_profit=1_500, gas_cost_native=7)
    m.landed(success=False, token="USDC", net_profit=-200, gas_cost_native=5)
    m.landed(success=True, token="WETH", net_profit=0, gas_cost_native=0)
    m.rpc_call("alchemy", ok=True)
    m.rpc_call("alchemy", ok=False)
    m.set_rpc_healthy(2)

    assert value(m, "flasharb_opportunities_total", strategy="arbitrage") == 1
    assert value(m, "flasharb_opportunities_total", strategy="liquidation") == 3
    assert value(m, "flasharb_decisions_total", decision="execute") == 1
    assert value(m, "flasharb_decisions_total", decision="refuse") == 2
    assert value(m, "flasharb_decisions_total", decision="drop") == 1
    assert value(m, "flasharb_refusals_total", reason="gas_price_too_high") == 2
    assert value(m, "flasharb_drops_total", reason="simulation_reverted") == 1
    assert value(m, "flasharb_sends_total") == 1 and value(m, "flasharb_send_errors_total") == 1
    assert value(m, "flasharb_mined_total") == 2 and value(m, "flasharb_reverts_total") == 1
    assert value(m, "flasharb_profit_wei_total", token="USDC") == 1_500
    assert value(m, "flasharb_loss_wei_total", token="USDC") == 200
    assert value(m, "flasharb_profit_wei_total", token="WETH") is None
    assert value(m, "flasharb_gas_spent_wei_total") == 12
    assert value(m, "flasharb_rpc_requests_total", endpoint="alchemy") == 2
    assert value(m, "flasharb_rpc_errors_total", endpoint="alchemy") == 1
    assert value(m, "flasharb_rpc_endpoints_healthy") == 2


def test_latency_histograms() -> None:
    m = BotMetrics()
    m.observe_block_to_decision(0.004)
    m.observe_block_to_decision(0.030)
    m.observe_decision_to_send(0.0015)
    m.observe_send_to_mined(2.5)
    assert value(m, "flasharb_block_to_decision_seconds_count") == 2
    assert value(m, "flasharb_block_to_decision_seconds_bucket", le="0.005") == 1
    assert value(m, "flasharb_block_to_decision_seconds_bucket", le="0.05") == 2
    assert value(m, "flasharb_decision_to_send_seconds_sum") == pytest.approx(0.0015)
    assert value(m, "flasharb_send_to_mined_seconds_bucket", le="3.0") == 1


def test_last_block_age_is_computed_at_scrape_time() -> None:
    clock = Clock(1_000.0)
    m = BotMetrics(clock=clock)
    clock.t = 1_007.0
    assert value(m, "flasharb_last_block_seen_age_seconds") == 7.0  # no block yet: age since start
    m.block_seen(55_000_000)
    clock.t = 1_009.5
    assert value(m, "flasharb_last_block_seen_age_seconds") == 2.5
    assert value(m, "flasharb_last_block_number") == 55_000_000
    assert value(m, "flasharb_last_block_seen_timestamp_seconds") == 1_007.0
    m.block_seen(55_000_001, at=1_009.0)
    assert value(m, "flasharb_last_block_seen_age_seconds") == 0.5


def test_gauges_follow_the_risk_manager() -> None:
    clock = Clock(1_000_000.0)
    risk = RiskManager(
        RiskLimits(breaker_failures=1, breaker_cooldown=10, daily_loss_limit={"0x" + "aa" * 20: 100}),
        clock=clock,
    )
    m = BotMetrics(clock=clock)
    m.bind_risk(risk)
    assert value(m, "flasharb_breaker_open") == 0 and value(m, "flasharb_kill_switch_engaged") == 0

    class Opp:
        pools = ("0x" + "11" * 20,)

    risk.on_sent("a", Opp())
    assert value(m, "flasharb_txs_in_flight") == 1
    risk.on_outcome("a", TxOutcome.REVERTED, token="0x" + "AA" * 20, pnl=-80)
    assert value(m, "flasharb_txs_in_flight") == 0
    assert value(m, "flasharb_breaker_open") == 1
    clock.t += 10
    assert value(m, "flasharb_breaker_open") == 0 and value(m, "flasharb_breaker_half_open") == 1
    risk.kill("test")
    assert value(m, "flasharb_kill_switch_engaged") == 1
    m.refresh_risk()
    assert value(m, "flasharb_daily_loss_limit_ratio", token="0x" + "aa" * 20) == pytest.approx(0.8)


def test_set_breaker_without_a_bound_manager() -> None:
    m = BotMetrics()
    m.set_breaker("open")
    assert (value(m, "flasharb_breaker_open"), value(m, "flasharb_breaker_half_open")) == (1, 0)
    m.set_breaker("half_open")
    assert (value(m, "flasharb_breaker_open"), value(m, "flasharb_breaker_half_open")) == (0, 1)
    m.set_in_flight(3)
    assert value(m, "flasharb_txs_in_flight") == 3
    m.refresh_risk()  # nothing bound: a no-op


def test_http_endpoint_serves_and_stops() -> None:
    m = BotMetrics()
    m.sent()
    server = m.serve(0)
    try:
        assert server.port > 0
        with urllib.request.urlopen(server.url, timeout=5) as resp:
            body = resp.read().decode()
        assert resp.status == 200
        assert "flasharb_sends_total 1.0" in body
        assert "flasharb_block_to_decision_seconds_bucket" in body
        assert "python_gc" not in body  # the default registry's collectors are not in ours
    finally:
        server.stop()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(server.url, timeout=2)
    again = m.serve(server.port)  # the port was freed
    again.stop()


def test_two_instances_serve_side_by_side() -> None:
    a, b = BotMetrics(), BotMetrics()
    a.sent()
    with a.serve(0) as sa, b.serve(0) as sb:
        body_a = urllib.request.urlopen(sa.url, timeout=5).read().decode()
        body_b = urllib.request.urlopen(sb.url, timeout=5).read().decode()
    assert "flasharb_sends_total 1.0" in body_a and "flasharb_sends_total 0.0" in body_b


def test_render_is_the_exposition_text() -> None:
    m = BotMetrics()
    text = m.render().decode()
    assert "# TYPE flasharb_refusals_total counter" in text
    assert "# TYPE flasharb_send_to_mined_seconds histogram" in text


# ---------------------------------------------------------------------------------------------- alert rules
_IDENT = re.compile(r"\b(flasharb_[a-zA-Z0-9_]+)\b")


def _rules() -> list[dict]:
    doc = yaml.safe_load(ALERTS.read_text())
    return [rule for group in doc["groups"] for rule in group["rules"]]


def test_alert_rules_parse_and_reference_defined_metrics() -> None:
    rules = _rules()
    assert rules
    names = set()
    for rule in rules:
        assert set(rule) >= {"alert", "expr", "labels", "annotations"}, rule
        assert rule["labels"]["severity"] in {"page", "warning"}
        assert rule["annotations"]["summary"]
        used = set(_IDENT.findall(rule["expr"]))
        assert used, f"{rule['alert']}: expr references no flasharb metric"
        unknown = used - METRIC_NAMES - registry_metric_names(RelayMetrics().registry)
        assert not unknown, f"{rule['alert']}: unknown metric(s) {sorted(unknown)}"
        assert rule["expr"].count("(") == rule["expr"].count(")"), rule["alert"]
        names.add(rule["alert"])
    assert len(names) == len(rules)  # unique alert names


@pytest.mark.parametrize(
    ("alert", "metric"),
    [
        ("FlasharbBreakerOpen", "flasharb_breaker_open"),
        ("FlasharbNoBlocks", "flasharb_last_block_seen_age_seconds"),
        ("FlasharbRpcErrors", "flasharb_rpc_errors_total"),
        ("FlasharbRpcDown", "flasharb_rpc_endpoints_healthy"),
        ("FlasharbRealizedLosses", "flasharb_loss_wei_total"),
        ("FlasharbNoOpportunities", "flasharb_opportunities_total"),
        ("FlasharbRelayLag", "flasharb_relay_lag_seconds_bucket"),
        ("FlasharbRelayDeadLetters", "flasharb_relay_dead_letters_total"),
        ("FlasharbScannerSilent", "flasharb_relay_messages_total"),
        ("FlasharbHealthFactorDrift", "flasharb_liquidation_hf_mismatches"),
    ],
)
def test_required_alerts_exist(alert: str, metric: str) -> None:
    rule = next((r for r in _rules() if r["alert"] == alert), None)
    assert rule is not None, f"missing alert {alert}"
    assert metric in rule["expr"]
