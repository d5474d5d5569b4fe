"""The whole relay as separate OS processes on the replica: ``flasharb scan``, three ``flasharb agent`` and
``flasharb record``, with nats-server restarted mid-run (same port, same file storage). Everything reconnects
on its own; every transaction on chain was reported and recorded once in the one P&L store, none twice; the
report built from that store covers every agent. (SIGKILL of an agent: ``test_relay_processes.py``.)"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nats
from web3 import Web3

from flasharb.demo.market import Market
from flasharb.devchain import start_devchain
from flasharb.relay.broker import RelayLayout, ensure_relay
from flasharb.report import build_report
from flasharb.store import Store
from flasharb.tx import Signer

from test_relay_e2e import AGENT_KEYS, deploy_executor_for  # noqa: E402  (same folder)

FLASHARB = str(Path(sys.executable).with_name("flasharb"))


def _spawn(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen:
    cwd.mkdir(exist_ok=True)
    return subprocess.Popen([FLASHARB, *args], cwd=cwd, env=env or dict(os.environ),
                            stdout=open(cwd / "out.log", "wb"), stderr=subprocess.STDOUT)  # fmt: skip


async def _results(js, layout) -> list[dict]:
    sub = await js.pull_subscribe(layout.result_subject, durable=None, stream=layout.result_stream)
    out: list[dict] = []
    while True:
        try:
            out += [json.loads(m.data) for m in await sub.fetch(batch=500, timeout=0.3)]
        except (nats.errors.TimeoutError, asyncio.TimeoutError):
            await sub.unsubscribe()
            return out


async def _wait(cond, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not await cond():
        assert time.monotonic() < end, what
        await asyncio.sleep(0.2)


def test_broker_restart_with_scanner_agents_and_recorder_as_processes(tmp_path, nats_server):
    with start_devchain() as chain:
        out = asyncio.run(_scenario(tmp_path, chain, nats_server))
    calls, results, store_url = out["calls"], out["results"], out["store_url"]
    logs = out["logs"]
    bad = {n: c for n, c in out["codes"].items() if c != 0}
    assert not bad, (bad, {n: logs[n] for n in bad})
    assert calls and max(calls.values()) == 1, "a plan executed twice on chain"
    sent = [r for r in results if r["decision"] == "sent"]
    assert len({r["id"] for r in sent}) == len(sent), "an opportunity sent twice"
    assert len(sent) == sum(calls.values()) >= 3, (len(sent), sum(calls.values()))
    outcomes = {r["tx"]: r for r in results if r["decision"] == "outcome"}
    assert set(outcomes) == {r["tx"] for r in sent}, "every sent transaction settled and was reported"
    # the market keeps trading while agents execute, so a run may revert or land off its prediction; what this
    # test is about is that each one is reported and recorded exactly as it happened
    assert all(o["status"] in ("mined", "reverted") for o in outcomes.values()), outcomes
    assert out["restarted_after"] and out["sent_after_restart"] > 0, "the run carried on after the restart"
    with Store.open(store_url, create=False) as store:
        txs = store.transactions()
        assert sorted(t.hash for t in txs) == sorted(r["tx"] for r in sent), "every execution recorded, once"
        assert {t.hash: t.status.value for t in txs} == {tx: o["status"] for tx, o in outcomes.items()}
        assert len({t.from_address for t in txs}) >= 2, "executions of several agents in the one store"
        assert {t.hash: store.get_result(t.hash).exact for t in txs} == {tx: o["exact"] for tx, o in outcomes.items()}
        per_opp = collections.Counter(d.opportunity_id for d in store.decisions() if d.decision.value == "execute")
        assert set(per_opp.values()) == {1}
        report = build_report(store)
        mined = sum(o["status"] == "mined" for o in outcomes.values())
        assert report.summary["sent"] == len(sent) and report.summary["executed"] == mined, report.summary
    print("sent:", len(sent), "by agent:", collections.Counter(r["agent"] for r in sent))


async def _scenario(tmp: Path, chain, nats_server) -> dict:
    w3 = Web3(Web3.HTTPProvider(chain.url))
    signers = [Signer.from_private_key(k) for k in AGENT_KEYS]
    executor = deploy_executor_for(chain, tuple(s.address for s in signers), tmp)
    market = Market(w3, chain.replica, seed=17)
    market.prepare()
    replica_file = tmp / "replica.json"
    replica_file.write_text(chain.replica.model_dump_json())
    chain_id = chain.replica.chain_id
    layout = RelayLayout(chain_id)
    url = nats_server.url
    nc = await nats.connect(url, max_reconnect_attempts=-1)
    js = nc.jetstream()
    await ensure_relay(js, layout)
    first_block = w3.eth.block_number
    store_url = f"sqlite:///{tmp / 'pnl.db'}"
    procs: dict[str, subprocess.Popen] = {}
    for i, key in enumerate(AGENT_KEYS):
        env = {**os.environ, "FLASHARB_PRIVATE_KEY": key}
        env.pop("FLASHARB_ACCOUNT", None)
        procs[f"agent{i}"] = _spawn(
            ["agent", "--nats-url", url, "--rpc-url", chain.url, "--executor", executor, "--chain-id", str(chain_id),
             "--name", f"agent{i}", "--db", f"sqlite:///{tmp / f'agent{i}' / 'pnl.db'}", "--max-loan", str(2**255),
             "--pool-ttl", "6"], tmp / f"agent{i}", env)  # fmt: skip
    procs["recorder"] = _spawn(["record", "--nats-url", url, "--chain-id", str(chain_id), "--db", store_url],
                               tmp / "recorder")  # fmt: skip
    logs = {}
    restarted_after = 0
    try:

        async def agents_ready() -> bool:
            assert all(p.poll() is None for p in procs.values()), {n: p.returncode for n, p in procs.items()}
            return (await js.consumer_info(layout.opp_stream, layout.consumer)).num_waiting >= 3

        await _wait(agents_ready, 90, "agents did not start")
        procs["scanner"] = _spawn(["scan", "--nats-url", url, "--rpc-url", chain.url, "--replica", str(replica_file),
                                   "--deadline-blocks", "16"], tmp / "scanner")  # fmt: skip

        async def count_sent() -> int:
            return sum(r["decision"] == "sent" for r in await _results(js, layout))

        rounds = 12
        for rnd in range(rounds):
            market.random_trade()  # one block each: the scanner takes it, the agents act on what it finds
            market.random_trade()
            before = w3.eth.block_number
            end = time.monotonic() + 5
            while w3.eth.block_number == before and time.monotonic() < end:  # pace: let the agents' sends land
                await asyncio.sleep(0.1)
            if rnd == rounds // 2:
                restarted_after = await count_sent()
                await asyncio.to_thread(nats_server.restart)
        await asyncio.sleep(0)  # after the last round: wait for every send to settle and be recorded

        async def settled() -> bool:
            rs = await _results(js, layout)
            sent = {r["tx"] for r in rs if r["decision"] == "sent"}
            done = {r["tx"] for r in rs if r["decision"] == "outcome"}
            info = await js.consumer_info(layout.result_stream, layout.recorder)
            return sent <= done and info.num_pending == 0 and info.num_ack_pending == 0

        await _wait(settled, 90, "results did not settle or were not all recorded")
        sent_total = await count_sent()
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for name, p in procs.items():
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
            logs[name] = (tmp / name / "out.log").read_text()[-1500:]
    results = await _results(js, layout)
    await nc.close()
    calls: collections.Counter[str] = collections.Counter()
    for n in range(first_block + 1, w3.eth.block_number + 1):
        for tx in w3.eth.get_block(n, full_transactions=True).transactions:
            if tx["to"] == executor:
                calls[bytes(tx["input"]).hex()] += 1
    return {"calls": calls, "results": results, "store_url": store_url, "logs": logs,
            "codes": {n: p.returncode for n, p in procs.items()}, "restarted_after": restarted_after + 1,
            "sent_after_restart": sent_total - restarted_after}  # fmt: skip
