"""Simulate the exact transaction: ``eth_call`` and ``eth_estimateGas`` of ``execute(plan)`` from the signer,
against the latest state, in one JSON-RPC batch."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import function_signature_to_4byte_selector

from flasharb.tx import RpcClient, RpcError
from flasharb.tx.decode import DecodedRevert, RevertDecoder

EXECUTE_SELECTOR = function_signature_to_4byte_selector("execute(bytes)")


def execute_calldata(plan: bytes) -> bytes:
    """ABI encoding of ``execute(bytes plan)``, by hand: it is on the hot path."""
    padded = plan + b"\x00" * (-len(plan) % 32)
    return EXECUTE_SELECTOR + (32).to_bytes(32, "big") + len(plan).to_bytes(32, "big") + padded


@dataclass(frozen=True, slots=True)
class Simulation:
    ok: bool
    profit: int  # execute()'s return value when ok
    gas: int  # eth_estimateGas when ok
    revert: DecodedRevert | None = None
    error: str = ""


class Simulator:
    def __init__(self, rpc: RpcClient, executor: str, sender: str, decoder: RevertDecoder | None = None):
        self.rpc = rpc
        self.executor = executor
        self.sender = sender
        self.decoder = decoder or RevertDecoder.for_executor()

    async def simulate(self, plan: bytes) -> Simulation:
        tx = {"from": self.sender, "to": self.executor, "data": "0x" + execute_calldata(plan).hex()}
        call, gas = await self.rpc.batch([("eth_call", [tx, "latest"]), ("eth_estimateGas", [tx, "latest"])])
        if isinstance(call, RpcError) or isinstance(gas, RpcError):
            err = call if isinstance(call, RpcError) else gas
            return Simulation(False, 0, 0, revert=self.decoder.decode_error(err), error=str(err))
        return Simulation(True, int(call, 16), int(gas, 16))
