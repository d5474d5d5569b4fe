"""Kind 3, the Aave V3 liquidation step: encoding, the first-step and collateral rules, and round trips."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flasharb.paths import repo_root
from flasharb.route import (
    HEADER_SIZE,
    MAX_FEE_PIPS,
    MAX_STEPS,
    UINT32_MAX,
    UINT128_MAX,
    Lender,
    LiquidationStep,
    Plan,
    PlanFieldError,
    PlanMalformed,
    StepKind,
    UnsupportedStep,
    V2Step,
    V3Step,
    decode_plan,
    encode_plan,
    plan_from_json,
    plan_to_json,
)

TOKEN = "0x7a537D80682BaAe2C38403F06e7a493C2aaff4FA"
WETH = "0x" + "22" * 20
USER = "0x" + "33" * 20
PAIR = "0x" + "44" * 20
VECTORS = json.loads((repo_root() / "test" / "vectors" / "routes.json").read_text())


def _plan(*steps, token: str = TOKEN) -> Plan:
    return Plan(Lender.BALANCER, 100, token, 8_000 * 10**6, 1, steps)


def test_wire_layout_is_op_collateral_user():
    step = LiquidationStep(WETH, USER)
    assert step.op == StepKind.LIQUIDATION == 3
    assert step._encoded == b"\x03" + bytes.fromhex("22" * 20) + bytes.fromhex("33" * 20)
    data = encode_plan(_plan(step, V2Step(PAIR, True, 3000)))
    assert len(data) == HEADER_SIZE + 41 + 24
    assert data[HEADER_SIZE : HEADER_SIZE + 41] == step._encoded
    assert decode_plan(data).steps[0] == step


def test_json_form_round_trips():
    plan = _plan(LiquidationStep(WETH, USER), V3Step(PAIR, False, WETH))
    obj = plan_to_json(plan)
    assert obj["steps"][0] == {"kind": "3", "op": "3", "collateral": WETH, "user": USER}
    assert plan_from_json(obj) == plan


def test_only_first_step():
    with pytest.raises(PlanMalformed, match="first step"):
        _plan(V2Step(PAIR, True, 3000), LiquidationStep(WETH, USER))
    with pytest.raises(PlanMalformed, match="first step"):
        _plan(LiquidationStep(WETH, USER), LiquidationStep(WETH, USER))


def test_collateral_must_differ_from_the_debt_token():
    with pytest.raises(PlanMalformed, match="collateral"):
        _plan(LiquidationStep(TOKEN.lower(), USER), V2Step(PAIR, True, 3000))


def test_a_liquidation_needs_a_swap_back():
    with pytest.raises(PlanMalformed):
        _plan(LiquidationStep(WETH, USER))


@pytest.mark.parametrize("flag", [0x10, 0x20, 0x40, 0x80])
def test_any_flag_is_unsupported(flag):
    data = bytearray(encode_plan(_plan(LiquidationStep(WETH, USER), V2Step(PAIR, True, 3000))))
    data[HEADER_SIZE] |= flag
    with pytest.raises(UnsupportedStep) as info:
        decode_plan(bytes(data))
    assert info.value.op == 3 | flag


def test_decode_rejects_a_later_liquidation_and_a_cut_step():
    liq = LiquidationStep(WETH, USER)._encoded
    v2 = V2Step(PAIR, True, 3000)._encoded
    head = encode_plan(_plan(LiquidationStep(WETH, USER), V2Step(PAIR, True, 3000)))[:HEADER_SIZE]
    with pytest.raises(PlanMalformed, match="first step"):
        decode_plan(head + v2 + liq)
    for cut in range(1, 41 + 24):
        with pytest.raises(PlanMalformed):
            decode_plan((head + liq + v2)[:-cut])


@pytest.mark.parametrize("bad", [{"collateral": "0x12"}, {"user": 5}, {"user": TOKEN[:-1] + "a"}])
def test_fields_are_checked(bad):
    fields = {"collateral": WETH, "user": USER} | bad
    with pytest.raises(PlanFieldError):
        LiquidationStep(**fields)


def test_golden_vectors_include_liquidations_and_a_reserved_kind():
    kinds = [int(v["plan"]["steps"][0]["kind"]) for v in VECTORS["valid"]]
    assert kinds.count(3) >= 4
    liq_lenders = {v["plan"]["lenderName"] for v in VECTORS["valid"] if v["plan"]["steps"][0]["kind"] == "3"}
    assert liq_lenders == {lender.name for lender in Lender}
    assert any(len(v["plan"]["steps"]) == MAX_STEPS and v["plan"]["steps"][0]["kind"] == "3" for v in VECTORS["valid"])
    names = {v["name"] for v in VECTORS["invalid"]}
    assert "reserved step kind 4 (op 0x84)" in names
    assert not any("reserved step kind 3" in n for n in names)


addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
swaps = st.builds(V2Step, addresses, st.booleans(), st.integers(0, MAX_FEE_PIPS)) | st.builds(
    V3Step, addresses, st.booleans(), addresses
)


@st.composite
def liquidation_plans(draw) -> Plan:
    token = draw(addresses)
    collateral = draw(addresses.filter(lambda a: a.lower() != token.lower()))
    hops = draw(st.lists(swaps, min_size=1, max_size=MAX_STEPS - 1))
    return Plan(
        draw(st.sampled_from(Lender)),
        draw(st.integers(0, UINT32_MAX)),
        token,
        draw(st.integers(0, UINT128_MAX)),
        draw(st.integers(0, UINT128_MAX)),
        (LiquidationStep(collateral, draw(addresses)), *hops),
    )


@given(liquidation_plans())
def test_property_round_trip(plan):
    data = encode_plan(plan)
    assert decode_plan(data) == plan
    assert len(data) == HEADER_SIZE + 41 + sum(len(s._encoded) for s in plan.steps[1:])
