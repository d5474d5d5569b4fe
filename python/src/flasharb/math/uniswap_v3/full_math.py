"""512-bit multiply-then-divide. Mirrors v3-core 1.0.1 ``contracts/libraries/FullMath.sol``.

Python integers are unbounded, so ``a * b // denominator`` is the exact 512-bit result; what must be kept are
the Solidity's reverts: a zero denominator, or a quotient that does not fit in uint256
(``require(denominator > prod1)``), and for the rounding-up variant the ``result < type(uint256).max`` check
before the increment.
"""

from __future__ import annotations

from flasharb.math import Overflow, Revert

__all__ = ["mul_div", "mul_div_rounding_up", "MAX_UINT256"]

MAX_UINT256 = (1 << 256) - 1


def _check_uint256(*values: int) -> None:
    for v in values:
        if not 0 <= v <= MAX_UINT256:
            raise ValueError(f"not a uint256: {v}")


def mul_div(a: int, b: int, denominator: int) -> int:
    """floor(a * b / denominator) with full precision; reverts (``Revert``/``Overflow``) like
    FullMath.mulDiv."""
    _check_uint256(a, b, denominator)
    if denominator == 0:
        raise Revert("FullMath.mulDiv: denominator is zero", reason="")
    result = a * b // denominator
    if result > MAX_UINT256:
        raise Overflow("FullMath.mulDiv: result overflows uint256", reason="")
    return result


def mul_div_rounding_up(a: int, b: int, denominator: int) -> int:
    """ceil(a * b / denominator) with full precision; reverts like FullMath.mulDivRoundingUp."""
    result = mul_div(a, b, denominator)
    if a * b % denominator:
        if result >= MAX_UINT256:
            raise Overflow("FullMath.mulDivRoundingUp: result overflows uint256", reason="")
        result += 1
    return result
