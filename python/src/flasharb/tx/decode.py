"""Reading results back: the executor's ``RunExecuted`` log, and revert payloads decoded to their error.

``RevertDecoder`` knows ``Error(string)``, ``Panic(uint256)`` and every custom error of ``IFlashArbExecutor``
by selector. It reads them from forge's ABI (``out/FlashArbExecutor.sol/FlashArbExecutor.json``); before the
executor is built it falls back to the error declarations in ``src/interfaces/IFlashArbExecutor.sol`` so the
bot never shows a bare selector. More ABIs (a token's errors, say) can be added with ``with_abi``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address

from flasharb.exceptions import ArtifactError
from flasharb.tx.errors import RpcError

RUN_EXECUTED_SIGNATURE = "RunExecuted(uint256,uint256)"  # (premium, profit), nothing indexed
RUN_EXECUTED_TOPIC = "0x" + keccak(text=RUN_EXECUTED_SIGNATURE).hex()
ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")  # Error(string)
PANIC_SELECTOR = bytes.fromhex("4e487b71")  # Panic(uint256)
PANIC_CODES = {
    0x00: "generic compiler panic",
    0x01: "assert failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "corrupt storage byte array",
    0x31: "pop on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to a zero internal function",
}


# ------------------------------------------------------------------ events
@dataclass(frozen=True, slots=True)
class RunResult:
    """One ``RunExecuted(premium, profit)`` log: both in the plan's loan token (the token, lender and amount
    are the plan's, known to the caller; gas is in the receipt)."""

    premium: int
    profit: int
    log_index: int
    emitter: str


def decode_run_executed(receipt: Mapping[str, Any], executor: str | None = None) -> RunResult | None:
    """The first ``RunExecuted`` log in ``receipt`` (emitted by ``executor`` when given: pass it, so no other
    contract's look-alike log is taken for a result), else None."""
    want = executor.lower() if executor else None
    for entry in receipt.get("logs") or ():
        topics = entry.get("topics") or ()
        if len(topics) != 1 or topics[0].lower() != RUN_EXECUTED_TOPIC:
            continue
        if want is not None and str(entry.get("address", "")).lower() != want:
            continue
        data = bytes.fromhex(entry["data"][2:])
        if len(data) != 64:
            continue
        premium, profit = abi_decode(["uint256", "uint256"], data)
        return RunResult(
            premium=premium,
            profit=profit,
            log_index=int(entry.get("logIndex", "0x0"), 16),
            emitter=to_checksum_address(entry["address"]),
        )
    return None


# ------------------------------------------------------------------ reverts
@dataclass(frozen=True, slots=True)
class DecodedRevert:
    """A revert payload: ``name`` is the error's name (``Error``, ``Panic``, a custom error, ``<empty>`` or
    ``<unknown>``), ``args`` its (name, value) pairs."""

    name: str
    args: tuple[tuple[str, Any], ...]
    selector: str
    data: bytes = field(repr=False)

    @property
    def known(self) -> bool:
        return self.name not in ("<empty>", "<unknown>")

    @property
    def arguments(self) -> dict[str, Any]:
        return dict(self.args)

    def __str__(self) -> str:
        if self.name == "<empty>":
            return "reverted without data"
        if self.name == "<unknown>":
            return f"unknown error {self.selector} ({len(self.data)} bytes)"
        if self.name == "Error":
            return f"Error({self.args[0][1]!r})"
        if self.name == "Panic":
            code = self.args[0][1]
            return f"Panic(0x{code:02x}: {PANIC_CODES.get(code, 'unknown panic code')})"
        inner = ", ".join(f"{k}={_show(v)}" for k, v in self.args)
        return f"{self.name}({inner})"


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


@dataclass(frozen=True, slots=True)
class _ErrorSpec:
    name: str
    types: tuple[str, ...]
    names: tuple[str, ...]


def _abi_type(item: Mapping[str, Any]) -> str:
    kind = item["type"]
    if kind.startswith("tuple"):
        return "(" + ",".join(_abi_type(c) for c in item.get("components", ())) + ")" + kind[len("tuple") :]
    return kind


class RevertDecoder:
    """Decodes revert data by selector."""

    def __init__(self, specs: Iterable[_ErrorSpec] = ()) -> None:
        self._specs: dict[bytes, _ErrorSpec] = {}
        for spec in specs:
            self._add(spec)

    def _add(self, spec: _ErrorSpec) -> None:
        selector = keccak(text=f"{spec.name}({','.join(spec.types)})")[:4]
        self._specs.setdefault(selector, spec)

    @property
    def error_names(self) -> set[str]:
        return {s.name for s in self._specs.values()}

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_abi(cls, abi: Sequence[Mapping[str, Any]]) -> "RevertDecoder":
        return cls().with_abi(abi)

    def with_abi(self, abi: Sequence[Mapping[str, Any]]) -> "RevertDecoder":
        for item in abi:
            if item.get("type") == "error":
                inputs = item.get("inputs", ())
                self._add(
                    _ErrorSpec(
                        item["name"],
                        tuple(_abi_type(i) for i in inputs),
                        tuple(i.get("name") or f"arg{n}" for n, i in enumerate(inputs)),
                    )
                )
        return self

    @classmethod
    def from_artifact(cls, path: str | Path) -> "RevertDecoder":
        """From a forge artifact JSON (``out/<File>.sol/<Name>.json``)."""
        path = Path(path)
        try:
            abi = json.loads(path.read_text())["abi"]
        except FileNotFoundError:
            raise ArtifactError(
                f"artifact {path} not found: build it with `forge build` (make build)"
            ) from None
        except (ValueError, KeyError, TypeError):
            raise ArtifactError(f"artifact {path} has no ABI") from None
        return cls.from_abi(abi)

    @classmethod
    def from_interface_source(cls, path: str | Path) -> "RevertDecoder":
        """From the ``error Name(type name, ...);`` declarations of a Solidity file (no compiler needed)."""
        text = Path(path).read_text()
        text = re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S)
        specs = []
        for name, params in re.findall(r"\berror\s+(\w+)\s*\(([^)]*)\)\s*;", text):
            types, names = [], []
            for n, part in enumerate(p.strip() for p in params.split(",") if p.strip()):
                words = part.split()
                types.append({"uint": "uint256", "int": "int256"}.get(words[0], words[0]))
                names.append(words[-1] if len(words) > 1 else f"arg{n}")
            specs.append(_ErrorSpec(name, tuple(types), tuple(names)))
        return cls(specs)

    @classmethod
    def for_executor(cls, root: Path | None = None, out_dir: Path | None = None) -> "RevertDecoder":
        """The executor's errors: forge's artifact when built, else the interface's declarations."""
        from flasharb.paths import repo_root

        root = root or repo_root()
        artifact = (out_dir or root / "out") / "FlashArbExecutor.sol" / "FlashArbExecutor.json"
        if artifact.is_file():
            try:
                return cls.from_artifact(artifact)
            except ArtifactError:
                pass
        source = root / "src" / "interfaces" / "IFlashArbExecutor.sol"
        return cls.from_interface_source(source) if source.is_file() else cls()

    # ------------------------------------------------------------------ decoding
    def decode(self, data: bytes | str | None) -> DecodedRevert:
        if isinstance(data, str):
            data = bytes.fromhex(data.removeprefix("0x"))
        data = data or b""
        if not data:
            return DecodedRevert("<empty>", (), "", b"")
        selector, body = data[:4], data[4:]
        sel_hex = "0x" + selector.hex()
        try:
            if selector == ERROR_STRING_SELECTOR:
                (message,) = abi_decode(["string"], body)
                return DecodedRevert("Error", (("message", message),), sel_hex, data)
            if selector == PANIC_SELECTOR:
                (code,) = abi_decode(["uint256"], body)
                return DecodedRevert("Panic", (("code", code),), sel_hex, data)
            spec = self._specs.get(selector)
            if spec is not None:
                values = abi_decode(list(spec.types), body) if spec.types else ()
                return DecodedRevert(spec.name, tuple(zip(spec.names, values)), sel_hex, data)
        except Exception:  # malformed arguments for the selector: report it as unknown, with the raw data
            pass
        return DecodedRevert("<unknown>", (), sel_hex, data)

    def decode_error(self, err: RpcError) -> DecodedRevert | None:
        """The revert carried by an ``eth_call``/``eth_estimateGas`` error answer, if it is one."""
        data = err.revert_data
        if data is None:
            return DecodedRevert("<empty>", (), "", b"") if "revert" in err.reason.lower() else None
        return self.decode(data)
