"""`flasharb run`'s loop on real new heads, and graceful shutdown: SIGTERM stops it between heads, and every
transaction already sent is tracked to its outcome and recorded before it returns."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

from flasharb.bot.app import open_bot, run_forever
from flasharb.demo.run import local_bot
from flasharb.devchain import start_devchain


async def _scenario(tmp: Path) -> dict:
    with start_devchain() as chain:
        spec, signer, market = local_bot(chain, tmp, seed=9)
        reports = []
        async with open_bot(spec, signer) as bot:
            loop_task = asyncio.create_task(run_forever(bot, bot.sender.rpc, on_block=reports.append))
            for _ in range(30):
                await asyncio.to_thread(market.random_trade)
                await asyncio.sleep(0.3)
                if sum(len(r.dispatches) for r in reports) >= 3:
                    break
            os.kill(os.getpid(), signal.SIGTERM)
            await asyncio.wait_for(loop_task, 30)
            sent = [d.tx_hash for r in reports for d in r.dispatches]
            txs = bot.store.transactions()
            return {"sent": sent, "outcomes": list(bot.outcomes), "txs": txs, "done": loop_task.done()}


def test_sigterm_finishes_in_flight_bookkeeping(tmp_path):
    r = asyncio.run(_scenario(tmp_path))
    assert r["done"]
    assert len(r["sent"]) >= 3, "the loop traded on real new heads"
    assert len(r["outcomes"]) == len(r["sent"]), "every sent transaction was tracked to its outcome"
    assert {t.status for t in r["txs"]} == {"mined"} and len(r["txs"]) == len(r["sent"])
