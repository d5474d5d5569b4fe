"""``flasharb demo``: the main job on a local chain, in under two minutes.

anvil + the real-bytecode replica -> the executor deployed through ape (owner: the replica admin; executor: a
second dev account) -> a seeded market trading on the pools every block -> the bot (arbitrage and Aave
liquidations) for a fixed number of blocks -> a price shock on Aave's oracle (WETH -15%, WMATIC -20%, WBTC -10%)
that puts some of the replica's borrowers under health factor 1, and a few more blocks -> the P&L report and
the simulation accuracy -> bench/results/demo.json.
Keys used are anvil's public development keys, never real ones.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table
from web3 import Web3

from flasharb.aave.strategy import LiquidationConfig
from flasharb.bot.app import BotSpec, open_bot
from flasharb.demo.market import Market
from flasharb.devchain import DevChain, start_devchain
from flasharb.engine import EngineConfig
from flasharb.paths import repo_root
from flasharb.risk import RiskLimits
from flasharb.tx import Signer

#: The oracle move of the demo's price shock (reference prices: script/replica/PolygonReplica.sol).
PRICE_SHOCK = {"WETH": 0.85, "WMATIC": 0.80, "WBTC": 0.90}

# anvil's default development accounts 0 and 1 (public test keys)
OWNER_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
BOT_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"


@dataclass(frozen=True, slots=True)
class DemoResult:
    summary: dict
    executed: list[dict]


def deploy_executor(chain: DevChain, bot_address: str, deployments_dir: Path) -> str:
    from pydantic import SecretStr

    from flasharb.deploy import deploy_executor as deploy
    from flasharb.settings import Settings

    settings = Settings(
        network="ethereum:local:foundry",
        rpc_url=chain.url,
        private_key=SecretStr(OWNER_KEY),
        executors=(bot_address,),
        aave_pool=chain.replica.aave_v3.pool,
        balancer_vault=chain.replica.balancer_v2.vault,
        deployments_dir=deployments_dir,
    )
    return deploy(settings).record.address


def local_bot(
    chain: DevChain,
    workdir: Path,
    *,
    seed: int = 7,
    max_in_flight: int = 8,
    liquidations: bool = False,
    **engine_overrides: object,
) -> tuple[BotSpec, Signer, Market]:
    """A bot on the local replica (executor deployed, owner = replica admin, signer = anvil's second account)
    and a seeded market on the same chain: the set-up the demo, the latency benchmark and the bot tests share;
    ``liquidations`` adds the Aave liquidation strategy on the replica's market (as `flasharb run --liquidations`).
    anvil mines one block per transaction, so a block's several sends land in consecutive blocks: the plans'
    deadline covers them (on Polygon they share the next block)."""
    signer = Signer.from_private_key(BOT_KEY)
    executor = deploy_executor(chain, signer.address, workdir)
    market = Market(Web3(Web3.HTTPProvider(chain.url)), chain.replica, seed=seed, aave=chain.aave)
    market.prepare()
    spec = BotSpec(
        rpc_urls=(chain.url,),
        executor=executor,
        engine_config=EngineConfig.from_replica(chain.replica, **{"deadline_blocks": 16, **engine_overrides}),
        database_url=f"sqlite:///{workdir / 'flasharb.db'}",
        state_dir=workdir / "state",
        limits=RiskLimits(max_loan_default=2**255, max_in_flight=max_in_flight, chain_id=chain.replica.chain_id),
        liquidations=LiquidationConfig.from_replica(chain.aave) if liquidations else None,
    )
    return spec, signer, market


async def run_demo(
    *,
    blocks: int = 40,
    trades_per_block: int = 2,
    seed: int = 7,
    shock_blocks: int = 8,
    console: Console | None = None,
) -> DemoResult:
    console = console or Console()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="flasharb-demo-") as tmp, start_devchain() as chain:
        tmpdir = Path(tmp)
        console.print(f"[bold]anvil[/] {chain.url} with the Polygon replica (chain {chain.replica.chain_id})")
        for name in ("quickswap", "sushiswap"):
            console.print(f"  {name:<10} factory {getattr(chain.replica, name).factory}")
        console.print(f"  uniswap_v3 factory {chain.replica.uniswap_v3.factory}")
        console.print(f"  aave_v3    pool    {chain.replica.aave_v3.pool}")
        console.print(f"  balancer   vault   {chain.replica.balancer_v2.vault}")

        spec, signer, market = local_bot(chain, tmpdir, seed=seed, liquidations=True)
        console.print(f"[bold]executor[/] {spec.executor} (bot {signer.address})")
        executed: list[dict] = []
        async with open_bot(spec, signer) as bot:
            for symbol, token in chain.replica.tokens.items():  # symbols and decimals for the report
                bot.store.record_token(
                    chain_id=chain.replica.chain_id, address=token.address, symbol=symbol, decimals=token.decimals
                )
            bot.start()
            symbols = {t.address: s for s, t in chain.replica.tokens.items()}
            for i in range(blocks + shock_blocks):
                if i == blocks and spec.liquidations is not None:
                    moved = market.shock(PRICE_SHOCK)
                    console.print("[bold]price shock[/] on Aave's oracle: " + ", ".join(
                        f"{s} {old / 1e8:g} -> {new / 1e8:g} USD" for s, (old, new) in moved.items()))  # fmt: skip
                for _ in range(trades_per_block):
                    market.random_trade()
                report = await bot.process_block()
                await bot.drain()
                for d in report.dispatches:
                    o = d.opportunity
                    if o.liquidation is not None:
                        liq = o.liquidation
                        console.print(
                            f"block {report.number}: liquidation of {liq.user[:10]} (HF {liq.health_factor / 1e18:.3f}):"
                            f" repay {liq.debt_to_cover} {symbols.get(liq.debt, liq.debt)}, seize {liq.seized}"
                            f" {symbols.get(liq.collateral, liq.collateral)}, sell via {'+'.join(h.dex for h in o.cycle)}"
                            f" through {o.lender.name}, predicted {o.profit_after_premium} ({d.head_to_send_ms:.1f} ms)"
                        )
                        continue
                    console.print(
                        f"block {report.number}: {len(o.cycle)}-hop via {o.lender.name}, "
                        f"predicted {o.profit_after_premium} ({d.head_to_send_ms:.1f} ms head->send)"
                    )
            outcomes = await bot.drain()
            for o in outcomes:
                liq = o.dispatch.opportunity.liquidation
                executed.append(
                    {
                        "tx": o.dispatch.tx_hash,
                        "strategy": o.dispatch.opportunity.strategy,
                        "liquidation": None if liq is None else {
                            "user": liq.user, "collateral": symbols.get(liq.collateral, liq.collateral),
                            "debt": symbols.get(liq.debt, liq.debt), "debt_to_cover": str(liq.debt_to_cover),
                            "seized": str(liq.seized), "health_factor": str(liq.health_factor),
                        },  # fmt: skip
                        "status": o.status,
                        "token": o.dispatch.opportunity.loan_token,
                        "predicted": str(o.predicted_profit),
                        "realized": None if o.realized_profit is None else str(o.realized_profit),
                        "exact": o.exact,
                        "revert": o.revert,
                    }
                )
            from flasharb.report import build_report, render

            pnl = build_report(bot.store, chain_id=chain.replica.chain_id)
            render(pnl, console)
            summary = dict(pnl.summary)
        summary["elapsed_s"] = round(time.perf_counter() - started, 1)
        summary["blocks"] = blocks + shock_blocks
        liquidations = [e for e in executed if e["strategy"] == "liquidation"]
        summary["liquidations"] = len(liquidations)
        summary["liquidations_exact"] = sum(1 for e in liquidations if e["exact"])
        return DemoResult(summary=summary, executed=executed)


def write_results(result: DemoResult, path: Path | None = None) -> Path:
    path = path or repo_root() / "bench" / "results" / "demo.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = ("executed", "profitable", "reverted", "refused", "predicted_equals_realized", "profit_by_token")
    data = {k: result.summary.get(k) for k in keys}
    data.update({k: v for k, v in result.summary.items() if k not in keys})
    data["transactions"] = result.executed
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def main(blocks: int = 40, seed: int = 7) -> int:
    console = Console()
    result = asyncio.run(run_demo(blocks=blocks, seed=seed, console=console))
    path = write_results(result)
    table = Table(title="demo summary")
    table.add_column("key")
    table.add_column("value")
    for k, v in result.summary.items():
        table.add_row(k, str(v))
    console.print(table)
    console.print(f"wrote {path}")
    return 0
