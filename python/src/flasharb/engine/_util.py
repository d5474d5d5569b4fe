"""Small shared helpers (no I/O)."""

from __future__ import annotations

from functools import lru_cache

try:  # Rust checksum (a dependency of eth-ape), ~20x faster than eth_utils; same result.
    from cchecksum import to_checksum_address as _to_checksum
except ImportError:  # pragma: no cover
    from eth_utils import to_checksum_address as _to_checksum

__all__ = ["checksum"]


@lru_cache(maxsize=1 << 16)
def checksum(address: str) -> str:
    """``address`` (0x + 40 hex, any case) in EIP-55 form."""
    return _to_checksum(address)
