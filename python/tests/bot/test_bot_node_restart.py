"""Fault: the node (anvil) is killed mid-run and restarted with its state. The bot skips the dead blocks without
crashing, then carries on: no nonce reused or skipped, every record kept, predictions still exact."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

from web3 import Web3

from flasharb.bot.app import BotSpec, open_bot
from flasharb.demo.market import Market
from flasharb.demo.run import BOT_KEY, deploy_executor
from flasharb.devchain import start_anvil, start_devchain
from flasharb.engine import EngineConfig
from flasharb.risk import RiskLimits
from flasharb.tx import Signer


async def _trade_and_tick(bot, market, blocks: int) -> None:
    for _ in range(blocks):
        market.random_trade()
        await bot.tick()
        await bot.drain()


async def _scenario(tmp: Path) -> dict:
    chain = start_devchain()
    try:
        signer = Signer.from_private_key(BOT_KEY)
        executor = deploy_executor(chain, signer.address, tmp)
        market = Market(Web3(Web3.HTTPProvider(chain.url)), chain.replica, seed=21)
        market.prepare()
        spec = BotSpec(
            rpc_urls=(chain.url,),
            executor=executor,
            engine_config=EngineConfig.from_replica(chain.replica, deadline_blocks=16),
            database_url=f"sqlite:///{tmp / 'db.sqlite'}",
            state_dir=tmp / "state",
            limits=RiskLimits(max_loan_default=2**255, max_in_flight=8, chain_id=chain.replica.chain_id),
        )
        async with open_bot(spec, signer) as bot:
            bot.start()
            await _trade_and_tick(bot, market, 4)
            before = len(bot.outcomes)

            # The node dies, keeping its database (as a real node does).
            state = tmp / "node-state.json"
            state.write_bytes(gzip.decompress(bytes.fromhex(chain.rpc("anvil_dumpState").removeprefix("0x"))))
            chain.process.kill()
            chain.process.wait()
            dead = await bot.tick()
            failures = bot.rpc_failures

            # ... and comes back on the same port.
            chain.process, _, _ = start_anvil(chain.port, extra_args=("--load-state", str(state)))
            await _trade_and_tick(bot, market, 6)
            outcomes = await bot.drain()
            txs = bot.store.transactions()
            return {"before": before, "dead": dead, "failures": failures, "outcomes": outcomes, "txs": txs}
    finally:
        chain.close()


def test_node_killed_and_restarted_mid_run(tmp_path):
    r = asyncio.run(_scenario(tmp_path))
    assert r["before"] > 0, "the bot was trading before the node died"
    assert r["dead"] is None and r["failures"] == 1, "a dead node skips the block, it does not crash the bot"
    outcomes = r["outcomes"]
    assert len(outcomes) > r["before"], "the bot traded again after the restart"
    assert all(o.status == "mined" and o.exact for o in outcomes), [(o.status, o.revert) for o in outcomes]
    nonces = sorted(o.dispatch.nonce for o in outcomes)
    assert nonces == list(range(nonces[0], nonces[0] + len(nonces))), "no nonce reused or skipped"
    assert len(r["txs"]) == len(outcomes), "every transaction is on record"
