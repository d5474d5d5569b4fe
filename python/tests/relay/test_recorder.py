"""The results recorder against a real nats-server and a real SQLite P&L store (agents with a spy executor, no
chain; the chain-backed run with separate processes is ``test_relay_faults.py``): every agent's decisions and
outcomes land once in the one store, ``build_report`` covers every agent, and a recorder restarted mid-stream
loses nothing and duplicates nothing."""

from __future__ import annotations

import asyncio
import collections
import json

import nats

from flasharb.bot.pipeline import Dispatch, Outcome
from flasharb.relay.agent import Agent
from flasharb.relay.broker import RelayLayout, ensure_relay
from flasharb.relay.execution import Execution
from flasharb.relay.publisher import Publisher
from flasharb.relay.recorder import Recorder, record_results
from flasharb.report import build_report
from flasharb.store import Store, TxStatus, sqlite_url

from test_agent import _opp, _until  # noqa: E402  (same folder, importlib mode)
from test_wire import _addr  # noqa: E402

CHAIN = 137
LAYOUT = RelayLayout(CHAIN)


class SettlingExecutor:
    """Sends every other opportunity (a distinct tx per opportunity, settled at once as mined with the predicted
    profit) and refuses the rest, as the risk stage would."""

    def __init__(self, n: int) -> None:
        self.address = _addr(0xA000 + n)
        self.contract = _addr(0xE000)
        self.n = n
        self.sent: list[str] = []

    async def head(self) -> int:
        return 52_000_000

    async def execute(self, opp, received_at):
        if opp.plan[0] % 2:
            return Execution("refuse", "max_loan", "loan above the limit")
        tx = "0x" + (bytes([self.n]) + bytes(opp.plan[:31]).ljust(31, b"\0")).hex()
        self.sent.append(tx)
        d = Dispatch(opp, opp.profit_after_premium, 200_000, tx, len(self.sent), 300_000, 10**9, 10**8, 1.0)
        settled: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        settled.set_result(Outcome(d, "mined", opp.profit_after_premium, opp.profit_after_premium))
        return Execution("sent", "ok", dispatch=d, settled=settled)

    async def ledger(self, tx_hash):
        return {"tx_status": "mined", "block_number": 52_000_001, "gas_used": 180_000,
                "effective_gas_price": str(10**9), "success": True, "premium": "5", "gas_native": str(18 * 10**13),
                "gas_token": "7"}  # fmt: skip


async def _results(js) -> list[dict]:
    sub = await js.pull_subscribe(LAYOUT.result_subject, durable=None, stream=LAYOUT.result_stream)
    out: list[dict] = []
    while True:
        try:
            out += [json.loads(m.data) for m in await sub.fetch(batch=500, timeout=0.3)]
        except (nats.errors.TimeoutError, asyncio.TimeoutError):
            return out


def test_three_agents_and_a_restarted_recorder_record_everything_once(nats_server, tmp_path):
    n = 60

    async def main():
        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        kv = await ensure_relay(js, LAYOUT)
        store = Store.open(sqlite_url(tmp_path / "pnl.db"))
        execs = [SettlingExecutor(i + 1) for i in range(3)]
        agents = [Agent(nc, js, kv, LAYOUT, e, name=f"agent{i}") for i, e in enumerate(execs)]
        tasks = [asyncio.create_task(a.run()) for a in agents]
        rec = Recorder(js, LAYOUT, store, batch=16)
        rec_task = asyncio.create_task(rec.run())
        pub = Publisher(js, LAYOUT)
        await pub.publish_all([_opp(i) for i in range(n // 2)])
        await _until(lambda: rec.stats.recorded >= 10, timeout=20)
        rec.stop.set()  # the recorder stops mid-stream and a new one takes over the durable consumer
        await rec_task
        await pub.publish_all([_opp(i) for i in range(n // 2, n)])
        await _until(lambda: sum(a.stats.executed + a.stats.refused for a in agents) == n, timeout=20)
        for a in agents:
            a.stop.set()
        await asyncio.gather(*tasks)
        expected = len(await _results(js))
        rec2 = Recorder(js, LAYOUT, store, batch=16)
        rec2_task = asyncio.create_task(rec2.run())
        await _until(lambda: rec.stats.recorded + rec2.stats.recorded == expected, timeout=20)
        # the same results again (a redelivery, an agent's retried publish): nothing new is written
        again = await _results(js)
        verdicts = await asyncio.to_thread(record_results, store, [json.dumps(r).encode() for r in again], CHAIN)
        rec2.stop.set()
        await rec2_task
        await nc.close()
        return store, execs, agents, expected, verdicts, rec2

    store, execs, agents, expected, verdicts, rec2 = asyncio.run(main())
    try:
        assert set(verdicts) == {"duplicate"}
        assert rec2.stats.duplicates == 0 and rec2.stats.bad == 0
        sent = [tx for e in execs for tx in e.sent]
        assert len(sent) == n // 2 and len({e.address for e in execs if e.sent}) >= 2, "work spread over agents"
        txs = store.transactions(chain_id=CHAIN)
        assert sorted(t.hash for t in txs) == sorted(sent)
        assert all(t.status is TxStatus.MINED for t in txs)
        assert {t.from_address for t in txs} == {e.address for e in execs if e.sent}
        decisions = collections.Counter((d.opportunity_id, d.decision.value) for d in store.decisions())
        assert len(decisions) == n and set(decisions.values()) == {1}, "one decision per opportunity, once"
        assert sum(1 for (_, k) in decisions if k == "execute") == n // 2
        assert store.opportunity_count() == n
        assert len(store.relay_records()) == expected
        report = build_report(store)
        assert report.summary["sent"] == report.summary["executed"] == n // 2, report.summary
        assert report.summary["decided_execute"] == report.summary["refused"] == n // 2, report.summary
    finally:
        store.close()
