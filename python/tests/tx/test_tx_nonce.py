"""Nonces are never reused and never skipped: restarts (including a SIGKILL), RPC errors, other senders."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap

import pytest
from eth_account import Account
from standins import FaultProxy
from txhelpers import funded_account, tx_stack

from flasharb.tx import (
    AllEndpointsFailed,
    Endpoint,
    NonceError,
    NonceManager,
    PlainPrivateRpc,
    SendErrorKind,
    SendRejected,
    TxSender,
)

SINK = "0x000000000000000000000000000000000000dEaD"


def _foreign_send(
    node, key: str, nonce: int, *, tip: int = 10**9, fee: int = 10**11, mined: bool = True
) -> str:
    """Another process using the same key behind the manager's back (waits until mined when ``mined``)."""
    tx = {
        "type": 2,
        "chainId": 31337,
        "nonce": nonce,
        "to": SINK,
        "value": 7,
        "data": b"",
        "gas": 21000,
        "maxFeePerGas": fee,
        "maxPriorityFeePerGas": tip,
    }
    raw = Account.from_key(key).sign_transaction(tx).raw_transaction
    tx_hash = node.rpc("eth_sendRawTransaction", ["0x" + bytes(raw).hex()])
    if mined:
        node.receipt(tx_hash)
    return tx_hash


def _mined_nonces(node, address: str, start_block: int = 0) -> list[int]:
    """Nonces of every mined transaction from ``address``, in block order."""
    out = []
    head = int(node.rpc("eth_blockNumber"), 16)
    for n in range(start_block, head + 1):
        block = node.rpc("eth_getBlockByNumber", [hex(n), True])
        out += [int(t["nonce"], 16) for t in block["transactions"] if t["from"].lower() == address.lower()]
    return out


async def test_sequence_persists_across_restart_and_survives_a_lost_store(anvil, tmp_path):
    acct = funded_account(anvil)
    store = tmp_path / "nonces.sqlite"
    async with tx_stack(anvil.url, acct.key, store) as s:
        sent = [await s.sender.send(SINK, b"", gas=21000) for _ in range(3)]
        assert [x.nonce for x in sent] == [0, 1, 2]
        for x in sent:
            assert (await s.sender.wait(x, timeout=10)).status == "mined"
    async with tx_stack(anvil.url, acct.key, store) as s:
        assert s.nonces.next_nonce == 3 and s.nonces.records() == {}
    # Even without its file the manager starts from the chain, not from zero.
    async with tx_stack(anvil.url, acct.key, tmp_path / "other.sqlite") as s:
        assert s.nonces.peek() == 3
        assert (await s.sender.send(SINK, b"", gas=21000)).nonce == 3
    assert _mined_nonces(anvil, acct.address) == [0, 1, 2, 3]


async def test_one_process_per_account(anvil, tmp_path):
    acct = funded_account(anvil)
    store = tmp_path / "nonces.sqlite"
    async with tx_stack(anvil.url, acct.key, store) as s:
        with pytest.raises(NonceError, match="in use"):
            await NonceManager.open(s.rpc, acct.address, store)
    async with tx_stack(anvil.url, acct.key, store):
        pass  # released on close


async def test_reserved_but_never_signed_nonce_is_refilled_after_restart(fresh_anvil, tmp_path):
    acct = funded_account(fresh_anvil)
    fresh_anvil.rpc("evm_setAutomine", [False])
    store = tmp_path / "nonces.sqlite"
    async with tx_stack(fresh_anvil.url, acct.key, store) as s:
        first = await s.sender.send(SINK, b"", gas=21000)
        hole = s.nonces.reserve()  # then the process "dies" before signing
        third = await s.sender.send(SINK, b"", gas=21000)
        assert (first.nonce, hole, third.nonce) == (0, 1, 2)
    async with tx_stack(fresh_anvil.url, acct.key, store) as s:
        assert s.nonces.free == (1,) and set(s.nonces.records()) == {0, 2}
        refill = await s.sender.send(SINK, b"", gas=21000)
        assert refill.nonce == 1
        fresh_anvil.mine()
        for x in (first, refill, third):
            assert (await s.sender.wait(x, timeout=10)).status == "mined"
    assert sorted(_mined_nonces(fresh_anvil, acct.address)) == [0, 1, 2]


_CRASHING_CHILD = textwrap.dedent(
    """
    import asyncio, sys, time
    from flasharb.tx import FeeOracle, FeePolicy, NonceManager, RpcClient, Signer, TxSender, parse_endpoints

    SINK = "0x000000000000000000000000000000000000dEaD"

    async def main(url, key, store):
        async with RpcClient(parse_endpoints(url), health_interval=None) as rpc:
            signer = Signer.from_private_key(key)
            nonces = await NonceManager.open(rpc, signer.address, store)
            fees = FeeOracle(rpc, FeePolicy(mode="fixed", fixed_priority_fee=10**9))
            await fees.refresh()
            sender = TxSender(rpc, signer, nonces, fees=fees)
            await sender.send(SINK, b"", gas=21000)  # nonce 0: pending
            await sender.send(SINK, b"", gas=21000)  # nonce 1: pending
            n = nonces.reserve()  # nonce 2: signed and sent, but the process dies before marking it sent
            signed = signer.sign_transaction(sender.build(SINK, b"", gas=21000, fees=fees.current, nonce=n))
            nonces.record_signed(n, signed.hash)
            await rpc.send_raw_transaction(signed.raw)
            n = nonces.reserve()  # nonce 3: signed, never sent
            signed = signer.sign_transaction(sender.build(SINK, b"", gas=21000, fees=fees.current, nonce=n))
            nonces.record_signed(n, signed.hash)
            nonces.reserve()  # nonce 4: reserved only
            print("ready", flush=True)
            time.sleep(60)

    asyncio.run(main(*sys.argv[1:]))
    """
)


async def test_sigkill_mid_flight_then_restart_neither_reuses_nor_skips(fresh_anvil, tmp_path):
    acct = funded_account(fresh_anvil)
    fresh_anvil.rpc("evm_setAutomine", [False])
    store = tmp_path / "nonces.sqlite"
    script = tmp_path / "child.py"
    script.write_text(_CRASHING_CHILD)
    env = {**os.environ, "FLASHARB_PRIVATE_KEY": ""}
    child = subprocess.Popen(
        [sys.executable, str(script), fresh_anvil.url, acct.key, str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), 60)
        assert line.strip() == b"ready", child.stderr.read().decode()[-2000:]
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert fresh_anvil.nonce(acct.address, "pending") == 3  # 0, 1, 2 in the pool

    async with tx_stack(fresh_anvil.url, acct.key, store) as s:
        recs = s.nonces.records()
        assert {n: r.state for n, r in recs.items()} == {0: "sent", 1: "sent", 2: "sent", 3: "orphan"}
        assert s.nonces.next_nonce == 4 and s.nonces.free == ()
        filled = await s.sender.recover()  # the orphan gets a cancel: the hole closes without a new payload
        assert [x.nonce for x in filled] == [3] and filled[0].cancelled
        fresh = await s.sender.send(SINK, b"", gas=21000)
        assert fresh.nonce == 4
        fresh_anvil.mine()
        result = await s.sender.wait(filled[0], timeout=10)
        assert result.status == "mined" and result.cancelled
        assert (await s.sender.wait(fresh, timeout=10)).status == "mined"
    assert sorted(_mined_nonces(fresh_anvil, acct.address)) == [0, 1, 2, 3, 4]


async def test_nonce_taken_by_another_process_is_detected_and_skipped_over(anvil, tmp_path):
    acct = funded_account(anvil)
    async with tx_stack(anvil.url, acct.key, tmp_path / "n.sqlite") as s:
        first = await s.sender.send(SINK, b"", gas=21000)
        await s.sender.wait(first, timeout=10)
        _foreign_send(anvil, acct.key, 1)
        _foreign_send(anvil, acct.key, 2)
        # The next send hits "nonce too low", resyncs, and signs again with the first free nonce.
        mine = await s.sender.send(SINK, b"", gas=21000)
        assert mine.nonce == 3 and s.nonces.next_nonce == 4
        assert (await s.sender.wait(mine, timeout=10)).status == "mined"
        # A cheap per-block check notices a jump before any send fails.
        _foreign_send(anvil, acct.key, 4)
        assert await s.nonces.sync() is True
        assert s.nonces.peek() == 5
        assert await s.nonces.sync() is False
    assert _mined_nonces(anvil, acct.address) == [0, 1, 2, 3, 4]


async def test_pending_foreign_transaction_at_our_nonce(fresh_anvil, tmp_path):
    acct = funded_account(fresh_anvil)
    fresh_anvil.rpc("evm_setAutomine", [False])
    async with tx_stack(fresh_anvil.url, acct.key, tmp_path / "n.sqlite") as s:
        _foreign_send(
            fresh_anvil, acct.key, 0, tip=50 * 10**9, fee=10**12, mined=False
        )  # pending, better paid than ours
        mine = await s.sender.send(SINK, b"", gas=21000)  # nonce 0 -> "replacement underpriced" -> nonce 1
        assert mine.nonce == 1
        fresh_anvil.mine()
        assert (await s.sender.wait(mine, timeout=10)).status == "mined"
    assert sorted(_mined_nonces(fresh_anvil, acct.address)) == [0, 1]


async def test_definitely_failed_send_releases_its_nonce(anvil, tmp_path):
    acct = funded_account(anvil, eth=1)
    async with tx_stack(anvil.url, acct.key, tmp_path / "n.sqlite") as s:
        with pytest.raises(SendRejected) as info:
            await s.sender.send(SINK, b"", gas=21000, value=10**30)
        assert info.value.kind is SendErrorKind.INSUFFICIENT_FUNDS
        assert s.nonces.peek() == 0 and s.nonces.records() == {}
        ok = await s.sender.send(SINK, b"", gas=21000, value=1)
        assert ok.nonce == 0
        assert (await s.sender.wait(ok, timeout=10)).status == "mined"


async def test_send_with_unknown_outcome_keeps_its_nonce_until_filled(anvil, tmp_path):
    acct = funded_account(anvil)
    async with FaultProxy(anvil.url) as relay:
        relay.delay = 1.0
        relay.set_fault("timeout", {"eth_sendRawTransaction"})  # never forwarded, never answered in time
        async with tx_stack(anvil.url, acct.key, tmp_path / "n.sqlite") as s:
            private = PlainPrivateRpc(relay.url, timeout=0.3)
            blind = TxSender(
                s.rpc, s.signer, s.nonces, fees=s.fees, submitter=private, receipt_poll_interval=0.05
            )
            lost = await blind.send(SINK, b"", gas=21000)
            await private.close()
            assert lost.outcome_unknown and s.nonces.records()[0].state == "sent"
            # Not reused: the next transaction gets nonce 1 (and waits behind the hole) ...
            nxt = await s.sender.send(SINK, b"", gas=21000)
            assert nxt.nonce == 1
            assert (await s.sender.wait(lost, timeout=0.3)).status == "timeout"
            # ... until the hole is filled by a cancel of the unknown transaction.
            await s.sender.cancel(lost)
            assert (await s.sender.wait(lost, timeout=10)).cancelled
            assert (await s.sender.wait(nxt, timeout=10)).status == "mined"
    assert sorted(_mined_nonces(anvil, acct.address)) == [0, 1]


async def test_send_refused_everywhere_releases_its_nonce(anvil, tmp_path):
    acct = funded_account(anvil)
    async with FaultProxy(anvil.url) as first, FaultProxy(anvil.url) as second:
        first.set_fault("http429", {"eth_sendRawTransaction"})
        second.set_fault("rpc_error", {"eth_sendRawTransaction"}, "rate limit exceeded")
        endpoints = [Endpoint("a", first.url), Endpoint("b", second.url)]
        async with tx_stack(endpoints, acct.key, tmp_path / "n.sqlite") as s:
            with pytest.raises(AllEndpointsFailed) as info:
                await s.sender.send(SINK, b"", gas=21000)
            assert not info.value.delivered
            assert s.nonces.peek() == 0 and s.nonces.records() == {}
            first.set_fault(None)
            ok = await s.sender.send(SINK, b"", gas=21000)
            assert ok.nonce == 0 and (await s.sender.wait(ok, timeout=10)).status == "mined"


async def test_resync_while_running_keeps_nonces_being_sent(anvil, tmp_path):
    acct = funded_account(anvil)
    async with tx_stack(anvil.url, acct.key, tmp_path / "n.sqlite") as s:
        sent = await s.sender.send(SINK, b"", gas=21000)
        await s.sender.wait(sent, timeout=10)
        busy = s.nonces.reserve()  # a send in progress in another task
        report = await s.nonces.resync()
        assert busy == 1 and 1 in s.nonces.records() and report.next_nonce == 2 and report.free == ()
        s.nonces.release(busy)
        assert s.nonces.peek() == 1
