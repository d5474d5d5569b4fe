"""Fault: the node (anvil) is killed mid-run and restarted with its state. The bot skips the dead blocks without
crashing, then carries on: no nonce reused or skipped, every record kept, predictions still exact."""

from __future__ import annotations

import asyncio
import gzip
from pathlib import Path

from flasharb.bot.app import open_bot
from flasharb.demo.run import local_bot
from flasharb.devchain import start_anvil, start_devchain


async def _trade_and_tick(bot, market, blocks: int) -> None:
    for _ in range(blocks):
        market.random_trade()
        await bot.tick()
        await bot.drain()


async def _scenario(tmp: Path) -> dict:
    chain = start_devchain()
    try:
        spec, signer, market = local_bot(chain, tmp, seed=21)
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
