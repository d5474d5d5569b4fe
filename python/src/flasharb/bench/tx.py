"""Latency of the transaction layer on a local anvil: new head -> signed transaction accepted by the node.

``run()`` starts its own anvil (automine: every transaction mines a block, whose header starts the next
sample), subscribes to new heads over websockets, and for each head computes fees (``FeeOracle.on_head``),
reserves a nonce, builds, signs, records and sends a transfer through ``TxSender`` -- the same code the bot
runs. It reports medians and 99th percentiles in milliseconds (keys prefixed ``tx_``):

- ``head_to_sent``: from the websocket message's arrival to ``eth_sendRawTransaction``'s answer;
- ``sign_send``: ``TxSender.send`` alone (nonce + build + sign + record + submit), with its ``stages_ms``;
- ``sign_only``: eth-account signing alone (which ECC backend eth-keys uses matters most: ``ecc_backend``).

``python -m flasharb.bench.tx`` prints the dict as JSON.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

ANVIL_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # anvil's public dev key 0
SINK = "0x000000000000000000000000000000000000dEaD"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def _summary(values: list[float]) -> dict[str, float]:
    return {"p50_ms": round(statistics.median(values), 3), "p99_ms": round(_pct(values, 99), 3)}


async def _measure(url: str, samples: int, warmup: int, store: Path) -> dict[str, Any]:
    from eth_keys.backends import get_backend

    from flasharb.tx import Endpoint, FeeOracle, FeePolicy, NonceManager, RpcClient, Signer, TxSender

    async with RpcClient([Endpoint.same_port_ws(url, "anvil")], health_interval=None) as rpc:
        signer = Signer.from_private_key(ANVIL_KEY)
        nonces = await NonceManager.open(rpc, signer.address, store)
        try:
            fees = FeeOracle(rpc, FeePolicy(mode="fixed", fixed_priority_fee=10**9))
            await fees.refresh()
            sender = TxSender(rpc, signer, nonces, fees=fees)

            tx = sender.build(SINK, b"\x00" * 100, gas=100_000, fees=fees.current, nonce=0)  # type: ignore[arg-type]
            sign_only = []
            for i in range(warmup + samples):
                t0 = time.perf_counter()
                signer.sign_transaction({**tx, "nonce": i})
                if i >= warmup:
                    sign_only.append((time.perf_counter() - t0) * 1e3)

            head_to_sent: list[float] = []
            sign_send: list[float] = []
            stages: dict[str, list[float]] = {}
            async with rpc.heads(coalesce=True) as heads:
                if not await heads.wait_subscribed(10):
                    raise RuntimeError("no websocket subscription to anvil's new heads")
                await rpc.call("evm_mine")  # the first head
                n = 0
                async for head in heads:
                    f = fees.on_head(head)
                    sent = await sender.send(SINK, b"", gas=21_000, fees=f, value=1)
                    done = time.perf_counter()
                    if n >= warmup:
                        head_to_sent.append((done - head.received_at) * 1e3)
                        sign_send.append(sent.stages_ms["total"])
                        for k, v in sent.stages_ms.items():
                            stages.setdefault(k, []).append(v)
                    n += 1
                    if n >= warmup + samples:
                        break
            mode = heads.mode
        finally:
            nonces.close()
    head, send = _summary(head_to_sent), _summary(sign_send)
    return {  # prefixed: benchmark suites merge several modules' dicts
        "tx_samples": samples,
        "tx_head_source": mode,
        "tx_ecc_backend": type(get_backend()).__name__,
        "tx_head_to_sent_p50_ms": head["p50_ms"],
        "tx_head_to_sent_p99_ms": head["p99_ms"],
        "tx_sign_send_p50_ms": send["p50_ms"],
        "tx_sign_send_p99_ms": send["p99_ms"],
        "tx_sign_only_p50_ms": _summary(sign_only)["p50_ms"],
        "tx_stages_ms": {k: round(statistics.median(v), 3) for k, v in stages.items()},
    }


def run(samples: int = 200, warmup: int = 20, url: str | None = None) -> dict[str, Any]:
    """Measures on ``url`` (an anvil that automines; default: a fresh one started and stopped here)."""
    from flasharb.devchain import start_anvil

    proc = None
    if url is None:
        proc, url, _ = start_anvil()
    try:
        with tempfile.TemporaryDirectory(prefix="flasharb-bench-tx-") as tmp:
            return asyncio.run(_measure(url, samples, warmup, Path(tmp) / "nonces.sqlite"))
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except Exception:
                proc.kill()


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
