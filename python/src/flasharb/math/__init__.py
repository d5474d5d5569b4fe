"""Wei-exact pool math in pure Python: no I/O, no floats, integers only.

Modules mirror the Solidity they reproduce, one module per library, with snake_case names of the Solidity
functions and the Solidity constant names (see each module's docstring for the file it mirrors):

- ``flasharb.math.uniswap_v2``: UniswapV2Library.getAmountOut/getAmountIn, fee generalised to pips.
- ``flasharb.math.uniswap_v3``: v3-core 1.0.1 libraries plus ``V3PoolState`` and ``swap``
  (UniswapV3Pool.swap).

Wherever the Solidity reverts, the Python raises a ``MathError`` subclass whose ``reason`` is the revert
string the contract uses (``""`` where the contract reverts without one), so callers can match either.
"""

from __future__ import annotations

from flasharb.exceptions import FlasharbError

__all__ = [
    "MathError",
    "Revert",
    "InsufficientInputAmount",
    "InsufficientOutputAmount",
    "InsufficientLiquidity",
    "Overflow",
    "InvalidTick",
    "InvalidSqrtRatio",
    "InvalidPriceLimit",
    "ZeroAmount",
    "LiquidityUnderflow",
    "LiquidityOverflow",
    "IncompleteTickData",
]


class MathError(FlasharbError):
    """Root of the math errors: the modelled contract would revert, or the inputs cannot be priced."""


class Revert(MathError):
    """The Solidity being mirrored reverts; ``reason`` is its revert string ("" for a bare ``require``)."""

    reason: str = ""

    def __init__(self, message: str | None = None, *, reason: str | None = None) -> None:
        if reason is not None:
            self.reason = reason
        super().__init__(message or self.reason or type(self).__name__)


class InsufficientInputAmount(Revert):
    """The input amount is zero (V2 library: ``INSUFFICIENT_INPUT_AMOUNT``)."""

    reason = "UniswapV2Library: INSUFFICIENT_INPUT_AMOUNT"


class InsufficientOutputAmount(Revert):
    """The output amount is zero (V2 library: ``INSUFFICIENT_OUTPUT_AMOUNT``)."""

    reason = "UniswapV2Library: INSUFFICIENT_OUTPUT_AMOUNT"


class InsufficientLiquidity(Revert):
    """The pool cannot deliver: empty V2 reserves, a V2 output >= the reserve, or a V3 quote the pool would
    only fill partially (see ``uniswap_v3.quote_exact_input``: the pool stops at the price limit)."""

    reason = "UniswapV2Library: INSUFFICIENT_LIQUIDITY"


class Overflow(Revert):
    """A checked uint256/uint160/uint112/int256 operation would overflow (SafeMath, SafeCast, FullMath...)."""


class InvalidTick(Revert):
    """TickMath.getSqrtRatioAtTick: |tick| > MAX_TICK (``T``)."""

    reason = "T"


class InvalidSqrtRatio(Revert):
    """TickMath.getTickAtSqrtRatio: the price is outside [MIN_SQRT_RATIO, MAX_SQRT_RATIO) (``R``)."""

    reason = "R"


class InvalidPriceLimit(Revert):
    """UniswapV3Pool.swap: the price limit is on the wrong side of the price or out of bounds (``SPL``)."""

    reason = "SPL"


class ZeroAmount(Revert):
    """UniswapV3Pool.swap: ``amountSpecified == 0`` (``AS``)."""

    reason = "AS"


class LiquidityUnderflow(Revert):
    """LiquidityMath.addDelta: liquidity would go below zero (``LS``)."""

    reason = "LS"


class LiquidityOverflow(Revert):
    """LiquidityMath.addDelta: liquidity would exceed uint128 (``LA``)."""

    reason = "LA"


class IncompleteTickData(MathError):
    """A V3 swap would leave the tick window the state's data covers, so its result is unknown (not a revert:
    fetch more of the tick bitmap and retry)."""
