"""flasharb.math.uniswap_v3.swap against the real Uniswap V3 pools on the replica (anvil, real v3-core 1.0.1
bytecode).

Setup (once, inside an anvil snapshot reverted at the end): the admin gets every token and approves the real
SwapRouter and NonfungiblePositionManager; three pools get ~30 extra positions each so swaps cross many
initialised ticks; every pool's state is read from chain (slot0, liquidity, the whole tick bitmap and each
tick's liquidityNet).

Each case is one ``debug_traceCall`` of ``SwapRouter.exactInputSingle`` / ``exactOutputSingle`` from the
admin: the pool really swaps (the router pays in the callback), nothing is mined, and the trace carries the
pool's ``Swap`` event: amount0, amount1, sqrtPriceX96, liquidity and tick after the swap. All five must equal
ours to the wei, including swaps that run out of liquidity and stop at the price limit (partial fills), and
the router must revert exactly where we raise (bad limits, partial exact-output fills, swaps through zero
liquidity).
"""

from __future__ import annotations

import random

import pytest
from eth_abi import decode
from hypothesis import event, given
from hypothesis import strategies as st
from math_chain import (
    MAX_UINT256,
    Rpc,
    calldata,
    decode_v3_swap_event,
    fund_admin,
    read_v3_pool,
    read_v3_state,
    trace_logs,
)
from math_strategies import math_settings, wide_ints

from flasharb.math import MathError
from flasharb.math.uniswap_v3 import MAX_SQRT_RATIO, MAX_TICK, MIN_SQRT_RATIO, MIN_TICK, SwapResult, swap

pytestmark = pytest.mark.chain

CASES = 1200
EXTRA_POSITIONS = 30
SWAP_PARAMS = "(address,address,uint24,address,uint256,uint256,uint256,uint160)"
MINT_PARAMS = "(address,address,uint24,int24,int24,uint256,uint256,uint256,uint256,address,uint256)"


def _balance(rpc: Rpc, token: str, holder: str) -> int:
    return int.from_bytes(rpc.call(token, calldata("balanceOf(address)", ["address"], [holder])), "big")


def _add_positions(rpc: Rpc, replica, pool, rng: random.Random) -> None:
    """Mints EXTRA_POSITIONS positions of assorted widths around the price through the real position
    manager."""
    npm, admin = replica.uniswap_v3.position_manager, replica.admin
    spacing = pool.tick_spacing
    (_, tick, *_rest) = decode(
        ["uint160", "int24", "uint16", "uint16", "uint16", "uint8", "bool"],
        rpc.call(pool.address, calldata("slot0()", [], [])),
    )
    balance0, balance1 = _balance(rpc, pool.token0, pool.address), _balance(rpc, pool.token1, pool.address)
    centre = tick // spacing
    for _ in range(EXTRA_POSITIONS):
        lower = centre + rng.randint(-40, 30)
        upper = lower + rng.choice([1, 2, 3, 5, 8, 13, 40, 100])
        lower, upper = max(lower, MIN_TICK // spacing + 1), min(upper, MAX_TICK // spacing)
        args = (
            pool.token0,
            pool.token1,
            pool.fee,
            lower * spacing,
            upper * spacing,
            balance0 * rng.randint(1, 80) // 1000,
            balance1 * rng.randint(1, 80) // 1000,
            0,
            0,
            admin,
            MAX_UINT256,
        )
        receipt = rpc.transact(admin, npm, calldata(f"mint({MINT_PARAMS})", [MINT_PARAMS], [args]))
        assert int(receipt["status"], 16) == 1, f"mint {args} failed"


@pytest.fixture(scope="module")
def v3(devchain, replica):
    rpc = Rpc(devchain.url)
    snap = rpc.snapshot()
    fund_admin(rpc, replica, [replica.uniswap_v3.swap_router, replica.uniswap_v3.position_manager])
    pools = [read_v3_pool(rpc, address) for address in replica.pools.v3]
    rng = random.Random(20240601)
    for spacing in (10, 60, 200):  # one pool per tick spacing gets many more initialised ticks
        _add_positions(rpc, replica, next(p for p in pools if p.tick_spacing == spacing), rng)
    states = [(pool, read_v3_state(rpc, pool)) for pool in pools]
    assert max(len(s.ticks) for _, s in states) >= 50
    yield rpc, replica, states
    rpc.revert(snap)


def _router_swap(rpc: Rpc, replica, pool, zero_for_one: bool, amount_specified: int, limit: int | None):
    """Traces the router swap; returns the pool's Swap event values and the router's return value, or None if
    the call reverts."""
    token_in, token_out = (pool.token0, pool.token1) if zero_for_one else (pool.token1, pool.token0)
    router, admin = replica.uniswap_v3.swap_router, replica.admin
    if amount_specified > 0:
        fn, args = (
            "exactInputSingle",
            (token_in, token_out, pool.fee, admin, MAX_UINT256, amount_specified, 0, limit or 0),
        )
    else:
        fn, args = (
            "exactOutputSingle",
            (token_in, token_out, pool.fee, admin, MAX_UINT256, -amount_specified, MAX_UINT256, limit or 0),
        )
    trace = rpc.trace_call(router, calldata(f"{fn}({SWAP_PARAMS})", [SWAP_PARAMS], [args]), admin)
    if trace.get("error"):
        return None
    (returned,) = decode(["uint256"], bytes.fromhex(trace["output"][2:]))
    return decode_v3_swap_event(trace_logs(trace), pool.address), returned


@st.composite
def limits(draw, price: int, zero_for_one: bool):
    kind = draw(st.sampled_from(["router-default"] * 6 + ["inside"] * 3 + ["invalid"]))
    if kind == "router-default":
        return None
    if kind == "inside":
        if zero_for_one:
            return draw(wide_ints(MIN_SQRT_RATIO + 1, max(MIN_SQRT_RATIO + 1, price - 1)))
        return draw(wide_ints(min(MAX_SQRT_RATIO - 1, price + 1), MAX_SQRT_RATIO - 1))
    # on the wrong side of the price, or at/beyond the bounds: the pool reverts 'SPL'
    if zero_for_one:
        return draw(st.sampled_from([price, price + 1, MIN_SQRT_RATIO]))
    return draw(st.sampled_from([price, price - 1, MAX_SQRT_RATIO]))


@math_settings(CASES)
@given(data=st.data())
def test_swap_matches_the_pool(v3, data):
    rpc, replica, states = v3
    enriched = [ps for ps in states if len(ps[1].ticks) > 20]
    pool, state = data.draw(st.sampled_from(enriched) | st.sampled_from(states), label="pool")
    zero_for_one = data.draw(st.booleans(), label="zero_for_one")
    exact_input = data.draw(st.booleans(), label="exact_input")
    token_in, token_out = (pool.token0, pool.token1) if zero_for_one else (pool.token1, pool.token0)
    depth = _balance(rpc, token_in if exact_input else token_out, pool.address)
    amount = data.draw(
        st.one_of(
            wide_ints(1, 1 << 190),  # 1 wei .. enough to drain any pool to its price limit
            st.integers(1, 10**7).map(lambda k: max(1, depth * k // 10**6)),  # 1e-6 .. 10x the pool's balance
            # depth * 2**-10 .. depth * 2**3, log-uniform: from inside one range to across every tick
            st.tuples(st.integers(0, 13), st.integers(0, 1023)).map(
                lambda t: max(1, depth * (1 << t[0]) * (1024 + t[1]) >> 20)
            ),
            st.integers(100, 3000).map(lambda k: depth * k // 1000),  # 10% .. 3x the balance: many ticks
        ),
        label="amount",
    )
    limit = data.draw(limits(state.sqrt_price_x96, zero_for_one), label="limit")
    _check_case(rpc, replica, pool, state, zero_for_one, amount if exact_input else -amount, limit)


@math_settings(CASES // 3)
@given(data=st.data())
def test_swaps_crossing_many_ticks_match_the_pool(v3, data):
    """The pools with ~50 initialised ticks, amounts from a third of the pool's balance to thrice it: tens of
    crossings per swap, many of them running out of liquidity."""
    rpc, replica, states = v3
    enriched = [ps for ps in states if len(ps[1].ticks) > 20]
    pool, state = data.draw(st.sampled_from(enriched), label="pool")
    zero_for_one = data.draw(st.booleans(), label="zero_for_one")
    exact_input = data.draw(st.booleans(), label="exact_input")
    token_in, token_out = (pool.token0, pool.token1) if zero_for_one else (pool.token1, pool.token0)
    depth = _balance(rpc, token_in if exact_input else token_out, pool.address)
    amount = depth * data.draw(st.integers(300, 3000), label="per mille of the balance") // 1000
    limit = data.draw(limits(state.sqrt_price_x96, zero_for_one), label="limit")
    _check_case(rpc, replica, pool, state, zero_for_one, amount if exact_input else -amount, limit)


def _check_case(rpc, replica, pool, state, zero_for_one: bool, amount_specified: int, limit: int | None):
    exact_input = amount_specified > 0
    try:
        ours: SwapResult | None = swap(state, zero_for_one, amount_specified, limit)
    except MathError:
        ours = None
    chain = _router_swap(rpc, replica, pool, zero_for_one, amount_specified, limit)

    if ours is not None:
        router_refuses = (
            (
                not exact_input and limit is None and ours.partial
            )  # exactOutputSingle: require(amountOutReceived == amountOut)
            or (ours.amount0 <= 0 and ours.amount1 <= 0)  # the router's callback: zero-liquidity-only swaps
        )
        if router_refuses:
            event("router refuses")
            assert chain is None, f"the router accepted {ours}"
            return ours
    if ours is None:
        event("revert")
        assert chain is None, f"we reverted, the pool swapped: {chain}"
        return None
    crossed = f"{ours.ticks_crossed}" if ours.ticks_crossed < 10 else "10+"
    event(f"{'partial' if ours.partial else 'filled'}, ticks crossed: {crossed}")
    assert chain is not None, f"the pool reverted, we predicted {ours}"
    (amount0, amount1, sqrt_price, liquidity, tick), returned = chain
    assert (ours.amount0, ours.amount1) == (amount0, amount1)
    assert (ours.sqrt_price_x96, ours.tick, ours.liquidity) == (sqrt_price, tick, liquidity)
    assert returned == (ours.amount_out if exact_input else ours.amount_in)
    return ours
