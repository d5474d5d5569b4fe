"""Submitters against local stand-ins (not the real services): exact request shape, answers and errors."""

from __future__ import annotations

import logging

import pytest
from eth_account import Account
from standins import BloxrouteStandIn, FaultProxy, PrivateRpcStandIn
from txhelpers import await_receipt, funded_account, tx_stack

from flasharb.exceptions import ConfigError
from flasharb.tx import (
    BloxrouteSubmitter,
    PlainPrivateRpc,
    PublicMempool,
    RpcTransportError,
    SendErrorKind,
    SendOutcomeUnknown,
    SendRejected,
    SubmitError,
    Submitter,
    TxSender,
)
from flasharb.tx.submit import tx_hash_of

SINK = "0x000000000000000000000000000000000000dEaD"


def _raw(key: str, nonce: int = 0) -> bytes:
    tx = {
        "type": 2,
        "chainId": 31337,
        "nonce": nonce,
        "to": SINK,
        "value": 1,
        "data": b"",
        "gas": 21000,
        "maxFeePerGas": 10**11,
        "maxPriorityFeePerGas": 10**9,
    }
    return bytes(Account.from_key(key).sign_transaction(tx).raw_transaction)


async def test_public_mempool_goes_through_the_rpc_client(anvil, tmp_path):
    acct = funded_account(anvil)
    async with tx_stack(anvil.url, acct.key, tmp_path / "n.sqlite") as s:
        public = PublicMempool(s.rpc)
        assert isinstance(public, Submitter)
        raw = _raw(acct.key)
        assert await public.submit(raw) == tx_hash_of(raw)
        assert (await await_receipt(s.rpc, tx_hash_of(raw)))["status"] == "0x1"


async def test_plain_private_rpc_request_shape_and_landing(anvil, tmp_path):
    acct = funded_account(anvil)
    async with PrivateRpcStandIn(anvil.url, required_headers={"X-Api-Key": "k-123"}) as relay:
        private = PlainPrivateRpc(relay.url, headers={"X-Api-Key": "k-123"})
        try:
            async with tx_stack(anvil.url, acct.key, tmp_path / "n.sqlite") as s:
                sender = TxSender(
                    s.rpc, s.signer, s.nonces, fees=s.fees, submitter=private, receipt_poll_interval=0.05
                )
                result = await sender.send_and_wait(SINK, b"", gas=21000, timeout=10)
                assert result.status == "mined" and result.sent.submitter == "private-rpc"
            (request,) = relay.requests
            assert request["method"] == "eth_sendRawTransaction"
            assert request["params"] == ["0x" + result.sent.raw.hex()]
        finally:
            await private.close()
        assert relay.violations == []


async def test_plain_private_rpc_errors(anvil):
    acct = funded_account(anvil)
    async with PrivateRpcStandIn(None) as relay:
        private = PlainPrivateRpc(relay.url, name="relay")
        try:
            raw = _raw(acct.key)
            assert await private.submit(raw) == tx_hash_of(raw)  # answered with the hash, not forwarded
            relay.answer_error = "nonce too low"
            with pytest.raises(SendRejected) as info:
                await private.submit(raw)
            assert info.value.kind is SendErrorKind.NONCE_TOO_LOW and info.value.endpoint == "relay"
            relay.answer_error = "already known"
            assert await private.submit(raw) == tx_hash_of(raw)
            relay.answer_error = None
            relay.status = 403
            with pytest.raises(SubmitError) as info:
                await private.submit(raw)
            assert info.value.status == 403
            relay.status = 503
            with pytest.raises(SendOutcomeUnknown):  # may have been taken: the caller tracks the hash
                await private.submit(raw)
        finally:
            await private.close()
        assert relay.violations == []
    closed = PlainPrivateRpc(relay.url)  # the stand-in is gone: connection refused, provably not sent
    try:
        with pytest.raises(RpcTransportError) as info:
            await closed.submit(_raw(acct.key))
        assert info.value.delivered is False
    finally:
        await closed.close()


async def test_bloxroute_request_shape_auth_and_landing(anvil, tmp_path, caplog):
    acct = funded_account(anvil)
    auth = "c2VjcmV0LWJsb3hyb3V0ZS1oZWFkZXI="
    caplog.set_level(logging.DEBUG)
    async with BloxrouteStandIn(auth, anvil.url) as blx:
        submitter = BloxrouteSubmitter(auth, url=blx.url)
        try:
            async with tx_stack(anvil.url, acct.key, tmp_path / "n.sqlite") as s:
                sender = TxSender(
                    s.rpc, s.signer, s.nonces, fees=s.fees, submitter=submitter, receipt_poll_interval=0.05
                )
                result = await sender.send_and_wait(SINK, b"", gas=21000, timeout=10)
                assert result.status == "mined" and result.sent.submitter == "bloxroute"
                (request,) = blx.requests
                assert request["method"] == "polygon_private_tx" and request["jsonrpc"] == "2.0"
                assert request["params"] == {"transaction": result.sent.raw.hex()}  # no 0x
                # A bare-string result is accepted as well.
                blx.result_style = "string"
                again = await sender.send_and_wait(SINK, b"", gas=21000, timeout=10)
                assert again.status == "mined"
            assert auth not in repr(submitter) and auth not in caplog.text
        finally:
            await submitter.close()
        assert blx.violations == [] and blx.unauthorized == 0


async def test_bloxroute_errors(anvil):
    acct = funded_account(anvil)
    async with BloxrouteStandIn("right", None) as blx:
        wrong = BloxrouteSubmitter("wrong", url=blx.url)
        right = BloxrouteSubmitter("right", url=blx.url, backrunme_reward_address=acct.address)
        try:
            with pytest.raises(SubmitError) as info:
                await wrong.submit(_raw(acct.key))
            assert (
                info.value.status == 401 and "right" not in str(info.value) and "wrong" not in str(info.value)
            )
            assert blx.unauthorized == 1
            raw = _raw(acct.key)
            assert await right.submit(raw) == tx_hash_of(raw)
            assert blx.requests[-1]["params"] == {
                "transaction": raw.hex(),
                "backrunme_reward_address": acct.address,
            }
            blx.answer_error = "insufficient funds for gas * price + value"
            with pytest.raises(SendRejected) as info:
                await right.submit(raw)
            assert info.value.kind is SendErrorKind.INSUFFICIENT_FUNDS and info.value.endpoint == "bloxroute"
        finally:
            await wrong.close()
            await right.close()
        assert blx.violations == []
    with pytest.raises(ConfigError):
        BloxrouteSubmitter("  ")


async def test_private_submitter_timeout_is_an_unknown_outcome(anvil):
    acct = funded_account(anvil)
    async with FaultProxy(anvil.url) as slow:
        slow.delay = 1.0
        slow.set_fault("timeout")
        private = PlainPrivateRpc(slow.url, timeout=0.2)
        try:
            raw = _raw(acct.key)
            with pytest.raises(SendOutcomeUnknown) as info:
                await private.submit(raw)
            assert info.value.tx_hash == tx_hash_of(raw)
        finally:
            await private.close()
