"""Most/least significant bit of a uint256. Mirrors v3-core 1.0.1 ``contracts/libraries/BitMath.sol``.

The Solidity's binary searches compute the bit index, which ``int.bit_length`` gives directly.
"""

from __future__ import annotations

from flasharb.math import Revert

__all__ = ["most_significant_bit", "least_significant_bit"]

_MAX_UINT256 = (1 << 256) - 1


def most_significant_bit(x: int) -> int:
    """Index of the highest set bit (x > 0, x a uint256)."""
    if not 0 < x <= _MAX_UINT256:
        raise Revert(f"BitMath: x must be in (0, 2**256), got {x}", reason="")
    return x.bit_length() - 1


def least_significant_bit(x: int) -> int:
    """Index of the lowest set bit (x > 0, x a uint256)."""
    if not 0 < x <= _MAX_UINT256:
        raise Revert(f"BitMath: x must be in (0, 2**256), got {x}", reason="")
    return (x & -x).bit_length() - 1
