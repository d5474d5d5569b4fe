"""Engine fixtures: the replica's engine config, a lens client and a JSON-RPC reader on the anvil."""

from __future__ import annotations

import pytest

from flasharb.engine import EngineConfig
from flasharb.engine.rpc import HttpRpc
from flasharb.lens import PoolLensClient

from engine_chain import lens_forge_out


@pytest.fixture(scope="session")
def engine_config(replica) -> EngineConfig:
    return EngineConfig.from_replica(replica)


@pytest.fixture(scope="session")
def rpc(devchain) -> HttpRpc:
    client = HttpRpc(devchain.url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def lens(devchain, engine_config) -> PoolLensClient:
    client = PoolLensClient(
        devchain.url, forge_out=lens_forge_out(), words_each_side=engine_config.lens_words_each_side
    )
    yield client
    client.close()
