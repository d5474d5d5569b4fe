"""The engine's errors: one root under ``FlasharbError``, one subclass per failure the caller handles."""

from __future__ import annotations

from flasharb.exceptions import FlasharbError

__all__ = ["EngineError", "RpcError", "RegistryError", "StateSyncError", "ReorgTooDeep"]


class EngineError(FlasharbError):
    """Root of the opportunity engine's errors."""


class RpcError(EngineError):
    """A JSON-RPC request failed (transport, HTTP status, or an ``error`` member in the answer)."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class RegistryError(EngineError):
    """The pool registry's store cannot be used (another chain's database, a corrupt file)."""


class StateSyncError(EngineError):
    """Pool state could not be synchronised (the chain moved under a snapshot, a block vanished mid-read)."""


class ReorgTooDeep(StateSyncError):
    """A reorg reached past the blocks the syncer keeps undo data for: a full re-snapshot is needed."""
