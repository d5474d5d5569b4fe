"""The best exact swap path between two tokens through the engine's pools: how a liquidation sells what it
seized for the debt it repaid.

Paths of one or two hops (every pool joining the two tokens, and every pool pair through one intermediate
token) are quoted with the same exact integer math the arbitrage sizing uses (``V2Hop``/``V3Hop``), at the
state the engine synced; a pool the math cannot fill (V3 beyond its known window, empty reserves) is skipped.
``exclude`` keeps pools another opportunity of the same block already uses out of the path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from flasharb.engine.sizing import V2Hop, V3Hop
from flasharb.engine.types import CycleHop, PoolInfo, PoolKind, PoolState, V2State
from flasharb.math import MathError
from flasharb.route import V2Step, V3Step

__all__ = ["SwapPath", "SwapRouter"]


@dataclass(frozen=True, slots=True)
class SwapPath:
    """An exact quote: ``hops`` (with their amounts) and the plan ``steps`` that execute them."""

    hops: tuple[CycleHop, ...]
    steps: tuple[V2Step | V3Step, ...]
    amount_in: int
    amount_out: int

    @property
    def pools(self) -> tuple[str, ...]:
        return tuple(h.pool for h in self.hops)

    @property
    def n_v3(self) -> int:
        return sum(1 for h in self.hops if h.kind is PoolKind.V3)


class SwapRouter:
    """Exact 1- and 2-hop quotes over ``pools`` whose current states ``states`` holds (address -> state, the
    engine's live mapping: quotes always see the latest sync)."""

    def __init__(self, pools: Sequence[PoolInfo], states: Mapping[str, PoolState], *, max_hops: int = 2) -> None:
        if max_hops not in (1, 2):
            raise ValueError(f"max_hops must be 1 or 2, not {max_hops}")
        self.states = states
        self.max_hops = max_hops
        self._by_pair: dict[frozenset[str], list[PoolInfo]] = {}
        self._by_address = {p.address: p for p in pools}
        self._neighbours: dict[str, set[str]] = {}
        for p in pools:
            self._by_pair.setdefault(frozenset((p.token0, p.token1)), []).append(p)
            self._neighbours.setdefault(p.token0, set()).add(p.token1)
            self._neighbours.setdefault(p.token1, set()).add(p.token0)

    def _quote(self, pool: PoolInfo, token_in: str, amount_in: int) -> int | None:
        state = self.states.get(pool.address)
        if state is None or amount_in <= 0:
            return None
        zfo = token_in == pool.token0
        try:
            if isinstance(state, V2State):
                r_in, r_out = (state.reserve0, state.reserve1) if zfo else (state.reserve1, state.reserve0)
                if r_in <= 0 or r_out <= 0:
                    return None
                return V2Hop(r_in, r_out, pool.fee_pips).amount_out(amount_in)
            return V3Hop(state, zfo).amount_out(amount_in)
        except MathError:
            return None

    def _best_hop(self, token_in: str, token_out: str, amount_in: int, exclude: set[str]) -> tuple[PoolInfo, int]:
        best: tuple[PoolInfo, int] | None = None
        for pool in self._by_pair.get(frozenset((token_in, token_out)), ()):
            if pool.address in exclude:
                continue
            out = self._quote(pool, token_in, amount_in)
            if out and (best is None or out > best[1]):
                best = (pool, out)
        return best  # type: ignore[return-value]

    def best(self, token_in: str, token_out: str, amount_in: int, *, exclude: Iterable[str] = ()) -> SwapPath | None:
        """The path with the largest exact output for ``amount_in`` (None: no pool path can take it)."""
        if token_in == token_out or amount_in <= 0:
            return None
        ex = set(exclude)
        legs: list[list[tuple[PoolInfo, str, str, int, int]]] = []
        direct = self._best_hop(token_in, token_out, amount_in, ex)
        if direct is not None:
            legs.append([(direct[0], token_in, token_out, amount_in, direct[1])])
        if self.max_hops == 2:
            for mid in self._neighbours.get(token_in, ()) & self._neighbours.get(token_out, set()):
                first = self._best_hop(token_in, mid, amount_in, ex)
                if first is None:
                    continue
                second = self._best_hop(mid, token_out, first[1], ex | {first[0].address})
                if second is None:
                    continue
                legs.append([(first[0], token_in, mid, amount_in, first[1]),
                             (second[0], mid, token_out, first[1], second[1])])  # fmt: skip
        if not legs:
            return None
        best = max(legs, key=lambda leg: leg[-1][4])
        hops = []
        steps: list[V2Step | V3Step] = []
        for pool, t_in, t_out, a_in, a_out in best:
            zfo = t_in == pool.token0
            hops.append(CycleHop(pool.address, pool.kind, pool.dex, zfo, t_in, t_out, pool.fee_pips, a_in, a_out))
            if pool.kind is PoolKind.V2:
                steps.append(V2Step(pool.address, zfo, pool.fee_pips))
            else:
                steps.append(V3Step(pool.address, zfo, t_in))
        return SwapPath(tuple(hops), tuple(steps), amount_in, best[-1][4])

    def quote_along(self, path: SwapPath, amount_in: int) -> int:
        """Exact output of ``amount_in`` through ``path``'s pools (0 when a hop cannot take it): a sizer that
        tries many amounts quotes one path instead of searching every time."""
        amount = amount_in
        for hop in path.hops:
            pool = self._pool(hop.pool)
            out = self._quote(pool, hop.token_in, amount) if pool is not None else None
            if not out:
                return 0
            amount = out
        return amount

    def _pool(self, address: str) -> PoolInfo | None:
        return self._by_address.get(address)

    def quote(self, token_in: str, token_out: str, amount_in: int, *, exclude: Iterable[str] = ()) -> int:
        """``best(...).amount_out``, 0 when there is no path (the shape a liquidation sizer's ``quote_back`` takes)."""
        path = self.best(token_in, token_out, amount_in, exclude=exclude)
        return 0 if path is None else path.amount_out
