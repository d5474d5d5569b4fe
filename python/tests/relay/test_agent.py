"""Agents against a real nats-server with a spy executor (no chain): dead letters, work-queue delivery,
deduplication, claims on redelivery, control. The chain-backed run is ``test_relay_e2e.py``."""

from __future__ import annotations

import asyncio
import json

import nats

from flasharb.bot.pipeline import Dispatch
from flasharb.relay import wire
from flasharb.relay.agent import REASON_HEADER, Agent
from flasharb.relay.broker import RelayConfig, RelayLayout, ensure_relay
from flasharb.relay.execution import Execution
from flasharb.relay.publisher import Publisher

from test_wire import _addr, _opportunity  # noqa: E402  (same folder, importlib mode)

CHAIN = 137
LAYOUT = RelayLayout(CHAIN)


class SpyExecutor:
    """Records what it is asked to execute; says it sent it."""

    def __init__(self, head: int = 52_000_000) -> None:
        self.calls: list = []
        self._head = head

    async def head(self) -> int:
        return self._head

    async def execute(self, opp, received_at):
        self.calls.append(opp)
        return Execution("sent", "ok", dispatch=Dispatch(opp, 1, 1, "0x" + "11" * 32, 0, 1, 1, 1, 0.1))


def _opp(i: int, **kw):
    pools = (_addr(0x1000 + 2 * i), _addr(0x1001 + 2 * i))
    return _opportunity(block_number=52_000_000, pools=pools, plan=bytes([i % 256]) * (8 + i), **kw)


async def _connect(url, config=RelayConfig()):
    nc = await nats.connect(url)
    js = nc.jetstream()
    kv = await ensure_relay(js, LAYOUT, config)
    return nc, js, kv


async def _stream_msgs(js, stream, subject):
    sub = await js.pull_subscribe(subject, durable=None, stream=stream)
    out = []
    while True:
        try:
            out += await sub.fetch(batch=100, timeout=0.3)
        except (nats.errors.TimeoutError, asyncio.TimeoutError):
            return out


async def _until(cond, timeout=10.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        assert loop.time() < end, "timed out"
        await asyncio.sleep(0.02)


def test_malformed_unknown_version_and_wrong_chain_go_to_dead_letters(nats_server):
    async def main():
        nc, js, kv = await _connect(nats_server.url)
        spy = SpyExecutor()
        agent = Agent(nc, js, kv, LAYOUT, spy, name="a1")
        task = asyncio.create_task(agent.run())
        pub = Publisher(js, LAYOUT)
        good = wire.encode_opportunity(_opp(1))
        await js.publish(LAYOUT.opp_subject, b"\x01\x01garbage", headers={"Nats-Msg-Id": "x1"})
        await js.publish(LAYOUT.opp_subject, bytes([9]) + good[1:], headers={"Nats-Msg-Id": "x2"})
        await pub.publish(_opp(2, chain_id=1))
        await pub.publish_bytes(good)
        await _until(lambda: agent.stats.received == 4)
        await _until(lambda: len(spy.calls) == 1)
        assert not task.done(), "the agent keeps running"
        dead = await _stream_msgs(js, LAYOUT.dead_stream, LAYOUT.dead_subject)
        assert sorted(m.headers[REASON_HEADER] for m in dead) == ["truncated", "unknown_version", "wrong_chain"]
        assert agent.stats.dead_letters == 3 and spy.calls[0] == _opp(1)
        m = agent.metrics.registry
        assert m.get_sample_value("flasharb_relay_dead_letters_total", {"reason": "wrong_chain"}) == 1
        assert m.get_sample_value("flasharb_relay_messages_total") == 4
        assert m.get_sample_value("flasharb_relay_lag_seconds_count") == 2  # the two raw ones carry no send time
        agent.stop.set()
        await task
        await nc.close()

    asyncio.run(main())


def test_each_message_goes_to_one_agent_and_duplicates_are_dropped(nats_server):
    async def main():
        nc, js, kv = await _connect(nats_server.url)
        spies = [SpyExecutor() for _ in range(3)]
        agents = [Agent(nc, js, kv, LAYOUT, s, name=f"a{i}") for i, s in enumerate(spies)]
        tasks = [asyncio.create_task(a.run()) for a in agents]
        pub = Publisher(js, LAYOUT)
        first = await pub.publish_all([_opp(i) for i in range(30)])
        again = await pub.publish_all([_opp(i) for i in range(30)])  # a scanner retry: deduplicated
        assert not any(p.duplicate for p in first) and all(p.duplicate for p in again)
        await _until(lambda: sum(len(s.calls) for s in spies) == 30)
        await asyncio.sleep(0.3)
        executed = [wire.opportunity_id(o) for s in spies for o in s.calls]
        assert len(executed) == len(set(executed)) == 30
        results = [json.loads(m.data) for m in await _stream_msgs(js, LAYOUT.result_stream, LAYOUT.result_subject)]
        assert sorted(r["id"] for r in results if r["decision"] == "sent") == sorted(p.id for p in first)
        for a in agents:
            a.stop.set()
        await asyncio.gather(*tasks)
        await nc.close()

    asyncio.run(main())


def test_redelivered_message_whose_claim_is_held_is_not_executed_again(nats_server):
    """Agent 1 claims, then dies before acking (killed while holding the message); after the ack wait the
    message is redelivered to agent 2, which sees the claim and does not execute it."""

    async def main():
        config = RelayConfig(ack_wait=1.0)
        nc, js, kv = await _connect(nats_server.url, config)
        spy1, spy2 = SpyExecutor(), SpyExecutor()
        hung = asyncio.Event()

        async def die(opp):
            hung.set()
            await asyncio.Event().wait()  # never returns: the agent is "dead" holding the message

        a1 = Agent(nc, js, kv, LAYOUT, spy1, name="a1", on_claimed=die)
        t1 = asyncio.create_task(a1.run())
        published = await Publisher(js, LAYOUT).publish(_opp(3))
        await asyncio.wait_for(hung.wait(), 5)
        t1.cancel()
        a2 = Agent(nc, js, kv, LAYOUT, spy2, name="a2")
        t2 = asyncio.create_task(a2.run())
        # Wait for a2's decision, not just its receipt of the message (the claim check comes after).
        await _until(lambda: a2.stats.claims_refused + a2.stats.executed + a2.stats.refused >= 1, timeout=10)
        assert a2.stats.received == 1
        assert a2.stats.redeliveries == 1 and a2.stats.claims_refused == 1
        assert a2.metrics.registry.get_sample_value("flasharb_relay_redeliveries_total") == 1
        assert a2.metrics.registry.get_sample_value("flasharb_relay_claims_refused_total") == 1
        assert spy1.calls == [] and spy2.calls == []
        entry = await kv.get(f"opp.{published.id}")
        assert entry.value == b"a1"
        results: list = []
        for _ in range(50):  # the result is published right after the decision
            results = [json.loads(m.data) for m in await _stream_msgs(js, LAYOUT.result_stream, LAYOUT.result_subject)]
            if results:
                break
            await asyncio.sleep(0.1)
        assert [(r["agent"], r["decision"]) for r in results] == [("a2", "claimed")]
        a2.stop.set()
        await t2
        await nc.close()

    asyncio.run(main())


def test_stale_messages_are_dropped_and_pool_claims_keep_one_transaction_per_pool(nats_server):
    async def main():
        nc, js, kv = await _connect(nats_server.url)
        spy = SpyExecutor(head=52_000_010)
        agent = Agent(nc, js, kv, LAYOUT, spy, name="a1")
        task = asyncio.create_task(agent.run())
        pub = Publisher(js, LAYOUT)
        await pub.publish(_opp(4))  # deadline 52_000_002 < head
        await _until(lambda: agent.stats.stale == 1)
        spy._head = 52_000_000
        await _until(lambda: agent.head == 52_000_000)  # the agent's cached head follows the chain
        shared = _opp(5)
        await kv.create(f"pool.{shared.pools[1].lower()}", b"other")  # another agent's transaction in flight
        await pub.publish(shared)
        await _until(lambda: agent.stats.claims_refused == 1)
        assert spy.calls == []
        # the pool claim it took alongside was given back; the opportunity's claim is kept (at most once)
        await kv.create(f"pool.{shared.pools[0].lower()}", b"check")
        assert (await kv.get(f"opp.{wire.opportunity_id(shared).hex()}")).value == b"a1"
        assert (await kv.get(f"pool.{shared.pools[1].lower()}")).value == b"other"
        agent.stop.set()
        await task
        await nc.close()

    asyncio.run(main())


def test_control_pause_resume_kill(nats_server):
    async def main():
        nc, js, kv = await _connect(nats_server.url)
        spy = SpyExecutor()
        agent = Agent(nc, js, kv, LAYOUT, spy, name="a1")
        task = asyncio.create_task(agent.run())
        await asyncio.sleep(0.2)
        await nc.publish(LAYOUT.control_subject, b"pause")
        await _until(lambda: agent.paused)
        await Publisher(js, LAYOUT).publish(_opp(6))
        await asyncio.sleep(0.5)
        assert spy.calls == []
        await nc.publish(LAYOUT.control_subject, b"resume")
        await _until(lambda: len(spy.calls) == 1)
        await nc.publish(LAYOUT.control_subject, b"kill")
        await asyncio.wait_for(task, 5)
        await nc.close()

    asyncio.run(main())


def test_broker_restart_mid_run_loses_nothing(nats_server):
    """File storage: a message published before a restart is still delivered after it; the agent and the
    publisher reconnect on their own; the claim bucket survives too."""

    async def main():
        nc, js, kv = await _connect(nats_server.url)
        spy = SpyExecutor()
        agent = Agent(nc, js, kv, LAYOUT, spy, name="a1")
        pub = Publisher(js, LAYOUT)
        await pub.publish(_opp(10))
        before = await pub.publish(_opp(11))
        await kv.create("opp.survives", b"x")
        await asyncio.to_thread(nats_server.restart)
        task = asyncio.create_task(agent.run())
        await _until(lambda: nc.is_connected, timeout=15)
        await pub.publish(_opp(12))
        await _until(lambda: len(spy.calls) == 3, timeout=15)
        assert sorted(o.plan[0] for o in spy.calls) == [10, 11, 12]
        assert (await kv.get("opp.survives")).value == b"x"
        assert (await kv.get(f"opp.{before.id}")).value == b"a1"
        agent.stop.set()
        await task
        await nc.close()

    asyncio.run(main())


def test_opportunity_claimed_elsewhere_gives_back_the_pools_claimed_alongside(nats_server):
    """The opportunity and its pools are claimed in one round trip: when the opportunity turns out to be
    another agent's, the pool claims taken with it are deleted, so they never block another opportunity."""

    async def main():
        nc, js, kv = await _connect(nats_server.url)
        spy = SpyExecutor()
        agent = Agent(nc, js, kv, LAYOUT, spy, name="a1")
        task = asyncio.create_task(agent.run())
        opp = _opp(7)
        await kv.create(f"opp.{wire.opportunity_id(opp).hex()}", b"other")
        await Publisher(js, LAYOUT).publish(opp)
        await _until(lambda: agent.stats.claims_refused == 1)
        assert spy.calls == []
        for pool in opp.pools:  # both free again: a create succeeds
            await kv.create(f"pool.{pool.lower()}", b"check")
        results: list = []
        for _ in range(50):  # the result is published right after the decision, off the hot path
            msgs = await _stream_msgs(js, LAYOUT.result_stream, LAYOUT.result_subject)
            results = [json.loads(m.data) for m in msgs]
            if results:
                break
        decided = [(r["decision"], r["detail"]) for r in results]
        assert decided == [("claimed", "opportunity claimed by other")]
        agent.stop.set()
        await task
        await nc.close()

    asyncio.run(main())


class SettlingSpy(SpyExecutor):
    """Sends, and the transaction settles at once (the agent then releases its pool claims)."""

    async def execute(self, opp, received_at):
        from flasharb.bot.pipeline import Outcome

        self.calls.append(opp)
        d = Dispatch(opp, 1, 1, "0x" + bytes([len(self.calls)]).hex() * 32, 0, 1, 1, 1, 0.1)
        settled = asyncio.get_running_loop().create_future()
        settled.set_result(Outcome(d, "mined", 1, 1))
        return Execution("sent", "ok", dispatch=d, settled=settled)


def test_a_released_pool_can_be_claimed_again(nats_server):
    """A settled transaction's pool claims are deleted (a delete marker is the key's last message); the next
    opportunity on those pools claims them again and runs."""

    async def main():
        nc, js, kv = await _connect(nats_server.url)
        spy = SettlingSpy()
        agent = Agent(nc, js, kv, LAYOUT, spy, name="a1")
        task = asyncio.create_task(agent.run())
        first = _opp(8)
        pub = Publisher(js, LAYOUT)
        await pub.publish(first)
        await _until(lambda: len(spy.calls) == 1)
        await agent.drain()  # settled: the pools are given back
        await _until(lambda: not agent._settling)
        again = _opportunity(block_number=52_000_001, pools=first.pools, plan=b"\x09" * 12)
        await pub.publish(again)
        await _until(lambda: len(spy.calls) == 2 or agent.stats.claims_refused > 0)
        assert agent.stats.claims_refused == 0 and spy.calls[1] == again
        agent.stop.set()
        await task
        await nc.close()

    asyncio.run(main())
