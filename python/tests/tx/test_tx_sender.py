"""TxSender on anvil: build/sign/send/track, dry run, replacement of stuck transactions, results decoded."""

from __future__ import annotations

import asyncio
import json

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak, to_checksum_address
from standins import FaultProxy, PrivateRpcStandIn
from txhelpers import funded_account, tx_stack

from flasharb.paths import repo_root
from flasharb.tx import (
    Endpoint,
    ReplacementError,
    RevertDecoder,
    RpcError,
    TxSender,
    decode_run_executed,
)
from flasharb.tx.decode import RUN_EXECUTED_SIGNATURE, RUN_EXECUTED_TOPIC
from flasharb.tx.submit import PlainPrivateRpc

SINK = "0x000000000000000000000000000000000000dEaD"
REVERTER = "0x00000000000000000000000000000000000BAD00"
EMITTER = "0x0000000000000000000000000000000000E0E000"
# revert(calldata): CALLDATASIZE PUSH1 0 PUSH1 0 CALLDATACOPY CALLDATASIZE PUSH1 0 REVERT
REVERTER_CODE = "0x36600060003736" + "6000fd"
ARTIFACT = repo_root() / "out" / "FlashArbExecutor.sol" / "FlashArbExecutor.json"


def _emitter_code() -> str:
    """Emits RunExecuted(premium=calldata[0:32], profit=calldata[32:64]) (one topic, two data words)."""
    # PUSH1 64 PUSH1 0 PUSH1 0 CALLDATACOPY; PUSH32 topic; PUSH1 64 PUSH1 0 LOG1; STOP
    return "0x60406000600037" + "7f" + RUN_EXECUTED_TOPIC[2:] + "60406000a100"


def _selector(signature: str) -> bytes:
    return keccak(text=signature)[:4]


async def test_send_and_wait_for_a_transfer(anvil, tmp_path):
    acct = funded_account(anvil)
    async with tx_stack(anvil.url, acct.key, tmp_path / "n.sqlite") as s:
        sent = await s.sender.send(SINK.lower(), b"", simulated_gas=21000, value=5)
        assert sent.gas == 25_200 and sent.nonce == 0 and sent.to == SINK
        assert set(sent.stages_ms) == {"nonce", "sign", "record", "submit", "total"}
        result = await s.sender.wait(sent, timeout=10)
        assert result.status == "mined" and result.tx_hash == sent.tx_hash
        assert result.gas_used == 21000 and result.fee_wei == 21000 * result.effective_gas_price
        assert result.run is None and result.revert is None
        tx = await s.rpc.get_transaction(sent.tx_hash)
        assert int(tx["gas"], 16) == 25_200 and int(tx["chainId"], 16) == 31337 and tx["type"] == "0x2"
        assert int(tx["maxFeePerGas"], 16) == sent.fees.max_fee_per_gas
        assert s.nonces.records() == {}


async def test_dry_run_does_everything_but_send(anvil, tmp_path):
    acct = funded_account(anvil)
    async with FaultProxy(anvil.url) as proxy:
        async with tx_stack(
            [Endpoint("p", proxy.url)], acct.key, tmp_path / "n.sqlite", sender_kwargs={"dry_run": True}
        ) as s:
            sent = await s.sender.send(SINK, b"\x01\x02", gas=50_000)
            assert sent.dry_run and sent.nonce == 0 and sent.raw
            decoded = Account.recover_transaction(sent.raw)
            assert decoded == acct.address
            assert (await s.sender.wait(sent)).status == "dry_run"
            assert await s.sender.recover() == []
            assert s.nonces.peek() == 0 and s.nonces.records() == {}
        assert proxy.calls["eth_sendRawTransaction"] == 0
    assert anvil.nonce(acct.address, "pending") == 0


async def test_stuck_transaction_is_replaced_with_bumped_fees(fresh_anvil, tmp_path):
    acct = funded_account(fresh_anvil)
    fresh_anvil.rpc("evm_setAutomine", [False])
    async with tx_stack(fresh_anvil.url, acct.key, tmp_path / "n.sqlite") as s:
        sent = await s.sender.send(SINK, b"", gas=21000, value=1)
        original, original_fees = sent.tx_hash, sent.fees
        waiting = asyncio.create_task(s.sender.wait(sent, replace_after=0.2, timeout=20))
        while sent.replacements < 1:
            await asyncio.sleep(0.02)
        fresh_anvil.mine()
        result = await waiting
        assert result.status == "mined" and result.tx_hash == sent.hashes[1] != original
        assert sent.fees.max_priority_fee_per_gas * 1000 >= original_fees.max_priority_fee_per_gas * 1125
        assert sent.fees.max_fee_per_gas * 1000 >= original_fees.max_fee_per_gas * 1125
        assert await s.rpc.get_receipt(original) is None  # only the replacement was mined
        assert s.nonces.records() == {}


async def test_stuck_transaction_cancelled_to_self(fresh_anvil, tmp_path):
    acct = funded_account(fresh_anvil)
    fresh_anvil.rpc("evm_setAutomine", [False])
    async with tx_stack(fresh_anvil.url, acct.key, tmp_path / "n.sqlite") as s:
        sent = await s.sender.send(SINK, b"\xaa", gas=60_000, value=1)
        await s.sender.cancel(sent)
        fresh_anvil.mine()
        result = await s.sender.wait(sent, timeout=10)
        assert result.status == "mined" and result.cancelled and result.gas_used == 21000
        tx = await s.rpc.get_transaction(result.tx_hash)
        assert to_checksum_address(tx["to"]) == acct.address and tx["input"] == "0x" and tx["value"] == "0x0"


async def test_replacement_respects_the_fee_cap_and_rebumps_once(fresh_anvil, tmp_path):
    acct = funded_account(fresh_anvil)
    fresh_anvil.rpc("evm_setAutomine", [False])
    async with PrivateRpcStandIn(fresh_anvil.url) as relay:
        async with tx_stack(fresh_anvil.url, acct.key, tmp_path / "n.sqlite") as s:
            private = PlainPrivateRpc(relay.url)
            sender = TxSender(s.rpc, s.signer, s.nonces, fees=s.fees, submitter=private)
            sent = await sender.send(SINK, b"", gas=21000)
            with pytest.raises(ReplacementError, match="above the cap"):
                await sender.replace(sent, fee_cap=sent.fees.max_fee_per_gas)
            # A node that wants a bigger bump than ours gets a second, bigger one.
            relay.answer_error, relay.error_times = "replacement transaction underpriced", 1
            before = sent.fees
            await sender.replace(sent)
            assert sent.replacements == 1 and len(relay.requests) == 3  # original, refused bump, bigger bump
            assert sent.fees.max_priority_fee_per_gas * 10**6 >= before.max_priority_fee_per_gas * 1125 * 1125
            assert sent.fees.max_fee_per_gas * 10**6 >= before.max_fee_per_gas * 1125 * 1125
            fresh_anvil.mine()
            result = await sender.wait(sent, timeout=10)
            assert result.status == "mined" and result.tx_hash == sent.hashes[-1]
            await private.close()
        assert relay.violations == []


async def test_reverted_transaction_is_decoded_to_its_custom_error(anvil, tmp_path):
    acct = funded_account(anvil)
    anvil.rpc("anvil_setCode", [REVERTER, REVERTER_CODE])
    payloads = {
        "InsufficientProfit": (
            _selector("InsufficientProfit(uint256)") + encode(["uint256"], [123]),
            {"shortfall": 123},
        ),
        "NotExecutor": (_selector("NotExecutor()"), {}),
        "ExcessivePayment": (
            _selector("ExcessivePayment(uint256,uint256)") + encode(["uint256", "uint256"], [5, 4]),
            {"requested": 5, "allowed": 4},
        ),
        "Error": (_selector("Error(string)") + encode(["string"], ["not today"]), {"message": "not today"}),
    }
    async with tx_stack(anvil.url, acct.key, tmp_path / "n.sqlite") as s:
        for name, (data, args) in payloads.items():
            # The simulation (eth_call) carries the revert in the error answer ...
            with pytest.raises(RpcError) as info:
                await s.rpc.eth_call({"from": acct.address, "to": REVERTER, "data": data})
            simulated = s.sender.decoder.decode_error(info.value)
            assert simulated.name == name and simulated.arguments == args
            # ... and a mined revert is decoded by replaying it.
            result = await s.sender.send_and_wait(REVERTER, data, gas=100_000, timeout=10)
            assert result.status == "reverted", name
            assert result.revert.name == name and result.revert.arguments == args
        assert str(result.revert) == "Error('not today')"


def test_decoder_covers_every_interface_error_and_builtins():
    source = repo_root() / "src" / "interfaces" / "IFlashArbExecutor.sol"
    from_source = RevertDecoder.from_interface_source(source)
    assert {"InsufficientProfit", "PlanExpired", "TokenCallFailed", "NotExecutor"} <= from_source.error_names
    if ARTIFACT.is_file():
        from_abi = RevertDecoder.from_artifact(ARTIFACT)
        assert from_source.error_names <= from_abi.error_names
        for item in json.loads(ARTIFACT.read_text())["abi"]:
            if item["type"] == "event" and item["name"] == "RunExecuted":
                sig = "RunExecuted(" + ",".join(i["type"] for i in item["inputs"]) + ")"
                assert sig == RUN_EXECUTED_SIGNATURE
    decoder = RevertDecoder()
    panic = decoder.decode(_selector("Panic(uint256)") + encode(["uint256"], [0x11]))
    assert panic.name == "Panic" and "overflow" in str(panic)
    assert decoder.decode(b"").name == "<empty>"
    unknown = decoder.decode(bytes.fromhex("deadbeef"))
    assert unknown.name == "<unknown>" and unknown.selector == "0xdeadbeef"
    pe = from_source.decode(
        _selector("PlanExpired(uint256,uint256)") + encode(["uint256", "uint256"], [9, 10])
    )
    assert str(pe) == "PlanExpired(deadline=9, blockNumber=10)"


async def test_run_executed_log_gives_realized_profit_and_premium(anvil, tmp_path):
    acct = funded_account(anvil)
    anvil.rpc("anvil_setCode", [EMITTER, _emitter_code()])
    data = encode(["uint256", "uint256"], [5 * 10**14, 777])
    async with tx_stack(anvil.url, acct.key, tmp_path / "n.sqlite", sender_kwargs={"executor": EMITTER}) as s:
        result = await s.sender.send_and_wait(EMITTER, data, gas=100_000, timeout=10)
        assert result.status == "mined"
        assert (result.run.premium, result.run.profit) == (5 * 10**14, 777)
        assert result.profit == 777 and result.premium == 5 * 10**14
        assert result.run.emitter == to_checksum_address(EMITTER)
        assert (
            decode_run_executed(result.receipt, "0x" + "00" * 20) is None
        )  # another emitter's log is ignored


@pytest.mark.skipif(not ARTIFACT.is_file(), reason="executor artifact not built (forge build)")
async def test_real_executor_reverts_decode_to_its_custom_errors(anvil, tmp_path):
    acct = funded_account(anvil)
    owner = funded_account(anvil)
    artifact = json.loads(ARTIFACT.read_text())
    init = bytes.fromhex(artifact["bytecode"]["object"][2:]) + encode(
        ["address"] * 4, [owner.address, "0x" + "01" * 20, "0x" + "02" * 20, owner.address]
    )
    deploy = {
        "type": 2,
        "chainId": 31337,
        "nonce": 0,
        "value": 0,
        "data": init,
        "gas": 6_000_000,
        "maxFeePerGas": 10**11,
        "maxPriorityFeePerGas": 10**9,
    }
    raw = Account.from_key(owner.key).sign_transaction(deploy).raw_transaction
    tx_hash = anvil.rpc("eth_sendRawTransaction", ["0x" + bytes(raw).hex()])
    executor = anvil.receipt(tx_hash)["contractAddress"]
    call = _selector("execute(bytes)") + encode(["bytes"], [b"\x01" * 10])
    async with tx_stack(
        anvil.url, acct.key, tmp_path / "n.sqlite", sender_kwargs={"executor": executor}
    ) as s:
        with pytest.raises(RpcError) as info:
            await s.rpc.estimate_gas({"from": acct.address, "to": executor, "data": call})
        assert s.sender.decoder.decode_error(info.value).name == "NotExecutor"
        result = await s.sender.send_and_wait(executor, call, gas=200_000, timeout=10)
        assert result.status == "reverted" and result.revert.name == "NotExecutor" and result.run is None


async def test_replica_token_call_and_revert_on_the_devchain(chain_snapshot, tmp_path):
    chain = chain_snapshot
    acct = funded_account(chain)
    token = chain.replica.token("USDC").address
    mint = _selector("mint(address,uint256)") + encode(["address", "uint256"], [acct.address, 5 * 10**6])
    too_much = _selector("transfer(address,uint256)") + encode(["address", "uint256"], [SINK, 10**12])
    async with tx_stack(chain.url, acct.key, tmp_path / "n.sqlite") as s:
        gas = await s.rpc.estimate_gas({"from": acct.address, "to": token, "data": mint})
        result = await s.sender.send_and_wait(token, mint, simulated_gas=gas, timeout=10)
        assert result.status == "mined" and result.sent.gas == s.sender.gas_limit(gas)
        transfer_topic = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
        assert any(log["topics"][0] == transfer_topic for log in result.receipt["logs"])
        with pytest.raises(RpcError) as info:
            await s.rpc.estimate_gas({"from": acct.address, "to": token, "data": too_much})
        simulated = s.sender.decoder.decode_error(info.value)
        reverted = await s.sender.send_and_wait(token, too_much, gas=120_000, timeout=10)
        assert reverted.status == "reverted" and reverted.revert == simulated
        assert str(reverted.revert) == "Error('ERC20: transfer amount exceeds balance')"


async def test_transaction_whose_nonce_another_sender_took_is_reported_dropped(fresh_anvil, tmp_path):
    acct = funded_account(fresh_anvil)
    fresh_anvil.rpc("evm_setAutomine", [False])
    async with tx_stack(fresh_anvil.url, acct.key, tmp_path / "n.sqlite") as s:
        sent = await s.sender.send(SINK, b"", gas=21000)
        # Another process with the same key replaces it in the pool with a better-paid transaction.
        theirs = {
            "type": 2,
            "chainId": 31337,
            "nonce": sent.nonce,
            "to": SINK,
            "value": 9,
            "data": b"",
            "gas": 21000,
            "maxFeePerGas": 10**12,
            "maxPriorityFeePerGas": 50 * 10**9,
        }
        raw = Account.from_key(acct.key).sign_transaction(theirs).raw_transaction
        fresh_anvil.rpc("eth_sendRawTransaction", ["0x" + bytes(raw).hex()])
        fresh_anvil.mine()
        result = await s.sender.wait(sent, timeout=10, dropped_after=0.2)
        assert result.status == "dropped" and result.receipt is None
        assert s.nonces.records() == {} and s.nonces.peek() == 1
