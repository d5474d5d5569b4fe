"""Vectorised first pass (numpy, float64): drop the cycles that cannot be profitable before exact sizing.

Each pool direction gets a row of float64 numbers computed from its exact state:

- ``logr``: log of an upper bound on its marginal rate at zero size, fee included: ``g/1e6 * r_out/r_in`` (V2)
  or ``g/1e6 * price`` (V3, from ``sqrt_price_x96``; an upper bound even when the pool has no liquidity at the
  current price, because the price only gets worse for the swapper);
- ``c``: with ``rho = exp(logr)``, the hop's output is bounded by the Möbius map ``rho*x / (1 + c*x)``: V2
  exactly (``c = g/1e6 / r_in``), V3 with the *largest* liquidity over the known ticks on the swap's side (a
  V3 pool whose liquidity never exceeds ``L_max`` moves its price at least as fast as one with ``L_max``
  everywhere);
- ``mid`` (rate without fee) and ``depth`` (input-side reserve) for pricing gas in loan tokens.

Stage 1: ``sum(logr) <= -1e-9`` => the cycle's output is at most ``x * prod(rho) < x`` for every x: hopeless.
Stage 2: the composed bound ``K*x / (1 + N*x)`` with the cheapest premium ``q`` has the closed-form maximum
``(sqrt(K) - sqrt(q))**2 / N``; when even that (with a relative safety margin) cannot pay the cheapest gas of
the route shape plus the minimum profit, the cycle is hopeless. Both bounds hold for the exact integer math
(the pools round in their own favour), and the float error (~1e-15 relative) is far inside the margins; the
tests check that no cycle the exact path finds profitable is ever dropped.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

import numpy as np

from flasharb.engine.types import PoolState, V2State
from flasharb.math.uniswap_v3 import V3PoolState

__all__ = ["DirectionRows", "pool_rows", "Screener", "STAGE1_MARGIN"]

STAGE1_MARGIN = 1e-9  # log-space: keep cycles whose log rate sum exceeds -1e-9
_REL = 1e-9
_Q96F = float(1 << 96)
_NEG_INF = -math.inf


@dataclass(frozen=True, slots=True)
class DirectionRows:
    """(logr, c, mid, depth) of one pool's two directions: zero_for_one first."""

    zfo: tuple[float, float, float, float]
    ofz: tuple[float, float, float, float]


_DEAD = (_NEG_INF, 0.0, 0.0, 0.0)


class _NetProfile:
    """Prefix sums of a V3 state's liquidity_net: the largest liquidity below/above any tick in O(log n)."""

    __slots__ = ("nets", "ticks", "prefix", "pre_max", "suf_max")

    def __init__(self, state: V3PoolState) -> None:
        self.nets = state.liquidity_net
        self.ticks = state.ticks
        prefix = [0]
        for t in state.ticks:
            prefix.append(prefix[-1] + state.liquidity_net[t])
        self.prefix = prefix
        pre_max = []
        m = None
        for v in prefix:
            m = v if m is None or v > m else m
            pre_max.append(m)
        self.pre_max = pre_max
        suf_max = [0] * len(prefix)
        m = None
        for i in range(len(prefix) - 1, -1, -1):
            m = prefix[i] if m is None or prefix[i] > m else m
            suf_max[i] = m
        self.suf_max = suf_max

    def max_liquidity(self, state: V3PoolState) -> tuple[int, int]:
        """(largest liquidity at or below the price, largest at or above), over the known ticks."""
        c = bisect_right(self.ticks, state.tick)  # interval index of the current price
        base = state.liquidity - self.prefix[c]
        return base + self.pre_max[c], base + self.suf_max[c]


def _profile(state: V3PoolState, cache: dict[int, _NetProfile] | None) -> _NetProfile:
    """The net-liquidity profile of ``state``, from ``cache`` (keyed by the identity of the ``liquidity_net``
    mapping, which a swap keeps and a mint or burn replaces; the profile holds the mapping, so the id cannot
    be reused while cached)."""
    if cache is None:
        return _NetProfile(state)
    key = id(state.liquidity_net)
    prof = cache.get(key)
    if prof is None or prof.nets is not state.liquidity_net:
        prof = cache[key] = _NetProfile(state)
    return prof


def pool_rows(
    state: PoolState | None, fee_pips: int, profiles: dict[int, _NetProfile] | None = None
) -> DirectionRows:
    """The screen's rows for a pool (``fee_pips``: the V2 fork's fee; V3 states carry their own). ``profiles``
    caches V3 net-liquidity profiles between calls."""
    if state is None:
        return DirectionRows(_DEAD, _DEAD)
    if type(state) is V2State:
        r0, r1 = state.reserve0, state.reserve1
        if r0 <= 0 or r1 <= 0:
            return DirectionRows(_DEAD, _DEAD)
        gamma = (1_000_000 - fee_pips) / 1_000_000
        f0, f1 = float(r0), float(r1)
        lg = math.log(gamma)
        l01 = math.log(f1) - math.log(f0)
        return DirectionRows(
            (lg + l01, gamma / f0, f1 / f0, f0),
            (lg - l01, gamma / f1, f0 / f1, f1),
        )
    gamma = (1_000_000 - state.fee) / 1_000_000
    s = state.sqrt_price_x96 / _Q96F
    lg = math.log(gamma)
    lp = 2.0 * math.log(s)  # log price (token1 per token0)
    l_down, l_up = _profile(state, profiles).max_liquidity(state)
    lf = float(state.liquidity)
    price = s * s
    if l_down > 0:
        zfo = (lg + lp, gamma * s / float(l_down), price, lf / s)
    else:
        zfo = _DEAD
    if l_up > 0:
        ofz = (lg - lp, gamma / (float(l_up) * s), 1.0 / price, lf * s)
    else:
        ofz = _DEAD
    return DirectionRows(zfo, ofz)


class Screener:
    """Holds the direction rows (``2 * n_pools + 1``: the last is the neutral padding direction) and screens
    cycles of a ``CycleSet``."""

    def __init__(self, n_pools: int) -> None:
        n = 2 * n_pools + 1
        self.logr = np.full(n, _NEG_INF)
        self.c = np.zeros(n)
        self.mid = np.zeros(n)
        self.depth = np.zeros(n)
        self.logr[-1] = 0.0
        self.mid[-1] = 1.0
        self.n_pools = n_pools
        self._profiles: dict[int, _NetProfile] = {}

    def rows(self, state: PoolState | None, fee_pips: int) -> DirectionRows:
        """``pool_rows`` with this screener's V3 profile cache."""
        if len(self._profiles) > 4 * self.n_pools + 64:
            self._profiles.clear()
        return pool_rows(state, fee_pips, self._profiles)

    def set_rows(self, pool_index: int, rows: DirectionRows) -> None:
        i = 2 * pool_index
        self.logr[i], self.c[i], self.mid[i], self.depth[i] = rows.zfo
        self.logr[i + 1], self.c[i + 1], self.mid[i + 1], self.depth[i + 1] = rows.ofz

    def set_all(self, rows: list[DirectionRows]) -> None:
        arr = np.array([r.zfo + r.ofz for r in rows], dtype=np.float64).reshape(-1, 2, 4)
        n = 2 * len(rows)
        flat = arr.reshape(n, 4)
        self.logr[:n] = flat[:, 0]
        self.c[:n] = flat[:, 1]
        self.mid[:n] = flat[:, 2]
        self.depth[:n] = flat[:, 3]

    def load(self, pools, states) -> None:
        """Every pool's rows from ``states`` (vectorised for V2 pairs; V3 pools one by one)."""
        n = len(pools)
        get = states.get
        if len(self._profiles) > 4 * n + 64:
            self._profiles.clear()
        profiles = self._profiles
        v2_idx, r0s, r1s, gammas = [], [], [], []
        v3_idx, v3_vals = [], []
        for i, p in enumerate(pools):
            st = get(p.address)
            if st is None:
                continue
            if type(st) is V2State:
                r0, r1 = st.reserve0, st.reserve1
                if r0 > 0 and r1 > 0:
                    v2_idx.append(i)
                    r0s.append(r0)
                    r1s.append(r1)
                    gammas.append(p.fee_pips)
            else:
                nets = st.liquidity_net
                prof = profiles.get(id(nets))
                if prof is None or prof.nets is not nets:
                    prof = _profile(st, profiles)
                l_down, l_up = prof.max_liquidity(st)
                v3_idx.append(i)
                v3_vals.append((st.sqrt_price_x96, l_down, l_up, st.liquidity, st.fee))
        r0s = [float(x) for x in r0s]
        r1s = [float(x) for x in r1s]
        logr = np.full(2 * n + 1, _NEG_INF)
        c = np.zeros(2 * n + 1)
        mid = np.zeros(2 * n + 1)
        depth = np.zeros(2 * n + 1)
        logr[-1], mid[-1] = 0.0, 1.0
        if v2_idx:
            idx = np.array(v2_idx, dtype=np.int64) * 2
            r0, r1 = np.array(r0s), np.array(r1s)
            g = (1_000_000 - np.array(gammas, dtype=np.float64)) / 1_000_000
            lg = np.log(g)
            l01 = np.log(r1) - np.log(r0)
            logr[idx], c[idx], mid[idx], depth[idx] = lg + l01, g / r0, r1 / r0, r0
            logr[idx + 1], c[idx + 1], mid[idx + 1], depth[idx + 1] = lg - l01, g / r1, r0 / r1, r1
        if v3_idx:
            idx = np.array(v3_idx, dtype=np.int64) * 2
            vals = np.array([[float(a) for a in row] for row in v3_vals], dtype=np.float64)
            sp, ld, lu, lf, fee = (
                vals[:, 0] / _Q96F,
                np.maximum(vals[:, 1], 0.0),
                np.maximum(vals[:, 2], 0.0),
                vals[:, 3],
                vals[:, 4],
            )
            g = (1_000_000 - fee) / 1_000_000
            lg = np.log(g)
            lp = 2.0 * np.log(sp)
            price = sp * sp
            with np.errstate(divide="ignore"):
                down_ok, up_ok = ld > 0, lu > 0
                logr[idx] = np.where(down_ok, lg + lp, _NEG_INF)
                c[idx] = np.where(down_ok, g * sp / np.where(down_ok, ld, 1.0), 0.0)
                logr[idx + 1] = np.where(up_ok, lg - lp, _NEG_INF)
                c[idx + 1] = np.where(up_ok, g / (np.where(up_ok, lu, 1.0) * sp), 0.0)
            mid[idx], depth[idx] = np.where(down_ok, price, 0.0), np.where(down_ok, lf / sp, 0.0)
            mid[idx + 1], depth[idx + 1] = np.where(up_ok, 1.0 / price, 0.0), np.where(up_ok, lf * sp, 0.0)
        self.logr, self.c, self.mid, self.depth = logr, c, mid, depth

    def stage1(self, dirs_t: np.ndarray) -> np.ndarray:
        """Mask of the cycles (columns of ``dirs_t``, shape [hops, cycles]) whose marginal round trip can
        exceed 1."""
        logr = self.logr
        total = logr[dirs_t[0]]
        for h in range(1, dirs_t.shape[0]):
            total += logr[dirs_t[h]]
        return total > -STAGE1_MARGIN

    def profit_bound(self, dirs_t: np.ndarray, log_q: np.ndarray) -> np.ndarray:
        """Upper bound on ``max_x exact_out(x) - q*x`` per cycle (raw loan-token units), ``q = exp(log_q)``;
        ``dirs_t`` has shape [hops, cycles]."""
        n = dirs_t.shape[1]
        prefix = np.zeros(n)  # log of the product of the rates before the current hop
        N = np.zeros(n)
        for h in range(dirs_t.shape[0]):
            d = dirs_t[h]
            N += self.c[d] * np.exp(prefix)
            prefix += self.logr[d]
        half_gap = 0.5 * (prefix - log_q)  # log(sqrt(K) / sqrt(q))
        sqrt_k = np.exp(0.5 * prefix)
        sqrt_q = np.exp(0.5 * log_q)
        diff = np.maximum(sqrt_k - sqrt_q, 0.0) + 1e-12 * sqrt_k
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            ub = diff * diff / np.maximum(N, 1e-300) * (1.0 + _REL) + 2.0
        # K < q: the real-valued output stays below q*x, so the exact profit is <= 0 (premium rounds >= -0.5)
        return np.where(half_gap > -STAGE1_MARGIN, ub, 0.0)

    def screen(self, dirs_t: np.ndarray, log_q: np.ndarray, threshold: np.ndarray) -> np.ndarray:
        """Mask of the cycles (columns of ``dirs_t``) that survive both stages (``threshold``: least profit
        after premium worth having, per cycle, in raw loan-token units)."""
        keep = self.stage1(dirs_t)
        if keep.any():
            idx = np.flatnonzero(keep)
            ub = self.profit_bound(dirs_t[:, idx], log_q[idx])
            keep[idx[ub <= threshold[idx]]] = False
        return keep
