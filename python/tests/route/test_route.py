"""flasharb.route against the golden vectors shared with PlanLib.sol, plus round-trip properties."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flasharb.paths import repo_root
from flasharb.route import (
    HEADER_SIZE,
    MAX_STEPS,
    MAX_FEE_PIPS,
    UINT32_MAX,
    UINT128_MAX,
    UINT160_MAX,
    Lender,
    Plan,
    PlanError,
    PlanFieldError,
    PlanMalformed,
    UnsupportedLender,
    UnsupportedPlanVersion,
    UnsupportedStep,
    V2Step,
    V3Step,
    decode_plan,
    encode_plan,
    plan_from_json,
    plan_to_json,
)

VECTORS_PATH = repo_root() / "test" / "vectors" / "routes.json"
VECTORS = json.loads(VECTORS_PATH.read_text())
ERRORS = {cls.solidity_error: cls for cls in (UnsupportedPlanVersion, UnsupportedLender, UnsupportedStep)}
ERRORS[PlanMalformed.solidity_error] = PlanMalformed
ADDR = "0x7a537D80682BaAe2C38403F06e7a493C2aaff4FA"


def _bytes(hex_str: str) -> bytes:
    return bytes.fromhex(hex_str.removeprefix("0x"))


# ------------------------------------------------------------------------------------------- golden vectors
@pytest.mark.parametrize("vector", VECTORS["valid"], ids=lambda v: v["name"])
def test_golden_valid_round_trip(vector):
    plan = plan_from_json(vector["plan"])
    encoded = _bytes(vector["encoded"])
    assert encode_plan(plan) == encoded
    assert decode_plan(encoded) == plan
    assert plan_to_json(decode_plan(encoded)) == vector["plan"]
    assert len(encoded) == HEADER_SIZE + sum(len(s._encoded) for s in plan.steps)


@pytest.mark.parametrize("vector", VECTORS["invalid"], ids=lambda v: v["name"])
def test_golden_invalid_raises_the_named_error(vector):
    expected = ERRORS[vector["error"]]
    with pytest.raises(expected) as info:
        decode_plan(_bytes(vector["encoded"]))
    assert type(info.value) is expected and info.value.solidity_error == vector["error"]
    arg_names = {UnsupportedPlanVersion: "version", UnsupportedLender: "lender", UnsupportedStep: "op"}
    arg = arg_names.get(expected)
    if arg is not None:
        assert getattr(info.value, arg) == int(vector["errorArg"])
    else:
        assert "errorArg" not in vector


def test_golden_vectors_cover_the_brief():
    names = " | ".join(v["name"] for v in VECTORS["valid"])
    lenders = {v["plan"]["lenderName"] for v in VECTORS["valid"]}
    assert lenders == {lender.name for lender in Lender}
    hops = {len(v["plan"]["steps"]) for v in VECTORS["valid"]}
    assert {2, 3, 5, 8} <= hops
    assert any("sqrtPriceLimitX96" in s for v in VECTORS["valid"] for s in v["plan"]["steps"])
    assert "V2/V3/V2, aave simple" in names
    assert {v["error"] for v in VECTORS["invalid"]} == set(ERRORS)


def test_golden_file_is_up_to_date():
    tool = repo_root() / "python" / "tools" / "gen_route_vectors.py"
    result = subprocess.run([sys.executable, str(tool), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


# ---------------------------------------------------------------------------------------------- field checks
def _plan(**overrides) -> Plan:
    fields = dict(
        lender=Lender.CAPITAL,
        deadline=1,
        token=ADDR,
        amount_in=1,
        min_profit=0,
        steps=(V2Step(ADDR, True, 3000), V2Step(ADDR, False, 3000)),
    )
    fields.update(overrides)
    return Plan(**fields)


@pytest.mark.parametrize(
    "overrides",
    [
        {"deadline": -1},
        {"deadline": UINT32_MAX + 1},
        {"amount_in": UINT128_MAX + 1},
        {"min_profit": -1},
        {"amount_in": 1.0},
        {"deadline": True},
        {"token": "0x1234"},
        {"token": ADDR.lower()[:-1] + "g"},
        {"token": ADDR[:-1] + "a"},  # mixed case with a bad checksum
        {"token": bytes(20)},
        {"steps": (V2Step(ADDR, True, 3000), "not a step")},
        {"lender": "AAVE"},
    ],
    ids=repr,
)
def test_plan_rejects_bad_fields(overrides):
    with pytest.raises(PlanFieldError):
        _plan(**overrides)


def test_plan_rejects_unknown_lender_and_hop_counts():
    with pytest.raises(UnsupportedLender):
        _plan(lender=4)
    for n in (0, 1, MAX_STEPS + 1):
        with pytest.raises(PlanMalformed):
            _plan(steps=(V2Step(ADDR, True, 3000),) * n)


@pytest.mark.parametrize(
    "make",
    [
        lambda: V2Step(ADDR, True, MAX_FEE_PIPS + 1),
        lambda: V2Step(ADDR, 1, 3000),
        lambda: V2Step("0x0", True, 3000),
        lambda: V3Step(ADDR, True, ADDR, UINT160_MAX + 1),
        lambda: V3Step(ADDR, True, ADDR, -1),
        lambda: V3Step(ADDR, None, ADDR),
        lambda: V3Step(ADDR, True, "nope"),
    ],
)
def test_steps_reject_bad_fields(make):
    with pytest.raises(PlanFieldError):
        make()


def test_addresses_are_normalised_to_checksum():
    upper = "0x" + ADDR[2:].upper()
    plan = _plan(token=ADDR.lower(), steps=(V2Step(upper, True, 1), V3Step(ADDR, True, ADDR)))
    assert plan.token == ADDR and plan.steps[0].pair == ADDR
    assert plan == _plan(token=ADDR, steps=(V2Step(ADDR, True, 1), V3Step(ADDR, True, ADDR)))
    assert plan.lender is Lender.CAPITAL and _plan(lender=3).lender is Lender.BALANCER


def test_errors_share_the_package_root():
    from flasharb.exceptions import FlasharbError

    for cls in (PlanFieldError, *ERRORS.values()):
        assert issubclass(cls, PlanError) and issubclass(cls, FlasharbError)


# ---------------------------------------------------------------------------------------------- properties
addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
v2_steps = st.builds(V2Step, addresses, st.booleans(), st.integers(0, MAX_FEE_PIPS))
v3_steps = st.builds(V3Step, addresses, st.booleans(), addresses, st.none() | st.integers(0, UINT160_MAX))
plans = st.builds(
    Plan,
    st.sampled_from(Lender),
    st.integers(0, UINT32_MAX),
    addresses,
    st.integers(0, UINT128_MAX),
    st.integers(0, UINT128_MAX),
    st.lists(v2_steps | v3_steps, min_size=2, max_size=MAX_STEPS).map(tuple),
)


def _wire_step(draw) -> bytes:
    """A valid step straight as bytes (not through the codec)."""
    kind = draw(st.sampled_from((1, 2)))
    zero_for_one = draw(st.booleans()) << 7
    if kind == 1:
        fee = draw(st.integers(0, MAX_FEE_PIPS)).to_bytes(3, "big")
        return bytes((1 | zero_for_one,)) + draw(st.binary(min_size=20, max_size=20)) + fee
    limit = draw(st.booleans())
    body = draw(st.binary(min_size=60 if limit else 40, max_size=60 if limit else 40))
    return bytes((2 | zero_for_one | (0x40 if limit else 0),)) + body


@st.composite
def wire_plans(draw) -> bytes:
    count = draw(st.integers(2, MAX_STEPS))
    header = bytes((1, draw(st.integers(0, 3)), count)) + draw(st.binary(min_size=56, max_size=56))
    return header + b"".join(_wire_step(draw) for _ in range(count))


@given(plans)
def test_property_decode_of_encode_is_identity(plan):
    assert decode_plan(encode_plan(plan)) == plan


@given(wire_plans())
def test_property_encode_of_decode_is_identity(data):
    assert encode_plan(decode_plan(data)) == data


@settings(max_examples=300)
@given(wire_plans(), st.data())
def test_property_corrupted_bytes_raise_only_plan_errors(data, draw):
    """Any mutation either still decodes (and re-encodes to itself) or raises a typed PlanError."""
    mutated = bytearray(data)
    action = draw.draw(st.sampled_from(("flip", "cut", "append")))
    if action == "flip":
        i = draw.draw(st.integers(0, len(mutated) - 1))
        mutated[i] = draw.draw(st.integers(0, 255))
    elif action == "cut":
        del mutated[draw.draw(st.integers(0, len(mutated) - 1)) :]
    else:
        mutated += draw.draw(st.binary(min_size=1, max_size=61))
    try:
        plan = decode_plan(bytes(mutated))
    except PlanError as exc:
        assert exc.solidity_error in ERRORS
    else:
        assert encode_plan(plan) == bytes(mutated)
