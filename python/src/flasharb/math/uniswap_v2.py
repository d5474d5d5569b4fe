"""Uniswap V2 constant-product quotes, wei-exact.

Mirrors ``UniswapV2Library.getAmountOut`` / ``getAmountIn`` (v2-periphery
``contracts/libraries/UniswapV2Library.sol``) with the fee generalised from 3/1000 to millionths ("pips", as
forks differ), and the revert conditions of ``UniswapV2Pair.swap`` (v2-core ``contracts/UniswapV2Pair.sol``)
that a quote can foresee:

    amount_out = in * (1e6 - fee) * r_out // (r_in * 1e6 + in * (1e6 - fee))
    amount_in  = r_in * out * 1e6 // ((r_out - out) * (1e6 - fee)) + 1

With ``fee_pips=3000`` both equal the library's 997/1000 formulas exactly (both sides of each fraction are the
library's scaled by 1000). Reverts become ``flasharb.math`` errors:

- ``InsufficientInputAmount`` / ``InsufficientOutputAmount``: a zero (or negative) amount (library
  ``require``);
- ``InsufficientLiquidity``: an empty reserve, or ``amount_out >= reserve_out`` (library underflow / division
  by zero, and the pair's ``INSUFFICIENT_LIQUIDITY``);
- ``Overflow``: a SafeMath uint256 overflow in the formula, or the pair's ``UniswapV2: OVERFLOW`` when the
  input reserve plus the input would not fit the pair's uint112 reserves.

A ``get_amount_out`` of 0 is returned as 0, as the library does (the pair itself would then revert
``INSUFFICIENT_OUTPUT_AMOUNT`` if asked to swap for nothing).
"""

from __future__ import annotations

from flasharb.math import (
    InsufficientInputAmount,
    InsufficientLiquidity,
    InsufficientOutputAmount,
    Overflow,
    Revert,
)

__all__ = ["get_amount_out", "get_amount_in", "FEE_DENOMINATOR", "MAX_UINT112", "MAX_UINT256"]

FEE_DENOMINATOR = 1_000_000
MAX_UINT112 = (1 << 112) - 1
MAX_UINT256 = (1 << 256) - 1


def _bad_fee(fee_pips: int) -> Revert:
    return Revert(f"fee_pips must be in [0, 1e6), got {fee_pips}", reason="")


def get_amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee_pips: int = 3000) -> int:
    """Output of selling ``amount_in`` into a pair holding ``reserve_in``/``reserve_out`` (fee in
    millionths)."""
    if amount_in <= 0:
        raise InsufficientInputAmount
    if reserve_in <= 0 or reserve_out <= 0:
        raise InsufficientLiquidity
    if not 0 <= fee_pips < 1_000_000:
        raise _bad_fee(fee_pips)
    in_with_fee = amount_in * (1_000_000 - fee_pips)
    numerator = in_with_fee * reserve_out
    denominator = reserve_in * 1_000_000 + in_with_fee
    # Every SafeMath intermediate is <= numerator or <= denominator, so two checks cover them all; the pair's
    # uint112 reserves cannot take reserve_in + amount_in beyond 2**112 - 1.
    if numerator > MAX_UINT256 or denominator > MAX_UINT256:
        raise Overflow(reason="ds-math-mul-overflow")
    if reserve_in + amount_in > MAX_UINT112:
        raise Overflow(reason="UniswapV2: OVERFLOW")
    return numerator // denominator


def get_amount_in(amount_out: int, reserve_in: int, reserve_out: int, fee_pips: int = 3000) -> int:
    """Least input that buys ``amount_out`` from the pair (fee in millionths); the library's ``+ 1``
    included."""
    if amount_out <= 0:
        raise InsufficientOutputAmount
    if reserve_in <= 0 or reserve_out <= 0:
        raise InsufficientLiquidity
    if amount_out >= reserve_out:
        # library: reserveOut.sub(amountOut) underflows, or divides by zero; pair: INSUFFICIENT_LIQUIDITY
        raise InsufficientLiquidity(reason="UniswapV2: INSUFFICIENT_LIQUIDITY")
    if not 0 <= fee_pips < 1_000_000:
        raise _bad_fee(fee_pips)
    numerator = reserve_in * amount_out * 1_000_000
    denominator = (reserve_out - amount_out) * (1_000_000 - fee_pips)
    if numerator > MAX_UINT256 or denominator > MAX_UINT256:
        raise Overflow(reason="ds-math-mul-overflow")
    amount_in = numerator // denominator + 1
    if reserve_in + amount_in > MAX_UINT112:
        raise Overflow(reason="UniswapV2: OVERFLOW")
    return amount_in
