"""flasharb.math.uniswap_v2 against the real Uniswap V2 pairs and routers on the replica (anvil, real
bytecode).

For each case: the library on chain (``router.getAmountsOut`` / ``getAmountsIn``) must return our number, and
the pair itself must accept exactly that trade and refuse one wei more output ('UniswapV2: K'). The input
"arrives" at the pair through an ``eth_call`` state override of its token balance (the pair only looks at its
balance), then ``pair.swap`` is called for ``out`` and ``out + 1``. Nothing is sent, so every case sees the
replica's reserves.
"""

from __future__ import annotations

import pytest
from eth_abi import decode
from hypothesis import given
from hypothesis import strategies as st
from math_chain import RevertedCall, Rpc, V2Pair, balance_slot, calldata, mapping_slot, read_v2_pair, selector
from math_strategies import math_settings, wide_ints

from flasharb.math import InsufficientLiquidity, MathError, Overflow
from flasharb.math.uniswap_v2 import MAX_UINT112, get_amount_in, get_amount_out

pytestmark = pytest.mark.chain

CASES = 1000


@pytest.fixture(scope="module")
def v2(devchain, replica):
    rpc = Rpc(devchain.url)
    routers = {
        replica.quickswap.factory.lower(): replica.quickswap.router,
        replica.sushiswap.factory.lower(): replica.sushiswap.router,
    }
    pairs = []
    for address in replica.pools.v2:
        pair = read_v2_pair(rpc, address)
        (factory,) = decode(["address"], rpc.call(address, "0x" + selector("factory()").hex()))
        pairs.append((pair, routers[factory.lower()]))
    tokens = {t for p, _ in pairs for t in (p.token0, p.token1)}
    slots = {token: balance_slot(rpc, token, _holder(pairs, token)) for token in tokens}
    for pair, _ in pairs:  # no donations: the balance the override replaces is the reserve
        for token, reserve in ((pair.token0, pair.reserve0), (pair.token1, pair.reserve1)):
            balance = int(
                rpc.request(
                    "eth_getStorageAt", [token, hex(mapping_slot(pair.address, slots[token])), "latest"]
                ),
                16,
            )
            assert balance == reserve
    return rpc, replica.admin, pairs, slots


def _holder(pairs, token):
    return next(p.address for p, _ in pairs if token in (p.token0, p.token1))


def _sides(pair: V2Pair, zero_for_one: bool):
    if zero_for_one:
        return pair.token0, pair.token1, pair.reserve0, pair.reserve1
    return pair.token1, pair.token0, pair.reserve1, pair.reserve0


def _pair_accepts_exactly(v2, pair, zero_for_one, amount_in, amount_out) -> tuple[str | None, str | None]:
    """The pair's answer (None: it pays; else its revert reason) to swap(amount_out) and swap(amount_out + 1)
    once amount_in more of the input token sits in it."""
    rpc, admin, _, slots = v2
    token_in, _, reserve_in, _ = _sides(pair, zero_for_one)
    storage = {token_in: {mapping_slot(pair.address, slots[token_in]): reserve_in + amount_in}}

    def swap_call(out: int) -> str | None:
        outs = [0, out] if zero_for_one else [out, 0]
        data = calldata(
            "swap(uint256,uint256,address,bytes)",
            ["uint256", "uint256", "address", "bytes"],
            [*outs, admin, b""],
        )
        try:
            rpc.call_with_storage(pair.address, data, admin, storage)
            return None
        except RevertedCall as exc:
            return exc.reason or exc.data or "reverted"

    return swap_call(amount_out), swap_call(amount_out + 1)


def _router_amounts(rpc, router, fn, amount, path) -> int | str:
    data = calldata(f"{fn}(uint256,address[])", ["uint256", "address[]"], [amount, path])
    try:
        amounts = decode(["uint256[]"], rpc.call(router, data))[0]
    except RevertedCall as exc:
        return exc.reason or "reverted"
    return amounts[-1] if fn == "getAmountsOut" else amounts[0]


@st.composite
def cases(draw, pairs):
    pair, router = draw(st.sampled_from(pairs))
    zero_for_one = draw(st.booleans())
    _, _, reserve_in, reserve_out = _sides(pair, zero_for_one)
    return pair, router, zero_for_one, reserve_in, reserve_out


@math_settings(CASES)
@given(data=st.data())
def test_get_amount_out_matches_library_and_pair(v2, data):
    rpc, admin, pairs, _ = v2
    pair, router, zero_for_one, reserve_in, reserve_out = data.draw(cases(pairs))
    amount_in = data.draw(
        st.one_of(
            wide_ints(1, 1 << 120),  # every magnitude, from 1 wei to far beyond any reserve
            st.integers(1, 10**6).map(lambda k: max(1, reserve_in * k // 10**4)),  # 0.01% .. 100x the reserve
            st.integers(0, 10**6).map(lambda k: max(1, MAX_UINT112 - reserve_in - k)),  # at the uint112 edge
        ),
        label="amount_in",
    )
    token_in, token_out, _, _ = _sides(pair, zero_for_one)
    try:
        predicted: int | type = get_amount_out(amount_in, reserve_in, reserve_out)
    except MathError as exc:
        predicted = type(exc)

    library = _router_amounts(rpc, router, "getAmountsOut", amount_in, [token_in, token_out])
    if predicted is Overflow:
        # the library does not know the pair's uint112 limit; the pair must refuse the trade
        assert reserve_in + amount_in > MAX_UINT112
        exact, _ = _pair_accepts_exactly(
            v2, pair, zero_for_one, amount_in, max(1, library if isinstance(library, int) else 1)
        )
        assert exact is not None and "OVERFLOW" in exact
        return
    assert library == predicted, f"library {library} != ours {predicted}"
    exact, one_more = _pair_accepts_exactly(v2, pair, zero_for_one, amount_in, predicted)
    if predicted == 0:
        assert exact == "UniswapV2: INSUFFICIENT_OUTPUT_AMOUNT"
    else:
        assert exact is None, f"the pair refused our output {predicted}: {exact}"
    expected_refusal = "UniswapV2: INSUFFICIENT_LIQUIDITY" if predicted + 1 >= reserve_out else "UniswapV2: K"
    assert one_more == expected_refusal


@math_settings(CASES)
@given(data=st.data())
def test_get_amount_in_matches_library_and_pair(v2, data):
    rpc, admin, pairs, _ = v2
    pair, router, zero_for_one, reserve_in, reserve_out = data.draw(cases(pairs))
    amount_out = data.draw(
        st.one_of(
            wide_ints(1, reserve_out + 10),
            st.integers(1, 10**4).map(lambda k: max(1, reserve_out * k // 10**4)),  # up to the whole reserve
            st.integers(0, 3).map(lambda k: reserve_out - 1 + k),  # at the reserve's edge
        ),
        label="amount_out",
    )
    token_in, token_out, _, _ = _sides(pair, zero_for_one)
    try:
        predicted: int | type = get_amount_in(amount_out, reserve_in, reserve_out)
    except MathError as exc:
        predicted = type(exc)

    library = _router_amounts(rpc, router, "getAmountsIn", amount_out, [token_in, token_out])
    if predicted is InsufficientLiquidity:
        assert amount_out >= reserve_out
        assert isinstance(library, str)  # the library reverts too (underflow or division by zero)
        return
    if predicted is Overflow:
        assert isinstance(library, int) and reserve_in + library > MAX_UINT112
        return
    assert library == predicted
    exact, _ = _pair_accepts_exactly(v2, pair, zero_for_one, predicted, amount_out)
    assert exact is None, f"the pair refused {amount_out} out for our input {predicted}: {exact}"
    # and our get_amount_out of that input gives at least the output asked for
    assert get_amount_out(predicted, reserve_in, reserve_out) >= amount_out
