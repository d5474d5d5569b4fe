"""Aave V3 fixed-point math on Python ints, wei-exact: WadRayMath, PercentageMath, MathUtils and the reserve
indexes of ReserveLogic (``getNormalizedIncome`` / ``getNormalizedDebt``).

Mirrors ``@aave/core-v3`` 1.19 (v3.0.x, Pool revision 1), unchanged through v3.3
(``contracts/protocol/libraries/math/{WadRayMath,PercentageMath,MathUtils}.sol``): every multiplication rounds
half up, as the assembly does (``(a * b + HALF) / UNIT``; ``(a * UNIT + b / 2) / b``). Where the Solidity
reverts (the assembly's overflow guards, checked ``uint256`` arithmetic, a timestamp before the last update)
these functions raise ``AaveMathError`` (a ``flasharb.math.Overflow``), so a caller can tell "the contract
would revert" from a bug.

Later revisions (aave-dao/aave-v3-origin tags): v3.4 (Pool revision 8) replaced the compounded-interest
polynomial (``compounded_interest_v3_4``, ``MathUtils.calculateCompoundedInterest`` at v3.4.0); v3.5 (9) added
explicit floor/ceil variants (``WadRayMath.rayMulFloor/rayMulCeil/rayDivFloor/rayDivCeil``,
``PercentageMath.percentMulFloor/percentMulCeil/percentDivCeil``, ``MathUtils.mulDivCeil``, v3.5.0/v3.6.0) used
through ``TokenMath`` for balances: aToken balance = scaled.rayMulFloor(index), variable debt =
scaled.rayMulCeil(index). ``normalized_debt`` takes the Pool revision to pick the polynomial.
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
    "ray_mul_floor",
    "ray_mul_ceil",
    "ray_div_floor",
    "ray_div_ceil",
    "percent_mul_floor",
    "percent_mul_ceil",
    "percent_div_ceil",
    "mul_div_ceil",
    "a_token_balance",
    "v_token_balance",
    "compounded_interest_for",
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


# --- v3.5+ directed rounding (src/contracts/protocol/libraries/math/{WadRayMath,PercentageMath,MathUtils}.sol at
# v3.5.0; unchanged at v3.6.0). Their overflow guards differ from the half-up ones: a * b <= MAX (no HALF).
def _mul_guard(a: int, b: int, name: str) -> int:
    # assembly: revert unless b == 0 or a <= MAX / b
    if b != 0 and a > MAX_UINT256 // b:
        raise AaveMathError(f"{name}({a}, {b}) overflows")
    return a * b


def _ceil_div(n: int, d: int) -> int:
    return -(-n // d)


def ray_mul_floor(a: int, b: int) -> int:
    """``WadRayMath.rayMulFloor``: a * b / 1e27, rounded down."""
    return _mul_guard(a, b, "rayMulFloor") // RAY


def ray_mul_ceil(a: int, b: int) -> int:
    """``WadRayMath.rayMulCeil``: a * b / 1e27, rounded up."""
    return _ceil_div(_mul_guard(a, b, "rayMulCeil"), RAY)


def _ray_div_guard(a: int, b: int, name: str) -> int:
    # assembly: revert if b == 0 or a > MAX / RAY
    if b == 0:
        raise AaveMathError(f"{name}: division by zero")
    if a > MAX_UINT256 // RAY:
        raise AaveMathError(f"{name}({a}, {b}) overflows")
    return a * RAY


def ray_div_floor(a: int, b: int) -> int:
    """``WadRayMath.rayDivFloor``: a * 1e27 / b, rounded down."""
    return _ray_div_guard(a, b, "rayDivFloor") // b


def ray_div_ceil(a: int, b: int) -> int:
    """``WadRayMath.rayDivCeil``: a * 1e27 / b, rounded up."""
    return _ceil_div(_ray_div_guard(a, b, "rayDivCeil"), b)


def percent_mul_floor(value: int, percentage: int) -> int:
    """``PercentageMath.percentMulFloor``: value * bps / 1e4, rounded down."""
    return _mul_guard(value, percentage, "percentMulFloor") // PERCENTAGE_FACTOR


def percent_mul_ceil(value: int, percentage: int) -> int:
    """``PercentageMath.percentMulCeil``: value * bps / 1e4, rounded up."""
    return _ceil_div(_mul_guard(value, percentage, "percentMulCeil"), PERCENTAGE_FACTOR)


def percent_div_ceil(value: int, percentage: int) -> int:
    """``PercentageMath.percentDivCeil``: value * 1e4 / bps, rounded up (reverts on bps 0 or value * 1e4
    overflowing)."""
    if percentage == 0:
        raise AaveMathError("percentDivCeil: division by zero")
    if value > MAX_UINT256 // PERCENTAGE_FACTOR:
        raise AaveMathError(f"percentDivCeil({value}, {percentage}) overflows")
    return _ceil_div(value * PERCENTAGE_FACTOR, percentage)


def mul_div_ceil(a: int, b: int, c: int) -> int:
    """``MathUtils.mulDivCeil`` (v3.5+): a * b / c rounded up; reverts on c == 0 or a * b overflowing."""
    if c == 0:
        raise AaveMathError("mulDivCeil: division by zero")
    return _ceil_div(_mul_guard(a, b, "mulDivCeil"), c)


def a_token_balance(scaled: int, index: int, directed: bool) -> int:
    """An aToken balance: ``scaled.rayMul(index)`` (half up) before v3.5, ``TokenMath.getATokenBalance``
    (rayMulFloor) from v3.5 on."""
    return ray_mul_floor(scaled, index) if directed else ray_mul(scaled, index)


def v_token_balance(scaled: int, index: int, directed: bool) -> int:
    """A variable debt balance: ``scaled.rayMul(index)`` (half up) before v3.5, ``TokenMath.getVTokenBalance``
    (rayMulCeil) from v3.5 on."""
    return ray_mul_ceil(scaled, index) if directed else ray_mul(scaled, index)


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
    """``MathUtils.calculateCompoundedInterest`` from v3.4 on (MathUtils.sol at v3.4.0..v3.6.0): x = rate * dt /
    year, RAY + x + x.rayMul(x / 2 + x.rayMul(x / 6)); the sum is unchecked, rayMul keeps its guard."""
    exp = _u256(timestamp - last_update_timestamp, "calculateCompoundedInterest: currentTimestamp - lastUpdate")
    if exp == 0:
        return RAY
    x = rate * exp // SECONDS_PER_YEAR
    return RAY + x + ray_mul(x, x // 2 + ray_mul(x, x // 6))


def compounded_interest_for(pool_revision: int):
    """The ``calculateCompoundedInterest`` of a Pool revision: the polynomial changed in v3.4 (revision 8)."""
    return compounded_interest_v3_4 if pool_revision >= 8 else compounded_interest


def normalized_income(reserve: ReserveState, timestamp: int) -> int:
    """``ReserveLogic.getNormalizedIncome`` at ``timestamp`` (the block's): the liquidity index, grown linearly
    since the reserve's last update. aToken balance = scaled.rayMul(this)."""
    if timestamp == reserve.last_update_timestamp:
        return reserve.liquidity_index
    growth = linear_interest(reserve.current_liquidity_rate, reserve.last_update_timestamp, timestamp)
    return ray_mul(growth, reserve.liquidity_index)


def normalized_debt(reserve: ReserveState, timestamp: int, pool_revision: int) -> int:
    """``ReserveLogic.getNormalizedDebt`` at ``timestamp``: the variable borrow index, compounded since the last
    update with the polynomial of ``pool_revision`` (v3.4+ differs; pass the snapshot's revision). Variable
    debt = scaled.rayMul(this) (rayMulCeil from v3.5)."""
    if timestamp == reserve.last_update_timestamp:
        return reserve.variable_borrow_index
    compound = compounded_interest_for(pool_revision)
    growth = compound(reserve.current_variable_borrow_rate, reserve.last_update_timestamp, timestamp)
    return ray_mul(growth, reserve.variable_borrow_index)
