"""Benchmark: one snapshot of 500 pools through the lens on the local replica (target <= 100 ms).

The replica has 22 V2 pairs and 13 V3 pools; the 500 are its addresses repeated, 333 V2 and 167 V3 (the
2/3, 1/3 mix), read with the client's defaults (2 bitmap words each side, batches of 200 pools pinned to one
block and sent as one JSON-RPC batch). A repeated pool costs the lens what a distinct one does, except that
its account and slots are warm after the first read (the EVM gas differs; anvil's wall time barely does, its
state is in memory).

    python -m flasharb.bench.lens      # prints the result as JSON
"""

from __future__ import annotations

import json
import statistics
import time

from flasharb.devchain import DevChain, start_devchain
from flasharb.lens import LENS_ADDRESS, PoolLensClient, decode_snapshot_result, encode_snapshot_call

POOLS = 500
V2_SHARE = 2 / 3


def _mix(devchain: DevChain) -> tuple[list[str], list[str]]:
    v2, v3 = devchain.replica.pools.v2, devchain.replica.pools.v3
    n_v2 = round(POOLS * V2_SHARE)
    return [v2[i % len(v2)] for i in range(n_v2)], [v3[i % len(v3)] for i in range(POOLS - n_v2)]


def run(devchain: DevChain | None = None, *, repeats: int = 30, warmup: int = 3) -> dict:
    """Median wall time of ``PoolLensClient.snapshot`` over 500 pools, plus where the time goes."""
    own = devchain is None
    chain = devchain or start_devchain()
    try:
        pairs, pools = _mix(chain)
        with PoolLensClient(chain.url) as client:
            for _ in range(warmup):
                client.snapshot(pairs, pools)
            times = []
            for _ in range(repeats):
                start = time.perf_counter()
                snap = client.snapshot(pairs, pools)
                times.append(time.perf_counter() - start)
            assert not snap.failed and len(snap.v2) + len(snap.v3) == POOLS

            # One call with all 500 pools, split into node time and Python decoding time.
            client_pairs, client_pools = [p.address for p in snap.v2], [p.address for p in snap.v3]
            calldata = encode_snapshot_call(client_pairs, False, client_pools, client.words_each_side)
            params = [{"to": LENS_ADDRESS, "data": calldata}, "latest", {LENS_ADDRESS: {"code": client.code}}]
            rpc, decode = [], []
            for _ in range(max(5, repeats // 3)):
                start = time.perf_counter()
                raw = chain.rpc("eth_call", params)
                mid = time.perf_counter()
                decode_snapshot_result(bytes.fromhex(raw[2:]), client_pairs, client_pools, False)
                rpc.append(mid - start)
                decode.append(time.perf_counter() - mid)
            gas = int(chain.rpc("eth_estimateGas", params), 16)
    finally:
        if own:
            chain.close()
    return {
        "snapshot_500_pools_ms": round(statistics.median(times) * 1e3, 2),
        "snapshot_500_pools_p90_ms": round(sorted(times)[int(0.9 * (len(times) - 1))] * 1e3, 2),
        "single_call_rpc_ms": round(statistics.median(rpc) * 1e3, 2),
        "single_call_decode_ms": round(statistics.median(decode) * 1e3, 2),
        "single_call_gas": gas,
        "pools_v2": len(pairs),
        "pools_v3": len(pools),
        "v3_ticks_read": sum(len(p.ticks) for p in snap.v3),
        "words_each_side": client.words_each_side,
        "batch_size": client.batch_size,
        "mix": "replica addresses repeated: 333 of its 22 V2 pairs, 167 of its 13 V3 pools",
        "target_ms": 100,
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
