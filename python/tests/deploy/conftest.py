"""Fixtures for the deployment tests: the lead's session anvil with the replica (``devchain``), reverted after
each test, a temporary deployments/ folder holding the replica's addresses, and settings pointing at both."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from deploy_keys import DEPLOYER_KEY

from flasharb.artifacts import artifact_path
from flasharb.paths import repo_root

os.environ.setdefault("APE_DATA_FOLDER", str(repo_root() / ".ape"))  # before anything imports ape


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in list(os.environ):
        if (
            name.startswith("FLASHARB_")
            or name in ("ETHERSCAN_API_KEY", "POLYGON_RPC_URL", "AMOY_RPC_URL")
            or (name.startswith("APE_ACCOUNTS_") and name.endswith("_PASSPHRASE"))
        ):
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def executor_out() -> Path:
    out = repo_root() / "out"
    if not artifact_path(out).is_file():
        pytest.skip(
            "out/FlashArbExecutor.sol/FlashArbExecutor.json is missing: run `forge build` (make build)"
        )
    return out


@pytest.fixture()
def deployments(tmp_path: Path, replica) -> Path:
    folder = tmp_path / "deployments"
    folder.mkdir()
    (folder / f"replica-{replica.chain_id}.json").write_text(json.dumps(replica.model_dump(mode="json")))
    return folder


@pytest.fixture()
def make_settings(chain_snapshot, deployments, executor_out, monkeypatch):
    """Settings for a deployment on the session anvil, signed by DEPLOYER through FLASHARB_PRIVATE_KEY."""
    from flasharb.settings import Settings

    monkeypatch.setenv("FLASHARB_PRIVATE_KEY", DEPLOYER_KEY)

    def make(**overrides):
        base = dict(rpc_url=chain_snapshot.url, deployments_dir=deployments, out_dir=executor_out)
        return Settings.load(**{**base, **overrides})

    return make
