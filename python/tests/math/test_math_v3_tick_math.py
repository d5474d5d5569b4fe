"""tick_math against TickMath.sol's edge cases (ported from v3-core's TickMath.spec.ts, in our words)."""

from __future__ import annotations

import pytest
from hypothesis import given
from math_strategies import math_settings, sqrt_prices, ticks

from flasharb.math import InvalidSqrtRatio, InvalidTick
from flasharb.math.uniswap_v3.tick_math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    clear_sqrt_ratio_cache,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
    sqrt_ratio_at_tick_cached,
)


def test_bounds_are_the_solidity_constants():
    assert get_sqrt_ratio_at_tick(MIN_TICK) == MIN_SQRT_RATIO == 4295128739
    assert (
        get_sqrt_ratio_at_tick(MAX_TICK)
        == MAX_SQRT_RATIO
        == 1461446703485210103287273052203988822378723970342
    )
    assert MAX_TICK == -MIN_TICK == 887272


@pytest.mark.parametrize(
    ("tick", "expected"),
    [
        (MIN_TICK + 1, 4295343490),
        (MAX_TICK - 1, 1461373636630004318706518188784493106690254656249),
        (0, 1 << 96),
        (1, 79232123823359799118286999568),
        (-1, 79224201403219477170569942574),
        (50, 79426470787362580746886972461),
        (-50, 79030349367926598376800521322),
        (100, 79625275426524748796330556128),
        (250, 80224679980005306637834519095),
        (500, 81233731461783161732293370115),
        (1000, 83290069058676223003182343270),
        (2500, 89776708723587163891445672585),
        (3000, 92049301871182272007977902845),
        (4000, 96768528593268422080558758223),
        (5000, 101729702841318637793976746270),
        (50000, 965075977353221155028623082916),
        (150000, 143194173941309278083010301478497),
        (250000, 21246587762933397357449903968194344),
        (500000, 5697689776495288729098254600827762987878),
        (738203, 847134979253254120489401328389043031315994541),
    ],
)
def test_known_sqrt_ratios(tick, expected):
    assert get_sqrt_ratio_at_tick(tick) == expected
    assert sqrt_ratio_at_tick_cached(tick) == expected


@pytest.mark.parametrize("tick", [MIN_TICK - 1, MAX_TICK + 1, 1 << 23, -(1 << 23)])
def test_sqrt_ratio_rejects_ticks_out_of_range(tick):
    with pytest.raises(InvalidTick) as err:
        get_sqrt_ratio_at_tick(tick)
    assert err.value.reason == "T"


@pytest.mark.parametrize(
    ("ratio", "tick"),
    [
        (MIN_SQRT_RATIO, MIN_TICK),
        (4295343490, MIN_TICK + 1),
        (1461373636630004318706518188784493106690254656249, MAX_TICK - 1),
        (MAX_SQRT_RATIO - 1, MAX_TICK - 1),
        (1 << 96, 0),
        ((1 << 96) - 1, -1),
        ((1 << 96) + 1, 0),
    ],
)
def test_known_ticks(ratio, tick):
    assert get_tick_at_sqrt_ratio(ratio) == tick


@pytest.mark.parametrize("ratio", [MIN_SQRT_RATIO - 1, MAX_SQRT_RATIO, 0, 1 << 160])
def test_tick_rejects_ratios_out_of_range(ratio):
    with pytest.raises(InvalidSqrtRatio) as err:
        get_tick_at_sqrt_ratio(ratio)
    assert err.value.reason == "R"


def test_sqrt_ratio_is_strictly_increasing_around_zero_and_the_edges():
    for window in (range(-300, 300), range(MIN_TICK, MIN_TICK + 300), range(MAX_TICK - 300, MAX_TICK + 1)):
        values = [get_sqrt_ratio_at_tick(t) for t in window]
        assert values == sorted(set(values))


@math_settings(400)
@given(ticks)
def test_tick_of_ratio_of_tick_round_trips(tick):
    ratio = get_sqrt_ratio_at_tick(tick)
    if tick < MAX_TICK:
        assert get_tick_at_sqrt_ratio(ratio) == tick
        # the greatest tick whose ratio is <= the price: one wei below belongs to the tick below
        if tick > MIN_TICK:
            assert get_tick_at_sqrt_ratio(ratio - 1) == tick - 1


@math_settings(400)
@given(sqrt_prices)
def test_tick_is_the_greatest_with_ratio_at_most_the_price(ratio):
    tick = get_tick_at_sqrt_ratio(ratio)
    assert get_sqrt_ratio_at_tick(tick) <= ratio
    assert tick == MAX_TICK or get_sqrt_ratio_at_tick(tick + 1) > ratio


def test_cache_is_a_pure_memo():
    clear_sqrt_ratio_cache()
    assert sqrt_ratio_at_tick_cached(12345) == get_sqrt_ratio_at_tick(12345)
    assert sqrt_ratio_at_tick_cached(12345) == get_sqrt_ratio_at_tick(12345)
    with pytest.raises(InvalidTick):
        sqrt_ratio_at_tick_cached(MAX_TICK + 1)
