"""Block header -> signed transaction sent, on the local anvil with the replica (issue 9's latency benchmark).

Each sample: a market trade dislocates a pool (one new block), then the bot takes that head through the whole
pipeline (engine sync + detect + size, risk, eth_call/estimateGas simulation, sign, send). The sample is the time
from the head's arrival to the first transaction of that block being sent; stages are the p50 of each part of
that first send (the risk check, in between, costs microseconds).
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

SAMPLES = 60


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


async def _measure(samples: int) -> dict:
    from flasharb.bot.app import open_bot
    from flasharb.demo.run import local_bot
    from flasharb.devchain import start_devchain

    with tempfile.TemporaryDirectory() as tmp, start_devchain() as chain:
        spec, signer, market = local_bot(chain, Path(tmp), seed=3)
        totals: list[float] = []
        stages: dict[str, list[float]] = {}
        async with open_bot(spec, signer) as bot:
            bot.start()
            while len(totals) < samples:
                # Our own transactions were mined in blocks of their own (anvil mines one per transaction; on
                # Polygon they share the next block): absorb them untimed, so each sample sees one new block.
                bot.engine.step()
                market.random_trade()
                head_at = time.perf_counter()  # the head is on the node now; a subscriber would see it here
                report = await bot.process_block(received_at=head_at)
                await bot.drain()
                if not report.dispatches:
                    continue
                first = report.dispatches[0]
                totals.append(first.head_to_send_ms)
                parts = {
                    "detect": report.stages_ms["detect"],  # engine: logs for the new block, sync, re-size
                    "simulate": first.simulate_ms,  # eth_call + eth_estimateGas of the exact transaction
                    "sign_send": first.send_ms,  # nonce, fees, sign, eth_sendRawTransaction
                }
                for name, ms in parts.items():
                    stages.setdefault(name, []).append(ms)
    return {
        "p50_ms": round(statistics.median(totals), 2),
        "p99_ms": round(_pct(totals, 99), 2),
        "samples": len(totals),
        "stages_ms": {k: round(statistics.median(v), 2) for k, v in stages.items()},
    }


def run() -> dict:
    return asyncio.run(_measure(SAMPLES))
