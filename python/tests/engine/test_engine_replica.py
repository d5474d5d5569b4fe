"""The engine on the replica, end to end: dislocations planted through the real routers are all found, each is
sized within 0.01% of a dense integer brute force, the ranking follows their value, and the plans run through
the real executor (``eth_call``) earning exactly the predicted profit."""

from __future__ import annotations

import json

import pytest
from engine_brute import brute_force_best, exact_cycle_out
from engine_chain import calldata, call, lens_forge_out, send, units, v2_add_liquidity, v2_swap, v3_swap
from eth_abi import decode, encode

from flasharb.engine import Engine, EngineConfig, Opportunity, PoolKind
from flasharb.engine.lenders import load_lender_book
from flasharb.lens import PoolLensClient
from flasharb.paths import repo_root
from flasharb.route import Lender

GAS_PRICE = 30 * 10**9

pytestmark = pytest.mark.chain


@pytest.fixture()
def engine(devchain, engine_config, rpc, chain_snapshot):
    lens = PoolLensClient(devchain.url, forge_out=lens_forge_out())
    eng = Engine(engine_config, rpc, lens, gas_price=GAS_PRICE)
    yield eng
    eng.close()
    lens.close()


def _pool(engine: Engine, replica, a: str, b: str, *, dex: str | None = None, fee: int | None = None) -> str:
    ta, tb = replica.token(a).address, replica.token(b).address
    for p in engine.registry.pools():
        if (
            {p.token0, p.token1} == {ta, tb}
            and (dex is None or p.dex == dex)
            and (fee is None or (p.kind is PoolKind.V3 and p.fee_pips == fee))
        ):
            return p.address
    raise AssertionError(f"no pool {a}/{b} {dex or fee}")


def _plant(w3, replica) -> None:
    """Three dislocations in disjoint pools, of clearly different sizes."""
    v2_swap(w3, replica, "quickswap", "WETH", "USDC", units(replica, "WETH", 90_000))  # ~4.5% of one side
    v3_swap(w3, replica, "WBTC", "WETH", 3000, units(replica, "WBTC", 25_000))
    v2_swap(w3, replica, "sushiswap", "LINK", "WETH", units(replica, "LINK", 4_000))  # ~4% of one side


def _usd(replica, token: str, amount: int) -> float:
    info = next(t for t in replica.tokens.values() if t.address == token)
    return amount * info.usd_price_e8 / 1e8 / 10**info.decimals


def test_finds_sizes_and_ranks_planted_dislocations(engine, w3, replica):
    assert engine.start() == []  # the replica is priced consistently: nothing to take
    _plant(w3, replica)
    opps = engine.step()
    planted = {
        _pool(engine, replica, "WETH", "USDC", dex="quickswap"),
        _pool(engine, replica, "WBTC", "WETH", fee=3000),
        _pool(engine, replica, "LINK", "WETH", dex="sushiswap"),
    }
    used = [p for o in opps for p in o.pools]
    assert planted <= set(used), "every planted dislocation is taken"
    assert len(used) == len(set(used)), "no pool twice"

    states = engine.sync.states
    pools = {p.address: p for p in engine.registry.pools()}
    book = engine.lenders
    util = engine.config.risk.lender_utilisation_pips
    usd_values = []
    for o in opps:
        hops = [(pools[h.pool], h.zero_for_one) for h in o.cycle]
        src = next(s for s in book.sources(o.loan_token) if s.lender is o.lender)
        cap = src.available * util // 1_000_000

        def profit(x: int) -> int:
            out = exact_cycle_out(hops, states, x)
            return -(1 << 200) if out is None else out - x - src.premium(x)

        best, best_x = brute_force_best(profit, cap)
        assert o.profit_after_premium == profit(o.amount_in)
        assert o.profit_after_premium >= best * 0.9999, (o.pools, o.profit_after_premium, best)
        usd_values.append(_usd(replica, o.loan_token, o.net_profit))
    # ranked by value: the engine prices in native through the pools, the check at the replica's reference
    # prices; the planted dislocations differ enough that both orders agree
    assert usd_values == sorted(usd_values, reverse=True)
    assert usd_values[0] > 100


def test_reversing_a_dislocation_removes_its_opportunity(engine, w3, replica):
    engine.start()
    v2_swap(w3, replica, "quickswap", "WETH", "USDC", units(replica, "WETH", 90_000))
    first = engine.step()
    quick = _pool(engine, replica, "WETH", "USDC", dex="quickswap")
    assert any(quick in o.pools for o in first)
    # someone else takes it: buy the WETH back on the same pair
    o = next(o for o in first if quick in o.pools)
    v2_swap(w3, replica, "quickswap", "USDC", "WETH", units(replica, "USDC", 88_000))
    second = engine.step()
    assert not engine.core.stats.full
    assert all(quick not in x.pools or x.net_profit < o.net_profit / 10 for x in second)


def test_a_new_pool_is_discovered_and_traded(devchain, engine_config, rpc, w3, replica, chain_snapshot):
    """A pair created after start (LINK/AAVE on QuickSwap, priced 20% off) is found by the next rescan."""
    lens = PoolLensClient(devchain.url, forge_out=lens_forge_out())
    eng = Engine(engine_config, rpc, lens, gas_price=GAS_PRICE, rescan_every=1)
    try:
        assert eng.start() == []
        v2_add_liquidity(
            w3,
            replica,
            "quickswap",
            "LINK",
            "AAVE",
            units(replica, "LINK", 60_000),
            units(replica, "AAVE", 50_000),
        )
        opps = eng.step()
        new = _pool(eng, replica, "LINK", "AAVE", dex="quickswap")
        assert new not in replica.pools.v2 and any(new in o.pools for o in opps)
        assert eng.core.stats.full
    finally:
        eng.close()
        lens.close()


def test_opportunity_round_trips_as_a_message(engine, w3, replica):
    engine.start()
    _plant(w3, replica)
    for o in engine.step():
        assert Opportunity.from_json(o.to_json()) == o
        assert o.chain_id == 31337 and o.block_hash == engine.sync.head.hash
        assert o.deadline_block == o.block_number + engine.config.deadline_blocks


def test_lender_book_reads_the_replica(rpc, engine_config, replica):
    book = load_lender_book(rpc, engine_config)
    usdc = replica.token("USDC").address
    sources = {s.lender: s for s in book.sources(usdc)}
    assert set(sources) == {Lender.AAVE_SIMPLE, Lender.BALANCER}
    assert sources[Lender.AAVE_SIMPLE].premium(10_000_000) == 5_000  # 0.05%, read from the pool
    assert sources[Lender.BALANCER].premium(10_000_000) == 0
    assert sources[Lender.AAVE_SIMPLE].available == units(replica, "USDC", 5_000_000)
    assert sources[Lender.BALANCER].available == units(replica, "USDC", 2_000_000)
    assert book.sources(usdc)[0].lender is Lender.BALANCER  # cheapest first


# ---------------------------------------------------------------------------------------------- executor
def _deploy_executor(w3, replica) -> str | None:
    artifact = repo_root() / "out" / "FlashArbExecutor.sol" / "FlashArbExecutor.json"
    if not artifact.is_file():
        return None
    code = json.loads(artifact.read_text())["bytecode"]["object"]
    args = encode(
        ["address", "address", "address", "address"],
        [replica.admin, replica.aave_v3.pool, replica.balancer_v2.vault, replica.admin],
    )
    tx = {"from": replica.admin, "data": code + args.hex(), "gas": 8_000_000}
    receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction(tx))
    assert receipt["status"] == 1
    return receipt["contractAddress"]


def test_plans_execute_with_the_predicted_profit(engine, w3, replica):
    executor = _deploy_executor(w3, replica)
    if executor is None:
        pytest.skip("out/FlashArbExecutor.sol/FlashArbExecutor.json not built (run forge build)")
    engine.start()
    _plant(w3, replica)
    opps = engine.step()
    assert len(opps) >= 3
    lenders = set()
    for o in opps:
        data = calldata("execute(bytes)", ["bytes"], [o.plan])
        (profit,) = decode(["uint256"], call(w3, executor, data, sender=replica.admin))
        assert profit == o.profit_after_premium, (o.pools, profit, o.profit_after_premium)
        gas = w3.eth.estimate_gas({"from": replica.admin, "to": executor, "data": data})
        assert gas <= o.gas_estimate <= 1.3 * gas, (o.lender, [h.kind for h in o.cycle], gas, o.gas_estimate)
        lenders.add(o.lender)
    # and one for real: the executor keeps the profit
    o = opps[0]
    before = int.from_bytes(call(w3, o.loan_token, calldata("balanceOf(address)", ["address"], [executor])))
    send(w3, replica.admin, executor, calldata("execute(bytes)", ["bytes"], [o.plan]))
    after = int.from_bytes(call(w3, o.loan_token, calldata("balanceOf(address)", ["address"], [executor])))
    assert after - before == o.profit_after_premium


def test_aave_plan_pays_the_premium(engine, w3, replica, engine_config, rpc, devchain):
    """With Balancer out of the lender config, the same dislocation borrows from Aave."""
    executor = _deploy_executor(w3, replica)
    if executor is None:
        pytest.skip("out/FlashArbExecutor.sol/FlashArbExecutor.json not built (run forge build)")
    config = EngineConfig.from_replica(replica, lenders={"aave_pool": replica.aave_v3.pool})
    lens = PoolLensClient(devchain.url, forge_out=lens_forge_out())
    eng = Engine(config, rpc, lens, gas_price=GAS_PRICE)
    eng.start()
    v2_swap(w3, replica, "quickswap", "WETH", "USDC", units(replica, "WETH", 90_000))
    opps = eng.step()
    assert opps and all(o.lender is Lender.AAVE_SIMPLE and o.flash_premium > 0 for o in opps)
    for o in opps:
        data = calldata("execute(bytes)", ["bytes"], [o.plan])
        (profit,) = decode(["uint256"], call(w3, executor, data, sender=replica.admin))
        assert profit == o.profit_after_premium
        gas = w3.eth.estimate_gas({"from": replica.admin, "to": executor, "data": data})
        assert gas <= o.gas_estimate <= 1.3 * gas, (o.lender, [h.kind for h in o.cycle], gas, o.gas_estimate)
    eng.close()
    lens.close()


def test_connect_costs_gas_at_the_nodes_price(devchain, engine_config, w3, replica, chain_snapshot):
    eng = Engine.connect(engine_config, devchain.url, forge_out=lens_forge_out())
    try:
        eng.start()
        v2_swap(w3, replica, "quickswap", "WETH", "USDC", units(replica, "WETH", 90_000))
        opps = eng.step()
        price = int(devchain.rpc("eth_gasPrice"), 16)
        assert opps and all(o.gas_price == price for o in opps)
        assert eng.check_consistency().ok
    finally:
        eng.close()
