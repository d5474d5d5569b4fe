"""Faults on the replica: a competitor takes the opportunity first (our transaction reverts on chain), and the
bot records it, blacklists the route, and keeps every record."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

from web3 import Web3

from flasharb.bot.app import open_bot
from flasharb.bot.simulate import execute_calldata
from flasharb.demo.run import local_bot
from flasharb.devchain import start_devchain
from flasharb.risk import RiskContext


async def _competitor_scenario(tmp: Path) -> dict:
    with start_devchain() as chain:
        w3 = Web3(Web3.HTTPProvider(chain.url))
        spec, signer, market = local_bot(chain, tmp, seed=5, max_opportunities=1)
        spec = replace(spec, limits=replace(spec.limits, max_in_flight=1, breaker_failures=5))
        executor = spec.executor
        async with open_bot(spec, signer) as bot:
            bot.start()
            report = None
            for _ in range(10):
                market.random_trade()
                chain.rpc("evm_setAutomine", [False])
                report = await bot.process_block()
                if report.dispatches:
                    break
                chain.rpc("evm_setAutomine", [True])
            assert report is not None and report.dispatches, "the market produced an opportunity"
            ours = report.dispatches[0]
            # The competitor (the executor's owner, anvil's first account) runs the same plan with a higher tip.
            w3.eth.send_transaction(
                {
                    "from": Web3.to_checksum_address(chain.replica.admin),
                    "to": executor,
                    "data": "0x" + execute_calldata(ours.opportunity.plan).hex(),
                    "gas": 2_000_000,
                    "maxPriorityFeePerGas": ours.max_priority_fee_per_gas * 10 + 10**9,
                    "maxFeePerGas": ours.max_fee_per_gas * 10 + 10**10,
                }
            )
            chain.rpc("evm_mine")
            chain.rpc("evm_setAutomine", [True])
            outcomes = await bot.drain()
            decision = bot.risk.check(ours.opportunity, RiskContext(gas_price=1))
            tx = bot.store.get_transaction(ours.tx_hash)
            return {"outcomes": outcomes, "decision": decision, "tx": tx, "hash": ours.tx_hash}


def test_competitor_first_reverts_ours_and_is_recorded(tmp_path):
    r = asyncio.run(_competitor_scenario(tmp_path))
    (outcome,) = r["outcomes"]
    assert outcome.status == "reverted"
    assert outcome.revert == "InsufficientProfit", "the executor's min-profit check stopped the stale run"
    assert outcome.realized_profit is None
    assert not r["decision"].ok and "blacklist" in str(r["decision"].reason), "the reverted route is blacklisted"
    assert r["tx"] is not None and r["tx"].status == "reverted", "the revert is on record"
