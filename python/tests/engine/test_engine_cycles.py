"""flasharb.engine.cycles: enumeration of 2..N-hop cycles from loan tokens and the pool index."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from flasharb.engine.cycles import build_cycles
from flasharb.engine.types import PoolInfo, PoolKind

T = [f"0x{i:040x}" for i in range(1, 7)]


def _pool(n: int, a: str, b: str, kind: PoolKind = PoolKind.V2) -> PoolInfo:
    t0, t1 = sorted((a, b))
    return PoolInfo(f"0x{0xA000 + n:040x}", kind, "d", t0, t1, 3000)


def _cycles_as_tokens(cs, c: int) -> list[str]:
    out = []
    for pool_index, zfo in cs.hops(c):
        p = cs.pools[pool_index]
        out.append(p.token0 if zfo else p.token1)
    return out


def _check_valid(cs, loan: set[str]) -> None:
    for c in range(len(cs)):
        hops = cs.hops(c)
        pools = [p for p, _ in hops]
        assert len(set(pools)) == len(pools), "a pool twice"
        tokens = _cycles_as_tokens(cs, c)
        assert len(set(tokens)) == len(tokens), "a token twice"
        assert tokens[0] == cs.tokens[cs.start[c]] and tokens[0] in loan
        # the hops chain: each hop's output is the next hop's input, the last one's is the start token
        for i, (pi, zfo) in enumerate(hops):
            p = cs.pools[pi]
            out = p.token1 if zfo else p.token0
            assert out == (tokens[i + 1] if i + 1 < len(tokens) else tokens[0])


def test_two_hop_cross_dex_and_triangles():
    pools = [
        _pool(0, T[0], T[1]),
        _pool(1, T[0], T[1], PoolKind.V3),
        _pool(2, T[1], T[2]),
        _pool(3, T[0], T[2]),
    ]
    cs = build_cycles(pools, [T[0]], max_hops=3)
    _check_valid(cs, {T[0]})
    # 2-hop: pools 0 and 1 in both orders; 3-hop: (0|1) -> 2 -> 3 and its reverse 3 -> 2 -> (0|1)
    assert cs.counts() == {2: 2, 3: 4}
    assert int(cs.n_v3.sum()) == 1 + 1 + 2


def test_every_loan_token_starts_its_own_cycles():
    pools = [_pool(0, T[0], T[1]), _pool(1, T[1], T[2]), _pool(2, T[0], T[2])]
    one = build_cycles(pools, [T[0]], max_hops=3)
    two = build_cycles(pools, [T[0], T[1]], max_hops=3)
    assert len(one) == 2 and len(two) == 4
    assert set(two.start.tolist()) == {two.tokens.index(T[0]), two.tokens.index(T[1])}


def _brute_force_count(pools, loan, max_hops) -> int:
    """All simple cycles by brute force over sequences of distinct pools."""
    count = 0
    for n in range(2, max_hops + 1):
        for seq in itertools.permutations(range(len(pools)), n):
            for s in loan:
                tok, ok = s, True
                seen = [s]
                for pi in seq:
                    p = pools[pi]
                    if tok not in (p.token0, p.token1):
                        ok = False
                        break
                    tok = p.token1 if tok == p.token0 else p.token0
                    seen.append(tok)
                if ok and tok == s and len(set(seen[:-1])) == n:
                    count += 1
    return count


@pytest.mark.parametrize("max_hops", [2, 3, 4, 5])
def test_counts_match_brute_force_on_a_dense_graph(max_hops):
    pairs = [(0, 1), (0, 1), (1, 2), (0, 2), (2, 3), (0, 3), (1, 3), (3, 4), (0, 4), (4, 5), (1, 5)]
    pools = [_pool(i, T[a], T[b]) for i, (a, b) in enumerate(pairs)]
    loan = [T[0], T[1]]
    cs = build_cycles(pools, loan, max_hops=max_hops)
    _check_valid(cs, set(loan))
    assert len(cs) == _brute_force_count(pools, loan, max_hops)


def test_pool_index_lists_exactly_the_cycles_through_a_pool():
    pairs = [(0, 1), (0, 1), (1, 2), (0, 2), (2, 3), (0, 3)]
    pools = [_pool(i, T[a], T[b]) for i, (a, b) in enumerate(pairs)]
    cs = build_cycles(pools, [T[0]], max_hops=4)
    for p in range(len(pools)):
        want = {c for c in range(len(cs)) if p in {q for q, _ in cs.hops(c)}}
        assert set(cs.cycles_of([p]).tolist()) == want
    assert cs.cycles_of([]).size == 0
    both = cs.cycles_of([0, 2])
    assert np.all(np.diff(both) > 0)  # unique, sorted


def test_unusable_pools_are_left_out_and_hops_are_bounded():
    pools = [_pool(0, T[0], T[1]), _pool(1, T[0], T[1]), _pool(2, T[0], T[1])]
    assert len(build_cycles(pools, [T[0]], max_hops=2, usable=[True, False, True])) == 2
    with pytest.raises(ValueError):
        build_cycles(pools, [T[0]], max_hops=6)
