"""A synthetic forge project for the verification tests: sources, artifact, build info, deployment record."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from eth_abi import encode
from eth_utils import keccak

API_KEY = "STANDIN-KEY-0123456789abcdef"  # a made-up key: the stand-in accepts anything
ADDRESS = "0x1111111111111111111111111111111111111111"
ARGS = [
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x794a61358D6845594F94dc1DB02A252b5b4814aD",
    "0xBA12222222228d8Ba445958a75a0704d566BF2C8",
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
]
SOURCE = """// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {Lib} from "./Lib.sol";

contract FlashArbExecutor {
    constructor(address owner_, address aavePool, address balancerVault, address profitReceiver_) {}
}
"""
LIB = "// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\n\nlibrary Lib {}\n"
UNRELATED = "// SPDX-License-Identifier: MIT\npragma solidity 0.8.28;\n\ncontract Unrelated {}\n"
CREATION = bytes.fromhex("6080604052348015600e575f5ffd5b50")
RUNTIME = bytes.fromhex("6080604052")


def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No FLASHARB_*, ETHERSCAN_API_KEY, RPC URL or passphrase from the shell leaks into a test."""
    for name in list(os.environ):
        if (
            name.startswith("FLASHARB_")
            or name in ("ETHERSCAN_API_KEY", "POLYGON_RPC_URL", "AMOY_RPC_URL")
            or (name.startswith("APE_ACCOUNTS_") and name.endswith("_PASSPHRASE"))
        ):
            monkeypatch.delenv(name)


def _metadata(sources: dict[str, str]) -> dict:
    return {
        "compiler": {"version": "0.8.28+commit.7893614a"},
        "language": "Solidity",
        "settings": {
            "compilationTarget": {"src/FlashArbExecutor.sol": "FlashArbExecutor"},
            "evmVersion": "cancun",
            "libraries": {},
            "metadata": {"bytecodeHash": "none"},
            "optimizer": {"enabled": True, "runs": 1000000},
            "remappings": [":forge-std/=lib/forge-std/"],
        },
        "sources": {
            name: {"keccak256": "0x" + keccak(text.encode()).hex(), "license": "MIT"}
            for name, text in sources.items()
        },
        "version": 1,
    }


def build_project(tmp_path: Path) -> Path:
    """A repo root with src/, a forge-shaped artifact (no build info) and a deployment record on chain 137."""
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    (root / "src" / "FlashArbExecutor.sol").write_text(SOURCE)
    (root / "src" / "Lib.sol").write_text(LIB)
    (root / "src" / "Unrelated.sol").write_text(UNRELATED)
    meta = _metadata({"src/FlashArbExecutor.sol": SOURCE, "src/Lib.sol": LIB})
    ctor = {
        "type": "constructor",
        "stateMutability": "nonpayable",
        "inputs": [
            {"name": n, "type": "address", "internalType": "address"}
            for n in ("owner_", "aavePool", "balancerVault", "profitReceiver_")
        ],
    }
    artifact = {
        "abi": [ctor],
        "bytecode": {"object": "0x" + CREATION.hex(), "sourceMap": "", "linkReferences": {}},
        "deployedBytecode": {"object": "0x" + RUNTIME.hex(), "sourceMap": "", "linkReferences": {}},
        "methodIdentifiers": {},
        "rawMetadata": json.dumps(meta),
        "metadata": meta,
        "id": 0,
    }
    out = root / "out" / "FlashArbExecutor.sol"
    out.mkdir(parents=True)
    (out / "FlashArbExecutor.json").write_text(json.dumps(artifact))
    write_record(root, 137)
    return root


def write_record(root: Path, chain_id: int, **changes) -> None:
    record = {
        "address": ADDRESS,
        "tx_hash": "0x" + "ab" * 32,
        "block_number": 123,
        "deployer": ARGS[0],
        "network": "polygon:mainnet:node",
        "constructor_args": dict(
            zip(("owner_", "aavePool", "balancerVault", "profitReceiver_"), ARGS, strict=True)
        ),
        "constructor_args_encoded": "0x" + encode(["address"] * 4, ARGS).hex(),
        "contract": "src/FlashArbExecutor.sol:FlashArbExecutor",
        "artifact": "out/FlashArbExecutor.sol/FlashArbExecutor.json",
        "bytecode_hash": "0x" + keccak(CREATION).hex(),
        "runtime_hash": "0x" + keccak(RUNTIME).hex(),
        "compiler_version": "0.8.28+commit.7893614a",
        "deployed_at": "2026-01-01T00:00:00Z",
        "aave_pool": ARGS[1],
        "balancer_vault": ARGS[2],
        "owner": ARGS[0],
        "profit_receiver": ARGS[3],
        "executors": [],
        **changes,
    }
    path = root / "deployments" / f"{chain_id}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"chain_id": chain_id, "contracts": {"FlashArbExecutor": record}, "history": []})
    )


def add_build_info(root: Path, *, with_unrelated: bool = True) -> Path:
    """A full build-info file (as forge writes with build_info = true) holding the sources and one more."""
    sources = {"src/FlashArbExecutor.sol": {"content": SOURCE}, "src/Lib.sol": {"content": LIB}}
    if with_unrelated:
        sources["src/Unrelated.sol"] = {"content": UNRELATED}
    info = {
        "id": "feedface",
        "source_id_to_path": {},
        "language": "Solidity",
        "_format": "ethers-rs-sol-build-info-1",
        "input": {
            "version": "0.8.28",
            "language": "Solidity",
            "sources": sources,
            "settings": {
                "optimizer": {"enabled": True, "runs": 1000000},
                "evmVersion": "cancun",
                "viaIR": False,
                "metadata": {"bytecodeHash": "none"},
                "libraries": {},
                "outputSelection": {"*": {"*": ["abi"]}},
            },
            "allowPaths": [],
            "basePath": str(root),
            "includePaths": [],
        },
        "solcVersion": "0.8.28",
        "solcLongVersion": "0.8.28",
    }
    path = root / "out" / "build-info" / "feedface.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info))
    return path
