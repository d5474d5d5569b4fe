"""flasharb.artifacts: forge artifacts, masked immutables, the compiler input rebuilt for verification."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flasharb.artifacts import artifact_path, load_artifact, standard_json_input
from flasharb.exceptions import ArtifactError
from flasharb.paths import repo_root

RUNTIME = bytes(range(1, 101))  # 100 bytes; immutables at 10..41 and 60..91


def write_artifact(out: Path, **changes) -> Path:
    meta = {"compiler": {"version": "0.8.28+commit.7893614a.Emscripten.clang"}, "sources": {}, "settings": {}}
    data = {
        "abi": [{"type": "constructor", "inputs": [{"name": "x", "type": "address"}]}],
        "bytecode": {"object": "0x6080", "linkReferences": {}},
        "deployedBytecode": {
            "object": "0x" + RUNTIME.hex(),
            "linkReferences": {},
            "immutableReferences": {"7": [{"start": 60, "length": 32}], "3": [{"start": 10, "length": 32}]},
        },
        "rawMetadata": json.dumps(meta),
    }
    data.update(changes)
    path = artifact_path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


def test_loads_and_masks_immutables(tmp_path):
    write_artifact(tmp_path)
    art = load_artifact(tmp_path)
    assert art.immutable_references == ((10, 32), (60, 32))
    assert art.compiler_version == "0.8.28+commit.7893614a"  # solcjs suffix dropped
    assert art.qualified_name == "src/FlashArbExecutor.sol:FlashArbExecutor"
    onchain = bytearray(RUNTIME)
    onchain[10:42] = b"\xaa" * 32  # what the constructor wrote
    onchain[60:92] = b"\xbb" * 32
    assert art.runtime_matches(bytes(onchain))
    assert art.immutable_values(bytes(onchain)) == (b"\xaa" * 32, b"\xbb" * 32)
    onchain[5] ^= 1  # a byte outside the immutables
    assert not art.runtime_matches(bytes(onchain))
    assert not art.runtime_matches(RUNTIME + b"\x00")
    assert not art.runtime_matches(b"")
    assert art.contract_type().name == "FlashArbExecutor"


def test_constructor_encoding(tmp_path):
    write_artifact(tmp_path)
    art = load_artifact(tmp_path)
    assert art.encode_constructor_args(["0x" + "11" * 20]).hex() == "00" * 12 + "11" * 20
    with pytest.raises(ArtifactError, match="takes 1 arguments, got 2"):
        art.encode_constructor_args(["0x" + "11" * 20] * 2)


def test_missing_malformed_linked_and_abstract(tmp_path):
    with pytest.raises(ArtifactError, match=r"not found: build it with `forge build`"):
        load_artifact(tmp_path)
    artifact_path(tmp_path).parent.mkdir(parents=True)
    artifact_path(tmp_path).write_text("{")
    with pytest.raises(ArtifactError, match="is not valid JSON"):
        load_artifact(tmp_path)
    write_artifact(tmp_path, bytecode={"object": "0x6080__$abc$__", "linkReferences": {"L.sol": {"L": []}}})
    with pytest.raises(ArtifactError, match="needs linked libraries"):
        load_artifact(tmp_path)
    write_artifact(tmp_path, bytecode={"object": "0x", "linkReferences": {}})
    with pytest.raises(ArtifactError, match="has no bytecode"):
        load_artifact(tmp_path)
    write_artifact(tmp_path, abi=None, bytecode=None)
    with pytest.raises(ArtifactError, match="is not a forge artifact"):
        load_artifact(tmp_path)


def test_the_real_executor_artifact_and_its_compiler_input():
    out = repo_root() / "out"
    if not artifact_path(out).is_file():
        pytest.skip("out/FlashArbExecutor.sol/FlashArbExecutor.json is missing: run `forge build`")
    art = load_artifact(out)
    assert art.source == "src/FlashArbExecutor.sol" and art.immutable_references
    assert [i["type"] for i in art.constructor_inputs] == ["address"] * 4
    std = standard_json_input(art, repo_root(), out)
    sources = std.input["sources"]
    assert "src/FlashArbExecutor.sol" in sources and set(sources) == set(art.metadata["sources"])
    assert not any(name.startswith(("test/", "script/")) for name in sources)
    assert std.compiler_version.startswith("v0.8.") and "+commit." in std.compiler_version
    assert std.input["settings"]["optimizer"]["enabled"] is True
