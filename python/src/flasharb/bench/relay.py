"""The relay benchmark: one scanner and ``agents`` agent processes on loopback through a real nats-server.

- ``relay_p50_ms`` / ``relay_p99_ms``: publish (scanner's wall clock, ``Flasharb-Sent-Ns``) to the agent holding
  the message, at a paced ``rate`` of messages per second; agents run the full agent path (decode, stale check,
  claims in the KV bucket, result) with a no-op executor.
- ``throughput_per_s``: ``throughput_n`` opportunities published as fast as one scanner can, until every one
  has its result; ``lost`` counts the ones without.
- ``block_to_send_p50_ms``: on anvil with the replica, from the scanner taking a new block (before the engine's
  sync) to an agent's transaction sent, through the relay, with the agents as separate ``flasharb agent``
  processes; ``block_to_publish_p50_ms`` (the scanner's sync, detect, size and publish; of which
  ``scanner_engine_p50_ms`` is the engine) and ``agent_to_send_p50_ms`` (an agent's receipt of the message to its
  transaction sent; of which ``agent_claimed_p50_ms`` to its claims held, ``agent_simulate_p50_ms`` and
  ``agent_send_p50_ms``) split it; ``block_to_send_decisions`` counts what the agents decided.

``python -m flasharb.bench.relay`` writes ``bench/results/relay.json``.
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from eth_utils import to_checksum_address

from flasharb.bot.pipeline import Dispatch
from flasharb.engine.types import CycleHop, Opportunity, PoolKind
from flasharb.relay.broker import NatsServer, RelayConfig, RelayLayout, ensure_relay
from flasharb.relay.execution import Execution
from flasharb.relay.publisher import Publisher
from flasharb.relay.wire import encode_opportunity
from flasharb.route import Lender

CHAIN = 137
LAYOUT = RelayLayout(CHAIN)


def _addr(n: int) -> str:
    return to_checksum_address(n.to_bytes(20, "big"))


def synthetic(i: int) -> Opportunity:
    """A distinct two-hop opportunity (own pools, so claims never collide)."""
    pools = (_addr(0x10000 + 2 * i), _addr(0x10001 + 2 * i))
    t0, t1 = _addr(0x7C2), _addr(0x2791)
    return Opportunity(
        chain_id=CHAIN, block_number=1_000 + i, block_hash="0x" + i.to_bytes(32, "big").hex(),
        deadline_block=2**62, lender=Lender.AAVE_SIMPLE, loan_token=t0,
        cycle=(CycleHop(pools[0], PoolKind.V2, "quickswap", True, t0, t1, 3000, 10**18, 2 * 10**6),
               CycleHop(pools[1], PoolKind.V3, "uniswap_v3", False, t1, t0, 500, 2 * 10**6, 10**18 + i)),
        amount_in=10**18, expected_out=10**18 + i, gross_profit=i, flash_premium=0, gas_estimate=250_000,
        gas_price=30 * 10**9, gas_cost=0, net_profit=i, min_profit=0, plan=i.to_bytes(8, "big") * 8, pools=pools,
    )  # fmt: skip


class NullExecutor:
    address = _addr(0xA11CE)
    contract = _addr(0xE1EC)

    async def head(self) -> int:
        return 0

    async def execute(self, opp: Opportunity, received_at: float) -> Execution:
        return Execution("sent", "ok", dispatch=Dispatch(opp, 0, 0, "0x" + "00" * 32, 0, 0, 0, 0, 0.0))


async def _agent_main(url: str, name: str) -> None:
    import nats

    from flasharb.relay.agent import Agent

    nc = await nats.connect(url)
    js = nc.jetstream()
    kv = await ensure_relay(js, LAYOUT)
    await Agent(nc, js, kv, LAYOUT, NullExecutor(), name=name, pool_ttl=60).run()
    await nc.close()


async def _collect(js, n: int, timeout: float) -> list[dict]:
    import nats

    from nats.js import api

    sub = await js.pull_subscribe(
        LAYOUT.result_subject, durable=None, stream=LAYOUT.result_stream,
        config=api.ConsumerConfig(ack_policy=api.AckPolicy.NONE),
    )  # fmt: skip
    out: list[dict] = []
    end = time.monotonic() + timeout
    while len(out) < n and time.monotonic() < end:
        try:
            out += [json.loads(m.data) for m in await sub.fetch(batch=1000, timeout=0.5)]
        except (nats.errors.TimeoutError, asyncio.TimeoutError):
            pass
    await sub.unsubscribe()
    return out


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else float("nan")


async def _relay_phase(url: str, *, latency_n: int, rate: float, throughput_n: int) -> dict:
    import nats

    import gc

    nc = await nats.connect(url)
    js = nc.jetstream()
    await ensure_relay(js, LAYOUT)
    pub = Publisher(js, LAYOUT)
    gc.collect()
    gc.freeze()  # as the agents do: no full collection walking the imported world mid-measurement
    # paced: relay latency
    t0 = time.perf_counter()
    for i in range(latency_n):
        await pub.publish(synthetic(i))
        delay = t0 + (i + 1) / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
    lat = await _collect(js, latency_n, 30)
    lags = [r["lag_ms"] for r in lat if r.get("lag_ms") is not None]
    # flat out: throughput (encoding included), in windows of 1,000 outstanding publishes
    await js.purge_stream(LAYOUT.result_stream)
    base = latency_n
    start = time.perf_counter()
    for lo in range(0, throughput_n, 1000):
        await pub.publish_all([synthetic(base + i) for i in range(lo, min(lo + 1000, throughput_n))])  # pipelined
    results = await _collect(js, throughput_n, 120)
    elapsed = time.perf_counter() - start
    ids = {r["id"] for r in results if r["decision"] == "sent"}
    await nc.close()
    return {
        "relay_p50_ms": round(statistics.median(lags), 3),
        "relay_p99_ms": round(_pct(lags, 0.99), 3),
        "relay_samples": len(lags),
        "relay_rate_per_s": rate,
        "throughput_per_s": round(len(ids) / elapsed, 1),
        "throughput_n": throughput_n,
        "lost": throughput_n - len(ids),
    }


async def _block_to_send(rounds: int, agents: int) -> dict:
    import nats

    from flasharb.demo.market import Market
    from flasharb.demo.run import BOT_KEY, OWNER_KEY
    from flasharb.devchain import start_devchain
    from flasharb.engine import Engine, EngineConfig
    from flasharb.tx import Signer
    from web3 import Web3

    keys = (BOT_KEY, "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
            "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6")[:agents]  # fmt: skip
    flasharb = str(Path(sys.executable).with_name("flasharb"))
    samples: list[float] = []
    to_publish: list[float] = []
    agent_ms: list[float] = []
    sim_ms: list[float] = []
    claim_ms: list[float] = []  # an agent's receipt to its claims held (decode, stale check, claims)
    send_ms: list[float] = []
    to_step: list[float] = []  # the engine's part of block_to_publish (sync, detect, size)
    decisions: collections.Counter[str] = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp_s, start_devchain() as chain:
        tmp = Path(tmp_s)
        server = NatsServer(tmp / "js").start()
        procs: list[subprocess.Popen[bytes]] = []
        try:
            from pydantic import SecretStr

            from flasharb.deploy import deploy_executor
            from flasharb.settings import Settings

            signers = [Signer.from_private_key(k) for k in keys]
            executor = deploy_executor(Settings(
                network="ethereum:local:foundry", rpc_url=chain.url, private_key=SecretStr(OWNER_KEY),
                executors=tuple(s.address for s in signers), aave_pool=chain.replica.aave_v3.pool,
                balancer_vault=chain.replica.balancer_v2.vault, deployments_dir=tmp,
            )).record.address  # fmt: skip
            w3 = Web3(Web3.HTTPProvider(chain.url))
            market = Market(w3, chain.replica, seed=11)
            market.prepare()
            config = EngineConfig.from_replica(chain.replica, deadline_blocks=16)
            layout = RelayLayout(config.chain_id)
            nc = await nats.connect(server.url)
            js = nc.jetstream()
            await ensure_relay(js, layout)
            for i, key in enumerate(keys):
                cwd = tmp / f"a{i}"
                cwd.mkdir()
                env = {**os.environ, "FLASHARB_PRIVATE_KEY": key}
                env.pop("FLASHARB_ACCOUNT", None)
                procs.append(subprocess.Popen(
                    [flasharb, "agent", "--nats-url", server.url, "--rpc-url", chain.url, "--executor", executor,
                     "--chain-id", str(config.chain_id), "--name", f"a{i}", "--db", f"sqlite:///{cwd / 'pnl.db'}",
                     "--max-loan", str(2**255)],
                    cwd=cwd, env=env, stdout=open(cwd / "out.log", "wb"), stderr=subprocess.STDOUT,
                ))  # fmt: skip
            end = time.monotonic() + 90
            while (await js.consumer_info(layout.opp_stream, layout.consumer)).num_waiting < agents:
                if time.monotonic() > end or any(p.poll() is not None for p in procs):
                    raise RuntimeError("bench agents did not start: " + (tmp / "a0" / "out.log").read_text()[-2000:])
                await asyncio.sleep(0.1)
            engine = Engine.connect(config, chain.url, registry_path=tmp / "registry.sqlite")
            engine.start()
            pub = Publisher(js, layout)
            sub = await js.pull_subscribe(layout.result_subject, durable=None, stream=layout.result_stream)
            final = {"outcome", "refuse", "drop", "claimed", "stale", "error"}
            for _ in range(rounds):
                market.random_trade()
                market.random_trade()
                t_block = time.time_ns()
                opps = engine.step()
                to_step.append((time.time_ns() - t_block) / 1e6)
                ids = {p.id for p in await pub.publish_all(opps)}
                to_publish.append((time.time_ns() - t_block) / 1e6)
                done: set[str] = set()
                end = time.monotonic() + 60
                while ids - done and time.monotonic() < end:
                    try:
                        for m in await sub.fetch(batch=50, timeout=0.2):
                            r = json.loads(m.data)
                            if r["id"] in ids:
                                decisions[r["decision"] + (f":{r['reason']}" if r.get("reason") else "")] += 1
                            if r["decision"] == "sent" and r["id"] in ids:
                                samples.append((r["sent_ns"] - t_block) / 1e6)
                                agent_ms.append(r["head_to_send_ms"])
                                sim_ms.append(r.get("simulate_ms") or 0.0)
                                claim_ms.append(r.get("claimed_ms") or 0.0)
                                send_ms.append(r.get("send_ms") or 0.0)
                            if r["decision"] in final:
                                done.add(r["id"])
                    except (nats.errors.TimeoutError, asyncio.TimeoutError):
                        pass
            engine.close()
            await nc.close()
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                try:
                    p.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    p.kill()
            server.stop()

    def p50(xs: list[float]) -> float | None:
        return round(statistics.median(xs), 2) if xs else None

    return {"block_to_send_p50_ms": p50(samples), "block_to_send_samples": len(samples),
            "block_to_publish_p50_ms": p50(to_publish), "agent_to_send_p50_ms": p50(agent_ms),
            "scanner_engine_p50_ms": p50(to_step), "agent_simulate_p50_ms": p50(sim_ms),
            "agent_send_p50_ms": p50(send_ms), "agent_claimed_p50_ms": p50(claim_ms),
            "block_to_send_decisions": dict(sorted(decisions.items()))}  # fmt: skip


def run(*, agents: int = 3, latency_n: int = 2000, rate: float = 500.0, throughput_n: int = 10000,
        chain_rounds: int = 20) -> dict:  # fmt: skip
    result: dict = {"agents": agents}
    with tempfile.TemporaryDirectory(prefix="flasharb-bench-relay-") as tmp:
        server = NatsServer(Path(tmp) / "js").start()
        procs = []
        try:
            import nats  # noqa: F401

            async def setup() -> None:
                import nats as _n

                nc = await _n.connect(server.url)
                await ensure_relay(nc.jetstream(), LAYOUT, RelayConfig(opp_max_age=120.0))
                await nc.close()

            asyncio.run(setup())
            procs = [
                subprocess.Popen([sys.executable, "-m", "flasharb.bench.relay", "--agent", server.url, f"agent{i}"],
                                 env=os.environ.copy())  # fmt: skip
                for i in range(agents)
            ]

            async def wait_ready() -> None:
                import nats as _n

                nc = await _n.connect(server.url)
                js = nc.jetstream()
                end = time.monotonic() + 60
                while (await js.consumer_info(LAYOUT.opp_stream, LAYOUT.consumer)).num_waiting < agents:
                    if time.monotonic() > end:
                        raise RuntimeError("bench agents did not start")
                    await asyncio.sleep(0.1)
                await nc.close()

            asyncio.run(wait_ready())
            result.update(asyncio.run(_relay_phase(server.url, latency_n=latency_n, rate=rate,
                                                   throughput_n=throughput_n)))  # fmt: skip
        finally:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait(timeout=30)
            server.stop()
    if chain_rounds:
        result.update(asyncio.run(_block_to_send(chain_rounds, agents)))
    return result


def main(argv: list[str]) -> int:
    if argv[:1] == ["--agent"]:
        asyncio.run(_agent_main(argv[1], argv[2]))
        return 0
    from flasharb.paths import repo_root

    result = run()
    out = repo_root() / "bench" / "results" / "relay.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

_ = encode_opportunity  # the publisher encodes; imported here for readers of the benchmark
