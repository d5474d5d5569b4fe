"""Signed liquidity deltas. Mirrors v3-core 1.0.1 ``contracts/libraries/LiquidityMath.sol``."""

from __future__ import annotations

from flasharb.math import LiquidityOverflow, LiquidityUnderflow

__all__ = ["add_delta", "MAX_UINT128"]

MAX_UINT128 = (1 << 128) - 1


def add_delta(x: int, y: int) -> int:
    """x + y for a uint128 ``x`` and an int128 ``y``; ``LiquidityUnderflow`` ('LS') below zero,
    ``LiquidityOverflow`` ('LA') above uint128."""
    z = x + y
    if y < 0:
        if z < 0:
            raise LiquidityUnderflow(f"liquidity {x} + {y} < 0")
    elif z > MAX_UINT128:
        raise LiquidityOverflow(f"liquidity {x} + {y} > uint128")
    return z
