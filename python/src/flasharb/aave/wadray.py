"""Aave V3 fixed-point math on Python ints, wei-exact: WadRayMath, PercentageMath, MathUtils and the reserve
indexes of ReserveLogic (``getNormalizedIncome`` / ``getNormalizedDebt``).

Mirrors ``@aave/core-v3`` 1.19 (v3.0.x, Pool revision 1), unchanged through v3.3
(``contracts/protocol/libraries/math/{WadRayMath,PercentageMath,MathUtils}.sol``): every multiplication rounds
half up, as the assembly does (``(a * b + HALF) / UNIT``; ``(a * UNIT + b / 2) / b``). Where the Solidity
reverts (the assembly's overflow guards, checked ``uint256`` arithmetic, a timestamp before the last update)
these functions raise ``AaveMathError`` (a ``flasharb.math.Overflow``), so a caller can tell "the contract
would revert" from a bug.

v3.4 replaced the compounded-interest polynomial (``compounded_interest_v3_4``, kept for reference) and v3.5
added floor/ceil variants for balances; the health and sizing modules refuse those revisions
(``flasharb.aave.health.rules_for_revision``) rather than guess.
"""

from __future__ import annotations

from flasharb.aave.types import ReserveState
from flasharb.math import Overflow

__all__ = [
    "AaveMathError",
    "WAD",
    "HALF_WAD",
    "RAY",
    "HALF_RAY",
    "WAD_RAY_RATIO",
    "PERCENTAGE_FACTOR",
    "HALF_PERCENTAGE_FACTOR",
    "SECONDS_PER_YEAR",
    "MAX_UINT256",
    "wad_mul",
    "wad_div",
    "ray_mul",
    "ray_div",
    "ray_to_wad",
    "wad_to_ray",
    "percent_mul",
    "percent_div",
    "linear_interest",
    "compounded_interest",
    "compounded_interest_v3_4",
    "normalized_income",
    "normalized_debt",
]

WAD = 10**18
HALF_WAD = WAD // 2
RAY = 10**27
HALF_RAY = RAY // 2
WAD_RAY_RATIO = 10**9
PERCENTAGE_FACTOR = 10**4
HALF_PERCENTAGE_FACTOR = PERCENTAGE_FACTOR // 2
SECONDS_PER_YEAR = 365 * 24 * 3600
MAX_UINT256 = (1 << 256) - 1


class AaveMathError(Overflow):
    """The mirrored Aave Solidity reverts (assembly overflow guard, checked arithmetic, or a time underflow)."""


def _u256(x: int, what: str) -> int:
    """Checked uint256 result: Solidity 0.8 reverts on overflow and underflow."""
    if x < 0 or x > MAX_UINT256:
        raise AaveMathError(f"{what}: uint256 {'underflow' if x < 0 else 'overflow'}")
    return x


def _mul_half_up(a: int, b: int, unit: int, half: int, name: str) -> int:
    # assembly: revert unless b == 0 or a <= (MAX - HALF) / b
    if b != 0 and a > (MAX_UINT256 - half) // b:
        raise AaveMathError(f"{name}({a}, {b}) overflows")
    return (a * b + half) // unit


def _div_half_up(a: int, b: int, unit: int, name: str) -> int:
    # assembly: revert if b == 0 or a > (MAX - b / 2) / UNIT
    if b == 0:
        raise AaveMathError(f"{name}: division by zero")
    if a > (MAX_UINT256 - b // 2) // unit:
        raise AaveMathError(f"{name}({a}, {b}) overflows")
    return (a * unit + b // 2) // b


def wad_mul(a: int, b: int) -> int:
    """``WadRayMath.wadMul``: a * b / 1e18, half up."""
    return _mul_half_up(a, b, WAD, HALF_WAD, "wadMul")


def wad_div(a: int, b: int) -> int:
    """``WadRayMath.wadDiv``: a * 1e18 / b, half up."""
    return _div_half_up(a, b, WAD, "wadDiv")


def ray_mul(a: int, b: int) -> int:
    """``WadRayMath.rayMul``: a * b / 1e27, half up."""
    return _mul_half_up(a, b, RAY, HALF_RAY, "rayMul")


def ray_div(a: int, b: int) -> int:
    """``WadRayMath.rayDiv``: a * 1e27 / b, half up."""
    return _div_half_up(a, b, RAY, "rayDiv")


def ray_to_wad(a: int) -> int:
    """``WadRayMath.rayToWad``: a / 1e9, half up (never reverts)."""
    q, r = divmod(a, WAD_RAY_RATIO)
    return q + (1 if r >= WAD_RAY_RATIO // 2 else 0)


def wad_to_ray(a: int) -> int:
    """``WadRayMath.wadToRay``: a * 1e9, reverting on overflow."""
    return _u256(a * WAD_RAY_RATIO, "wadToRay")


def percent_mul(value: int, percentage: int) -> int:
    """``PercentageMath.percentMul``: value * bps / 1e4, half up."""
    return _mul_half_up(value, percentage, PERCENTAGE_FACTOR, HALF_PERCENTAGE_FACTOR, "percentMul")


def percent_div(value: int, percentage: int) -> int:
    """``PercentageMath.percentDiv``: value * 1e4 / bps, half up."""
    return _div_half_up(value, percentage, PERCENTAGE_FACTOR, "percentDiv")


def linear_interest(rate: int, last_update_timestamp: int, timestamp: int) -> int:
    """``MathUtils.calculateLinearInterest``: RAY + rate * dt / SECONDS_PER_YEAR (ray); the liquidity index
    grows by this factor."""
    dt = _u256(timestamp - last_update_timestamp, "calculateLinearInterest: block.timestamp - lastUpdate")
    return RAY + _u256(rate * dt, "calculateLinearInterest: rate * dt") // SECONDS_PER_YEAR


def compounded_interest(rate: int, last_update_timestamp: int, timestamp: int) -> int:
    """``MathUtils.calculateCompoundedInterest`` (v3.0-v3.3): the three-term binomial approximation of
    (1 + rate / SECONDS_PER_YEAR) ** dt, with the contract's truncations (ray)."""
    exp = _u256(timestamp - last_update_timestamp, "calculateCompoundedInterest: currentTimestamp - lastUpdate")
    if exp == 0:
        return RAY
    exp_minus_one = exp - 1
    exp_minus_two = exp - 2 if exp > 2 else 0
    # unchecked in the contract (rayMul still has its own guard)
    base_power_two = ray_mul(rate, rate) // (SECONDS_PER_YEAR * SECONDS_PER_YEAR)
    base_power_three = ray_mul(base_power_two, rate) // SECONDS_PER_YEAR
    second_term = _u256(exp * exp_minus_one * base_power_two, "compounded: second term") // 2
    third_term = _u256(exp * exp_minus_one * exp_minus_two * base_power_three, "compounded: third term") // 6
    first = _u256(rate * exp, "compounded: rate * exp") // SECONDS_PER_YEAR
    return _u256(RAY + first + second_term + third_term, "compounded: sum")


def compounded_interest_v3_4(rate: int, last_update_timestamp: int, timestamp: int) -> int:
    """``MathUtils.calculateCompoundedInterest`` from v3.4 on: x = rate * dt / year,
    RAY + x + x.rayMul(x / 2 + x.rayMul(x / 6)) (unchecked). Reference only: see the module docstring."""
    exp = _u256(timestamp - last_update_timestamp, "calculateCompoundedInterest: currentTimestamp - lastUpdate")
    if exp == 0:
        return RAY
    x = rate * exp // SECONDS_PER_YEAR
    return RAY + x + ray_mul(x, x // 2 + ray_mul(x, x // 6))


def normalized_income(reserve: ReserveState, timestamp: int) -> int:
    """``ReserveLogic.getNormalizedIncome`` at ``timestamp`` (the block's): the liquidity index, grown linearly
    since the reserve's last update. aToken balance = scaled.rayMul(this)."""
    if timestamp == reserve.last_update_timestamp:
        return reserve.liquidity_index
    growth = linear_interest(reserve.current_liquidity_rate, reserve.last_update_timestamp, timestamp)
    return ray_mul(growth, reserve.liquidity_index)


def normalized_debt(reserve: ReserveState, timestamp: int) -> int:
    """``ReserveLogic.getNormalizedDebt`` at ``timestamp``: the variable borrow index, compounded since the last
    update. Variable debt = scaled.rayMul(this)."""
    if timestamp == reserve.last_update_timestamp:
        return reserve.variable_borrow_index
    growth = compounded_interest(reserve.current_variable_borrow_rate, reserve.last_update_timestamp, timestamp)
    return ray_mul(growth, reserve.variable_borrow_index)
