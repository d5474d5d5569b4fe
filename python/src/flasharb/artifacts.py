"""Forge's build output as Python reads it. Forge is the only compiler: nothing here compiles Solidity.

- ``load_artifact`` reads ``out/<File>.sol/<Name>.json`` (abi, creation and runtime bytecode, immutable
  references, solc metadata) into a ``ForgeArtifact``, which gives ape its ``ContractType``.
- ``ForgeArtifact.runtime_matches`` compares code read from chain with the artifact's runtime bytecode, with
  the immutables' slots masked out (the constructor writes them, so they differ per deployment).
- ``standard_json_input`` rebuilds the exact solc standard-JSON input a contract was compiled from, for source
  verification: forge's build info (``out/build-info/*.json``, complete when foundry.toml sets
  ``build_info = true``) when it has it, else the artifact's solc metadata plus the sources on disk. Either
  way each source is checked against the keccak256 that solc recorded, and only the contract's own import
  closure (the metadata's source list) is kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_abi import encode as abi_encode
from eth_utils import keccak

from flasharb.exceptions import ArtifactError

if TYPE_CHECKING:
    from ethpm_types import ContractType

EXECUTOR_SOURCE = "src/FlashArbExecutor.sol"
EXECUTOR_NAME = "FlashArbExecutor"


def _hex_to_bytes(value: str, what: str, path: Path) -> bytes:
    try:
        return bytes.fromhex(value.removeprefix("0x"))
    except (ValueError, AttributeError):
        raise ArtifactError(f"{path}: {what} is not hex (unlinked libraries are not supported)") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class ForgeArtifact:
    """One contract of forge's out/ directory."""

    name: str
    source: str  # e.g. src/FlashArbExecutor.sol, as solc saw it
    path: Path
    abi: tuple[dict[str, Any], ...] = field(repr=False)
    bytecode: bytes = field(repr=False)
    deployed_bytecode: bytes = field(repr=False)
    immutable_references: tuple[tuple[int, int], ...]  # (start, length) in the runtime code
    metadata: dict[str, Any] = field(repr=False)  # solc's metadata (rawMetadata), {} if forge omitted it

    # ------------------------------------------------------------------ identity
    @property
    def qualified_name(self) -> str:
        """``src/FlashArbExecutor.sol:FlashArbExecutor``: the contract name Etherscan wants."""
        return f"{self.source}:{self.name}"

    @property
    def bytecode_hash(self) -> str:
        """keccak256 of the creation bytecode: what a deployment record pins."""
        return "0x" + keccak(self.bytecode).hex()

    @property
    def compiler_version(self) -> str:
        """``0.8.28+commit.7893614a`` from solc's metadata."""
        version = self.metadata.get("compiler", {}).get("version")
        if not version:
            raise ArtifactError(
                f"{self.path} has no solc metadata: forge must keep the default extra outputs"
            )
        # solcjs reports e.g. 0.8.28+commit.7893614a.Emscripten.clang; the compiler itself is the same.
        return version.split(".Emscripten")[0]

    # ------------------------------------------------------------------ ape
    def contract_type(self) -> ContractType:
        from ethpm_types import ContractType

        return ContractType.model_validate(
            {
                "contractName": self.name,
                "sourceId": self.source,
                "abi": list(self.abi),
                "deploymentBytecode": {"bytecode": "0x" + self.bytecode.hex()},
                "runtimeBytecode": {"bytecode": "0x" + self.deployed_bytecode.hex()},
            }
        )

    # ------------------------------------------------------------------ constructor
    @property
    def constructor_inputs(self) -> tuple[dict[str, Any], ...]:
        for item in self.abi:
            if item.get("type") == "constructor":
                return tuple(item.get("inputs", ()))
        return ()

    def encode_constructor_args(self, args: list[Any] | tuple[Any, ...]) -> bytes:
        inputs = self.constructor_inputs
        if len(args) != len(inputs):
            raise ArtifactError(f"{self.name} constructor takes {len(inputs)} arguments, got {len(args)}")
        return abi_encode([_abi_type(i) for i in inputs], list(args))

    # ------------------------------------------------------------------ runtime code
    def mask_immutables(self, code: bytes) -> bytes:
        """``code`` with every immutable's slot zeroed (slots outside the code are ignored)."""
        masked = bytearray(code)
        for start, length in self.immutable_references:
            end = min(start + length, len(masked))
            if start < end:
                masked[start:end] = bytes(end - start)
        return bytes(masked)

    def runtime_matches(self, onchain: bytes) -> bool:
        """True when ``onchain`` is this artifact's runtime code up to the immutables' values."""
        return len(onchain) == len(self.deployed_bytecode) and self.mask_immutables(
            onchain
        ) == self.mask_immutables(self.deployed_bytecode)

    def immutable_values(self, onchain: bytes) -> tuple[bytes, ...]:
        """The 32-byte words the constructor wrote into the immutables' slots, in reference order."""
        return tuple(onchain[start : start + length] for start, length in self.immutable_references)


def _abi_type(item: dict[str, Any]) -> str:
    kind = item["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item.get("components", ())) + ")" + kind[len("tuple") :]
    return kind


def artifact_path(out_dir: Path, source: str = EXECUTOR_SOURCE, name: str = EXECUTOR_NAME) -> Path:
    return out_dir / Path(source).name / f"{name}.json"


def load_artifact(out_dir: Path, source: str = EXECUTOR_SOURCE, name: str = EXECUTOR_NAME) -> ForgeArtifact:
    """The artifact forge wrote for ``source:name`` under ``out_dir``."""
    path = artifact_path(out_dir, source, name)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ArtifactError(f"artifact {path} not found: build it with `forge build` (make build)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"artifact {path} is not valid JSON: {exc}") from None
    try:
        creation, runtime = data["bytecode"], data["deployedBytecode"]
        abi = tuple(data["abi"])
        if creation.get("linkReferences") or runtime.get("linkReferences"):
            raise ArtifactError(f"{path} needs linked libraries, which deployment does not support")
        bytecode = _hex_to_bytes(creation["object"], "bytecode.object", path)
        deployed = _hex_to_bytes(runtime["object"], "deployedBytecode.object", path)
        refs = tuple(
            sorted(
                (int(r["start"]), int(r["length"]))
                for ranges in (runtime.get("immutableReferences") or {}).values()
                for r in ranges
            )
        )
    except ArtifactError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ArtifactError(f"artifact {path} is not a forge artifact (missing {exc})") from None
    if not bytecode or not deployed:
        raise ArtifactError(f"{path} has no bytecode ({name} is abstract or an interface?)")
    metadata = _metadata(data)
    target = metadata.get("settings", {}).get("compilationTarget", {})
    real_source = next(iter(target), source) if target else source
    return ForgeArtifact(
        name=name,
        source=real_source,
        path=path,
        abi=abi,
        bytecode=bytecode,
        deployed_bytecode=deployed,
        immutable_references=refs,
        metadata=metadata,
    )


def _metadata(data: dict[str, Any]) -> dict[str, Any]:
    raw = data.get("rawMetadata")
    if isinstance(raw, str) and raw:
        try:
            return json.loads(raw)
        except json.JSONDecodeError:
            pass
    meta = data.get("metadata")
    return meta if isinstance(meta, dict) else {}


# ---------------------------------------------------------------------- verification input
@dataclass(frozen=True, slots=True, kw_only=True)
class StandardJsonInput:
    """What Etherscan needs to recompile a contract: solc's standard JSON and the compiler version."""

    input: dict[str, Any] = field(repr=False)
    compiler_version: str  # v0.8.28+commit.7893614a
    origin: str  # the build-info file, or "metadata"

    def to_json(self) -> str:
        return json.dumps(self.input, separators=(",", ":"), sort_keys=False)


def standard_json_input(
    artifact: ForgeArtifact, root: Path, out_dir: Path, *, all_sources: bool = False
) -> StandardJsonInput:
    """The standard-JSON input ``artifact`` was compiled from (see the module docstring).

    ``all_sources`` keeps every source of the forge build (build info only), not just the import closure.
    """
    meta_sources: dict[str, Any] = artifact.metadata.get("sources") or {}
    if not meta_sources:
        raise ArtifactError(
            f"{artifact.path} has no solc metadata sources: cannot rebuild its compiler input"
        )
    version = "v" + artifact.compiler_version

    build = _find_build_info(out_dir, artifact, meta_sources)
    if build is not None:
        path, std = build
        sources = std["sources"]
        keep = sources if all_sources else {k: v for k, v in sources.items() if k in meta_sources}
        payload = {"language": std.get("language", "Solidity"), "sources": keep, "settings": std["settings"]}
        return StandardJsonInput(input=payload, compiler_version=version, origin=str(path))

    # No complete build info: solc's metadata names every source (with its keccak256) and every setting that
    # affects the bytecode, so the input is rebuilt from it and the files on disk.
    sources_out: dict[str, dict[str, str]] = {}
    for name, info in meta_sources.items():
        if "content" in info:
            content = info["content"]
        else:
            try:
                content = (root / name).read_text(encoding="utf-8")
            except FileNotFoundError:
                raise ArtifactError(f"source {name} of {artifact.name} not found under {root}") from None
        _check_source(name, content, info, "the working tree")
        sources_out[name] = {"content": content}
    settings = dict(artifact.metadata.get("settings") or {})
    settings.pop("compilationTarget", None)
    libraries: dict[str, dict[str, str]] = {}
    for qualified, address in (settings.pop("libraries", None) or {}).items():
        lib_source, _, lib_name = qualified.rpartition(":")
        libraries.setdefault(lib_source, {})[lib_name] = address
    settings["libraries"] = libraries
    settings["outputSelection"] = {"*": {"*": ["abi", "evm.bytecode", "evm.deployedBytecode", "metadata"]}}
    payload = {
        "language": artifact.metadata.get("language", "Solidity"),
        "sources": sources_out,
        "settings": settings,
    }
    return StandardJsonInput(input=payload, compiler_version=version, origin="metadata")


def _check_source(name: str, content: str, info: dict[str, Any], where: str) -> None:
    expected = info.get("keccak256")
    actual = "0x" + keccak(content.encode("utf-8")).hex()
    if expected and actual != expected:
        raise ArtifactError(
            f"{name} in {where} is not the source the artifact was compiled from "
            f"(keccak {actual} != {expected}): "
            "rebuild with `forge build` from the deployed commit"
        )


def _find_build_info(
    out_dir: Path, artifact: ForgeArtifact, meta_sources: dict[str, Any]
) -> tuple[Path, dict[str, Any]] | None:
    """The newest build-info ``input`` holding every source of ``artifact`` as compiled, if forge kept one."""
    folder = out_dir / "build-info"
    if not folder.is_dir():
        return None
    for path in sorted(folder.glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True):
        try:
            std = json.loads(path.read_text()).get("input")
        except (OSError, json.JSONDecodeError, UnicodeDecodeError, AttributeError):
            continue
        if (
            not isinstance(std, dict)
            or "settings" not in std
            or artifact.source not in (std.get("sources") or {})
        ):
            continue
        sources = std["sources"]
        if all(
            _source_matches(sources.get(name, {}).get("content"), info) for name, info in meta_sources.items()
        ):
            return path, std
    return None


def _source_matches(content: str | None, info: dict[str, Any]) -> bool:
    expected = info.get("keccak256")
    return content is not None and (not expected or "0x" + keccak(content.encode("utf-8")).hex() == expected)
