"""``flasharb scan`` as its own process on the replica: per new head it runs the engine and publishes what it
finds; the messages in the stream decode as opportunities for the replica's chain."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import nats
from web3 import Web3

from flasharb.demo.market import Market
from flasharb.devchain import start_devchain
from flasharb.relay.broker import RelayLayout
from flasharb.relay.wire import decode_opportunity

FLASHARB = str(Path(sys.executable).with_name("flasharb"))


async def _stream(url: str, layout: RelayLayout) -> list[bytes]:
    nc = await nats.connect(url)
    js = nc.jetstream()
    sub = await js.pull_subscribe_bind(durable=layout.consumer, stream=layout.opp_stream)  # the agents' consumer
    out: list[bytes] = []
    while True:
        try:
            out += [bytes(m.data) for m in await sub.fetch(batch=100, timeout=0.5)]
        except (nats.errors.TimeoutError, asyncio.TimeoutError):
            break
    await nc.close()
    return out


def test_flasharb_scan_publishes_opportunities(tmp_path, nats_server):
    with start_devchain() as chain:
        replica_file = tmp_path / "replica.json"
        replica_file.write_text(chain.replica.model_dump_json())
        w3 = Web3(Web3.HTTPProvider(chain.url))
        market = Market(w3, chain.replica, seed=11)
        market.prepare()
        proc = subprocess.Popen(
            [FLASHARB, "scan", "--nats-url", nats_server.url, "--rpc-url", chain.url, "--replica", str(replica_file),
             "--deadline-blocks", "16", "--blocks", "6"],
            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            end = time.monotonic() + 90
            while proc.poll() is None and time.monotonic() < end:
                market.random_trade()  # one block each
                time.sleep(0.5)
            out = proc.communicate(timeout=30)[0].decode()
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, out
        layout = RelayLayout(chain.replica.chain_id)
        msgs = asyncio.run(_stream(nats_server.url, layout))
        assert msgs, out
        opps = [decode_opportunity(m, chain_id=chain.replica.chain_id) for m in msgs]
        assert all(o.deadline_block > o.block_number for o in opps)
        assert "published" in out
