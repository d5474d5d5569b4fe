"""One scanner and three agents on the replica through a real nats-server: a seeded market dislocates prices
every block, the scanner publishes what the engine finds, the agents (each its own account, nonce manager,
risk limits and P&L store) claim and execute through the bot's stage code. Every published opportunity is
handled by exactly one agent, none is sent twice, and every mined one realizes its predicted profit to the wei.
"""

from __future__ import annotations

import asyncio
import collections
import json
from pathlib import Path

import nats
from web3 import Web3

from flasharb.demo.market import Market
from flasharb.demo.run import BOT_KEY, OWNER_KEY
from flasharb.devchain import start_devchain
from flasharb.engine import Engine, EngineConfig
from flasharb.relay.agent import Agent
from flasharb.relay.broker import RelayLayout, ensure_relay
from flasharb.relay.execution import AgentSpec, open_agent_executor
from flasharb.relay.publisher import Publisher, scan_once
from flasharb.risk import RiskLimits
from flasharb.tx import Signer

# anvil's public development keys 1, 2 and 3 (never real ones)
AGENT_KEYS = (
    BOT_KEY,
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
)
FINAL = {"outcome", "refuse", "drop", "claimed", "stale", "error"}


def deploy_executor_for(chain, executors: tuple[str, ...], deployments_dir: Path) -> str:
    from pydantic import SecretStr

    from flasharb.deploy import deploy_executor
    from flasharb.settings import Settings

    settings = Settings(
        network="ethereum:local:foundry",
        rpc_url=chain.url,
        private_key=SecretStr(OWNER_KEY),
        executors=executors,
        aave_pool=chain.replica.aave_v3.pool,
        balancer_vault=chain.replica.balancer_v2.vault,
        deployments_dir=deployments_dir,
    )
    return deploy_executor(settings).record.address


async def _results(js, layout) -> list[dict]:
    sub = await js.pull_subscribe(layout.result_subject, durable=None, stream=layout.result_stream)
    out: list[dict] = []
    while True:
        try:
            out += [json.loads(m.data) for m in await sub.fetch(batch=200, timeout=0.3)]
        except (nats.errors.TimeoutError, asyncio.TimeoutError):
            return out


async def _scenario(tmp: Path, nats_url: str, *, rounds: int) -> dict:
    with start_devchain() as chain:
        w3 = Web3(Web3.HTTPProvider(chain.url))
        signers = [Signer.from_private_key(k) for k in AGENT_KEYS]
        executor = deploy_executor_for(chain, tuple(s.address for s in signers), tmp)
        market = Market(w3, chain.replica, seed=11)
        market.prepare()
        config = EngineConfig.from_replica(chain.replica, deadline_blocks=16)
        layout = RelayLayout(config.chain_id)
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        kv = await ensure_relay(js, layout)

        engine = Engine.connect(config, chain.url, registry_path=tmp / "registry.sqlite")
        publisher = Publisher(js, layout)
        agents: list[Agent] = []
        tasks = []
        executors = []
        try:
            for i, signer in enumerate(signers):
                spec = AgentSpec(
                    rpc_urls=(chain.url,),
                    executor=executor,
                    chain_id=config.chain_id,
                    database_url=f"sqlite:///{tmp / f'agent{i}.db'}",
                    state_dir=tmp / f"agent{i}",
                    limits=RiskLimits(max_loan_default=2**255, max_in_flight=8, chain_id=config.chain_id),
                )
                ex_cm = open_agent_executor(spec, signer)
                ex = await ex_cm.__aenter__()
                executors.append(ex_cm)
                agent = Agent(nc, js, kv, layout, ex, name=f"agent{i}")
                agents.append(agent)
                tasks.append(asyncio.create_task(agent.run()))

            engine.start()
            published: list[str] = []
            seen: dict[str, list[dict]] = collections.defaultdict(list)
            sub = await js.pull_subscribe(layout.result_subject, durable=None, stream=layout.result_stream)
            for _ in range(rounds):
                for _ in range(2):
                    market.random_trade()
                ids = [p.id for p in await scan_once(engine, publisher)]
                published += ids
                # the next market trades wait until every agent is done with this block (as the demo does)
                loop = asyncio.get_running_loop()
                end = loop.time() + 60
                while not all(any(r["decision"] in FINAL for r in seen[i]) for i in ids):
                    assert loop.time() < end, "results did not arrive"
                    try:
                        for m in await sub.fetch(batch=50, timeout=0.2):
                            r = json.loads(m.data)
                            seen[r["id"]].append(r)
                    except (nats.errors.TimeoutError, asyncio.TimeoutError):
                        pass
        finally:
            for a in agents:
                a.stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            for cm in executors:
                await cm.__aexit__(None, None, None)
            engine.close()
        results = await _results(js, layout)
        await nc.close()
        return {"published": published, "results": results, "stats": {a.name: a.stats for a in agents}}


def test_one_scanner_three_agents_execute_each_opportunity_once_exactly(tmp_path, nats_server):
    out = asyncio.run(_scenario(tmp_path, nats_server.url, rounds=10))
    published, results = out["published"], out["results"]
    assert len(published) == len(set(published)) >= 5, out["stats"]
    by_id: dict[str, list[dict]] = collections.defaultdict(list)
    for r in results:
        by_id[r["id"]].append(r)
    assert set(by_id) == set(published)
    for opp_id, rs in by_id.items():
        # exactly one agent handled each message (work queue), and nothing was sent twice
        assert len({r["agent"] for r in rs}) == 1, rs
        assert sum(r["decision"] == "sent" for r in rs) <= 1, rs
    sent = [r for r in results if r["decision"] == "sent"]
    outcomes = [r for r in results if r["decision"] == "outcome"]
    assert len(sent) >= 5, collections.Counter(r["decision"] for r in results)
    assert len(outcomes) == len(sent), "every sent transaction settled and was reported"
    assert all(o["status"] == "mined" and o["exact"] and int(o["realized"]) > 0 for o in outcomes), outcomes
    assert all(o["realized"] == o["predicted"] for o in outcomes)
    txs = [r["tx"] for r in sent]
    assert len(txs) == len(set(txs))
    print("agents:", {name: (s.executed, s.refused, s.claims_refused) for name, s in out["stats"].items()})
