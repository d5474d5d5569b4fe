"""Verification test fixtures: a clean environment, the Etherscan stand-in, a synthetic forge project."""

from __future__ import annotations

import pytest
from etherscan_standin import StandIn
from verify_project import build_project, clean_environment


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clean_environment(monkeypatch)


@pytest.fixture()
def standin():
    server = StandIn().start()
    yield server
    server.stop()


@pytest.fixture()
def project(tmp_path):
    return build_project(tmp_path)
