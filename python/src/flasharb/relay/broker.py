"""The NATS side of the relay: starting a local server, and the per-chain streams, consumer and claim bucket.

Layout for chain ``C`` (all names derive from ``RelayLayout(C)``):

- stream ``FLASHARB_OPP_C`` on ``flasharb.C.opp``: work-queue retention (each message is taken by one agent),
  file storage, deduplication on ``Nats-Msg-Id`` (the opportunity id) over ``duplicate_window``, ``max_age`` of a
  few blocks; one durable pull consumer ``agents`` shared by every agent, explicit ack, ``ack_wait`` bounded.
- stream ``FLASHARB_RESULTS_C`` on ``flasharb.C.result``: what each agent did with each message (JSON).
- stream ``FLASHARB_DEAD_C`` on ``flasharb.C.dead``: messages that could not be taken, the original bytes with a
  ``Flasharb-Reason`` header.
- durable pull consumer ``recorder`` on the results stream (``ensure_recorder``): ``flasharb record`` writes
  every result into the P&L store and acks it after the commit.
- subject ``flasharb.C.control`` (core NATS): ``pause``, ``resume``, ``kill`` for every agent.
- key-value bucket ``flasharb_claims_C``: ``opp.<id>`` and ``pool.<address>`` claims made with an atomic create
  and a per-key TTL.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from flasharb.paths import repo_root

__all__ = ["RelayLayout", "NatsServer", "start_nats_server", "ensure_relay", "ensure_recorder", "RelayConfig"]


@dataclass(frozen=True, slots=True)
class RelayLayout:
    chain_id: int

    @property
    def opp_subject(self) -> str:
        return f"flasharb.{self.chain_id}.opp"

    @property
    def result_subject(self) -> str:
        return f"flasharb.{self.chain_id}.result"

    @property
    def dead_subject(self) -> str:
        return f"flasharb.{self.chain_id}.dead"

    @property
    def control_subject(self) -> str:
        return f"flasharb.{self.chain_id}.control"

    @property
    def opp_stream(self) -> str:
        return f"FLASHARB_OPP_{self.chain_id}"

    @property
    def result_stream(self) -> str:
        return f"FLASHARB_RESULTS_{self.chain_id}"

    @property
    def dead_stream(self) -> str:
        return f"FLASHARB_DEAD_{self.chain_id}"

    @property
    def claims_bucket(self) -> str:
        return f"flasharb_claims_{self.chain_id}"

    consumer = "agents"
    recorder = "recorder"  # the results stream's durable consumer (``flasharb record``)


@dataclass(frozen=True, slots=True)
class RelayConfig:
    """Timings: ``opp_max_age`` is a few blocks (Polygon: ~2 s each); ``ack_wait`` is how long a message held by
    an agent that died waits before it goes to another agent."""

    opp_max_age: float = 10.0
    duplicate_window: float = 120.0
    ack_wait: float = 5.0
    claim_ttl_default: float = 30.0
    results_max_age: float = 7 * 86400.0


async def ensure_relay(js, layout: RelayLayout, config: RelayConfig = RelayConfig()):
    """Creates (or updates) the streams, the shared consumer and the claim bucket; returns the bucket."""
    from nats.js import api
    from nats.js.errors import BadRequestError

    streams = [
        api.StreamConfig(
            name=layout.opp_stream,
            subjects=[layout.opp_subject],
            retention=api.RetentionPolicy.WORK_QUEUE,
            storage=api.StorageType.FILE,
            max_age=config.opp_max_age,
            duplicate_window=min(config.duplicate_window, config.opp_max_age),  # the server caps it
        ),
        api.StreamConfig(
            name=layout.result_stream,
            subjects=[layout.result_subject],
            storage=api.StorageType.FILE,
            max_age=config.results_max_age,
        ),
        api.StreamConfig(
            name=layout.dead_stream,
            subjects=[layout.dead_subject],
            storage=api.StorageType.FILE,
            max_age=config.results_max_age,
        ),
    ]
    for cfg in streams:
        try:
            await js.add_stream(cfg)
        except BadRequestError:
            await js.update_stream(cfg)
    await js.add_consumer(
        layout.opp_stream,
        api.ConsumerConfig(
            durable_name=layout.consumer,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=config.ack_wait,
            max_ack_pending=-1,
            max_deliver=-1,
        ),
    )
    return await js.create_key_value(
        api.KeyValueConfig(
            bucket=layout.claims_bucket,
            history=1,
            ttl=config.claim_ttl_default * 4,
            storage=api.StorageType.FILE,
            limit_marker_ttl=1.0,  # allows a TTL per claim
        )
    )


async def ensure_recorder(js, layout: RelayLayout, ack_wait: float = 30.0) -> None:
    """Creates the recorder's durable consumer on the results stream (every result since the stream began)."""
    from nats.js import api

    await js.add_consumer(
        layout.result_stream,
        api.ConsumerConfig(
            durable_name=layout.recorder,
            ack_policy=api.AckPolicy.EXPLICIT,
            deliver_policy=api.DeliverPolicy.ALL,
            ack_wait=ack_wait,
            max_ack_pending=20_000,
            max_deliver=-1,
        ),
    )


# ---------------------------------------------------------------------------------------------- the server
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class NatsServer:
    """A nats-server process started through ``tools/nats-server.sh`` (JetStream, file storage in
    ``store_dir``, loopback). ``restart()`` keeps the port and the storage."""

    def __init__(self, store_dir: Path, port: int | None = None) -> None:
        self.store_dir = Path(store_dir)
        self.port = port or _free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.store_dir.parent / f"nats-{self.port}.log"

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> NatsServer:
        script = repo_root() / "tools" / "nats-server.sh"
        log = open(self.log_path, "ab")  # noqa: SIM115 - handed to the child
        self.proc = subprocess.Popen(
            [str(script), str(self.store_dir), str(self.port)], stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy()
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nats-server exited ({self.proc.returncode}); see {self.log_path}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nats-server did not listen on {self.port} within {timeout}s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@contextlib.contextmanager
def start_nats_server(store_dir: Path, port: int | None = None) -> Iterator[NatsServer]:
    server = NatsServer(store_dir, port).start()
    try:
        yield server
    finally:
        server.stop()
