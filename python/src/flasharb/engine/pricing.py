"""Token prices in the native token, from the pools themselves, for turning gas into loan-token units.

A widest-path tree from the wrapped native token: each token is priced through the chain of pools whose
shallowest reserve (valued in native) is the deepest available, using mid prices (no fee). The tree is rebuilt
on a full evaluation and re-priced along the same edges after each block (vectorised by tree level). Only gas
costs use these floats; sizing and profits stay exact integers.
"""

from __future__ import annotations

import numpy as np

__all__ = ["TokenPricer"]


class TokenPricer:
    """``price[t]``: raw units of token ``t`` per wei of native (NaN when no pool path reaches ``t``)."""

    def __init__(self, n_tokens: int, native: int, dir_src: np.ndarray, dir_dst: np.ndarray) -> None:
        self.n = n_tokens
        self.native = native
        self.src = dir_src
        self.dst = dir_dst
        self.price = np.full(n_tokens, np.nan)
        self.parent = np.full(n_tokens, -1, dtype=np.int64)
        self._levels: list[np.ndarray] = []
        self.tree_pools: set[int] = set()

    def rebuild(self, mid: np.ndarray, depth: np.ndarray, max_iter: int = 16) -> None:
        n_dirs = self.src.shape[0]
        mid, depth = mid[:n_dirs], depth[:n_dirs]
        price = np.full(self.n, np.nan)
        width = np.full(self.n, -1.0)
        parent = np.full(self.n, -1, dtype=np.int64)
        if 0 <= self.native < self.n:
            price[self.native] = 1.0
            width[self.native] = np.inf
        usable = (mid > 0) & (depth > 0) & np.isfinite(mid)
        dirs = np.arange(n_dirs)
        for _ in range(max_iter):
            ps = price[self.src]
            known = usable & ~np.isnan(ps)
            with np.errstate(divide="ignore", invalid="ignore"):
                cand = np.where(known, np.minimum(width[self.src], depth / ps), -1.0)
            best = np.full(self.n, -1.0)
            np.maximum.at(best, self.dst, cand)
            improve_tok = (best > width * (1 + 1e-9)) & (best > 0)
            if 0 <= self.native < self.n:
                improve_tok[self.native] = False
            if not improve_tok.any():
                break
            winners = improve_tok[self.dst] & (cand == best[self.dst])
            d = dirs[winners]
            t = self.dst[d]
            parent[t] = d  # ties: the last one written wins
            d = parent[np.flatnonzero(improve_tok)]
            t = self.dst[d]
            width[t] = best[t]
            price[t] = price[self.src[d]] * mid[d]
        # tree levels from the final parents (a parent may have changed after its children were set)
        level = np.full(self.n, -1, dtype=np.int64)
        if 0 <= self.native < self.n:
            level[self.native] = 0
        has_parent = parent >= 0
        parent_token = np.where(has_parent, self.src[np.maximum(parent, 0)], -1)
        for lv in range(1, self.n + 1):
            ready = has_parent & (level < 0) & (level[np.maximum(parent_token, 0)] == lv - 1)
            if not ready.any():
                break
            level[ready] = lv
        parent[level < 0] = -1
        price[level < 0] = np.nan
        self.parent = parent
        self.price = price
        self._levels = []
        for lv in range(1, int(level.max(initial=0)) + 1):
            nodes = np.flatnonzero((level == lv) & (parent >= 0))
            if nodes.size:
                self._levels.append(nodes)
        self.tree_pools = {int(p) >> 1 for p in parent[parent >= 0]}
        self.refresh(mid)

    def refresh(self, mid: np.ndarray) -> None:
        """Re-prices along the current tree (after the pools' rates changed)."""
        price = self.price
        for nodes in self._levels:
            d = self.parent[nodes]
            price[nodes] = price[self.src[d]] * mid[d]
