"""flasharb.engine.config and the message types: one config format for the replica and Polygon, loading from
JSON/TOML, validation; the opportunity's wire form; lender premiums; gas pricing through pools."""

from __future__ import annotations

import json

import numpy as np
import pytest

from flasharb.engine import EngineConfig, Opportunity, PoolKind
from flasharb.engine.config import POLYGON_TOKENS
from flasharb.engine.lenders import HALF_UP, UP, FlashSource, LenderBook
from flasharb.engine.pricing import TokenPricer
from flasharb.engine.types import CycleHop
from flasharb.exceptions import ConfigError
from flasharb.route import Lender, Plan, V2Step, V3Step, encode_plan


def test_replica_config_comes_from_the_replica(replica):
    cfg = EngineConfig.from_replica(replica)
    assert cfg.chain_id == 31337 and cfg.native_token == replica.token("WMATIC").address
    assert {d.name: d.factory for d in cfg.dexes} == {
        "quickswap": replica.quickswap.factory,
        "sushiswap": replica.sushiswap.factory,
        "uniswap_v3": replica.uniswap_v3.factory,
    }
    assert (
        cfg.lenders.aave_pool == replica.aave_v3.pool
        and cfg.lenders.balancer_vault == replica.balancer_v2.vault
    )
    assert len(cfg.tokens) == 8 and cfg.token("USDC").decimals == 6


def test_polygon_config_and_round_trip(tmp_path):
    cfg = EngineConfig.polygon_mainnet()
    assert cfg.chain_id == 137 and cfg.token("WMATIC").address == POLYGON_TOKENS["WMATIC"][0]
    assert cfg.lenders.aave_pool == "0x794a61358D6845594F94dc1DB02A252b5b4814aD"
    assert cfg.confirmations > 0 and all(d.start_block > 0 for d in cfg.dexes)
    path = tmp_path / "polygon.json"
    path.write_text(cfg.dump())
    assert EngineConfig.load(path) == cfg


def test_toml_config(tmp_path):
    path = tmp_path / "engine.toml"
    path.write_text(
        """
chain_id = 1
native_token = "0x0000000000000000000000000000000000000001"
max_hops = 4
[[tokens]]
symbol = "A"
address = "0x0000000000000000000000000000000000000001"
decimals = 18
[[dexes]]
name = "v2fork"
kind = "v2"
factory = "0x00000000000000000000000000000000000000f1"
fee_pips = 2500
[risk]
max_loan = { A = 1000 }
"""
    )
    cfg = EngineConfig.load(path)
    assert cfg.max_hops == 4 and cfg.dexes[0].fee_pips == 2500
    assert cfg.max_loan_of("0x0000000000000000000000000000000000000001") == 1000


@pytest.mark.parametrize(
    "change, message",
    [
        ({"max_hops": 6}, "max_hops"),
        ({"dexes": [{"name": "x", "kind": "v2", "factory": "0x" + "01" * 20}]}, "fee_pips"),
        ({"native_token": "0x" + "99" * 20}, "native_token"),
    ],
)
def test_invalid_configs_are_refused(tmp_path, replica, change, message):
    data = json.loads(EngineConfig.from_replica(replica).dump())
    data.update(change)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=message):
        EngineConfig.load(path)


def test_opportunity_wire_form_keeps_every_field():
    a, b = "0x" + "0a" * 20, "0x" + "0b" * 20
    pool1, pool2 = "0x" + "01" * 20, "0x" + "02" * 20
    plan = Plan(Lender.BALANCER, 12, a, 10**30, 5, (V2Step(pool1, True, 3000), V3Step(pool2, False, b)))
    o = Opportunity(
        chain_id=137,
        block_number=10,
        block_hash="0x" + "ab" * 32,
        deadline_block=12,
        cycle=(
            CycleHop(pool1, PoolKind.V2, "quickswap", True, a, b, 3000, 10**30, 7 * 10**29),
            CycleHop(pool2, PoolKind.V3, "uniswap_v3", False, b, a, 500, 7 * 10**29, 10**30 + 99),
        ),
        lender=Lender.BALANCER,
        loan_token=a,
        amount_in=10**30,
        expected_out=10**30 + 99,
        gross_profit=99,
        flash_premium=0,
        gas_estimate=300_000,
        gas_price=30 * 10**9,
        gas_cost=5,
        net_profit=94,
        min_profit=5,
        plan=encode_plan(plan),
        pools=(pool1, pool2),
    )
    wire = o.to_json()
    assert json.loads(wire)["amountIn"] == str(10**30)  # no precision lost past 2**53
    back = Opportunity.from_json(wire)
    assert back == o and back.decoded_plan() == plan and back.tokens == (a, b)
    assert o.profit_after_premium == 99


def test_lender_premiums_round_like_the_lenders():
    aave = FlashSource(Lender.AAVE_SIMPLE, "0x" + "0a" * 20, 10**30, 5, 10_000, HALF_UP)
    assert [aave.premium(x) for x in (0, 999, 1000, 1001, 3000, 10**6)] == [0, 0, 1, 1, 2, 500]  # percentMul
    bal = FlashSource(Lender.BALANCER, "0x" + "0a" * 20, 10**30, 10**15, 10**18, UP)  # 0.1%
    assert [bal.premium(x) for x in (0, 1, 1000, 1001)] == [0, 1, 1, 2]  # mulUp
    book = LenderBook([aave, bal, FlashSource(Lender.BALANCER, "0x" + "0b" * 20, 0, 0, 1, UP)])
    assert book.sources("0x" + "0A" * 20)[0].lender is Lender.AAVE_SIMPLE  # 0.05% < 0.1%
    assert book.sources("0x" + "0B" * 20) == ()  # nothing available: not a source


def test_token_prices_follow_the_deepest_path():
    # tokens 0 (native), 1, 2; directions: 0<->1 deep, 0<->2 shallow, 1<->2 deep
    src = np.array([0, 1, 0, 2, 1, 2])
    dst = np.array([1, 0, 2, 0, 2, 1])
    mid = np.array([2.0, 0.5, 10.0, 0.1, 4.0, 0.25, 1.0])
    depth = np.array([1e6, 2e6, 1.0, 10.0, 2e6, 8e6, 0.0])
    pricer = TokenPricer(3, 0, src, dst)
    pricer.rebuild(mid, depth)
    assert pricer.price.tolist() == [1.0, 2.0, 8.0]  # token 2 via token 1 (deep), not the shallow direct pool
    mid[0] = 3.0
    pricer.refresh(mid)
    assert pricer.price.tolist() == [1.0, 3.0, 12.0]
