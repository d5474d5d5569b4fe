"""Pool state and swap simulation. Mirrors ``UniswapV3Pool.swap`` of v3-core 1.0.1
(``contracts/UniswapV3Pool.sol``).

``swap`` runs the pool's loop step for step, so every amount is the pool's to the wei: the same step
boundaries (the next initialised tick, but never past the end of the current 256-tick bitmap word, clamped to
MIN_TICK/MAX_TICK), the same ``SwapMath.computeSwapStep`` arithmetic and the same tick transitions. What the
pool tracks besides (fee growth, protocol fees, oracle observations) does not change amounts and is left out.

Speed (no I/O, pure Python): the loop inlines ``compute_swap_step`` and the ``SqrtPriceMath`` functions it
calls (``swap_math.py`` holds the readable version; the tests hold them equal), keeps state in local
variables, finds the next initialised tick by bisecting ``V3PoolState.ticks`` instead of walking a bitmap,
reads tick prices from ``tick_math.sqrt_ratio_at_tick_cached`` (a memo of a pure function) and only computes
the final tick (``getTickAtSqrtRatio``, the costliest call) when a caller asks for it: the quote functions do
not.

Tick data window: a state knows the initialised ticks in ``[tick_lower_bound, tick_upper_bound]`` (both
inclusive; ticks listed outside it are not trusted). A swap that would have to reach the window's edge raises
``IncompleteTickData``, as does one starting from a tick outside the window; a step that ends before the edge
is exact whatever lies beyond it (a step that stops short of its target does not depend on the target). With
the window [MIN_TICK, MAX_TICK] the data is complete and every swap is simulated.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from flasharb.math import (
    IncompleteTickData,
    InsufficientLiquidity,
    InvalidPriceLimit,
    LiquidityOverflow,
    LiquidityUnderflow,
    Overflow,
    Revert,
    ZeroAmount,
)
from flasharb.math.uniswap_v3.tick_math import (
    _SQRT_RATIO_MEMO,
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
    sqrt_ratio_at_tick_cached,
)

__all__ = ["V3PoolState", "SwapResult", "swap", "quote_exact_input", "quote_exact_output"]

_MAX_UINT128 = (1 << 128) - 1
_MAX_UINT160 = (1 << 160) - 1
_MAX_UINT256 = (1 << 256) - 1
_INT256_MIN = -(1 << 255)
_INT256_MAX = (1 << 255) - 1
_Q96 = 1 << 96
_Q96_MINUS_1 = _Q96 - 1


@dataclass(frozen=True, slots=True, kw_only=True)
class V3PoolState:
    """What a swap needs from a pool: ``slot0`` price and tick, in-range ``liquidity``, ``fee`` (pips),
    ``tick_spacing``, and the initialised ticks known in ``[tick_lower_bound, tick_upper_bound]`` with their
    ``liquidityNet``.

    ``ticks`` is sorted ascending and every tick in it has an entry in ``liquidity_net`` (``from_tick_data``
    builds both from (tick, liquidity_net) pairs). A tick whose net is zero but which is initialised must be
    kept: the pool still ends a swap step there, and that changes rounding.
    """

    sqrt_price_x96: int
    tick: int
    liquidity: int
    fee: int
    tick_spacing: int
    ticks: tuple[int, ...]
    liquidity_net: Mapping[int, int] = field(hash=False)  # compared, but not hashed (mappings are unhashable)
    tick_lower_bound: int
    tick_upper_bound: int

    def __post_init__(self) -> None:
        if not MIN_SQRT_RATIO <= self.sqrt_price_x96 < MAX_SQRT_RATIO:
            raise ValueError(f"sqrt_price_x96 out of [MIN_SQRT_RATIO, MAX_SQRT_RATIO): {self.sqrt_price_x96}")
        if not 0 <= self.liquidity <= _MAX_UINT128:
            raise ValueError(f"liquidity is not a uint128: {self.liquidity}")
        if not 0 <= self.fee < 1_000_000:
            raise ValueError(f"fee must be in [0, 1e6) pips: {self.fee}")
        if not 0 < self.tick_spacing <= 16384:
            raise ValueError(f"tick_spacing must be in (0, 16384): {self.tick_spacing}")
        if not MIN_TICK <= self.tick_lower_bound <= self.tick_upper_bound <= MAX_TICK:
            window = f"[{self.tick_lower_bound}, {self.tick_upper_bound}]"
            raise ValueError(f"tick window {window} is not inside [MIN_TICK, MAX_TICK]")
        # slot0's tick is floor(log_1.0001(price)), or one less after a zero-for-one swap stopped on a tick
        tick = self.tick
        if not (
            MIN_TICK <= tick < MAX_TICK
            and sqrt_ratio_at_tick_cached(tick) <= self.sqrt_price_x96 <= sqrt_ratio_at_tick_cached(tick + 1)
        ):
            raise ValueError(f"tick {tick} does not match sqrt_price_x96 {self.sqrt_price_x96}")
        if type(self.ticks) is not tuple:
            object.__setattr__(self, "ticks", tuple(self.ticks))
        ticks, nets, spacing = self.ticks, self.liquidity_net, self.tick_spacing
        previous = MIN_TICK - 1
        for t in ticks:
            if t <= previous:
                raise ValueError(f"ticks must be strictly increasing: {previous} then {t}")
            if t % spacing or t > MAX_TICK:
                raise ValueError(f"tick {t} is not a valid multiple of tick_spacing {spacing}")
            if t not in nets:
                raise ValueError(f"tick {t} has no liquidity_net")
            previous = t

    @classmethod
    def from_tick_data(
        cls,
        *,
        sqrt_price_x96: int,
        tick: int,
        liquidity: int,
        fee: int,
        tick_spacing: int,
        tick_data: Iterable[tuple[int, int]],
        tick_lower_bound: int = MIN_TICK,
        tick_upper_bound: int = MAX_TICK,
    ) -> V3PoolState:
        """Builds a state from (tick, liquidity_net) pairs of initialised ticks, in any order. The window
        defaults to the full tick range: pass the bounds when the pairs cover only part of the bitmap."""
        nets = dict(tick_data)
        return cls(
            sqrt_price_x96=sqrt_price_x96,
            tick=tick,
            liquidity=liquidity,
            fee=fee,
            tick_spacing=tick_spacing,
            ticks=tuple(sorted(nets)),
            liquidity_net=MappingProxyType(nets),
            tick_lower_bound=tick_lower_bound,
            tick_upper_bound=tick_upper_bound,
        )

    @classmethod
    def from_positions(
        cls,
        *,
        sqrt_price_x96: int,
        fee: int,
        tick_spacing: int,
        positions: Iterable[tuple[int, int, int]],
        tick: int | None = None,
        tick_lower_bound: int = MIN_TICK,
        tick_upper_bound: int = MAX_TICK,
    ) -> V3PoolState:
        """Builds a consistent state from (tick_lower, tick_upper, liquidity) positions, as the pool would hold
        them: liquidityNet per tick, and the active liquidity at ``tick`` (default: the price's tick)."""
        if tick is None:
            tick = get_tick_at_sqrt_ratio(sqrt_price_x96)
        nets: dict[int, int] = {}
        active = 0
        for lower, upper, liquidity in positions:
            nets[lower] = nets.get(lower, 0) + liquidity
            nets[upper] = nets.get(upper, 0) - liquidity
            if lower <= tick < upper:
                active += liquidity
        return cls.from_tick_data(
            sqrt_price_x96=sqrt_price_x96,
            tick=tick,
            liquidity=active,
            fee=fee,
            tick_spacing=tick_spacing,
            tick_data=nets.items(),
            tick_lower_bound=tick_lower_bound,
            tick_upper_bound=tick_upper_bound,
        )

    @property
    def complete(self) -> bool:
        """True when the tick data covers the whole tick range, so no swap can raise
        ``IncompleteTickData``."""
        return self.tick_lower_bound == MIN_TICK and self.tick_upper_bound == MAX_TICK

    def after(self, result: SwapResult) -> V3PoolState:
        """The state once ``result`` (a swap on this state) has executed: new price, tick and liquidity."""
        return V3PoolState(
            sqrt_price_x96=result.sqrt_price_x96,
            tick=result.tick,
            liquidity=result.liquidity,
            fee=self.fee,
            tick_spacing=self.tick_spacing,
            ticks=self.ticks,
            liquidity_net=self.liquidity_net,
            tick_lower_bound=self.tick_lower_bound,
            tick_upper_bound=self.tick_upper_bound,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SwapResult:
    """What ``UniswapV3Pool.swap`` returns and leaves behind. ``amount0``/``amount1`` are signed as the pool's
    (positive: the pool receives, negative: the pool pays out); the rest is the pool's state afterwards, plus
    the number of initialised ticks crossed. A swap stopped by the price limit (liquidity exhausted) is
    partial: ``amount_specified_remaining`` is what the pool did not fill (0 for a complete swap)."""

    amount0: int
    amount1: int
    sqrt_price_x96: int
    tick: int
    liquidity: int
    ticks_crossed: int
    zero_for_one: bool
    amount_specified_remaining: int

    @property
    def amount_in(self) -> int:
        """What the swapper pays the pool."""
        return self.amount0 if self.zero_for_one else self.amount1

    @property
    def amount_out(self) -> int:
        """What the pool pays the swapper."""
        return -self.amount1 if self.zero_for_one else -self.amount0

    @property
    def partial(self) -> bool:
        """True when the pool stopped at the price limit before filling ``amount_specified``."""
        return self.amount_specified_remaining != 0


def _default_limit(zero_for_one: bool) -> int:
    return MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1


def swap(
    state: V3PoolState, zero_for_one: bool, amount_specified: int, sqrt_price_limit_x96: int | None = None
) -> SwapResult:
    """Simulates ``UniswapV3Pool.swap(recipient, zero_for_one, amount_specified, sqrt_price_limit_x96,
    data)``.

    ``amount_specified > 0`` is an exact input, ``< 0`` an exact output. ``sqrt_price_limit_x96=None`` means
    the loosest limit the pool accepts (MIN_SQRT_RATIO + 1 or MAX_SQRT_RATIO - 1, as routers and quoters
    pass). Raises ``ZeroAmount`` ('AS'), ``InvalidPriceLimit`` ('SPL') and the other reverts where the pool
    does, and ``IncompleteTickData`` when the swap runs past the state's tick window.
    """
    if sqrt_price_limit_x96 is None:
        sqrt_price_limit_x96 = _default_limit(zero_for_one)
    (remaining, calculated, sqrt_p, tick, liquidity, crossed) = _swap(
        state, zero_for_one, amount_specified, sqrt_price_limit_x96, True
    )
    if zero_for_one == (amount_specified > 0):
        amount0, amount1 = amount_specified - remaining, calculated
    else:
        amount0, amount1 = calculated, amount_specified - remaining
    return SwapResult(
        amount0=amount0,
        amount1=amount1,
        sqrt_price_x96=sqrt_p,
        tick=tick,
        liquidity=liquidity,
        ticks_crossed=crossed,
        zero_for_one=zero_for_one,
        amount_specified_remaining=remaining,
    )


def quote_exact_input(
    state: V3PoolState,
    zero_for_one: bool,
    amount_in: int,
    *,
    sqrt_price_limit_x96: int | None = None,
    allow_partial: bool = False,
) -> int:
    """Output of an exact-input swap of ``amount_in``. If the pool would stop at the price limit (liquidity
    exhausted) having taken less than ``amount_in``, raises ``InsufficientLiquidity`` unless
    ``allow_partial``, in which case the partial output is returned (what ``SwapRouter.exactInputSingle``
    would receive)."""
    if amount_in <= 0:
        raise ZeroAmount(f"amount_in must be > 0, got {amount_in}")
    if sqrt_price_limit_x96 is None:
        sqrt_price_limit_x96 = _default_limit(zero_for_one)
    remaining, calculated, *_ = _swap(state, zero_for_one, amount_in, sqrt_price_limit_x96, False)
    if remaining and not allow_partial:
        raise InsufficientLiquidity(
            f"the pool fills only {amount_in - remaining} of {amount_in} before its price limit", reason=""
        )
    return -calculated


def quote_exact_output(
    state: V3PoolState,
    zero_for_one: bool,
    amount_out: int,
    *,
    sqrt_price_limit_x96: int | None = None,
) -> int:
    """Input an exact-output swap of ``amount_out`` costs. Raises ``InsufficientLiquidity`` if the pool can
    only deliver part of it before its price limit (``SwapRouter.exactOutputSingle`` reverts then too)."""
    if amount_out <= 0:
        raise ZeroAmount(f"amount_out must be > 0, got {amount_out}")
    if sqrt_price_limit_x96 is None:
        sqrt_price_limit_x96 = _default_limit(zero_for_one)
    remaining, calculated, *_ = _swap(state, zero_for_one, -amount_out, sqrt_price_limit_x96, False)
    if remaining:
        raise InsufficientLiquidity(
            f"the pool delivers only {amount_out + remaining} of {amount_out} before its price limit",
            reason="",
        )
    return calculated


def _swap(
    state: V3PoolState, zero_for_one: bool, amount_specified: int, limit: int, want_tick: bool
) -> tuple[int, int, int, int, int, int]:
    """The pool's swap loop. Returns (amount_specified_remaining, amount_calculated, sqrt_price, tick,
    liquidity, initialised ticks crossed); the tick is only exact when ``want_tick`` (else it may be
    stale)."""
    if amount_specified == 0:
        raise ZeroAmount
    if not _INT256_MIN <= amount_specified <= _INT256_MAX:
        raise Overflow(f"amount_specified is not an int256: {amount_specified}", reason="")
    sqrt_p = state.sqrt_price_x96
    if zero_for_one:
        if not (limit < sqrt_p and limit > MIN_SQRT_RATIO):
            raise InvalidPriceLimit
    elif not (limit > sqrt_p and limit < MAX_SQRT_RATIO):
        raise InvalidPriceLimit

    tick = state.tick
    liquidity = state.liquidity
    fee = state.fee
    fee_complement = 1_000_000 - fee
    spacing = state.tick_spacing
    ticks = state.ticks
    nets = state.liquidity_net
    lower_bound = state.tick_lower_bound
    upper_bound = state.tick_upper_bound
    memo = _SQRT_RATIO_MEMO
    exact_input = amount_specified > 0
    remaining = amount_specified
    calculated = 0
    crossed = 0
    tick_stale = False  # set when the price moved inside a range: the pool would recompute the tick there

    # The tick bitmap search of the first step looks at [word start, tick] (zero_for_one) or
    # [tick + spacing, word end]; later steps only move outwards, and each checks its own boundary below.
    if zero_for_one:
        if (tick // spacing) * spacing > upper_bound:
            raise IncompleteTickData(f"tick {tick} is above the tick data window's top {upper_bound}")
        index = bisect_right(ticks, tick) - 1  # greatest initialised tick <= tick
    else:
        if (tick // spacing + 1) * spacing < lower_bound:
            raise IncompleteTickData(f"tick {tick} is below the tick data window's bottom {lower_bound}")
        index = bisect_right(ticks, tick)  # least initialised tick > tick
    n_ticks = len(ticks)

    while remaining and sqrt_p != limit:
        if tick_stale:
            # only reachable if a partial step left the amount unfinished (the pool recomputes the tick then)
            tick = get_tick_at_sqrt_ratio(sqrt_p)
            tick_stale = False
            index = bisect_right(ticks, tick) - 1 if zero_for_one else bisect_right(ticks, tick)
        start = sqrt_p

        # ---- next tick: TickBitmap.nextInitializedTickWithinOneWord, by bisection
        compressed = tick // spacing
        if zero_for_one:
            tick_next = (compressed - (compressed & 255)) * spacing  # start of the word
            initialized = index >= 0 and ticks[index] >= tick_next
            if initialized:
                tick_next = ticks[index]
            elif tick_next < MIN_TICK:
                tick_next = MIN_TICK
            beyond = tick_next < lower_bound
            if beyond:  # the true next tick is unknown, but below the window: step to the window's edge
                tick_next = lower_bound
                initialized = False
            try:
                sqrt_next = memo[tick_next]
            except KeyError:
                sqrt_next = memo[tick_next] = get_sqrt_ratio_at_tick(tick_next)
            target = limit if sqrt_next < limit else sqrt_next
        else:
            compressed += 1
            tick_next = (compressed - (compressed & 255) + 255) * spacing  # end of the word
            initialized = index < n_ticks and ticks[index] <= tick_next
            if initialized:
                tick_next = ticks[index]
            elif tick_next > MAX_TICK:
                tick_next = MAX_TICK
            beyond = tick_next > upper_bound
            if beyond:  # the true next tick is unknown, but above the window: step to the window's edge
                tick_next = upper_bound
                initialized = False
            try:
                sqrt_next = memo[tick_next]
            except KeyError:
                sqrt_next = memo[tick_next] = get_sqrt_ratio_at_tick(tick_next)
            target = limit if sqrt_next > limit else sqrt_next

        # ---- SwapMath.computeSwapStep(sqrt_p, target, liquidity, remaining, fee), inlined
        # Identities used (all exact for positive integers): ceil(ceil(x / a) / b) == ceil(x / (a * b)) and
        # the same for floor, so getAmount0Delta's two divisions become one; and x >= ceil(y / d) <=>
        # x * d >= y, so "is the remaining input enough to reach the target" needs no division.
        if remaining > 0:  # exact input for this step
            less_fee = remaining * fee_complement // 1_000_000
            if zero_for_one:
                numerator1 = liquidity << 96
                diff = sqrt_p - target
                nd = numerator1 * diff
                pt = sqrt_p * target
                if less_fee * pt >= nd:  # less_fee >= getAmount0Delta(target, sqrt_p, liquidity, roundUp)
                    nxt = target
                else:  # getNextSqrtPriceFromInput -> getNextSqrtPriceFromAmount0RoundingUp(add)
                    product = less_fee * sqrt_p
                    denominator = numerator1 + product
                    if product <= _MAX_UINT256 and denominator <= _MAX_UINT256:
                        nxt = -(-(numerator1 * sqrt_p) // denominator) if less_fee else sqrt_p
                    else:
                        nxt = _next_price_amount0_add(sqrt_p, liquidity, less_fee)
                if nxt == target:
                    amount_in = -(-nd // pt)
                    fee_amount = -(-(amount_in * fee) // fee_complement)
                else:
                    diff = sqrt_p - nxt
                    amount_in = -(-(numerator1 * diff) // (sqrt_p * nxt))
                    fee_amount = remaining - amount_in
                amount_out = (liquidity * diff) >> 96  # getAmount1Delta(nxt, sqrt_p, liquidity, roundDown)
            else:
                diff = target - sqrt_p
                ld = liquidity * diff
                if (less_fee << 96) >= ld:  # less_fee >= getAmount1Delta(sqrt_p, target, liquidity, roundUp)
                    nxt = target
                else:  # getNextSqrtPriceFromInput -> getNextSqrtPriceFromAmount1RoundingDown(add)
                    nxt = sqrt_p + (less_fee << 96) // liquidity
                    if nxt > _MAX_UINT160:
                        raise Overflow(
                            "getNextSqrtPriceFromAmount1RoundingDown: price overflows uint160", reason=""
                        )
                if nxt == target:
                    amount_in = (ld + _Q96_MINUS_1) >> 96
                    fee_amount = -(-(amount_in * fee) // fee_complement)
                else:
                    diff = nxt - sqrt_p
                    amount_in = (liquidity * diff + _Q96_MINUS_1) >> 96
                    fee_amount = remaining - amount_in
                # getAmount0Delta(sqrt_p, nxt, liquidity, roundDown)
                amount_out = (liquidity << 96) * diff // (nxt * sqrt_p)
        else:  # exact output for this step
            wanted = -remaining
            if zero_for_one:
                diff = sqrt_p - target
                amount_out = (liquidity * diff) >> 96  # getAmount1Delta(target, sqrt_p, liquidity, roundDown)
                if wanted >= amount_out:
                    nxt = target
                else:  # getNextSqrtPriceFromOutput -> getNextSqrtPriceFromAmount1RoundingDown(sub)
                    nxt = _next_price_amount1_sub(sqrt_p, liquidity, wanted)
                    if nxt != target:
                        diff = sqrt_p - nxt
                        amount_out = (liquidity * diff) >> 96
                # getAmount0Delta(nxt, sqrt_p, liquidity, roundUp)
                amount_in = -(-((liquidity << 96) * diff) // (sqrt_p * nxt))
            else:
                numerator1 = liquidity << 96
                diff = target - sqrt_p
                # getAmount0Delta(sqrt_p, target, liquidity, roundDown)
                amount_out = numerator1 * diff // (target * sqrt_p)
                if wanted >= amount_out:
                    nxt = target
                else:  # getNextSqrtPriceFromOutput -> getNextSqrtPriceFromAmount0RoundingUp(sub)
                    nxt = _next_price_amount0_sub(sqrt_p, liquidity, wanted)
                    if nxt != target:
                        diff = nxt - sqrt_p
                        amount_out = numerator1 * diff // (nxt * sqrt_p)
                # getAmount1Delta(sqrt_p, nxt, liquidity, roundUp)
                amount_in = (liquidity * diff + _Q96_MINUS_1) >> 96
            if amount_out > wanted:
                amount_out = wanted
            fee_amount = -(-(amount_in * fee) // fee_complement)
        sqrt_p = nxt

        # ---- the pool's bookkeeping
        if exact_input:
            remaining -= amount_in + fee_amount
            calculated -= amount_out
        else:
            remaining += amount_out
            calculated += amount_in + fee_amount

        if sqrt_p == sqrt_next:
            if beyond:
                # A step that stops short of the window's edge is the same whatever lies beyond it (it never
                # reached its target); one that reaches the edge would have gone on to a tick we do not know.
                if sqrt_p != limit:
                    raise IncompleteTickData(
                        f"the swap runs past the tick data window [{lower_bound}, {upper_bound}]"
                    )
                tick_stale = True  # the true target lay beyond the limit: the pool recomputes the tick
                continue
            if initialized:
                net = nets[tick_next]
                if zero_for_one:
                    liquidity -= net
                    index -= 1
                else:
                    liquidity += net
                    index += 1
                if liquidity < 0:
                    raise LiquidityUnderflow(f"crossing tick {tick_next} takes liquidity below zero")
                if liquidity > _MAX_UINT128:
                    raise LiquidityOverflow(f"crossing tick {tick_next} takes liquidity above uint128")
                crossed += 1
            tick = tick_next - 1 if zero_for_one else tick_next
        elif sqrt_p != start:
            tick_stale = True

    # SafeCast.toInt256 / LowGasSafeMath on the running totals: they are monotonic, so checking the end
    # suffices
    if not _INT256_MIN <= calculated <= _INT256_MAX:
        raise Overflow("amountCalculated overflows int256", reason="")
    if tick_stale and want_tick:
        tick = get_tick_at_sqrt_ratio(sqrt_p)
    return remaining, calculated, sqrt_p, tick, liquidity, crossed


# ---- SqrtPriceMath's getNextSqrtPriceFrom{Input,Output} branches, argument checks already done by the loop


def _next_price_amount0_add(sqrt_p: int, liquidity: int, amount: int) -> int:
    """getNextSqrtPriceFromAmount0RoundingUp(sqrt_p, liquidity, amount, add=true), liquidity > 0."""
    if amount == 0:
        return sqrt_p
    numerator1 = liquidity << 96
    product = amount * sqrt_p
    if product <= _MAX_UINT256:
        denominator = numerator1 + product
        if denominator <= _MAX_UINT256:
            return -(-(numerator1 * sqrt_p) // denominator)
    divisor = numerator1 // sqrt_p + amount
    if divisor > _MAX_UINT256:
        raise Overflow("getNextSqrtPriceFromAmount0RoundingUp: uint256 overflow", reason="")
    return -(-numerator1 // divisor) & _MAX_UINT160


def _next_price_amount0_sub(sqrt_p: int, liquidity: int, amount: int) -> int:
    """getNextSqrtPriceFromAmount0RoundingUp(sqrt_p, liquidity, amount, add=false), liquidity > 0."""
    if amount == 0:
        return sqrt_p
    numerator1 = liquidity << 96
    product = amount * sqrt_p
    if product > _MAX_UINT256 or numerator1 <= product:
        raise Revert("getNextSqrtPriceFromAmount0RoundingUp: token0 output >= virtual reserves", reason="")
    result = -(-(numerator1 * sqrt_p) // (numerator1 - product))
    if result > _MAX_UINT160:
        raise Overflow("getNextSqrtPriceFromAmount0RoundingUp: price overflows uint160", reason="")
    return result


def _next_price_amount1_add(sqrt_p: int, liquidity: int, amount: int) -> int:
    """getNextSqrtPriceFromAmount1RoundingDown(sqrt_p, liquidity, amount, add=true), liquidity > 0."""
    result = sqrt_p + (amount << 96) // liquidity  # same as mulDiv(amount, Q96, liquidity) for any amount
    if result > _MAX_UINT160:
        raise Overflow("getNextSqrtPriceFromAmount1RoundingDown: price overflows uint160", reason="")
    return result


def _next_price_amount1_sub(sqrt_p: int, liquidity: int, amount: int) -> int:
    """getNextSqrtPriceFromAmount1RoundingDown(sqrt_p, liquidity, amount, add=false), liquidity > 0."""
    quotient = -(-(amount << 96) // liquidity)  # same as mulDivRoundingUp(amount, Q96, liquidity)
    if sqrt_p <= quotient:
        raise Revert("getNextSqrtPriceFromAmount1RoundingDown: token1 output >= virtual reserves", reason="")
    return sqrt_p - quotient
