"""SwapRouter: the best exact 1- or 2-hop path, pools excluded on request, nothing when no pool can take it."""

from __future__ import annotations

from eth_utils import to_checksum_address

from flasharb.engine.paths import SwapRouter
from flasharb.engine.sizing import v2_amount_out
from flasharb.engine.types import PoolInfo, PoolKind, V2State
from flasharb.route import V2Step


def _a(n: int) -> str:
    return to_checksum_address(n.to_bytes(20, "big"))


A, B, C = _a(0xA), _a(0xB), _a(0xC)
P_AB1, P_AB2, P_AC, P_CB = _a(0x1001), _a(0x1002), _a(0x1003), _a(0x1004)


def _pool(addr: str, t0: str, t1: str, fee: int = 3000) -> PoolInfo:
    return PoolInfo(addr, PoolKind.V2, "quickswap", t0, t1, fee)


POOLS = [_pool(P_AB1, A, B), _pool(P_AB2, A, B, 1000), _pool(P_AC, A, C), _pool(P_CB, C, B)]
STATES = {
    P_AB1: V2State(10**24, 2 * 10**24),
    P_AB2: V2State(10**22, 2 * 10**22),  # cheaper fee, far shallower
    P_AC: V2State(10**24, 10**24),
    P_CB: V2State(10**24, 3 * 10**24),  # A -> C -> B pays 3x, direct pays 2x
}


def test_best_path_is_the_largest_exact_output():
    router = SwapRouter(POOLS, STATES)
    amount = 10**21
    path = router.best(A, B, amount)
    assert path is not None
    direct = max(v2_amount_out(amount, 10**24, 2 * 10**24, 997_000), v2_amount_out(amount, 10**22, 2 * 10**22, 999_000))
    via_c = v2_amount_out(v2_amount_out(amount, 10**24, 10**24, 997_000), 10**24, 3 * 10**24, 997_000)
    assert via_c > direct
    assert path.pools == (P_AC, P_CB)
    assert path.amount_out == via_c == router.quote(A, B, amount)
    assert path.steps == (V2Step(P_AC, True, 3000), V2Step(P_CB, True, 3000))
    assert [h.amount_in for h in path.hops] == [amount, path.hops[0].amount_out]


def test_excluded_pools_are_not_used_and_one_hop_only_on_request():
    router = SwapRouter(POOLS, STATES)
    assert router.best(A, B, 10**21, exclude=[P_CB]).pools == (P_AB1,)
    assert SwapRouter(POOLS, STATES, max_hops=1).best(A, B, 10**21).pools == (P_AB1,)
    assert router.best(B, A, 10**21).hops[0].zero_for_one is False


def test_no_path_gives_none_and_zero():
    router = SwapRouter(POOLS, {P_AB1: V2State(0, 0)})
    assert router.best(A, B, 10**18) is None
    assert router.quote(A, B, 10**18) == 0
    assert router.best(A, A, 10**18) is None
    assert SwapRouter(POOLS, STATES).best(A, _a(0xD), 10**18) is None
