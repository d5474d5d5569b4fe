"""Cycle search: every cycle of 2..N hops that starts and ends in a loan token, indexed by pool.

A cycle is a sequence of (pool, direction) hops through distinct pools and distinct tokens, returning to its
start token: 2-hop cycles are the same pair on two venues (cross-DEX, or two V3 fee tiers), 3-hop cycles are
triangles, up to ``max_hops`` (at most 5). Both directions of a loop are separate cycles, and a loop through
two loan tokens appears once per start token (the lenders and the units differ; the selection keeps one).

The set is stored as numpy arrays for the vectorised screen: ``dirs[c, h]`` is hop ``h`` of cycle ``c`` as a
*direction index* ``2*pool + (0 if zero_for_one else 1)``, padded with ``identity`` (a direction whose rates
are neutral); ``by_pool`` is a CSR index pool -> cycles, so a block re-evaluates only the cycles of changed
pools.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from flasharb.engine.types import PoolInfo, PoolKind

__all__ = ["CycleSet", "build_cycles", "direction", "MAX_HOPS"]

MAX_HOPS = 5


def direction(pool_index: int, zero_for_one: bool) -> int:
    return 2 * pool_index + (0 if zero_for_one else 1)


@dataclass(frozen=True, slots=True)
class CycleSet:
    """Cycles over ``pools`` (indexes into it); see the module docstring for the arrays."""

    pools: tuple[PoolInfo, ...]
    tokens: tuple[str, ...]  # token index -> address
    dirs: np.ndarray  # int32 [C, H]
    dirs_t: np.ndarray  # the same, transposed and contiguous [H, C] (column gathers for the screen)
    n_hops: np.ndarray  # int8 [C]
    start: np.ndarray  # int32 [C] token index of the loan token
    n_v3: np.ndarray  # int8 [C]
    by_pool_ptr: np.ndarray  # int64 [P + 1]
    by_pool_idx: np.ndarray  # int32 [sum of hops]

    @property
    def identity(self) -> int:
        return 2 * len(self.pools)

    def __len__(self) -> int:
        return int(self.n_hops.shape[0])

    def hops(self, c: int) -> list[tuple[int, bool]]:
        """Cycle ``c`` as (pool index, zero_for_one) hops."""
        row = self.dirs[c]
        return [(int(d) >> 1, not (int(d) & 1)) for d in row[: self.n_hops[c]]]

    def cycles_of(self, pool_indexes: Iterable[int]) -> np.ndarray:
        """Unique ids of the cycles that use any of the pools."""
        ptr, idx = self.by_pool_ptr, self.by_pool_idx
        parts = [idx[ptr[p] : ptr[p + 1]] for p in pool_indexes]
        if not parts:
            return np.empty(0, dtype=np.int32)
        return np.unique(np.concatenate(parts))

    def counts(self) -> dict[int, int]:
        values, counts = np.unique(self.n_hops, return_counts=True)
        return {int(v): int(c) for v, c in zip(values, counts)}


def build_cycles(
    pools: Sequence[PoolInfo],
    loan_tokens: Iterable[str],
    *,
    max_hops: int = 3,
    usable: Sequence[bool] | None = None,
) -> CycleSet:
    """Enumerates every simple cycle of 2..``max_hops`` hops from each loan token. ``usable[i]`` False leaves
    pool ``i`` out (no state, unreadable)."""
    if not 2 <= max_hops <= MAX_HOPS:
        raise ValueError(f"max_hops must be 2..{MAX_HOPS}, got {max_hops}")
    token_ids: dict[str, int] = {}
    for p in pools:
        for t in (p.token0, p.token1):
            token_ids.setdefault(t, len(token_ids))
    n_tok = len(token_ids)
    # adjacency: token -> [(pool, zero_for_one, other token)]; (a, b) -> [(pool, zero_for_one)] to close
    adj: list[list[tuple[int, bool, int]]] = [[] for _ in range(n_tok)]
    closing: dict[tuple[int, int], list[tuple[int, bool]]] = {}
    for i, p in enumerate(pools):
        if usable is not None and not usable[i]:
            continue
        t0, t1 = token_ids[p.token0], token_ids[p.token1]
        if t0 == t1:
            continue
        adj[t0].append((i, True, t1))
        adj[t1].append((i, False, t0))
        closing.setdefault((t0, t1), []).append((i, True))
        closing.setdefault((t1, t0), []).append((i, False))

    identity = 2 * len(pools)
    rows: list[list[int]] = []
    starts: list[int] = []
    starts_ids = sorted({token_ids[t] for t in loan_tokens if t in token_ids})

    for s in starts_ids:
        # paths s -> ... -> last of length 1..max_hops-1, then a closing hop last -> s through an unused pool
        stack: list[tuple[int, list[int], list[int], set[int]]] = [(s, [], [], {s})]
        while stack:
            tok, path_dirs, path_pools, seen = stack.pop()
            depth = len(path_dirs)
            if depth >= 1:
                for pool, zfo in closing.get((tok, s), ()):
                    if pool in path_pools:
                        continue
                    rows.append(path_dirs + [2 * pool + (0 if zfo else 1)])
                    starts.append(s)
            if depth + 1 >= max_hops:
                continue
            for pool, zfo, other in adj[tok]:
                if other in seen or pool in path_pools:
                    continue
                stack.append(
                    (other, path_dirs + [2 * pool + (0 if zfo else 1)], path_pools + [pool], seen | {other})
                )

    n = len(rows)
    dirs = np.full((n, max_hops), identity, dtype=np.int32)
    n_hops = np.zeros(n, dtype=np.int8)
    for c, r in enumerate(rows):
        dirs[c, : len(r)] = r
        n_hops[c] = len(r)
    is_v3 = np.array([p.kind is PoolKind.V3 for p in pools] + [False], dtype=bool)
    pool_of = np.where(dirs == identity, len(pools), dirs >> 1)
    n_v3 = is_v3[pool_of].sum(axis=1).astype(np.int8)

    # CSR pool -> cycles
    valid = dirs != identity
    cyc = np.broadcast_to(np.arange(n, dtype=np.int32)[:, None], dirs.shape)[valid]
    pl = pool_of[valid]
    order = np.argsort(pl, kind="stable")
    by_pool_idx = cyc[order].astype(np.int32)
    counts = np.bincount(pl, minlength=len(pools))
    by_pool_ptr = np.zeros(len(pools) + 1, dtype=np.int64)
    np.cumsum(counts, out=by_pool_ptr[1:])
    tokens = tuple(sorted(token_ids, key=token_ids.__getitem__))
    return CycleSet(
        pools=tuple(pools),
        tokens=tokens,
        dirs=dirs,
        dirs_t=np.ascontiguousarray(dirs.T),
        n_hops=n_hops,
        start=np.array(starts, dtype=np.int32),
        n_v3=n_v3,
        by_pool_ptr=by_pool_ptr,
        by_pool_idx=by_pool_idx,
    )
