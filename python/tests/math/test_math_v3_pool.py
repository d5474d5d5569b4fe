"""flasharb.math.uniswap_v3 pool state and swap: unit cases, equality with the literal reference transcription
of UniswapV3Pool.swap (v3_reference.py), and the quote properties."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from math_strategies import MAX_UINT128, math_settings, wide_ints
from v3_reference import reference_swap
from v3_states import realistic_state, state_from_positions

from flasharb.math import (
    IncompleteTickData,
    InsufficientLiquidity,
    InvalidPriceLimit,
    MathError,
    ZeroAmount,
)
from flasharb.math.uniswap_v3 import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    SwapResult,
    V3PoolState,
    quote_exact_input,
    quote_exact_output,
    swap,
)
from flasharb.math.uniswap_v3.tick_math import get_sqrt_ratio_at_tick, get_tick_at_sqrt_ratio

ONE = 1 << 96


def simple_state(**overrides) -> V3PoolState:
    """Price 1, spacing 60, 0.3%: one position [-600, 600) of 1e21 and one [-6000, 6000) of 1e20."""
    args = dict(
        sqrt_price_x96=ONE,
        fee=3000,
        tick_spacing=60,
        positions=[(-600, 600, 10**21), (-6000, 6000, 10**20)],
    )
    args.update(overrides)
    return state_from_positions(**args)


# ---------------------------------------------------------------- state


def test_from_tick_data_sorts_and_keeps_zero_nets():
    state = V3PoolState.from_tick_data(
        sqrt_price_x96=ONE,
        tick=0,
        liquidity=5,
        fee=500,
        tick_spacing=10,
        tick_data=[(100, -5), (-100, 5), (50, 0)],
    )
    assert state.ticks == (-100, 50, 100)
    assert state.liquidity_net[50] == 0
    assert state.complete


@pytest.mark.parametrize(
    "bad",
    [
        dict(sqrt_price_x96=MIN_SQRT_RATIO - 1),
        dict(sqrt_price_x96=MAX_SQRT_RATIO),
        dict(tick=5),  # does not match the price
        dict(liquidity=-1),
        dict(liquidity=MAX_UINT128 + 1),
        dict(fee=1_000_000),
        dict(tick_spacing=0),
        dict(ticks=(60, -60)),  # unsorted
        dict(ticks=(-61, 60)),  # off the spacing
        dict(ticks=(-60, 60, 120)),  # 120 has no net
        dict(tick_lower_bound=10, tick_upper_bound=5),
        dict(tick_lower_bound=MIN_TICK - 1),
    ],
)
def test_state_rejects_malformed_fields(bad):
    fields = dict(
        sqrt_price_x96=ONE,
        tick=0,
        liquidity=1,
        fee=3000,
        tick_spacing=60,
        ticks=(-60, 60),
        liquidity_net={-60: 1, 60: -1},
        tick_lower_bound=MIN_TICK,
        tick_upper_bound=MAX_TICK,
    )
    fields.update(bad)
    with pytest.raises(ValueError):
        V3PoolState(**fields)


def test_state_accepts_the_tick_below_an_exact_tick_price():
    # after a zero-for-one swap that stops exactly on an initialised tick, slot0.tick is that tick - 1
    V3PoolState(
        sqrt_price_x96=get_sqrt_ratio_at_tick(60),
        tick=59,
        liquidity=0,
        fee=3000,
        tick_spacing=60,
        ticks=(),
        liquidity_net={},
        tick_lower_bound=MIN_TICK,
        tick_upper_bound=MAX_TICK,
    )


def test_state_is_frozen():
    state = simple_state()
    with pytest.raises(AttributeError):
        state.tick = 1  # type: ignore[misc]


# ---------------------------------------------------------------- reverts


def test_zero_amount_reverts_as():
    with pytest.raises(ZeroAmount) as err:
        swap(simple_state(), True, 0)
    assert err.value.reason == "AS"


@pytest.mark.parametrize(
    ("zero_for_one", "limit"),
    [
        (True, ONE),
        (True, ONE + 1),
        (True, MIN_SQRT_RATIO),
        (False, ONE),
        (False, ONE - 1),
        (False, MAX_SQRT_RATIO),
    ],
)
def test_bad_price_limit_reverts_spl(zero_for_one, limit):
    with pytest.raises(InvalidPriceLimit) as err:
        swap(simple_state(), zero_for_one, 10**18, limit)
    assert err.value.reason == "SPL"


def test_quote_rejects_non_positive_amounts():
    with pytest.raises(ZeroAmount):
        quote_exact_input(simple_state(), True, 0)
    with pytest.raises(ZeroAmount):
        quote_exact_output(simple_state(), True, -5)


# ---------------------------------------------------------------- swaps


def test_small_exact_input_stays_in_range():
    state = simple_state()
    result = swap(state, True, 10**15)
    assert result.amount0 == 10**15
    assert -result.amount1 == quote_exact_input(state, True, 10**15) > 0
    assert result.ticks_crossed == 0 and not result.partial
    assert result.amount_in == 10**15 and result.amount_out == -result.amount1
    assert result.liquidity == state.liquidity
    assert result.tick == get_tick_at_sqrt_ratio(result.sqrt_price_x96)
    assert result == reference_swap(state, True, 10**15)


def test_exact_output_returns_the_exact_amount():
    state = simple_state()
    for zero_for_one in (True, False):
        result = swap(state, zero_for_one, -(10**18))
        assert result.amount_out == 10**18
        assert quote_exact_output(state, zero_for_one, 10**18) == result.amount_in
        assert result == reference_swap(state, zero_for_one, -(10**18))


@pytest.mark.parametrize("zero_for_one", [True, False])
def test_swap_crossing_ticks_updates_liquidity(zero_for_one):
    state = simple_state()
    result = swap(state, zero_for_one, 10**23)
    # through both positions' edges, then nothing is left: the price stops at the limit, a partial fill
    assert result.ticks_crossed == 2
    assert result.liquidity == 0
    assert result.partial
    assert result.sqrt_price_x96 == (MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1)
    assert result.amount_in < 10**23
    assert result == reference_swap(state, zero_for_one, 10**23)
    with pytest.raises(InsufficientLiquidity):
        quote_exact_input(state, zero_for_one, 10**23)
    assert quote_exact_input(state, zero_for_one, 10**23, allow_partial=True) == result.amount_out
    with pytest.raises(InsufficientLiquidity):
        quote_exact_output(state, zero_for_one, 10**23)


def test_price_limit_stops_the_swap():
    state = simple_state()
    limit = get_sqrt_ratio_at_tick(-300) + 12345
    result = swap(state, True, 10**23, limit)
    assert result.sqrt_price_x96 == limit
    assert result.tick == get_tick_at_sqrt_ratio(limit)
    assert result.partial
    assert result == reference_swap(state, True, 10**23, limit)


def test_swap_ending_exactly_on_a_tick_leaves_tick_minus_one():
    state = simple_state()
    limit = get_sqrt_ratio_at_tick(-600)
    result = swap(state, True, 10**23, limit)
    assert result.sqrt_price_x96 == limit
    assert result.tick == -601  # crossed -600 on the way (zero for one), the pool's tick is one below
    assert result.ticks_crossed == 1
    assert result.liquidity == 10**20
    assert result == reference_swap(state, True, 10**23, limit)
    # and the state after it is valid and keeps swapping the same way the pool would
    after = state.after(result)
    assert swap(after, True, 10**18) == reference_swap(after, True, 10**18)
    assert swap(after, False, 10**18) == reference_swap(after, False, 10**18)


def test_zero_liquidity_gap_is_jumped():
    # two disjoint positions: a zero-for-one swap runs out of the first, skips the gap, continues in the
    # second
    state = state_from_positions(
        sqrt_price_x96=ONE, fee=500, tick_spacing=10, positions=[(-100, 100, 10**20), (-5000, -3000, 10**20)]
    )
    result = swap(state, True, 10**19)
    assert result.ticks_crossed >= 2
    assert not result.partial
    assert result == reference_swap(state, True, 10**19)


def test_word_boundaries_split_steps_like_the_bitmap():
    # spacing 1: a 256-tick word boundary between the price and the next initialised tick splits the step
    state = state_from_positions(
        sqrt_price_x96=get_sqrt_ratio_at_tick(10), fee=3000, tick_spacing=1, positions=[(-2000, 2000, 10**18)]
    )
    for zero_for_one in (True, False):
        for amount in (10**15, 10**16, -(10**15), 10**17):
            assert swap(state, zero_for_one, amount) == reference_swap(state, zero_for_one, amount)


# ---------------------------------------------------------------- tick data window


def test_window_allows_swaps_inside_it():
    full = realistic_state()
    lo, hi = -30 * 256 * 60, 30 * 256 * 60 - 1
    window = V3PoolState.from_tick_data(
        sqrt_price_x96=full.sqrt_price_x96,
        tick=full.tick,
        liquidity=full.liquidity,
        fee=full.fee,
        tick_spacing=full.tick_spacing,
        tick_data=[(t, n) for t, n in full.liquidity_net.items() if lo <= t <= hi],
        tick_lower_bound=lo,
        tick_upper_bound=hi,
    )
    assert not window.complete
    for zero_for_one in (True, False):
        assert swap(window, zero_for_one, 10**18) == swap(full, zero_for_one, 10**18)
        with pytest.raises(IncompleteTickData):
            swap(window, zero_for_one, 10**45)  # would run to the price limit, past the window
        # with a limit inside the window, the same big swap is known
        limit = get_sqrt_ratio_at_tick(-5000 if zero_for_one else 5000)
        assert swap(window, zero_for_one, 10**45, limit) == swap(full, zero_for_one, 10**45, limit)


def test_window_not_covering_the_current_tick_raises():
    state = simple_state(tick_lower_bound=1200, tick_upper_bound=6000)
    with pytest.raises(IncompleteTickData):
        swap(state, True, 10**15)
    state = simple_state(tick_lower_bound=-6000, tick_upper_bound=-1200)
    with pytest.raises(IncompleteTickData):
        swap(state, False, 10**15)


# ---------------------------------------------------------------- equality with the reference

SPACINGS = {100: 1, 500: 10, 3000: 60, 10000: 200}


@st.composite
def pool_states(draw, consistent: bool = True):
    fee = draw(st.sampled_from(sorted(SPACINGS)))
    spacing = SPACINGS[fee]
    if fee == 100:  # keep the literal reference's per-word walk short
        assume(True)
    low_compressed = MIN_TICK // spacing + 1
    high_compressed = MAX_TICK // spacing
    centre = draw(st.integers(low_compressed // 2, high_compressed // 2)) if draw(st.booleans()) else 0
    spread = draw(st.sampled_from([3, 30, 300, 3000]))

    def compressed_tick():
        return st.integers(max(low_compressed, centre - spread), min(high_compressed, centre + spread))

    n = draw(st.integers(0, 12))
    positions = []
    for _ in range(n):
        a, b = draw(compressed_tick()), draw(compressed_tick())
        if a == b:
            continue
        lo, hi = sorted((a * spacing, b * spacing))
        positions.append((lo, hi, draw(wide_ints(1, 1 << 110))))
    if draw(st.booleans()):
        full = MAX_TICK // spacing * spacing
        positions.append((-full, full, draw(wide_ints(1, 1 << 100))))
    price_tick = draw(
        st.integers(
            max(MIN_TICK, (centre - spread) * spacing), min(MAX_TICK - 1, (centre + spread) * spacing)
        )
    )
    base = get_sqrt_ratio_at_tick(price_tick)
    sqrt_price = base + draw(st.integers(0, get_sqrt_ratio_at_tick(price_tick + 1) - base - 1))
    state = state_from_positions(
        sqrt_price_x96=sqrt_price, fee=fee, tick_spacing=spacing, positions=positions
    )
    if not consistent:
        # arbitrary in-range liquidity and nets: crossings may take liquidity below zero or past uint128
        nets = {t: draw(st.integers(-(1 << 127) + 1, (1 << 127) - 1)) for t in state.ticks}
        state = V3PoolState.from_tick_data(
            sqrt_price_x96=state.sqrt_price_x96,
            tick=state.tick,
            liquidity=draw(wide_ints(0, MAX_UINT128)),
            fee=fee,
            tick_spacing=spacing,
            tick_data=nets.items(),
        )
    return state


def amounts_for(state: V3PoolState):
    return wide_ints(1, (1 << 255) - 1).flatmap(lambda a: st.sampled_from([a, -a]))


@st.composite
def limits(draw, state: V3PoolState, zero_for_one: bool):
    if draw(st.booleans()):
        return None
    if zero_for_one:
        return draw(wide_ints(MIN_SQRT_RATIO + 1, max(MIN_SQRT_RATIO + 1, state.sqrt_price_x96 - 1)))
    return draw(wide_ints(min(MAX_SQRT_RATIO - 1, state.sqrt_price_x96 + 1), MAX_SQRT_RATIO - 1))


def run(fn, *args):
    try:
        return fn(*args)
    except MathError as exc:
        return type(exc)


@math_settings(600)
@given(st.data())
def test_swap_equals_the_reference(data):
    state = data.draw(pool_states())
    zero_for_one = data.draw(st.booleans())
    amount = data.draw(amounts_for(state))
    limit = data.draw(limits(state, zero_for_one))
    expected = run(reference_swap, state, zero_for_one, amount, limit)
    got = run(swap, state, zero_for_one, amount, limit)
    assert got == expected


@math_settings(300)
@given(st.data())
def test_swap_equals_the_reference_on_arbitrary_tick_data(data):
    """Nets that do not come from positions: the liquidity reverts ('LS'/'LA') must match too."""
    state = data.draw(pool_states(consistent=False))
    zero_for_one = data.draw(st.booleans())
    amount = data.draw(amounts_for(state))
    limit = data.draw(limits(state, zero_for_one))
    assert run(swap, state, zero_for_one, amount, limit) == run(
        reference_swap, state, zero_for_one, amount, limit
    )


@math_settings(300)
@given(st.data())
def test_windowed_state_agrees_or_refuses(data):
    """A state cut to a window of its ticks gives the complete state's answer, or raises IncompleteTickData
    exactly when the complete swap reaches the window's edge."""
    full = data.draw(pool_states())
    spacing = full.tick_spacing
    lo = data.draw(st.integers(MIN_TICK, full.tick))
    hi = (
        data.draw(st.integers(full.tick + spacing, MAX_TICK)) if full.tick + spacing <= MAX_TICK else MAX_TICK
    )
    window = V3PoolState.from_tick_data(
        sqrt_price_x96=full.sqrt_price_x96,
        tick=full.tick,
        liquidity=full.liquidity,
        fee=full.fee,
        tick_spacing=spacing,
        tick_data=[(t, n) for t, n in full.liquidity_net.items() if lo <= t <= hi],
        tick_lower_bound=lo,
        tick_upper_bound=hi,
    )
    zero_for_one = data.draw(st.booleans())
    amount = data.draw(amounts_for(full))
    limit = data.draw(limits(full, zero_for_one))
    expected = run(swap, full, zero_for_one, amount, limit)
    got = run(swap, window, zero_for_one, amount, limit)
    if got is IncompleteTickData:
        assert isinstance(expected, SwapResult)
        edge = get_sqrt_ratio_at_tick(lo if zero_for_one else hi)
        # the complete swap got to the window's edge (or its first step started outside the window)
        if zero_for_one:
            assert expected.sqrt_price_x96 <= edge or (full.tick // spacing) * spacing > hi
        else:
            assert expected.sqrt_price_x96 >= edge or (full.tick // spacing + 1) * spacing < lo
    else:
        assert got == expected


# ---------------------------------------------------------------- quote properties


@math_settings(400)
@given(st.data())
def test_exact_input_then_exact_output_is_consistent(data):
    state = data.draw(pool_states())
    assume(state.liquidity > 0)
    zero_for_one = data.draw(st.booleans())
    amount_in = data.draw(wide_ints(1, 1 << 120))
    try:
        amount_out = quote_exact_input(state, zero_for_one, amount_in)
    except InsufficientLiquidity:
        return
    assume(amount_out > 0)
    needed = quote_exact_output(state, zero_for_one, amount_out)
    # Buying exactly what amount_in bought costs at most amount_in, with one exception the pool really has:
    # when the output at a step's end (a tick or word boundary) rounds to the amount asked for, an
    # exact-output swap goes all the way to that boundary, a little further than the exact-input swap went.
    if needed > amount_in:
        result = swap(state, zero_for_one, -amount_out)
        boundary_tick = result.tick + 1 if zero_for_one else result.tick
        assert result.sqrt_price_x96 == get_sqrt_ratio_at_tick(boundary_tick)
    # and paying that cost buys at least as much
    assert quote_exact_input(state, zero_for_one, needed) >= amount_out


@math_settings(400)
@given(st.data())
def test_quotes_are_monotonic(data):
    state = data.draw(pool_states())
    zero_for_one = data.draw(st.booleans())
    a, b = sorted((data.draw(wide_ints(1, 1 << 120)), data.draw(wide_ints(1, 1 << 120))))
    out_a = quote_exact_input(state, zero_for_one, a, allow_partial=True)
    out_b = quote_exact_input(state, zero_for_one, b, allow_partial=True)
    assert out_a <= out_b
    try:
        in_a = quote_exact_output(state, zero_for_one, a)
        in_b = quote_exact_output(state, zero_for_one, b)
    except InsufficientLiquidity:
        return
    assert in_a <= in_b


@math_settings(200)
@given(st.data())
def test_splitting_a_swap_never_beats_one_swap(data):
    """Two consecutive swaps (state.after) give at most what one swap of the sum gives (rounding favours the
    pool)."""
    state = data.draw(pool_states())
    zero_for_one = data.draw(st.booleans())
    a, b = data.draw(wide_ints(1, 1 << 100)), data.draw(wide_ints(1, 1 << 100))
    first = swap(state, zero_for_one, a)
    assume(not first.partial)
    second = swap(state.after(first), zero_for_one, b)
    whole = swap(state, zero_for_one, a + b)
    assume(not second.partial and not whole.partial)
    assert first.amount_out + second.amount_out <= whole.amount_out


def test_states_hash_and_compare_by_value():
    a, b = realistic_state(), realistic_state()
    assert a == b and hash(a) == hash(b)
    assert a != realistic_state(seed=2)
