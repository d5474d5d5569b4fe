"""flasharb.engine.registry: discovery from factory events (a scripted node for chunking, range limits and
resume; then the replica's real factories) and the SQLite store."""

from __future__ import annotations

import pytest
from eth_abi import encode

from flasharb.engine import EngineConfig, PoolKind, PoolRegistry
from flasharb.engine.errors import RegistryError, RpcError
from flasharb.engine.registry import PAIR_CREATED_TOPIC, POOL_CREATED_TOPIC

TOKENS = [f"0x{i:040x}" for i in range(1, 5)]
OUTSIDER = "0x" + "ee" * 20
V2_FACTORY = "0x" + "f2" * 20
V3_FACTORY = "0x" + "f3" * 20


def _config(**kw) -> EngineConfig:
    data = {
        "chain_id": 999,
        "native_token": TOKENS[0],
        "tokens": [{"symbol": f"T{i}", "address": t, "decimals": 18} for i, t in enumerate(TOKENS)],
        "dexes": [
            {"name": "quick", "kind": "v2", "factory": V2_FACTORY, "fee_pips": 2500, "start_block": 10},
            {"name": "uni3", "kind": "v3", "factory": V3_FACTORY, "start_block": 10},
        ],
        "log_chunk_blocks": 100,
    }
    data.update(kw)
    return EngineConfig.model_validate(data)


def _topic(address: str) -> str:
    return "0x" + "0" * 24 + address[2:].lower()


class ScriptedNode:
    """Answers eth_blockNumber and eth_getLogs from factory logs; refuses spans over ``max_span``."""

    def __init__(self, head: int, logs: list[dict], max_span: int = 10**9) -> None:
        self.head, self.logs, self.max_span = head, logs, max_span
        self.requests: list[tuple[int, int]] = []

    def call(self, method, params):
        if method == "eth_blockNumber":
            return hex(self.head)
        assert method == "eth_getLogs"
        f = params[0]
        lo, hi = int(f["fromBlock"], 16), int(f["toBlock"], 16)
        if hi - lo + 1 > self.max_span:
            raise RpcError("query exceeds max block range 50", code=-32005)
        self.requests.append((lo, hi))
        topics = f["topics"]
        out = []
        for log in self.logs:
            if log["address"] != f["address"].lower() or not lo <= int(log["blockNumber"], 16) <= hi:
                continue
            if log["topics"][0] != topics[0]:
                continue
            if len(topics) > 1 and (log["topics"][1] not in topics[1] or log["topics"][2] not in topics[2]):
                continue
            out.append(log)
        return out

    def batch(self, calls):
        return [self.call(m, p) for m, p in calls]


def _pair_log(block: int, t0: str, t1: str, pair: str) -> dict:
    return {
        "address": V2_FACTORY,
        "topics": [PAIR_CREATED_TOPIC, _topic(t0), _topic(t1)],
        "data": "0x" + encode(["address", "uint256"], [pair, 1]).hex(),
        "blockNumber": hex(block),
        "blockHash": "0x" + "00" * 32,
        "logIndex": "0x0",
    }


def _pool_log(block: int, t0: str, t1: str, fee: int, spacing: int, pool: str) -> dict:
    return {
        "address": V3_FACTORY,
        "topics": [POOL_CREATED_TOPIC, _topic(t0), _topic(t1), "0x" + fee.to_bytes(32).hex()],
        "data": "0x" + encode(["int24", "address"], [spacing, pool]).hex(),
        "blockNumber": hex(block),
        "blockHash": "0x" + "00" * 32,
        "logIndex": "0x0",
    }


LOGS = [
    _pair_log(12, TOKENS[0], TOKENS[1], "0x" + "a1" * 20),
    _pair_log(150, TOKENS[1], TOKENS[2], "0x" + "a2" * 20),
    _pair_log(160, TOKENS[0], OUTSIDER, "0x" + "a3" * 20),  # outside the universe
    _pool_log(90, TOKENS[0], TOKENS[3], 500, 10, "0x" + "b1" * 20),
    _pool_log(400, TOKENS[2], TOKENS[3], 3000, 60, "0x" + "b2" * 20),
]


def test_discovers_pools_of_the_universe_in_chunks():
    node = ScriptedNode(300, LOGS)
    reg = PoolRegistry(_config())
    found = reg.sync(node)
    assert {p.address.lower() for p in found} == {"0x" + "a1" * 20, "0x" + "a2" * 20, "0x" + "b1" * 20}
    v3 = next(p for p in found if p.kind is PoolKind.V3)
    assert (v3.fee_pips, v3.tick_spacing, v3.dex, v3.created_block) == (500, 10, "uni3", 90)
    v2 = next(p for p in found if p.address.lower() == "0x" + "a1" * 20)
    assert (v2.fee_pips, v2.token0.lower(), v2.token1.lower()) == (2500, TOKENS[0], TOKENS[1])
    assert all(hi - lo + 1 <= 100 for lo, hi in node.requests) and node.requests[0][0] == 10
    assert {d.name: reg.last_scanned(d) for d in reg.config.dexes} == {"quick": 300, "uni3": 300}


def test_halves_the_span_when_the_node_refuses_a_range():
    node = ScriptedNode(300, LOGS, max_span=50)
    found = PoolRegistry(_config()).sync(node)
    assert len(found) == 3 and all(hi - lo + 1 <= 50 for lo, hi in node.requests)


def test_resumes_from_the_last_scanned_block(tmp_path):
    db = tmp_path / "pools.sqlite"
    node = ScriptedNode(300, LOGS)
    with PoolRegistry(_config(), db) as reg:
        reg.sync(node)
    node.head, node.requests = 500, []
    with PoolRegistry(_config(), db) as reg:
        found = reg.sync(node)
        assert [p.address.lower() for p in found] == ["0x" + "b2" * 20]
        assert min(lo for lo, _ in node.requests) == 301
        assert len(reg.pools()) == 4


def test_a_new_universe_rescans(tmp_path):
    db = tmp_path / "pools.sqlite"
    with PoolRegistry(_config(), db) as reg:
        reg.sync(ScriptedNode(300, LOGS))
    tokens = [{"symbol": f"T{i}", "address": t, "decimals": 18} for i, t in enumerate(TOKENS)]
    tokens.append({"symbol": "X", "address": OUTSIDER, "decimals": 18})
    node = ScriptedNode(300, LOGS)
    with PoolRegistry(_config(tokens=tokens), db) as reg:
        reg.sync(node)
        assert min(lo for lo, _ in node.requests) == 10
        assert "0x" + "a3" * 20 in {p.address.lower() for p in reg.pools()}


def test_refuses_another_chains_database(tmp_path):
    db = tmp_path / "pools.sqlite"
    PoolRegistry(_config(), db).close()
    with pytest.raises(RegistryError, match="chain 999"):
        PoolRegistry(_config(chain_id=137), db)


def test_scans_behind_the_head_by_confirmations():
    node = ScriptedNode(300, LOGS)
    reg = PoolRegistry(_config(confirmations=200))
    found = reg.sync(node)
    assert {p.created_block for p in found} == {12, 90}


@pytest.mark.chain
def test_replica_factories(rpc, replica, engine_config, tmp_path):
    with PoolRegistry(engine_config, tmp_path / "replica.sqlite") as reg:
        reg.sync(rpc)
        pools = reg.pools()
    assert sorted(p.address for p in pools if p.kind is PoolKind.V2) == sorted(replica.pools.v2)
    assert sorted(p.address for p in pools if p.kind is PoolKind.V3) == sorted(replica.pools.v3)
    assert {p.dex for p in pools} == {"quickswap", "sushiswap", "uniswap_v3"}
    assert {p.fee_pips for p in pools if p.kind is PoolKind.V3} == {500, 3000, 10000}
    # a restart reads the store and scans nothing old again
    with PoolRegistry(engine_config, tmp_path / "replica.sqlite") as reg:
        assert reg.sync(rpc) == [] and len(reg.pools()) == 35
