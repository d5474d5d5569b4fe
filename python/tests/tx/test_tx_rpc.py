"""RpcClient on a real anvil and behind fault-injecting stand-ins: failover, staleness, safe sends, new
heads."""

from __future__ import annotations

import asyncio
import logging
import socket
import traceback

import pytest
from eth_account import Account
from standins import FaultProxy
from txhelpers import await_receipt, funded_account, launch_anvil

from flasharb.exceptions import ConfigError
from flasharb.tx import (
    AllEndpointsFailed,
    ChainMismatch,
    Endpoint,
    RpcClient,
    RpcError,
    SendErrorKind,
    SendOutcomeUnknown,
    SendRejected,
    parse_endpoints,
)
from flasharb.tx.errors import classify_send_error


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _transfer(key: str, nonce: int, *, tip: int = 10**9, fee: int = 10**11, value: int = 1) -> bytes:
    tx = {
        "type": 2,
        "chainId": 31337,
        "nonce": nonce,
        "to": "0x000000000000000000000000000000000000dEaD",
        "value": value,
        "data": b"",
        "gas": 21000,
        "maxFeePerGas": fee,
        "maxPriorityFeePerGas": tip,
    }
    return bytes(Account.from_key(key).sign_transaction(tx).raw_transaction)


def _client(*endpoints: Endpoint, **kw) -> RpcClient:
    return RpcClient(list(endpoints), health_interval=None, **kw)


async def test_call_batch_and_cached_chain_id(anvil):
    async with _client(Endpoint("local", anvil.url)) as rpc:
        assert rpc.chain_id == 31337
        number, missing, balance = await rpc.batch(
            [
                ("eth_blockNumber", []),
                ("no_such_method", []),
                ("eth_getBalance", ["0x" + "00" * 20, "latest"]),
            ]
        )
        assert int(number, 16) >= 0 and balance == "0x0"
        assert isinstance(missing, RpcError) and missing.endpoint == "local"
        with pytest.raises(RpcError) as info:
            await rpc.call("no_such_method")
        assert "local: no_such_method" in str(info.value)


async def test_failover_when_the_first_endpoint_refuses_connections(anvil):
    dead = Endpoint("dead", f"http://127.0.0.1:{_dead_port()}")
    async with _client(dead, Endpoint("live", anvil.url)) as rpc:
        assert await rpc.block_number() >= 0
        status = {s.name: s for s in rpc.status()}
        assert not status["dead"].up and status["dead"].failures >= 1 and status["live"].up
        # While "dead" cools down, "live" is asked first.
        before = status["dead"].requests
        await rpc.block_number()
        assert {s.name: s for s in rpc.status()}["dead"].requests == before


@pytest.mark.parametrize("fault", ["http500", "http429", "drop", "timeout"])
async def test_failover_on_transport_faults(anvil, fault):
    async with FaultProxy(anvil.url) as proxy:
        proxy.delay = 1.0
        proxy.set_fault(fault)
        async with _client(Endpoint("flaky", proxy.url, timeout=0.3), Endpoint("good", anvil.url)) as rpc:
            assert await rpc.get_balance("0x" + "11" * 20) == 0
            status = {s.name: s for s in rpc.status()}
            assert status["flaky"].consecutive_failures >= 1 and not status["flaky"].up
            assert status["flaky"].last_error
    assert proxy.violations == []


async def test_node_error_answers_are_not_retried_on_the_next_endpoint(anvil):
    async with FaultProxy(anvil.url) as first, FaultProxy(anvil.url) as second:
        first.set_fault("rpc_error", {"eth_call"}, "execution reverted")
        async with _client(Endpoint("a", first.url), Endpoint("b", second.url)) as rpc:
            with pytest.raises(RpcError) as info:
                await rpc.call("eth_call", [{"to": "0x" + "00" * 20, "data": "0x"}, "latest"])
            assert info.value.endpoint == "a" and "execution reverted" in info.value.message
            assert second.calls["eth_call"] == 0
            # A rate-limit answer is endpoint trouble: the call moves on.
            first.set_fault("rpc_error", {"eth_call"}, "rate limit exceeded")
            assert await rpc.call("eth_call", [{"to": "0x" + "00" * 20, "data": "0x"}, "latest"]) == "0x"
            assert second.calls["eth_call"] == 1


async def test_errors_name_the_endpoint_never_its_url(caplog):
    secret = "SECRETAPIKEY0123456789"
    endpoints = [
        Endpoint("alchemy", f"http://127.0.0.1:{_dead_port()}/v2/{secret}"),
        Endpoint("infura", f"http://127.0.0.1:{_dead_port()}/{secret}"),
    ]
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AllEndpointsFailed) as info:
        async with _client(*endpoints):
            pass
    text = f"{info.value} {info.value!r} {[str(e) for e in info.value.errors]} {endpoints!r}"
    assert "alchemy" in text and "infura" in text
    assert secret not in text and secret not in caplog.text
    for err in info.value.errors:  # aiohttp's own exception (whose text has the URL) is never chained visibly
        assert err.__cause__ is None and (err.__context__ is None or err.__suppress_context__)
        assert secret not in "".join(traceback.format_exception(err))


async def test_stale_endpoint_is_detected_and_skipped(anvil):
    anvil.mine(2)
    async with FaultProxy(anvil.url) as proxy:
        proxy.stale_block = int(anvil.rpc("eth_blockNumber"), 16)
        anvil.mine(10)
        head = int(anvil.rpc("eth_blockNumber"), 16)
        async with _client(
            Endpoint("stale", proxy.url), Endpoint("fresh", anvil.url), max_block_lag=3
        ) as rpc:
            # Before anything is known the preferred endpoint answers (its answer is all there is) ...
            assert await rpc.block_number() == proxy.stale_block
            # ... the health probe learns every head, marks the lagging one stale, and reads move on.
            await rpc.refresh_health()
            status = {s.name: s for s in rpc.status()}
            assert status["stale"].stale and not status["fresh"].stale
            assert await rpc.block_number() == head
            assert int((await rpc.get_block("latest"))["number"], 16) == head
            # Inline detection: a stale answer after a fresher one moves to the next endpoint.
            async with _client(Endpoint("stale", proxy.url), Endpoint("fresh", anvil.url)) as rpc2:
                assert await rpc2.call("eth_blockNumber", endpoint="fresh") == hex(head)
                assert await rpc2.block_number() == head
                assert {s.name: s for s in rpc2.status()}["stale"].stale
            # Once the stale node catches up, it is preferred again.
            proxy.stale_block = None
            await rpc.refresh_health()
            assert not {s.name: s for s in rpc.status()}["stale"].stale


async def test_send_accepted_then_answered_with_an_error_is_found_by_hash_not_resent(anvil):
    acct = funded_account(anvil)
    async with FaultProxy(anvil.url) as first, FaultProxy(anvil.url) as second:
        first.set_fault("forward_then_500", {"eth_sendRawTransaction"})
        async with _client(Endpoint("a", first.url), Endpoint("b", second.url)) as rpc:
            raw = _transfer(acct.key, 0)
            tx_hash = await rpc.send_raw_transaction(raw)
            assert first.forwarded["eth_sendRawTransaction"] == 1
            assert second.calls["eth_sendRawTransaction"] == 0  # checked by hash instead of resending
            assert (await await_receipt(rpc, tx_hash))["status"] == "0x1"


async def test_send_dropped_before_reaching_a_node_goes_to_the_next_endpoint(anvil):
    acct = funded_account(anvil)
    async with FaultProxy(anvil.url) as first, FaultProxy(anvil.url) as second:
        first.set_fault("drop", {"eth_sendRawTransaction"})
        async with _client(Endpoint("a", first.url), Endpoint("b", second.url)) as rpc:
            tx_hash = await rpc.send_raw_transaction(_transfer(acct.key, 0))
            assert first.forwarded["eth_sendRawTransaction"] == 0
            assert second.forwarded["eth_sendRawTransaction"] == 1
            assert (await await_receipt(rpc, tx_hash))["status"] == "0x1"
            assert anvil.nonce(acct.address) == 1


async def test_send_whose_outcome_stays_unknown_raises_outcome_unknown(anvil):
    acct = funded_account(anvil)
    async with FaultProxy(anvil.url) as only:
        async with _client(Endpoint("a", only.url)) as rpc:
            only.set_fault("drop", {"eth_sendRawTransaction"})
            with pytest.raises(SendOutcomeUnknown) as info:
                await rpc.send_raw_transaction(_transfer(acct.key, 0))
            assert info.value.tx_hash.startswith("0x")
            assert anvil.nonce(acct.address) == 0


async def test_send_rejections_are_classified_and_not_retried(anvil):
    acct = funded_account(anvil)
    async with FaultProxy(anvil.url) as first, FaultProxy(anvil.url) as second:
        async with _client(Endpoint("a", first.url), Endpoint("b", second.url)) as rpc:
            await rpc.send_raw_transaction(_transfer(acct.key, 0))
            with pytest.raises(SendRejected) as info:
                await rpc.send_raw_transaction(_transfer(acct.key, 0, value=2))  # another tx, same nonce
            assert info.value.kind is SendErrorKind.NONCE_TOO_LOW and info.value.endpoint == "a"
            with pytest.raises(SendRejected) as info:
                await rpc.send_raw_transaction(_transfer(acct.key, 1, value=10**30))
            assert info.value.kind is SendErrorKind.INSUFFICIENT_FUNDS
            with pytest.raises(SendRejected) as info:
                await rpc.send_raw_transaction(_transfer(acct.key, 1, tip=1, fee=1))
            assert info.value.kind is SendErrorKind.UNDERPRICED
            assert second.calls["eth_sendRawTransaction"] == 0


async def test_already_known_is_success(fresh_anvil):
    acct = funded_account(fresh_anvil)
    fresh_anvil.rpc("evm_setAutomine", [False])
    async with _client(Endpoint("local", fresh_anvil.url)) as rpc:
        raw = _transfer(acct.key, 0)
        first = await rpc.send_raw_transaction(raw)
        assert await rpc.send_raw_transaction(raw) == first  # "transaction already imported"
        fresh_anvil.mine()
        assert (await await_receipt(rpc, first))["status"] == "0x1"
        # Resending the same bytes after they were mined: "nonce too low", but the hash is known -> success.
        assert await rpc.send_raw_transaction(raw) == first


def test_send_error_wordings():
    cases = {
        "already known": SendErrorKind.ALREADY_KNOWN,
        "transaction already imported": SendErrorKind.ALREADY_KNOWN,
        "nonce too low: next nonce 5, tx nonce 4": SendErrorKind.NONCE_TOO_LOW,
        "replacement transaction underpriced": SendErrorKind.REPLACEMENT_UNDERPRICED,
        "transaction underpriced: gas tip cap 1, minimum needed 30000000000": SendErrorKind.UNDERPRICED,
        "max fee per gas less than block base fee": SendErrorKind.UNDERPRICED,
        "insufficient funds for gas * price + value": SendErrorKind.INSUFFICIENT_FUNDS,
        "intrinsic gas too low": SendErrorKind.GAS,
        "exceeds block gas limit": SendErrorKind.GAS,
        "something else": SendErrorKind.OTHER,
    }
    for text, kind in cases.items():
        assert classify_send_error(text) is kind, text


async def test_endpoints_on_different_chains_are_refused(anvil):
    other = launch_anvil("--chain-id", "1337")
    try:
        with pytest.raises(ChainMismatch):
            async with _client(Endpoint("a", anvil.url), Endpoint("b", other.url)):
                pass
        with pytest.raises(ChainMismatch):
            async with _client(Endpoint("a", anvil.url), chain_id=137):
                pass
    finally:
        other.close()


async def test_new_heads_over_websocket(anvil):
    async with _client(Endpoint.same_port_ws(anvil.url)) as rpc:
        async with rpc.heads(coalesce=False) as heads:
            assert await heads.wait_subscribed()
            start = int(anvil.rpc("eth_blockNumber"), 16)
            for _ in range(3):
                anvil.mine()
            seen = [await asyncio.wait_for(heads.__anext__(), 5) for _ in range(3)]
            assert [h.number for h in seen] == [start + 1, start + 2, start + 3]
            assert heads.mode == "ws" and all(h.source.startswith("ws:") and h.base_fee for h in seen)


async def test_new_heads_fall_back_to_polling_without_websocket(anvil):
    async with FaultProxy(anvil.url, ws=False) as proxy:
        async with _client(Endpoint.same_port_ws(proxy.url)) as rpc:
            async with rpc.heads(poll_interval=0.05, ws_retry_interval=60) as heads:
                first = await asyncio.wait_for(heads.__anext__(), 5)
                anvil.mine()
                second = await asyncio.wait_for(heads.__anext__(), 5)
                assert second.number == first.number + 1
                assert heads.mode == "poll" and second.source == "poll" and heads.ws_failures >= 1


async def test_new_heads_survive_a_dying_websocket_and_resubscribe(anvil):
    async with FaultProxy(anvil.url) as proxy:
        async with _client(Endpoint.same_port_ws(proxy.url)) as rpc:
            async with rpc.heads(poll_interval=0.05, ws_retry_interval=0.5, coalesce=False) as heads:
                assert await heads.wait_subscribed()
                proxy.ws_enabled = False
                await proxy.kill_websockets()
                anvil.mine()
                head = await asyncio.wait_for(heads.__anext__(), 5)
                assert head.source == "poll" and heads.mode == "poll"
                proxy.ws_enabled = True
                for _ in range(100):
                    if heads.mode == "ws":
                        break
                    await asyncio.sleep(0.05)
                assert heads.mode == "ws"
                anvil.mine()
                head2 = await asyncio.wait_for(heads.__anext__(), 5)
                assert head2.number == head.number + 1 and head2.source.startswith("ws:")


def test_parse_endpoints():
    eps = parse_endpoints(
        "main=https://polygon.example/v2/KEY|wss://polygon.example/ws/KEY, http://127.0.0.1:8545|auto"
    )
    assert [e.name for e in eps] == ["main", "rpc1"]
    assert eps[0].ws_url == "wss://polygon.example/ws/KEY" and eps[1].ws_url == "ws://127.0.0.1:8545"
    assert "KEY" not in repr(eps)
    with pytest.raises(ConfigError) as info:
        parse_endpoints("a=ftp://host/SECRET")
    assert "SECRET" not in str(info.value) and "#0" in str(info.value)
    with pytest.raises(ConfigError, match="unique"):
        parse_endpoints(["a=http://x", "a=http://y"])
