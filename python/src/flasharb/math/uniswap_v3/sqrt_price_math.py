"""Prices and token deltas from liquidity. Mirrors v3-core 1.0.1 ``contracts/libraries/SqrtPriceMath.sol``.

The Solidity picks its formula by whether a uint256 product overflows
(``getNextSqrtPriceFromAmount0RoundingUp`` falls back to a less precise quotient), and the two formulas round
differently, so the overflow tests are kept literally: ``x * y <= MAX_UINT256`` is the Python form of
``(z = x * y) / x == y``. Every ``require`` raises a ``flasharb.math`` error (``Revert``/``Overflow``, bare
reason "", as the library has no revert strings).

Overloads: Solidity's ``getAmount0Delta(a, b, int128 liquidity)`` (signed) is ``get_amount0_delta_signed``
here.
"""

from __future__ import annotations

from flasharb.math import Overflow, Revert
from flasharb.math.uniswap_v3.full_math import mul_div, mul_div_rounding_up

__all__ = [
    "get_next_sqrt_price_from_amount0_rounding_up",
    "get_next_sqrt_price_from_amount1_rounding_down",
    "get_next_sqrt_price_from_input",
    "get_next_sqrt_price_from_output",
    "get_amount0_delta",
    "get_amount1_delta",
    "get_amount0_delta_signed",
    "get_amount1_delta_signed",
    "RESOLUTION",
    "Q96",
]

RESOLUTION = 96
Q96 = 1 << 96
_MAX_UINT256 = (1 << 256) - 1
_MAX_UINT160 = (1 << 160) - 1
_INT256_LIMIT = 1 << 255


def _div_rounding_up(x: int, y: int) -> int:
    # UnsafeMath.divRoundingUp: EVM division by zero yields 0 (callers never pass y == 0)
    if y == 0:
        return 0
    q, r = divmod(x, y)
    return q + 1 if r else q


def get_next_sqrt_price_from_amount0_rounding_up(
    sqrt_px96: int, liquidity: int, amount: int, add: bool
) -> int:
    """Price after adding (``add``) or removing ``amount`` of token0, rounded up."""
    if amount == 0:
        return sqrt_px96
    numerator1 = liquidity << RESOLUTION
    product = amount * sqrt_px96
    if add:
        if product <= _MAX_UINT256:
            denominator = numerator1 + product
            if denominator <= _MAX_UINT256:
                return mul_div_rounding_up(numerator1, sqrt_px96, denominator)
        # LowGasSafeMath.add on (numerator1 / sqrtPX96) + amount
        divisor = numerator1 // sqrt_px96 + amount
        if divisor > _MAX_UINT256:
            raise Overflow("getNextSqrtPriceFromAmount0RoundingUp: uint256 overflow", reason="")
        return _div_rounding_up(numerator1, divisor) & _MAX_UINT160  # uint160(...) truncation, as in Solidity
    if product > _MAX_UINT256 or numerator1 <= product:
        raise Revert("getNextSqrtPriceFromAmount0RoundingUp: token0 output >= virtual reserves", reason="")
    result = mul_div_rounding_up(numerator1, sqrt_px96, numerator1 - product)
    if result > _MAX_UINT160:
        raise Overflow("getNextSqrtPriceFromAmount0RoundingUp: price overflows uint160", reason="")
    return result


def get_next_sqrt_price_from_amount1_rounding_down(
    sqrt_px96: int, liquidity: int, amount: int, add: bool
) -> int:
    """Price after adding (``add``) or removing ``amount`` of token1, rounded down."""
    if add:
        if liquidity == 0:
            raise Revert("getNextSqrtPriceFromAmount1RoundingDown: division by zero liquidity", reason="")
        if amount <= _MAX_UINT160:
            quotient = (amount << RESOLUTION) // liquidity
        else:
            quotient = mul_div(amount, Q96, liquidity)
        result = sqrt_px96 + quotient
        if result > _MAX_UINT256:
            raise Overflow("getNextSqrtPriceFromAmount1RoundingDown: uint256 overflow", reason="")
        if result > _MAX_UINT160:
            raise Overflow("getNextSqrtPriceFromAmount1RoundingDown: price overflows uint160", reason="")
        return result
    if amount <= _MAX_UINT160:
        quotient = _div_rounding_up(amount << RESOLUTION, liquidity)
    else:
        quotient = mul_div_rounding_up(amount, Q96, liquidity)
    if sqrt_px96 <= quotient:
        raise Revert("getNextSqrtPriceFromAmount1RoundingDown: token1 output >= virtual reserves", reason="")
    return sqrt_px96 - quotient


def get_next_sqrt_price_from_input(sqrt_px96: int, liquidity: int, amount_in: int, zero_for_one: bool) -> int:
    """Price after swapping ``amount_in`` of token0 (``zero_for_one``) or token1 in; never passes the
    target."""
    if sqrt_px96 <= 0:
        raise Revert("getNextSqrtPriceFromInput: price is zero", reason="")
    if liquidity <= 0:
        raise Revert("getNextSqrtPriceFromInput: liquidity is zero", reason="")
    if zero_for_one:
        return get_next_sqrt_price_from_amount0_rounding_up(sqrt_px96, liquidity, amount_in, True)
    return get_next_sqrt_price_from_amount1_rounding_down(sqrt_px96, liquidity, amount_in, True)


def get_next_sqrt_price_from_output(
    sqrt_px96: int, liquidity: int, amount_out: int, zero_for_one: bool
) -> int:
    """Price after taking ``amount_out`` of token1 (``zero_for_one``) or token0 out; always reaches the
    target."""
    if sqrt_px96 <= 0:
        raise Revert("getNextSqrtPriceFromOutput: price is zero", reason="")
    if liquidity <= 0:
        raise Revert("getNextSqrtPriceFromOutput: liquidity is zero", reason="")
    if zero_for_one:
        return get_next_sqrt_price_from_amount1_rounding_down(sqrt_px96, liquidity, amount_out, False)
    return get_next_sqrt_price_from_amount0_rounding_up(sqrt_px96, liquidity, amount_out, False)


def get_amount0_delta(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int, round_up: bool) -> int:
    """Token0 between two prices for ``liquidity``: L * (sqrtB - sqrtA) / (sqrtA * sqrtB)."""
    if sqrt_ratio_a_x96 > sqrt_ratio_b_x96:
        sqrt_ratio_a_x96, sqrt_ratio_b_x96 = sqrt_ratio_b_x96, sqrt_ratio_a_x96
    numerator1 = liquidity << RESOLUTION
    numerator2 = sqrt_ratio_b_x96 - sqrt_ratio_a_x96
    if sqrt_ratio_a_x96 <= 0:
        raise Revert("getAmount0Delta: price is zero", reason="")
    if round_up:
        return _div_rounding_up(
            mul_div_rounding_up(numerator1, numerator2, sqrt_ratio_b_x96), sqrt_ratio_a_x96
        )
    return mul_div(numerator1, numerator2, sqrt_ratio_b_x96) // sqrt_ratio_a_x96


def get_amount1_delta(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int, round_up: bool) -> int:
    """Token1 between two prices for ``liquidity``: L * (sqrtB - sqrtA)."""
    if sqrt_ratio_a_x96 > sqrt_ratio_b_x96:
        sqrt_ratio_a_x96, sqrt_ratio_b_x96 = sqrt_ratio_b_x96, sqrt_ratio_a_x96
    if round_up:
        return mul_div_rounding_up(liquidity, sqrt_ratio_b_x96 - sqrt_ratio_a_x96, Q96)
    return mul_div(liquidity, sqrt_ratio_b_x96 - sqrt_ratio_a_x96, Q96)


def _to_int256(y: int) -> int:
    if y >= _INT256_LIMIT:
        raise Overflow("SafeCast.toInt256: value >= 2**255", reason="")
    return y


def get_amount0_delta_signed(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int) -> int:
    """Signed token0 delta for an int128 liquidity change (rounded up when adding, down when removing)."""
    if liquidity < 0:
        return -_to_int256(get_amount0_delta(sqrt_ratio_a_x96, sqrt_ratio_b_x96, -liquidity, False))
    return _to_int256(get_amount0_delta(sqrt_ratio_a_x96, sqrt_ratio_b_x96, liquidity, True))


def get_amount1_delta_signed(sqrt_ratio_a_x96: int, sqrt_ratio_b_x96: int, liquidity: int) -> int:
    """Signed token1 delta for an int128 liquidity change (rounded up when adding, down when removing)."""
    if liquidity < 0:
        return -_to_int256(get_amount1_delta(sqrt_ratio_a_x96, sqrt_ratio_b_x96, -liquidity, False))
    return _to_int256(get_amount1_delta(sqrt_ratio_a_x96, sqrt_ratio_b_x96, liquidity, True))
