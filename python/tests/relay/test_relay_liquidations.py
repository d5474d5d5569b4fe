"""Liquidations over the relay, on the replica: the scanner runs the arbitrage engine with the Aave
liquidation strategy beside it (``flasharb scan --liquidations``), Aave's oracle prices are moved so that
known borrowers fall under health factor 1, and one agent pulls the messages through a real nats-server
and liquidates each through the real executor: every liquidation arrives as published, is executed once,
and realizes its predicted profit to the wei."""

from __future__ import annotations

import asyncio
import base64
import collections
import json
import sys
from pathlib import Path

import nats
import pytest

from flasharb.aave.strategy import LiquidationConfig, LiquidationStrategy
from flasharb.bot.sources import StrategySet
from flasharb.demo.run import BOT_KEY, deploy_executor
from flasharb.engine import Engine, EngineConfig
from flasharb.engine.types import LIQUIDATION
from flasharb.relay.agent import Agent
from flasharb.relay.broker import RelayLayout, ensure_relay
from flasharb.relay.execution import AgentSpec, open_agent_executor
from flasharb.relay.publisher import Publisher, scan_once
from flasharb.relay.wire import decode_opportunity, opportunity_id
from flasharb.risk import RiskLimits
from flasharb.tx import Signer

sys.path.insert(0, str(Path(__file__).parents[1] / "aave"))
from aave_chain import AaveChain  # noqa: E402

pytestmark = pytest.mark.chain

# as tests/aave/test_liquidation_bot.py: this move puts borrowers 0, 1, 2, 9 and 11 under 1
MOVE = {"WETH": 3000e8 * 0.85, "WMATIC": 0.40e8 * 0.80, "WBTC": 90_000e8 * 0.90}
LIQUIDATABLE = (0, 1, 2, 9, 11)
FINAL = {"outcome", "refuse", "drop", "claimed", "stale", "error"}


async def _scenario(chain, w3, tmp: Path, nats_url: str, *, max_rounds: int = 8) -> dict:
    signer = Signer.from_private_key(BOT_KEY)
    executor = deploy_executor(chain, signer.address, tmp)
    config = EngineConfig.from_replica(chain.replica, deadline_blocks=16)
    layout = RelayLayout(config.chain_id)
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    kv = await ensure_relay(js, layout)
    engine = Engine.connect(config, chain.url, registry_path=tmp / "registry.sqlite")
    strategy = LiquidationStrategy.connect(
        LiquidationConfig.from_replica(chain.aave), engine, chain.url, book_path=str(tmp / "borrowers.sqlite")
    )
    source = StrategySet(engine, [strategy])  # what `flasharb scan --liquidations` publishes from
    publisher = Publisher(js, layout)
    spec = AgentSpec(
        rpc_urls=(chain.url,),
        executor=executor,
        chain_id=config.chain_id,
        database_url=f"sqlite:///{tmp / 'agent.db'}",
        state_dir=tmp / "agent",
        limits=RiskLimits(max_loan_default=2**255, max_in_flight=8, chain_id=config.chain_id),
    )
    published = {}  # id -> the Opportunity as the scanner had it
    seen: dict[str, list[dict]] = collections.defaultdict(list)
    want = {chain.aave.borrowers[i] for i in LIQUIDATABLE}
    try:
        async with open_agent_executor(spec, signer) as ex:
            agent = Agent(nc, js, kv, layout, ex, name="agent0")
            task = asyncio.create_task(agent.run())
            sub = await js.pull_subscribe(layout.result_subject, durable=None, stream=layout.result_stream)
            loop = asyncio.get_running_loop()

            async def settle(opps, out) -> None:
                """Records what was published and waits until the agent is done with each message."""
                assert len(out) == len(opps)
                for opp, p in zip(opps, out):
                    assert p.id == opportunity_id(opp).hex() and not p.duplicate
                    published[p.id] = opp
                end = loop.time() + 60
                while not all(any(r["decision"] in FINAL for r in seen[p.id]) for p in out):
                    assert loop.time() < end, "results did not arrive"
                    try:
                        for m in await sub.fetch(batch=50, timeout=0.2):
                            r = json.loads(m.data)
                            seen[r["id"]].append(r)
                    except (nats.errors.TimeoutError, asyncio.TimeoutError):
                        pass

            try:
                first = source.start()
                assert not [o for o in first if o.strategy == LIQUIDATION]  # all healthy at reference prices
                await settle(first, await publisher.publish_all(first))
                aave = AaveChain(w3, chain.replica)
                for symbol, price in MOVE.items():
                    aave.set_price(symbol, int(price))
                scanner = _Scanner(source)
                for _ in range(max_rounds):  # a liquidation sharing a pool with a better one waits a head
                    w3.provider.make_request("evm_mine", [])
                    out = await scan_once(scanner, publisher)  # the `flasharb scan` step
                    await settle(scanner.last, out)
                    if _liquidated(published, seen) >= want:
                        break
            finally:
                agent.stop.set()
                await asyncio.gather(task, return_exceptions=True)
    finally:
        source.close()
        await nc.close()
    return {"published": published, "seen": seen, "want": want}


class _Scanner:
    """The scanner's source, keeping what each step found (to compare with what the agent received)."""

    def __init__(self, source) -> None:
        self.source = source
        self.last: list = []

    def step(self) -> list:
        self.last = self.source.step()
        return self.last


def _liquidated(published: dict, seen: dict) -> set[str]:
    return {
        published[i].liquidation.user
        for i, rs in seen.items()
        if published[i].strategy == LIQUIDATION and any(r["decision"] == "outcome" for r in rs)
    }


def test_scanner_publishes_liquidations_and_an_agent_executes_each_once_exactly(
    devchain, chain_snapshot, w3, tmp_path, nats_server
):
    out = asyncio.run(_scenario(devchain, w3, tmp_path, nats_server.url))
    published, seen = out["published"], out["seen"]
    liquidations = {i: o for i, o in published.items() if o.strategy == LIQUIDATION}
    decisions = collections.Counter(r["decision"] for rs in seen.values() for r in rs)
    assert _liquidated(published, seen) == out["want"], decisions
    for opp_id, opp in liquidations.items():
        rs = seen[opp_id]
        assert opp.liquidation is not None and opp.decoded_plan() is not None
        sent = [r for r in rs if r["decision"] == "sent"]
        outcomes = [r for r in rs if r["decision"] == "outcome"]
        assert len(sent) <= 1 and len(outcomes) == len(sent), rs  # executed at most once, each settled
        for r in rs:
            if r["decision"] in {"sent", "refuse", "drop", "stale", "error"}:  # they carry the message taken:
                assert decode_opportunity(base64.b64decode(r["opp"]), chain_id=opp.chain_id) == opp  # as sent
        for o in outcomes:
            assert o["status"] == "mined" and o["exact"], o
            assert o["realized"] == o["predicted"] and int(o["realized"]) > 0, o
    executed = [i for i in liquidations if any(r["decision"] == "outcome" for r in seen[i])]
    assert len(executed) == len({liquidations[i].liquidation.user for i in executed}) == len(out["want"])
    txs = [r["tx"] for rs in seen.values() for r in rs if r["decision"] == "sent"]
    assert len(txs) == len(set(txs))
    print("liquidations published", len(liquidations), "executed", len(executed), dict(decisions))


def test_flasharb_scan_liquidations_publishes_them(devchain, chain_snapshot, w3, tmp_path, nats_server):
    """``flasharb scan --liquidations`` as its own process: the replica's Aave file is found beside the
    replica file, and after the price move the stream holds a liquidation message per borrower under 1."""
    import shutil
    import subprocess

    from flasharb.paths import repo_root

    replica_file = tmp_path / "replica.json"
    replica_file.write_text(devchain.replica.model_dump_json())
    shutil.copy(repo_root() / "deployments" / "replica-31337-aave.json", tmp_path / "replica-aave.json")
    aave = AaveChain(w3, devchain.replica)
    for symbol, price in MOVE.items():
        aave.set_price(symbol, int(price))
    flasharb = str(Path(sys.executable).with_name("flasharb"))
    proc = subprocess.Popen(
        [flasharb, "scan", "--liquidations", "--nats-url", nats_server.url, "--rpc-url", devchain.url,
         "--replica", str(replica_file), "--deadline-blocks", "16", "--blocks", "2"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        import time

        end = time.monotonic() + 60
        while proc.poll() is None and time.monotonic() < end:
            w3.provider.make_request("evm_mine", [])
            time.sleep(0.5)
        out = proc.communicate(timeout=30)[0].decode()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, out
    msgs = asyncio.run(_stream(nats_server.url, RelayLayout(devchain.replica.chain_id)))
    opps = [decode_opportunity(m, chain_id=devchain.replica.chain_id) for m in msgs]
    users = {o.liquidation.user for o in opps if o.strategy == LIQUIDATION}
    assert users and users <= {devchain.aave.borrowers[i] for i in LIQUIDATABLE}, out
    assert all(m[1] == 2 for m, o in zip(msgs, opps) if o.strategy == LIQUIDATION)


async def _stream(url: str, layout: RelayLayout) -> list[bytes]:
    nc = await nats.connect(url)
    js = nc.jetstream()
    sub = await js.pull_subscribe_bind(durable=layout.consumer, stream=layout.opp_stream)  # agents' consumer
    out: list[bytes] = []
    while True:
        try:
            out += [bytes(m.data) for m in await sub.fetch(batch=100, timeout=0.5)]
        except (nats.errors.TimeoutError, asyncio.TimeoutError):
            await nc.close()
            return out
