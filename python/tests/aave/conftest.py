"""Fixtures for the Aave math tests: the replica's Aave market wrapped in ``AaveChain``."""

from __future__ import annotations

import pytest
from aave_chain import AaveChain


@pytest.fixture(scope="session")
def aave(w3, replica) -> AaveChain:
    return AaveChain(w3, replica)
