"""A real nats-server (JetStream, file storage in a temp folder, loopback) per test, started through
``tools/nats-server.sh``."""

from __future__ import annotations

import pytest

from flasharb.relay.broker import NatsServer


@pytest.fixture()
def nats_server(tmp_path):
    server = NatsServer(tmp_path / "jetstream").start()
    yield server
    server.stop()
