"""Helpers of the transaction-layer tests (imported by the tests and by conftest.py)."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
import urllib.request
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator

from eth_account import Account

from flasharb.devchain import start_anvil
from flasharb.tx import (
    Endpoint,
    FeeOracle,
    FeePolicy,
    NonceManager,
    RevertDecoder,
    RpcClient,
    Signer,
    TxSender,
)


@dataclass
class Anvil:
    """A plain anvil owned by a test (no replica)."""

    url: str
    port: int
    process: Any = field(repr=False)

    def rpc(self, method: str, params: list | None = None) -> Any:
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}).encode()
        req = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            answer = json.loads(resp.read())
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]

    def mine(self, blocks: int = 1) -> None:
        self.rpc("anvil_mine", [hex(blocks)])

    def nonce(self, address: str, tag: str = "latest") -> int:
        return int(self.rpc("eth_getTransactionCount", [address, tag]), 16)

    def receipt(self, tx_hash: str, timeout: float = 10.0) -> dict:
        """Waits for a receipt (anvil's automine answers the send before the block is stored)."""
        return receipt_of(self, tx_hash, timeout)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except Exception:
                self.process.kill()


def launch_anvil(*args: str) -> Anvil:
    proc, url, port = start_anvil(extra_args=tuple(args))
    return Anvil(url=url, port=port, process=proc)


def receipt_of(node: Any, tx_hash: str, timeout: float = 10.0) -> dict:
    """Polls ``eth_getTransactionReceipt`` on ``node`` (an Anvil or a DevChain) until the receipt exists."""
    deadline = time.monotonic() + timeout
    while True:
        receipt = node.rpc("eth_getTransactionReceipt", [tx_hash])
        if receipt is not None:
            return receipt
        if time.monotonic() > deadline:
            raise AssertionError(f"no receipt for {tx_hash} within {timeout} s")
        time.sleep(0.01)


async def await_receipt(rpc: RpcClient, tx_hash: str, timeout: float = 10.0) -> dict:
    """Polls ``eth_getTransactionReceipt`` through an RpcClient until the receipt exists."""
    deadline = time.monotonic() + timeout
    while True:
        receipt = await rpc.get_receipt(tx_hash)
        if receipt is not None:
            return receipt
        if time.monotonic() > deadline:
            raise AssertionError(f"no receipt for {tx_hash} within {timeout} s")
        await asyncio.sleep(0.01)


@dataclass(frozen=True)
class Funded:
    key: str = field(repr=False)
    address: str


def funded_account(node: Any, eth: int = 1000) -> Funded:
    """A new random account with ``eth`` ether on ``node`` (an Anvil or a DevChain)."""
    key = "0x" + secrets.token_hex(32)
    address = Account.from_key(key).address
    node.rpc("anvil_setBalance", [address, hex(eth * 10**18)])
    return Funded(key=key, address=address)


@dataclass
class Stack:
    rpc: RpcClient
    signer: Signer
    nonces: NonceManager
    fees: FeeOracle
    sender: TxSender


@asynccontextmanager
async def tx_stack(
    endpoints: list[Endpoint] | str,
    key: str,
    store: Path,
    *,
    rpc_kwargs: dict[str, Any] | None = None,
    sender_kwargs: dict[str, Any] | None = None,
    policy: FeePolicy | None = None,
) -> AsyncIterator[Stack]:
    """RpcClient + Signer + NonceManager + FeeOracle + TxSender, closed on exit."""
    if isinstance(endpoints, str):
        endpoints = [Endpoint.same_port_ws(endpoints)]
    kwargs = {"health_interval": None, **(rpc_kwargs or {})}
    async with RpcClient(endpoints, **kwargs) as rpc:
        signer = Signer.from_private_key(key)
        nonces = await NonceManager.open(rpc, signer.address, store)
        try:
            fees = FeeOracle(rpc, policy or FeePolicy(mode="fixed", fixed_priority_fee=10**9))
            await fees.refresh()
            sender = TxSender(
                rpc,
                signer,
                nonces,
                fees=fees,
                decoder=RevertDecoder.for_executor(),
                receipt_poll_interval=0.05,
                **(sender_kwargs or {}),
            )
            yield Stack(rpc, signer, nonces, fees, sender)
        finally:
            nonces.close()
