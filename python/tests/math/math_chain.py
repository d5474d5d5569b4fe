"""Chain helpers for the differential tests: ABIs from the npm artifacts the replica was deployed from, raw
JSON-RPC (batched where it helps), funding the admin, and reading pool state into our math's inputs."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from functools import cache

import requests
from eth_abi import decode, encode
from eth_utils import function_signature_to_4byte_selector, keccak, to_checksum_address

from flasharb.math.uniswap_v3 import MAX_TICK, MIN_TICK, V3PoolState
from flasharb.math.uniswap_v3.tick_bitmap import ticks_in_word
from flasharb.paths import repo_root

MAX_UINT256 = (1 << 256) - 1
FUNDING = 1 << 200  # of every token, for the admin: enough for swaps that drain a pool to its price limit

SWAP_V3_TOPIC = "0x" + keccak(text="Swap(address,address,int256,int256,uint160,uint128,int24)").hex()


def selector(signature: str) -> bytes:
    return function_signature_to_4byte_selector(signature)


def calldata(signature: str, types: list[str], args: list) -> str:
    return "0x" + (selector(signature) + encode(types, args)).hex()


class RevertedCall(Exception):
    def __init__(self, reason: str, data: str):
        super().__init__(reason or data)
        self.reason = reason
        self.data = data


def _revert_reason(data: str | None) -> str:
    if data and data.startswith("0x08c379a0"):
        return decode(["string"], bytes.fromhex(data[10:]))[0]
    return ""


@dataclass
class Rpc:
    """Minimal JSON-RPC client (one keep-alive session): calls, transactions from unlocked accounts,
    batches."""

    url: str

    def __post_init__(self) -> None:
        self.session = requests.Session()
        self._id = 0
        self._tx_count = 0

    def _post(self, payload):
        resp = self.session.post(self.url, json=payload, timeout=120)
        resp.raise_for_status()
        return resp.json()

    def request(self, method: str, params: list | None = None):
        self._id += 1
        answer = self._post({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params or []})
        if "error" in answer:
            err = answer["error"]
            data = err.get("data")
            if isinstance(data, dict):
                data = data.get("data")
            raise RevertedCall(_revert_reason(data) or err.get("message", ""), data or "")
        return answer["result"]

    def batch(self, method: str, params_list: list[list]) -> list:
        payload = [
            {"jsonrpc": "2.0", "id": i, "method": method, "params": params}
            for i, params in enumerate(params_list)
        ]
        answers = sorted(self._post(payload), key=lambda a: a["id"])
        out = []
        for a in answers:
            if "error" in a:
                raise RevertedCall(a["error"].get("message", ""), "")
            out.append(a["result"])
        return out

    def call(self, to: str, data: str, sender: str | None = None) -> bytes:
        tx = {"to": to, "data": data}
        if sender:
            tx["from"] = sender
        return bytes.fromhex(self.request("eth_call", [tx, "latest"])[2:])

    def call_with_storage(self, to: str, data: str, sender: str, storage: dict[str, dict[int, int]]) -> bytes:
        """eth_call with anvil's state override: ``storage`` maps contract -> {slot: value} to set first."""
        override = {
            contract: {
                "stateDiff": {
                    "0x" + slot.to_bytes(32, "big").hex(): "0x" + value.to_bytes(32, "big").hex()
                    for slot, value in slots.items()
                }
            }
            for contract, slots in storage.items()
        }
        tx = {"to": to, "data": data, "from": sender}
        return bytes.fromhex(self.request("eth_call", [tx, "latest", override])[2:])

    def trace_call(self, to: str, data: str, sender: str) -> dict:
        """debug_traceCall with the call tracer and logs: what a transaction would do, without sending one."""
        tx = {"to": to, "data": data, "from": sender, "gas": hex(30_000_000)}
        return self.request(
            "debug_traceCall", [tx, "latest", {"tracer": "callTracer", "tracerConfig": {"withLog": True}}]
        )

    def call_many(self, to: str, datas: list[str]) -> list[bytes]:
        results = []
        for start in range(0, len(datas), 500):
            chunk = datas[start : start + 500]
            results += [
                bytes.fromhex(r[2:])
                for r in self.batch("eth_call", [[{"to": to, "data": d}, "latest"] for d in chunk])
            ]
        return results

    def transact(self, sender: str, to: str, data: str, value: int = 0, gas: int = 30_000_000) -> dict:
        """Sends and (anvil automines) returns the receipt; a reverted transaction has status 0."""
        # After evm_revert the same transaction (same nonce) can come again; anvil would take it for the one
        # it already saw and never mine it, so every transaction gets a unique gas limit.
        self._tx_count += 1
        gas -= self._tx_count % 1_000_000
        tx_hash = self.request(
            "eth_sendTransaction",
            [{"from": sender, "to": to, "data": data, "gas": hex(gas), "value": hex(value)}],
        )
        for attempt in range(2000):
            receipt = self.request("eth_getTransactionReceipt", [tx_hash])
            if receipt is not None:
                return receipt
            if attempt % 50 == 49:
                # anvil occasionally leaves an automined transaction pending right after an evm_revert
                self.request("evm_mine")
            time.sleep(0.0005)
        raise AssertionError(f"no receipt for {tx_hash}")

    def snapshot(self) -> str:
        return self.request("evm_snapshot")

    def revert(self, snapshot_id: str) -> None:
        assert self.request("evm_revert", [snapshot_id]), f"evm_revert({snapshot_id}) refused"


@cache
def artifact_abi(relative: str) -> list:
    return json.loads((repo_root() / "node_modules" / relative).read_text())["abi"]


# ---------------------------------------------------------------- tokens


def fund_admin(rpc: Rpc, replica, spenders: list[str]) -> None:
    """Gives the admin FUNDING of every replica token and approves ``spenders`` for all of it."""
    admin = replica.admin
    wmatic = replica.token("WMATIC").address
    for symbol, token in replica.tokens.items():
        if token.address == wmatic:
            # WETH9: anvil caps a transaction's value at 2**128, so write balanceOf[admin] (slot 3) directly
            slot = keccak(encode(["address", "uint256"], [admin, 3]))
            rpc.request(
                "anvil_setStorageAt", [wmatic, "0x" + slot.hex(), "0x" + FUNDING.to_bytes(32, "big").hex()]
            )
            balance_call = calldata("balanceOf(address)", ["address"], [admin])
            assert int.from_bytes(rpc.call(wmatic, balance_call), "big") == FUNDING, (
                "WETH9 storage layout differs"
            )
            receipt = {"status": "0x1"}
        else:
            receipt = rpc.transact(
                admin,
                token.address,
                calldata("mint(address,uint256)", ["address", "uint256"], [admin, FUNDING]),
            )
        assert int(receipt["status"], 16) == 1, f"funding {symbol} failed"
        for spender in spenders:
            receipt = rpc.transact(
                admin,
                token.address,
                calldata("approve(address,uint256)", ["address", "uint256"], [spender, MAX_UINT256]),
            )
            assert int(receipt["status"], 16) == 1


def balance_slot(rpc: Rpc, token: str, holder: str) -> int:
    """The storage slot of ``balanceOf[holder]`` for a Solidity ``mapping(address => uint256)`` at the first
    slot among 0..9 that holds the balance (MintableERC20: 0, WETH9: 3)."""
    balance = int.from_bytes(rpc.call(token, calldata("balanceOf(address)", ["address"], [holder])), "big")
    assert balance > 0, "holder has no balance to find the slot by"
    for index in range(10):
        slot = int.from_bytes(keccak(encode(["address", "uint256"], [holder, index])), "big")
        if int(rpc.request("eth_getStorageAt", [token, hex(slot), "latest"]), 16) == balance:
            return index
    raise AssertionError(f"no balance mapping found for {token}")


def mapping_slot(holder: str, index: int) -> int:
    return int.from_bytes(keccak(encode(["address", "uint256"], [holder, index])), "big")


def trace_logs(frame: dict) -> list[dict]:
    """Every log of a callTracer frame and its sub-calls, in order (reverted frames carry none)."""
    logs = list(frame.get("logs") or [])
    for sub in frame.get("calls") or []:
        logs += trace_logs(sub)
    return logs


# ---------------------------------------------------------------- V2


@dataclass(frozen=True)
class V2Pair:
    address: str
    token0: str
    token1: str
    reserve0: int
    reserve1: int


def read_v2_pair(rpc: Rpc, address: str) -> V2Pair:
    (token0,) = decode(["address"], rpc.call(address, "0x" + selector("token0()").hex()))
    (token1,) = decode(["address"], rpc.call(address, "0x" + selector("token1()").hex()))
    r0, r1, _ = decode(
        ["uint112", "uint112", "uint32"], rpc.call(address, "0x" + selector("getReserves()").hex())
    )
    return V2Pair(
        to_checksum_address(address), to_checksum_address(token0), to_checksum_address(token1), r0, r1
    )


# ---------------------------------------------------------------- V3


@dataclass(frozen=True)
class V3Pool:
    address: str
    token0: str
    token1: str
    fee: int
    tick_spacing: int


def read_v3_pool(rpc: Rpc, address: str) -> V3Pool:
    def one(sig: str, typ: str):
        return decode([typ], rpc.call(address, "0x" + selector(sig).hex()))[0]

    return V3Pool(
        to_checksum_address(address),
        to_checksum_address(one("token0()", "address")),
        to_checksum_address(one("token1()", "address")),
        one("fee()", "uint24"),
        one("tickSpacing()", "int24"),
    )


def read_v3_state(rpc: Rpc, pool: V3Pool) -> V3PoolState:
    """slot0, liquidity, and every initialised tick (the whole bitmap, so the state is complete)."""
    address, spacing = pool.address, pool.tick_spacing
    slot0 = decode(
        ["uint160", "int24", "uint16", "uint16", "uint16", "uint8", "bool"],
        rpc.call(address, "0x" + selector("slot0()").hex()),
    )
    (liquidity,) = decode(["uint128"], rpc.call(address, "0x" + selector("liquidity()").hex()))
    first_word, last_word = (MIN_TICK // spacing) >> 8, (MAX_TICK // spacing) >> 8
    positions = list(range(first_word, last_word + 1))
    words = rpc.call_many(address, [calldata("tickBitmap(int16)", ["int16"], [p]) for p in positions])
    ticks = [
        t
        for p, w in zip(positions, words, strict=True)
        for t in ticks_in_word(p, int.from_bytes(w, "big"), spacing)
    ]
    infos = rpc.call_many(address, [calldata("ticks(int24)", ["int24"], [t]) for t in ticks])
    nets = []
    for t, raw in zip(ticks, infos, strict=True):
        gross, net, *_rest, initialized = decode(
            ["uint128", "int128", "uint256", "uint256", "int56", "uint160", "uint32", "bool"], raw
        )
        assert initialized and gross > 0, f"tick {t} is in the bitmap but not initialised"
        nets.append((t, net))
    return V3PoolState.from_tick_data(
        sqrt_price_x96=slot0[0],
        tick=slot0[1],
        liquidity=liquidity,
        fee=pool.fee,
        tick_spacing=spacing,
        tick_data=nets,
    )


def decode_v3_swap_event(logs: list[dict], pool_address: str) -> tuple[int, int, int, int, int]:
    """(amount0, amount1, sqrtPriceX96, liquidity, tick) of the pool's Swap event among ``logs``."""
    for log in logs:
        if log["address"].lower() == pool_address.lower() and log["topics"][0] == SWAP_V3_TOPIC:
            return decode(["int256", "int256", "uint160", "uint128", "int24"], bytes.fromhex(log["data"][2:]))
    raise AssertionError("no Swap event from the pool in the receipt")
