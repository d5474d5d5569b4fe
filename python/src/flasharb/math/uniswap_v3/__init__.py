"""Uniswap V3 pool math, wei-exact, mirroring v3-core 1.0.1 (``contracts/libraries/*.sol`` and
``contracts/UniswapV3Pool.sol``). One module per Solidity library, snake_case function names, Solidity
constant names; ``pool`` holds the state record and the swap simulation.

Callers normally need only what this package exports::

    from flasharb.math.uniswap_v3 import V3PoolState, swap, quote_exact_input, quote_exact_output
"""

from __future__ import annotations

from flasharb.math import IncompleteTickData
from flasharb.math.uniswap_v3.pool import SwapResult, V3PoolState, quote_exact_input, quote_exact_output, swap
from flasharb.math.uniswap_v3.tick_math import MAX_SQRT_RATIO, MAX_TICK, MIN_SQRT_RATIO, MIN_TICK

__all__ = [
    "V3PoolState",
    "SwapResult",
    "swap",
    "quote_exact_input",
    "quote_exact_output",
    "IncompleteTickData",
    "MIN_TICK",
    "MAX_TICK",
    "MIN_SQRT_RATIO",
    "MAX_SQRT_RATIO",
]
