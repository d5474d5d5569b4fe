"""The relay wire format: golden vectors (``vectors.json``, shared with the spec), a fuzzed round trip, and a
typed error for every way a message can be wrong.

Regenerate the vectors (only when the spec changes, with a new version) with
``python python/tests/relay/test_wire.py``."""

from __future__ import annotations

import dataclasses
import json
import struct
from pathlib import Path

import pytest
from eth_utils import to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from flasharb.engine.types import ARBITRAGE, LIQUIDATION, CycleHop, LiquidationTarget, Opportunity, PoolKind
from flasharb.relay import wire
from flasharb.route import Lender

VECTORS = Path(__file__).with_name("vectors.json")
U128 = (1 << 128) - 1
I128 = 1 << 127


def _addr(n: int) -> str:
    return to_checksum_address(n.to_bytes(20, "big"))


def _opportunity(**kw) -> Opportunity:
    pools = kw.pop("pools", (_addr(0xA1), _addr(0xB2)))
    t0, t1 = _addr(0x7C2), _addr(0x2791)
    cycle = kw.pop(
        "cycle",
        (
            CycleHop(pools[0], PoolKind.V2, "quickswap", True, t0, t1, 3000, 10**18, 2_000_000),
            CycleHop(pools[1], PoolKind.V3, "uniswap_v3", False, t1, t0, 500, 2_000_000, 10**18 + 12345),
        ),
    )
    base = dict(
        chain_id=137,
        block_number=52_000_000,
        block_hash="0x" + bytes(range(32)).hex(),
        deadline_block=52_000_002,
        cycle=cycle,
        lender=Lender.AAVE_SIMPLE,
        loan_token=t0,
        amount_in=10**18,
        expected_out=10**18 + 12345,
        gross_profit=12345,
        flash_premium=500,
        gas_estimate=250_000,
        gas_price=30 * 10**9,
        gas_cost=1000,
        net_profit=10845,
        min_profit=11845,
        plan=bytes.fromhex("01") + bytes(range(60)),
        pools=pools,
        capped=False,
    )
    base.update(kw)
    return Opportunity(**base)


def _liquidation_plan(t: LiquidationTarget, token: str, tail: bytes = bytes(range(41))) -> bytes:
    """Plan bytes whose first step is ``t``'s liquidation (header: version, lender, steps, deadline, token,
    amountIn, minProfit; then op 0x03, collateral, user; ``tail`` stands for the swap-back steps)."""
    head = bytes([1, 1, 2]) + (52_000_002).to_bytes(4, "big") + wire._addr_bytes(token) + bytes(32)
    return head + bytes([3]) + wire._addr_bytes(t.collateral) + wire._addr_bytes(t.user) + tail


def _liquidation(**kw) -> Opportunity:
    """A liquidation: repay USDC debt, seize WETH, swap the WETH back to USDC in one V3 pool."""
    usdc, weth, pool = _addr(0x2791), _addr(0x7C2), _addr(0xC3)
    target = kw.pop(
        "liquidation",
        LiquidationTarget(
            user=_addr(0xBEEF),
            collateral=weth,
            debt=usdc,
            debt_to_cover=1_500_000_000,
            seized=530_000_000_000_000_000,
            protocol_fee=2_650_000_000_000_000,
            health_factor=940_000_000_000_000_000,
            pool_revision=1,
        ),
    )
    base = dict(
        cycle=(CycleHop(pool, PoolKind.V3, "uniswap_v3", True, weth, usdc, 500, 53 * 10**16, 1_580_000_000),),
        lender=Lender.AAVE_SIMPLE,
        loan_token=usdc,
        amount_in=1_500_000_000,
        expected_out=1_580_000_000,
        gross_profit=80_000_000,
        flash_premium=750_000,
        gas_cost=20_000,
        net_profit=79_230_000,
        min_profit=79_000_000,
        plan=_liquidation_plan(target, usdc),
        pools=(pool,),
        strategy=LIQUIDATION,
        liquidation=target,
    )
    base.update(kw)
    return dataclasses.replace(_opportunity(), **base)


def _extreme_liquidation() -> Opportunity:
    target = LiquidationTarget(
        user=_addr(2**160 - 1),
        collateral=_addr(0),
        debt=_addr(1),
        debt_to_cover=U128,
        seized=0,
        protocol_fee=U128,
        health_factor=2**256 - 1,
        pool_revision=2**64 - 1,
    )
    return _liquidation(
        chain_id=2**64 - 1,
        lender=Lender.BALANCER,
        capped=True,
        net_profit=-I128,
        loan_token=target.debt,
        liquidation=target,
        plan=_liquidation_plan(target, target.debt, tail=b""),
        cycle=(),
        pools=(),
    )


def _cases() -> list[tuple[str, Opportunity]]:
    return [
        ("two_hop_aave", _opportunity()),
        ("capped_balancer_negative_net", _opportunity(lender=Lender.BALANCER, capped=True, net_profit=-7)),
        (
            "extremes",
            _opportunity(
                chain_id=2**64 - 1,
                block_number=2**64 - 1,
                deadline_block=0,
                lender=Lender.CAPITAL,
                amount_in=U128,
                expected_out=0,
                gross_profit=-I128,
                flash_premium=U128,
                gas_estimate=2**64 - 1,
                gas_price=U128,
                gas_cost=0,
                net_profit=I128 - 1,
                min_profit=U128,
                plan=b"",
            ),
        ),
        ("liquidation_one_hop", _liquidation()),
        (
            "liquidation_extremes",
            _extreme_liquidation(),
        ),
    ]


def _bad_cases() -> list[tuple[str, str, str]]:
    good = wire.encode_opportunity(_opportunity())
    return [
        ("empty", b"".hex(), "truncated"),
        ("unknown_version", (bytes([2]) + good[1:]).hex(), "unknown_version"),
        ("unknown_type", (good[:1] + bytes([9]) + good[2:]).hex(), "unknown_message_type"),
        ("header_cut", good[:100].hex(), "truncated"),
        ("plan_cut", good[:-1].hex(), "truncated"),
        ("trailing_byte", (good + b"\x00").hex(), "oversized"),
        ("oversized", (good + bytes(wire.MAX_MESSAGE_BYTES)).hex(), "oversized"),
        ("bad_lender", (good[:3] + bytes([7]) + good[4:]).hex(), "malformed"),
        ("id_mismatch", (good[:-1] + bytes([good[-1] ^ 1])).hex(), "malformed"),
        *_bad_liquidation_cases(),
    ]


def _bad_liquidation_cases() -> list[tuple[str, str, str]]:
    good = wire.encode_opportunity(_liquidation())
    other_chain = wire.encode_opportunity(_liquidation(chain_id=1))
    user_at = wire.HEADER.size
    return [
        ("liquidation_unknown_type", (good[:1] + bytes([3]) + good[2:]).hex(), "unknown_message_type"),
        ("liquidation_wrong_chain", other_chain.hex(), "wrong_chain"),
        ("liquidation_target_cut", good[: wire.HEADER.size + 50].hex(), "truncated"),
        ("liquidation_plan_cut", good[:-1].hex(), "truncated"),
        ("liquidation_trailing_byte", (good + b"\x00").hex(), "oversized"),
        # a liquidation relabelled as an arbitrage: its target is read as a pool and a hop (a bad hop kind)
        ("liquidation_as_arbitrage", (good[:1] + bytes([wire.MSG_OPPORTUNITY]) + good[2:]).hex(),
         "malformed"),  # fmt: skip
        # the id covers the plan, and the plan's first step names the target's collateral and user: a target
        # that does not match its plan (corruption, forgery) is refused
        ("liquidation_forged_user", (good[:user_at] + bytes([good[user_at] ^ 1]) + good[user_at + 1 :]).hex(),
         "malformed"),  # fmt: skip
    ]


def _regenerate() -> None:
    """Adds the vectors of new cases; the ones already in the file are kept exactly as they are (a vector is
    never edited: the arbitrage vectors are byte for byte those of before the liquidation type)."""
    old = json.loads(VECTORS.read_text()) if VECTORS.exists() else {"valid": [], "invalid": []}
    valid = {v["name"]: v for v in old["valid"]}
    invalid = {v["name"]: v for v in old["invalid"]}
    for n, o in _cases():
        valid.setdefault(n, {"name": n, "opportunity": o.to_dict(), "hex": wire.encode_opportunity(o).hex()})
    for n, h, r in _bad_cases():
        invalid.setdefault(n, {"name": n, "hex": h, "reason": r})
    data = {"version": wire.WIRE_VERSION, "valid": list(valid.values()), "invalid": list(invalid.values())}
    VECTORS.write_text(json.dumps(data, indent=2) + "\n")


# ------------------------------------------------------------------------------------------------ golden
def _vectors() -> dict:
    return json.loads(VECTORS.read_text())


@pytest.mark.parametrize("vector", _vectors()["valid"], ids=lambda v: v["name"])
def test_golden_vector_encodes_and_decodes(vector):
    opp = Opportunity.from_dict(vector["opportunity"])
    data = bytes.fromhex(vector["hex"])
    assert wire.encode_opportunity(opp) == data
    assert wire.decode_opportunity(data, chain_id=opp.chain_id) == opp
    assert wire.message_id(data) == wire.opportunity_id(opp).hex()


@pytest.mark.parametrize("vector", _vectors()["invalid"], ids=lambda v: v["name"])
def test_golden_invalid_vector_raises_typed_error(vector):
    with pytest.raises(wire.WireError) as info:
        wire.decode_opportunity(bytes.fromhex(vector["hex"]), chain_id=137)
    assert info.value.reason == vector["reason"]


def test_layout_sizes_match_the_spec():
    assert wire.HEADER.size == 252
    assert wire.HOP.size == 99
    assert wire._ID_OFFSET == 60
    data = wire.encode_opportunity(_opportunity())
    assert len(data) == 252 + 2 * 20 + 2 * 99 + len("quickswap") + len("uniswap_v3") + 61
    assert data[0] == wire.WIRE_VERSION and data[1] == wire.MSG_OPPORTUNITY
    assert struct.unpack_from(">Q", data, 4)[0] == 137


def test_liquidation_layout_and_strategy():
    assert wire.LIQUIDATION_TARGET.size == 148
    arb, liq = _opportunity(), _liquidation()
    data = wire.encode_opportunity(liq)
    assert data[0] == wire.WIRE_VERSION and data[1] == wire.MSG_LIQUIDATION
    assert len(data) == 252 + 148 + 20 + 99 + len("uniswap_v3") + len(liq.plan)
    assert data[252:272] == bytes.fromhex(liq.liquidation.user[2:])
    assert wire.peek(data, chain_id=137).message_type == wire.MSG_LIQUIDATION
    # the id is the P&L store's, under the opportunity's own strategy: the same plan as an arbitrage differs
    from flasharb.store.store import opportunity_id

    assert wire.message_id(data) == opportunity_id(137, liq.block_number, LIQUIDATION, liq.plan)
    same_plan = dataclasses.replace(liq, strategy=ARBITRAGE, liquidation=None)
    assert wire.opportunity_id(same_plan) != wire.opportunity_id(liq)
    arb_id = opportunity_id(137, arb.block_number, ARBITRAGE, arb.plan)
    assert wire.message_id(wire.encode_opportunity(arb)) == arb_id


def test_strategy_and_target_must_agree():
    for bad in (
        dataclasses.replace(_liquidation(), liquidation=None),
        dataclasses.replace(_liquidation(), strategy=ARBITRAGE),
        dataclasses.replace(_opportunity(), strategy="sandwich"),
        _liquidation(liquidation=dataclasses.replace(_liquidation().liquidation, health_factor=2**256)),
        _liquidation(liquidation=dataclasses.replace(_liquidation().liquidation, seized=U128 + 1)),
        _liquidation(liquidation=dataclasses.replace(_liquidation().liquidation, pool_revision=-1)),
        _liquidation(plan=_opportunity().plan),  # the plan does not start with the liquidation
        _liquidation(loan_token=_addr(0x7C2)),  # the debt is not the loan token
    ):
        with pytest.raises(wire.Unencodable):
            wire.encode_opportunity(bad)


def test_a_target_that_does_not_match_its_plan_is_malformed():
    opp = _liquidation()
    good = wire.encode_opportunity(opp)
    at = wire.HEADER.size
    for field_at in (at, at + 20, at + 40):  # user, collateral, debt
        bad = good[:field_at] + bytes([good[field_at] ^ 0x10]) + good[field_at + 1 :]
        with pytest.raises(wire.Malformed):
            wire.decode_opportunity(bad, chain_id=137)
    plan_op = len(good) - len(opp.plan) + wire.PLAN_FIRST_STEP
    with pytest.raises(wire.Malformed):  # the id would not match either; the target check comes first
        wire.decode_opportunity(good[:plan_op] + b"\x02" + good[plan_op + 1 :], chain_id=137)


def test_version_one_arbitrage_vectors_are_unchanged():
    """The arbitrage messages of before the liquidation type, byte for byte (their vectors are never
    edited)."""
    names = {v["name"]: v["hex"] for v in _vectors()["valid"]}
    for name, opp in _cases()[:3]:
        assert wire.encode_opportunity(opp).hex() == names[name]


def test_wrong_chain_is_a_typed_error():
    data = wire.encode_opportunity(_opportunity(chain_id=1))
    with pytest.raises(wire.WrongChain):
        wire.decode_opportunity(data, chain_id=137)
    assert wire.decode_opportunity(data).chain_id == 1


def test_unencodable_values_are_refused_before_sending():
    for bad in (dict(amount_in=U128 + 1), dict(net_profit=I128), dict(amount_in=-1), dict(block_number=2**64)):
        with pytest.raises(wire.Unencodable):
            wire.encode_opportunity(_opportunity(**bad))


def test_every_wire_error_is_a_flasharb_error_with_a_reason():
    from flasharb.exceptions import FlasharbError

    for cls in (wire.UnknownVersion, wire.UnknownMessageType, wire.WrongChain, wire.Truncated, wire.Oversized,
                wire.Malformed, wire.Unencodable):  # fmt: skip
        assert issubclass(cls, FlasharbError) and cls.reason


# ------------------------------------------------------------------------------------------------ fuzz
_addrs = st.binary(min_size=20, max_size=20).map(to_checksum_address)
_u128 = st.integers(0, U128)
_i128 = st.integers(-I128, I128 - 1)
_u64 = st.integers(0, 2**64 - 1)
_hop = st.builds(
    CycleHop,
    pool=_addrs,
    kind=st.sampled_from(list(PoolKind)),
    dex=st.text(max_size=10).filter(lambda s: len(s.encode()) <= wire.MAX_DEX_NAME),
    zero_for_one=st.booleans(),
    token_in=_addrs,
    token_out=_addrs,
    fee_pips=st.integers(0, 2**32 - 1),
    amount_in=_u128,
    amount_out=_u128,
)
_opps = st.builds(
    Opportunity,
    chain_id=_u64,
    block_number=_u64,
    block_hash=st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex()),
    deadline_block=_u64,
    cycle=st.lists(_hop, max_size=8).map(tuple),
    lender=st.sampled_from(list(Lender)),
    loan_token=_addrs,
    amount_in=_u128,
    expected_out=_u128,
    gross_profit=_i128,
    flash_premium=_u128,
    gas_estimate=_u64,
    gas_price=_u128,
    gas_cost=_u128,
    net_profit=_i128,
    min_profit=_u128,
    plan=st.binary(max_size=600),
    pools=st.lists(_addrs, max_size=8).map(tuple),
    capped=st.booleans(),
)


_targets = st.builds(
    LiquidationTarget,
    user=_addrs,
    collateral=_addrs,
    debt=_addrs,
    debt_to_cover=_u128,
    seized=_u128,
    protocol_fee=_u128,
    health_factor=st.integers(0, 2**256 - 1),
    pool_revision=_u64,
)
_liquidations = st.builds(
    lambda opp, target, tail: dataclasses.replace(
        opp,
        strategy=LIQUIDATION,
        liquidation=target,
        loan_token=target.debt,
        plan=_liquidation_plan(target, target.debt, tail),
    ),
    _opps,
    _targets,
    st.binary(max_size=400),
)
_any_opps = st.one_of(_opps, _liquidations)


@settings(max_examples=300, deadline=None)
@given(_opps)
def test_fuzz_round_trip(opp):
    data = wire.encode_opportunity(opp)
    assert wire.decode_opportunity(data, chain_id=opp.chain_id) == opp


@settings(max_examples=300, deadline=None)
@given(_liquidations)
def test_fuzz_liquidation_round_trip(opp):
    data = wire.encode_opportunity(opp)
    assert data[1] == wire.MSG_LIQUIDATION
    back = wire.decode_opportunity(data, chain_id=opp.chain_id)
    assert back == opp and back.strategy == LIQUIDATION
    assert wire.message_id(data) == wire.opportunity_id(opp).hex()


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=700), st.booleans())
def test_fuzz_garbage_only_raises_wire_errors(data, versioned):
    if versioned:
        msg_type = wire.MSG_LIQUIDATION if len(data) % 2 else wire.MSG_OPPORTUNITY
        data = bytes([wire.WIRE_VERSION, msg_type]) + data
    try:
        wire.decode_opportunity(data, chain_id=137)
    except wire.WireError:
        pass


@settings(max_examples=100, deadline=None)
@given(_any_opps, st.data())
def test_fuzz_any_truncation_is_a_wire_error(opp, data):
    msg = wire.encode_opportunity(opp)
    cut = data.draw(st.integers(0, len(msg) - 1))
    with pytest.raises(wire.WireError):
        wire.decode_opportunity(msg[:cut])


if __name__ == "__main__":
    _regenerate()


@settings(max_examples=500, deadline=None)
@given(st.binary(min_size=20, max_size=20))
def test_decode_checksums_addresses_exactly_as_eth_utils(raw):
    """The decoder's own EIP-55 checksum (not eth_utils: hot path) agrees with eth_utils on any address."""
    wire._checksum.cache_clear()
    assert wire._checksum(raw) == to_checksum_address(raw)


def test_decoded_addresses_are_checksummed():
    opp = _liquidation()
    back = wire.decode_opportunity(wire.encode_opportunity(opp), chain_id=opp.chain_id)
    hops = [a for h in back.cycle for a in (h.pool, h.token_in, h.token_out)]
    t = back.liquidation
    for addr in (back.loan_token, *back.pools, *hops, t.user, t.collateral, t.debt):
        assert addr == to_checksum_address(addr.lower())
