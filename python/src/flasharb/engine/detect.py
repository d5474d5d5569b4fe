"""Detection: screen, size and rank every cycle; the engine the bot drives.

``OpportunityEngine`` is the pure core (no I/O): given pools, their state (a mapping the syncer keeps current)
and the lenders, ``evaluate`` screens all cycles, sizes the survivors exactly and returns ranked,
non-conflicting opportunities; ``update(changed)`` re-does only the cycles through pools whose state changed
and re-ranks with the cached results of the others.

Ranking is by net profit valued in the native token (loan tokens differ in units); selection is greedy down
that ranking, skipping any cycle that shares a pool with one already chosen, so no two opportunities of one
block touch the same pool.

``Engine`` wires the I/O stages to it for one chain: registry (factory events, SQLite), state sync (lens +
logs, reorg-safe), lender book, gas price. The bot calls ``start()`` once and ``step()`` per block.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from flasharb.engine.config import EngineConfig
from flasharb.engine.cycles import CycleSet, build_cycles
from flasharb.engine.errors import StateSyncError
from flasharb.engine.lenders import HALF_UP, FlashSource, LenderBook, load_lender_book
from flasharb.engine.pricing import TokenPricer
from flasharb.engine.registry import PoolRegistry
from flasharb.engine.rpc import ChainReader, HttpRpc
from flasharb.engine.screen import Screener
from flasharb.engine.sizing import Estimate, Sizing, V2Hop, V3Hop, confirm, optimum, reaches
from flasharb.engine.state import StateSync, SyncUpdate
from flasharb.engine.types import BlockRef, CycleHop, Opportunity, PoolInfo, PoolKind, PoolState, V2State
from flasharb.exceptions import ConfigError
from flasharb.route import Plan, V2Step, V3Step, encode_plan

__all__ = ["OpportunityEngine", "Engine", "EvaluationStats"]


@dataclass(slots=True)
class _Sized:
    """A cycle's best sizing at the current state: the closed form (``estimate``), and once the selection has
    looked at it, the wei-exact check (``exact``: amounts per hop, or None while unchecked)."""

    cycle: int
    start: int  # token index of the loan token
    dirs: list[int]
    source: FlashSource
    estimate: Estimate
    gas_units: int
    exact: Sizing | None = None
    hop_amounts: list[tuple[int, int]] | None = None
    cycle_hops: tuple[CycleHop, ...] | None = None
    steps: tuple[V2Step | V3Step, ...] | None = None
    addresses: tuple[str, ...] = ()

    pools: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        self.pools = frozenset(d >> 1 for d in self.dirs)

    @property
    def profit(self) -> int:
        return self.exact.profit if self.exact is not None else self.estimate.profit


@dataclass(slots=True)
class EvaluationStats:
    """What the last evaluation did (for metrics and the benchmark)."""

    full: bool = False
    cycles: int = 0
    stage1: int = 0
    stage2: int = 0
    sized: int = 0
    profitable: int = 0
    selected: int = 0
    ms: dict[str, float] = field(default_factory=dict)


class OpportunityEngine:
    """Screens, sizes and ranks the cycles over ``pools`` whose state ``states`` holds (address -> state).

    Sizing is lazy by default: the screen leaves each surviving cycle an upper bound on its net profit, and
    the selection pops candidates best-bound-first, sizing (closed form) and then confirming (exact) a cycle
    only when it reaches the top, and skipping unsized any cycle that shares a pool with one already chosen.
    Every key is an upper bound of the next (bound >= closed form ~ exact), so the result is the same greedy
    selection as sizing everything first (``eager=True`` does that, for comparison and tests).

    ``screen_gas_headroom``: the screen drops a cycle only if it cannot pay this share of the current gas
    cost; a later ``update`` with a gas price below that re-screens everything (``evaluate``).
    """

    def __init__(
        self,
        config: EngineConfig,
        pools: Sequence[PoolInfo],
        states: Mapping[str, PoolState],
        lenders: LenderBook,
        *,
        screen_gas_headroom: float = 0.5,
        cycles: CycleSet | None = None,
        eager: bool = False,
    ) -> None:
        self.config = config
        self.eager = eager
        self.states = states
        self.lenders = lenders
        self.headroom = screen_gas_headroom
        self.pools = list(pools)
        self.index = {p.address: i for i, p in enumerate(self.pools)}
        loan = self._loan_tokens()
        self.cycles = cycles or build_cycles(self.pools, loan, max_hops=config.max_hops)
        cs = self.cycles
        self.token_index = {t: i for i, t in enumerate(cs.tokens)}
        n_pools = len(self.pools)
        src = np.empty(2 * n_pools, dtype=np.int64)
        dst = np.empty(2 * n_pools, dtype=np.int64)
        for i, p in enumerate(self.pools):
            a, b = self.token_index.get(p.token0, 0), self.token_index.get(p.token1, 0)
            src[2 * i], dst[2 * i], src[2 * i + 1], dst[2 * i + 1] = a, b, b, a
        self.screener = Screener(n_pools)
        native = self.token_index.get(config.native_token, -1)
        self.pricer = TokenPricer(len(cs.tokens), native, src, dst)
        # per-cycle constants: cheapest gas of the shape, log of the cheapest premium factor
        gas = config.gas
        n_v3 = cs.n_v3.astype(np.int64)
        n_v2 = cs.n_hops.astype(np.int64) - n_v3
        self._gas_lb = (gas.lower_bound(0, 0) + n_v2 * gas.v2_hop + n_v3 * gas.v3_hop).astype(np.float64)
        self._log_q = self._cheapest_log_q()
        self._hops: dict[int, V2Hop | V3Hop | None] = {}
        self._steps: dict[int, V2Step | V3Step] = {}
        self._results: dict[int, _Sized | None] = {}  # sized cycles (None: sized, nothing worth having)
        self._ub = np.full(len(cs), -np.inf)  # screen survivors: bound on profit after premium (token units)
        self._thr = np.zeros(len(cs))  # the screen's threshold for them
        self._max_loan = {t: cap for t in cs.tokens if (cap := self._configured_cap(t)) is not None}
        self._pool_of = cs.dirs >> 1  # [C, H] pool of each hop (padding: len(pools), never chosen)
        self._screen_gas_price: float | None = None
        self._gas_price = 0
        self.stats = EvaluationStats()

    # ------------------------------------------------------------------ setup helpers
    def _cheapest_log_q(self) -> np.ndarray:
        """Per cycle: log(1 + the cheapest premium rate of its loan token), what the screen may assume."""
        cs = self.cycles
        log_q_token = np.full(len(cs.tokens), np.inf)
        for t, i in self.token_index.items():
            rate = self.lenders.cheapest_rate(t)
            if rate is not None:
                log_q_token[i] = math.log1p(rate[0] / rate[1])
        return log_q_token[cs.start] if len(cs) else np.zeros(0)

    def set_lenders(self, lenders: LenderBook) -> None:
        """New lender liquidity and premiums (same loan tokens); the next ``update`` is a full pass."""
        self.lenders = lenders
        self._log_q = self._cheapest_log_q()
        self._screen_gas_price = None

    def _loan_tokens(self) -> list[str]:
        lendable = set(self.lenders.tokens)
        if self.config.loan_tokens is None:
            return sorted(lendable)
        return [
            self.config.token(t).address
            for t in self.config.loan_tokens
            if self.config.token(t).address in lendable
        ]

    def _configured_cap(self, token: str) -> int | None:
        try:
            return self.config.max_loan_of(token) if self.config.risk.max_loan else None
        except ConfigError:  # a pool token outside the configured universe
            return None

    def _hop(self, d: int) -> V2Hop | V3Hop | None:
        try:
            return self._hops[d]
        except KeyError:
            pass
        pool = self.pools[d >> 1]
        zfo = not (d & 1)
        state = self.states.get(pool.address)
        hop: V2Hop | V3Hop | None
        if state is None:
            hop = None
        elif type(state) is V2State:
            r_in, r_out = (state.reserve0, state.reserve1) if zfo else (state.reserve1, state.reserve0)
            hop = V2Hop(r_in, r_out, pool.fee_pips) if r_in > 0 and r_out > 0 else None
        else:
            hop = V3Hop(state, zfo)
        self._hops[d] = hop
        return hop

    def _step(self, d: int) -> V2Step | V3Step:
        step = self._steps.get(d)
        if step is None:
            pool = self.pools[d >> 1]
            zfo = not (d & 1)
            if pool.kind is PoolKind.V2:
                step = V2Step(pool.address, zfo, pool.fee_pips)
            else:
                step = V3Step(pool.address, zfo, pool.token0 if zfo else pool.token1)
            self._steps[d] = step
        return step

    def _refresh_rows(self, pool_indexes: Iterable[int]) -> None:
        states, pools, screener, hops = self.states, self.pools, self.screener, self._hops
        for i in pool_indexes:
            p = pools[i]
            screener.set_rows(i, screener.rows(states.get(p.address), p.fee_pips))
            hops.pop(2 * i, None)
            hops.pop(2 * i + 1, None)

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, block: BlockRef, gas_price: int) -> list[Opportunity]:
        """Full pass: every pool's rows, prices, every cycle screened and the survivors sized."""
        t0 = time.perf_counter()
        stats = EvaluationStats(full=True)
        self.screener.load(self.pools, self.states)
        self._hops.clear()
        self.pricer.rebuild(self.screener.mid, self.screener.depth)
        t1 = time.perf_counter()
        self._gas_price = gas_price
        self._screen_gas_price = gas_price * self.headroom
        self._results = {}
        self._ub[:] = -np.inf
        self._evaluate(np.arange(len(self.cycles), dtype=np.int64), stats)
        t2 = time.perf_counter()
        out = self._select(block, gas_price, stats)
        t3 = time.perf_counter()
        stats.ms = {
            "state": (t1 - t0) * 1e3,
            "screen+size": (t2 - t1) * 1e3,
            "select": (t3 - t2) * 1e3,
            "total": (t3 - t0) * 1e3,
        }
        self.stats = stats
        return out

    def update(self, changed: Iterable[str], block: BlockRef, gas_price: int) -> list[Opportunity]:
        """Incremental pass after a block: only the cycles through ``changed`` pools are re-sized."""
        if self._screen_gas_price is None or gas_price < self._screen_gas_price:
            return self.evaluate(block, gas_price)
        t0 = time.perf_counter()
        stats = EvaluationStats(full=False)
        idx = sorted({self.index[a] for a in changed if a in self.index})
        self._refresh_rows(idx)
        if self.pricer.tree_pools.intersection(idx):
            self.pricer.refresh(self.screener.mid)
        self._gas_price = gas_price
        cids = self.cycles.cycles_of(idx).astype(np.int64)
        results = self._results
        if results:
            affected = np.zeros(len(self.cycles), dtype=bool)
            affected[cids] = True
            for c in [c for c in results if affected[c]]:
                del results[c]
        t1 = time.perf_counter()
        self._evaluate(cids, stats)
        t2 = time.perf_counter()
        out = self._select(block, gas_price, stats)
        t3 = time.perf_counter()
        stats.ms = {
            "state": (t1 - t0) * 1e3,
            "screen+size": (t2 - t1) * 1e3,
            "select": (t3 - t2) * 1e3,
            "total": (t3 - t0) * 1e3,
        }
        self.stats = stats
        return out

    def _thresholds(self, cids: np.ndarray) -> np.ndarray:
        """Least profit after premium worth sizing for, per cycle: the cheapest gas of its shape at the screen
        gas price plus the minimum net profit, in loan-token units (inf when the token cannot be priced)."""
        price = self.pricer.price[self.cycles.start[cids]]
        native = self._gas_lb[cids] * float(self._screen_gas_price or 0) + float(
            self.config.risk.min_net_profit_native
        )
        return np.where(np.isnan(price), np.inf, native * np.nan_to_num(price))

    def _evaluate(self, cids: np.ndarray, stats: EvaluationStats) -> None:
        """Screens ``cids`` (old results gone); survivors get their bound, and are sized now if eager."""
        stats.cycles += len(cids)
        if not len(cids):
            return
        cs = self.cycles
        self._ub[cids] = -np.inf
        dirs_t = cs.dirs_t if len(cids) == len(cs) else cs.dirs_t[:, cids]
        keep1 = self.screener.stage1(dirs_t)
        stats.stage1 += int(keep1.sum())
        idx = np.flatnonzero(keep1)
        if not idx.size:
            return
        thresholds = self._thresholds(cids[idx])
        ub = self.screener.profit_bound(dirs_t[:, idx], self._log_q[cids[idx]])
        keep2 = ub > thresholds
        survivors = cids[idx[keep2]]
        stats.stage2 += int(survivors.size)
        self._ub[survivors] = ub[keep2]
        self._thr[survivors] = thresholds[keep2]
        if self.eager:
            for c, thr in zip(survivors.tolist(), thresholds[keep2].tolist()):
                stats.sized += 1
                self._results[c] = self._size(c, thr)

    def _size(self, c: int, threshold: float) -> _Sized | None:
        """The closed-form best sizing of cycle ``c`` over its loan token's lenders (cheapest first)."""
        if not math.isfinite(threshold):
            return None
        cs = self.cycles
        n = int(cs.n_hops[c])
        dirs = cs.dirs[c, :n].tolist()
        hops = []
        for d in dirs:
            h = self._hop(d)
            if h is None:
                return None
            hops.append(h)
        start = int(cs.start[c])
        token = cs.tokens[start]
        n_v3 = int(cs.n_v3[c])
        util = self.config.risk.lender_utilisation_pips
        max_loan = self._max_loan.get(token)
        thr = int(threshold)
        best: _Sized | None = None
        best_net = -math.inf
        price = float(self.pricer.price[start])
        for src in self.lenders.sources(token):
            cap = src.available * util // 1_000_000
            if max_loan is not None:
                cap = min(cap, max_loan)
            if cap <= 0:
                continue
            est = optimum(
                hops,
                premium_num=src.premium_num,
                premium_den=src.premium_den,
                premium_half_up=src.rounding == HALF_UP,
                cap=cap,
            )
            if est is None:
                break  # nothing earns with the cheapest premium: a dearer lender cannot do better
            if not reaches(est, thr):
                if not est.capped:
                    break
                continue
            gas_units = self.config.gas.estimate(src.lender, n - n_v3, n_v3, est.crossed)
            net = est.profit - gas_units * self._gas_price * price
            if net > best_net:
                best, best_net = _Sized(c, start, dirs, src, est, gas_units), net
            if not est.capped or est.unconstrained <= cap:
                break  # the cheapest lender that covers the optimum: a dearer one cannot do better
        return best

    def _confirm(self, r: _Sized) -> bool:
        """Runs the exact check of ``r`` (once); False if the exact math finds no profit."""
        if r.exact is not None:
            return True
        hops = [self._hop(d) for d in r.dirs]
        src = r.source
        exact = confirm(
            hops,
            r.estimate.amount_in,
            premium_num=src.premium_num,
            premium_den=src.premium_den,
            premium_half_up=src.rounding == HALF_UP,
            capped=r.estimate.capped,
            estimate=r.estimate,
        )
        if exact is None:
            return False
        amounts = []
        x = exact.amount_in
        for h in hops:
            out = h.amount_out(x)  # type: ignore[union-attr]
            amounts.append((x, out))
            x = out
        r.exact = exact
        r.hop_amounts = amounts
        n_v3 = sum(type(h) is V3Hop for h in hops)
        r.gas_units = self.config.gas.estimate(src.lender, len(hops) - n_v3, n_v3, exact.crossed)
        return True

    # ------------------------------------------------------------------ selection
    def _select(self, block: BlockRef, gas_price: int, stats: EvaluationStats) -> list[Opportunity]:
        """Greedy by net profit valued in native, no pool twice, evaluated lazily (see the class docstring):
        heap entries are (-key, cycle, level) with level 0 = screen bound, 1 = closed form, 2 = exact."""
        cs = self.cycles
        prices = self.pricer.price
        price_list = prices.tolist()
        min_native = self.config.risk.min_net_profit_native
        results = self._results

        def key(r: _Sized) -> tuple[float, int, int] | None:
            p = price_list[r.start]
            if not p > 0:  # NaN or zero: cannot price gas in this token
                return None
            gas_cost = math.ceil(r.gas_units * gas_price * p)
            min_net = math.ceil(min_native * p)
            net = r.profit - gas_cost
            if net <= 0 or net < min_net:
                return None
            return net / p, gas_cost, min_net

        # screen bounds in native (bound - cheapest gas of the shape); cycles already sized go to the heap
        surv = np.flatnonzero(self._ub > -np.inf)
        p = prices[cs.start[surv]]
        with np.errstate(invalid="ignore", divide="ignore"):
            bound_native = self._ub[surv] / p - self._gas_lb[surv] * float(gas_price)
        ok = (p > 0) & (bound_native > 0) & (bound_native >= float(min_native))
        heap: list[tuple[float, int, int]] = []
        if results:
            sized_mask = np.zeros(len(cs), dtype=bool)
            sized_mask[np.fromiter(results.keys(), dtype=np.int64, count=len(results))] = True
            ok &= ~sized_mask[surv]
            for c, r in results.items():
                if r is not None and (k := key(r)) is not None:
                    heap.append((-k[0], c, 2 if r.exact is not None else 1))
            heapq.heapify(heap)
        order = np.argsort(-bound_native[ok], kind="stable")
        bound_all_c = surv[ok][order]
        bound_all_v = bound_native[ok][order]
        n_bound = len(bound_all_c)
        # bound entries are read in chunks (their pools with them); a cycle through a pool in ``used`` is skipped
        pool_of = self._pool_of
        used: set[int] = set()
        out = []
        sized = 0
        bound_c: list[int] = []
        bound_v: list[float] = []
        bound_p: list[list[int]] = []
        i = n_c = pos = 0
        chunk = 256
        limit = self.config.max_opportunities
        while limit is None or len(out) < limit:
            if i >= n_c and pos < n_bound:
                cs_chunk = bound_all_c[pos : pos + chunk]
                bound_c = cs_chunk.tolist()
                bound_p = pool_of[cs_chunk].tolist()
                bound_v = bound_all_v[pos : pos + chunk].tolist()
                n_c = len(bound_c)
                pos += chunk
                i = 0
                continue
            if heap and (i >= n_c or -heap[0][0] >= bound_v[i]):
                _, c, level = heapq.heappop(heap)
            elif i < n_c:
                c, level, hop_pools = bound_c[i], 0, bound_p[i]
                i += 1
                if not used.isdisjoint(hop_pools):
                    continue
            else:
                break
            if level == 0:
                sized += 1
                r = results[c] = self._size(c, float(self._thr[c]))
                if r is not None and (k := key(r)) is not None:
                    heapq.heappush(heap, (-k[0], c, 1))
                continue
            r = results[c]
            assert r is not None
            if not used.isdisjoint(r.pools):
                continue
            if level == 1:
                if not self._confirm(r):
                    results[c] = None
                    continue
                k = key(r)
                if k is not None:
                    heapq.heappush(heap, (-k[0], c, 2))
                continue
            k = key(r)
            if k is None:
                continue
            used |= r.pools
            out.append(self._opportunity(r, k[1], k[2], block, gas_price))
        stats.sized += sized
        stats.profitable = sum(1 for r in results.values() if r is not None)
        stats.selected = len(out)
        return out

    def _opportunity(
        self, r: _Sized, gas_cost: int, min_net: int, block: BlockRef, gas_price: int
    ) -> Opportunity:
        token = self.cycles.tokens[r.start]
        s = r.exact
        assert s is not None and r.hop_amounts is not None
        if r.cycle_hops is None or r.steps is None:
            hops: list[CycleHop] = []
            steps: list[V2Step | V3Step] = []
            for d, (amount_in, amount_out) in zip(r.dirs, r.hop_amounts):
                pool = self.pools[d >> 1]
                zfo = not (d & 1)
                token_in, token_out = (pool.token0, pool.token1) if zfo else (pool.token1, pool.token0)
                fee = pool.fee_pips
                hops.append(
                    CycleHop(
                        pool.address,
                        pool.kind,
                        pool.dex,
                        zfo,
                        token_in,
                        token_out,
                        fee,
                        amount_in,
                        amount_out,
                    )
                )
                steps.append(self._step(d))
            r.cycle_hops, r.steps = tuple(hops), tuple(steps)
            r.addresses = tuple(h.pool for h in hops)
        min_profit = gas_cost + min_net
        plan = Plan(
            lender=r.source.lender,
            deadline=block.number + self.config.deadline_blocks,
            token=token,
            amount_in=s.amount_in,
            min_profit=min_profit,
            steps=r.steps,
        )
        return Opportunity(
            chain_id=self.config.chain_id,
            block_number=block.number,
            block_hash=block.hash,
            deadline_block=plan.deadline,
            cycle=r.cycle_hops,
            lender=r.source.lender,
            loan_token=token,
            amount_in=s.amount_in,
            expected_out=s.amount_out,
            gross_profit=s.amount_out - s.amount_in,
            flash_premium=s.premium,
            gas_estimate=r.gas_units,
            gas_price=gas_price,
            gas_cost=gas_cost,
            net_profit=s.profit - gas_cost,
            min_profit=min_profit,
            plan=encode_plan(plan),
            pools=r.addresses,
            capped=s.capped,
        )


class Engine:
    """The engine on one chain: ``start()`` discovers pools, reads their state, the lenders and the gas price
    and
    returns the first opportunities; ``step()`` per block follows the chain (reorg-safe) and returns the
    opportunities of the new head. ``gas_price`` fixes the gas price (else ``eth_gasPrice`` each step)."""

    def __init__(
        self,
        config: EngineConfig,
        rpc: ChainReader,
        lens,
        *,
        registry_path: str | Path = ":memory:",
        gas_price: int | None = None,
        rescan_every: int = 100,
        screen_gas_headroom: float = 0.5,
    ) -> None:
        self.config = config
        self.rpc = rpc
        self.lens = lens
        self.registry = PoolRegistry(config, registry_path)
        self.fixed_gas_price = gas_price
        self.rescan_every = rescan_every
        self.headroom = screen_gas_headroom
        self.sync: StateSync | None = None
        self.core: OpportunityEngine | None = None
        self.lenders: LenderBook | None = None
        self.last_update: SyncUpdate | None = None
        self.last_gas_price: int | None = None  # what the last start/step costed gas at
        self._steps = 0
        self._owned: list = []  # clients this engine opened (connect) and closes

    @classmethod
    def connect(
        cls, config: EngineConfig, rpc_url: str, *, forge_out: Path | None = None, **kwargs
    ) -> Engine:
        from flasharb.lens import PoolLensClient

        lens = PoolLensClient(
            rpc_url,
            forge_out=forge_out,
            batch_size=config.lens_batch_size,
            words_each_side=config.lens_words_each_side,
        )
        engine = cls(config, HttpRpc(rpc_url), lens, **kwargs)
        engine._owned = [engine.rpc, lens]
        return engine

    def gas_price(self) -> int:
        """The gas price plans are costed at: the fixed one, else the node's ``eth_gasPrice``."""
        if self.fixed_gas_price is not None:
            return self.fixed_gas_price
        return int(self.rpc.call("eth_gasPrice", []), 16)

    def check_consistency(self, *, repair: bool = False):
        """The syncer's drift check against a fresh lens snapshot (``StateSync.check_consistency``)."""
        if self.sync is None:
            raise StateSyncError("Engine.start() has not run")
        return self.sync.check_consistency(repair=repair)

    def _build_core(self) -> None:
        assert self.sync is not None and self.lenders is not None
        pools = self.registry.pools()
        self.core = OpportunityEngine(
            self.config, pools, self.sync.states, self.lenders, screen_gas_headroom=self.headroom
        )

    def start(self) -> list[Opportunity]:
        """Discovers pools (resuming the registry's scan), reads them all at the head, reads the lenders,
        builds
        the cycles and returns the head's opportunities."""
        self.registry.sync(self.rpc)
        self.sync = StateSync(
            self.rpc, self.lens, self.registry.pools(), max_reorg_depth=self.config.max_reorg_depth
        )
        head = self.sync.bootstrap()
        self.lenders = load_lender_book(self.rpc, self.config, block=head.number)
        self._build_core()
        assert self.core is not None
        self.last_gas_price = self.gas_price()
        return self.core.evaluate(head, self.last_gas_price)

    def step(self) -> list[Opportunity]:
        """Follows the chain to its head and returns the head's opportunities. Every ``rescan_every`` steps it
        also looks for new pools and re-reads the lenders (then re-evaluates everything); otherwise only the
        cycles through pools that changed (logs, rollbacks, re-reads) are re-sized."""
        if self.sync is None or self.core is None:
            raise StateSyncError("Engine.start() has not run")
        self._steps += 1
        update = self.sync.poll()
        self.last_update = update
        if self._steps % self.rescan_every == 0:
            new = self.registry.sync(self.rpc)
            if new:
                self.sync.add_pools(new)
            book = load_lender_book(self.rpc, self.config, block=update.head.number)
            self.lenders = book
            if new or set(book.tokens) != set(self.core.lenders.tokens):
                self._build_core()  # new pools or loan tokens: new cycles
            else:
                self.core.set_lenders(book)
            self.last_gas_price = self.gas_price()
            return self.core.evaluate(update.head, self.last_gas_price)
        self.last_gas_price = self.gas_price()
        if update.full_resync:
            return self.core.evaluate(update.head, self.last_gas_price)
        return self.core.update(update.changed, update.head, self.last_gas_price)

    def close(self) -> None:
        self.registry.close()
        for client in self._owned:
            client.close()
        self._owned = []
