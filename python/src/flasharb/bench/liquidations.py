"""Price move -> liquidation transaction sent, on the local anvil with the replica (issue 11's latency
benchmark), plus the executor's gas against its straight-line floor.

Set-up: the bot with both strategies (``flasharb run --liquidations``) and ``BORROWERS`` extra borrowers with
WETH collateral and USDC debt whose health factors are spaced so that each oracle step of WETH -0.4% pushes
about one more under 1. Each sample: one ``setAssetPrice`` transaction (one new block), then the bot takes that
head through the whole pipeline (engine sync, the Aave events and market read, screen, exact health factors,
sizing, swap-back quote, risk, ``eth_call``/``estimateGas`` simulation, sign, send); the sample is the head's
arrival to the first liquidation transaction sent. Our own transactions' blocks are absorbed untimed between
samples (anvil mines one block per transaction; on Polygon they share the next block).

Gas: ``bench/results/liquidation-gas.json`` (written by the forge gas benchmark, ``tools/bench-gas.sh``).
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from flasharb.paths import repo_root

BORROWERS = 40
SAMPLES = 30
STEP = 0.996  # WETH oracle price multiplier per sample


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def _impersonated(w3, i: int) -> str:
    """A funded, impersonated address per benchmark borrower (anvil's cheats; never a real account)."""
    user = w3.to_checksum_address((0xB0B0 << 144 | i).to_bytes(20, "big"))
    w3.provider.make_request("anvil_setBalance", [user, hex(10**20)])
    w3.provider.make_request("anvil_impersonateAccount", [user])
    return user


def _open_borrowers(market, n: int) -> None:
    """Borrower i: 10,000 USD of WETH, USDC debt for a health factor of 1.035 + 0.004 i (LT 82.5%; LTV 80%
    allows no closer), then WETH lowered so that borrower 0 sits just above 1."""
    weth = 10**18 * 10 // 3  # 3.33 WETH at 3000 USD
    for i in range(n):
        debt = int(10_000 * 0.825 / (1.035 + 0.004 * i) * 10**6)
        market.open_position(_impersonated(market.w3, i), "WETH", weth, "USDC", debt)
    market.shock({"WETH": 1.003 / 1.035})


async def _measure(samples: int) -> dict:
    from flasharb.bot.app import open_bot
    from flasharb.demo.run import local_bot
    from flasharb.devchain import start_devchain
    from flasharb.engine.types import LIQUIDATION

    with tempfile.TemporaryDirectory() as tmp, start_devchain() as chain:
        spec, signer, market = local_bot(chain, Path(tmp), seed=5, liquidations=True)
        _open_borrowers(market, BORROWERS)
        totals: list[float] = []
        stages: dict[str, list[float]] = {}
        exact = sent = 0
        async with open_bot(spec, signer) as bot:
            bot.start()
            for _ in range(samples * 3):
                if len(totals) >= samples:
                    break
                bot.engine.step()  # absorb our own transactions' blocks, untimed
                market.shock({"WETH": STEP})
                head_at = time.perf_counter()  # the head is on the node now; a subscriber would see it here
                report = await bot.process_block(received_at=head_at)
                await bot.drain()
                firsts = [d for d in report.dispatches if d.opportunity.strategy == LIQUIDATION]
                if not firsts:
                    continue
                first = firsts[0]
                totals.append(first.head_to_send_ms)
                for name, ms in {"detect": report.stages_ms["detect"], "simulate": first.simulate_ms,
                                 "sign_send": first.send_ms}.items():  # fmt: skip
                    stages.setdefault(name, []).append(ms)
            outcomes = [o for o in bot.outcomes if o.dispatch.opportunity.strategy == LIQUIDATION]
            sent = len(outcomes)
            exact = sum(1 for o in outcomes if o.exact)
    if not totals:
        raise RuntimeError("no liquidation was sent: the benchmark's borrowers never became liquidatable")
    return {
        "latency_borrowers": BORROWERS + 14,  # on chain in this run: the replica's 14 and the benchmark's
        "block_to_send_p50_ms": round(statistics.median(totals), 2),
        "block_to_send_p99_ms": round(_pct(totals, 99), 2),
        "block_to_send_samples": len(totals),
        "block_to_send_stages_ms": {k: round(statistics.median(v), 2) for k, v in stages.items()},
        "liquidations_sent": sent,
        "liquidations_exact": exact,
    }


def _gas() -> dict:
    """The forge gas benchmark's liquidation numbers (run it when missing: ``tools/bench-gas.sh``)."""
    path = repo_root() / "bench" / "results" / "liquidation-gas.json"
    if not path.is_file():
        subprocess.run([str(repo_root() / "tools" / "bench-gas.sh")], check=True, cwd=repo_root())
    data = json.loads(path.read_text())
    return {"executor_gas": data["executor_gas"], "floor_gas": data["floor_gas"], "gas_route": data.get("route")}


def run() -> dict:
    result = asyncio.run(_measure(SAMPLES))
    result.update(_gas())
    return result
