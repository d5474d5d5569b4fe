"""Session fixtures: one anvil with the real-bytecode Polygon replica for the whole run.

Tests that need the chain take `devchain` (or `replica`/`w3`) and should leave state as they found it: use
the `chain_snapshot` fixture, which reverts anvil after the test.
"""

from __future__ import annotations

import pytest
from web3 import Web3

from flasharb.devchain import DevChain, start_devchain


@pytest.fixture(scope="session")
def devchain() -> DevChain:
    chain = start_devchain()
    yield chain
    chain.close()


@pytest.fixture(scope="session")
def replica(devchain: DevChain):
    return devchain.replica


@pytest.fixture(scope="session")
def w3(devchain: DevChain) -> Web3:
    return Web3(Web3.HTTPProvider(devchain.url, request_kwargs={"timeout": 60}))


@pytest.fixture()
def chain_snapshot(devchain: DevChain):
    snap = devchain.snapshot()
    yield devchain
    devchain.revert(snap)
