"""The liquidation strategy: per head, the Aave V3 borrowers whose health factor is below 1, each turned into an
executor plan (liquidation step, then the swap of the seized collateral back to the debt asset) sized for the
most profit after the flash premium and gas.

Stages per head (the arbitrage engine has already synced the pools to it):
collect (the Pool's events: ``BorrowerBook.sync``) -> sync (the lens: the market every block, the touched
positions) -> detect (``HealthScreen``: float screen, exact health factor for its candidates only) -> size
(``best_liquidation`` with exact swap-back quotes through the engine's pools, ``SwapRouter``) -> opportunities.

Exactness: the Pool computes at the block that mines the transaction, a few seconds after the head. Interest
moves balances, not the liquidation's amounts, as long as ``debtToCover`` stays under the close-factor cap and
the seized collateral under the user's balance (both only grow with time). So a plan is kept only when the rules
give the same amounts ``horizon_s`` seconds later; otherwise ``debtToCover`` is shrunk until they do. The
prediction is then exact to the wei, and a competitor who gets there first makes the simulation revert (a
recorded refusal, no gas spent).

A liquidatable position whose liquidation would not pay still becomes an opportunity (with a negative net
profit), so the risk stage refuses it and the reason is on record; a position is offered at most once every
``retry_blocks`` blocks while nothing about it changes.
"""

from __future__ import annotations

import logging
import math
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from flasharb.aave.discovery import BorrowerBook, DiscoveryError
from flasharb.aave.health import HealthScreen, rules_for_revision
from flasharb.aave.lens import AaveLensClient, LensError
from flasharb.aave.sizing import LiquidationPlan, best_liquidation, liquidation_amounts, plan_for
from flasharb.aave.types import MarketSnapshot, UserPosition
from flasharb.engine.paths import SwapPath, SwapRouter
from flasharb.engine.errors import RpcError
from flasharb.engine.rpc import HttpRpc
from flasharb.engine.state import SyncUpdate
from flasharb.engine.types import LIQUIDATION, BlockRef, LiquidationTarget, Opportunity
from flasharb.route import LiquidationStep, Plan, encode_plan

__all__ = ["LiquidationConfig", "LiquidationStats", "LiquidationStrategy", "HealthDrift"]

log = logging.getLogger(__name__)

_ACCOUNT_DATA = "0xbf92857c"  # getUserAccountData(address)


@dataclass(frozen=True, slots=True)
class LiquidationConfig:
    """One Aave V3 market. ``gas_liquidation``: the liquidation step's gas on top of the engine's gas model for
    the lender and the swap hops (the gas benchmark: executor 413k with Balancer and one V2 hop, of which ~245k is the liquidation)."""

    pool: str
    addresses_provider: str
    start_block: int = 0
    a_tokens: tuple[str, ...] = ()  # empty: every reserve's aToken, read from the market at start
    gas_liquidation: int = 250_000
    horizon_s: int = 120
    retry_blocks: int = 25
    max_per_block: int = 8
    drift_checks_per_block: int = 4
    min_net_profit_native: int | None = None  # None: the engine config's

    @classmethod
    def from_replica(cls, aave: Any, **overrides: Any) -> LiquidationConfig:
        """The local replica's market (``flasharb.devchain.ReplicaAave``)."""
        return cls(pool=aave.pool, addresses_provider=aave.pool_addresses_provider, **overrides)

    @classmethod
    def polygon_mainnet(cls, **overrides: Any) -> LiquidationConfig:
        """Aave V3 on Polygon PoS (addresses from @bgd-labs/aave-address-book, AaveV3Polygon); discovery starts
        before the Pool's deployment (March 2022): an earlier start only costs empty log scans."""
        return cls(
            pool="0x794a61358D6845594F94dc1DB02A252b5b4814aD",
            addresses_provider="0xa97684ead0e402dC232d5A977953DF7ECBaB3CDb",
            start_block=25_000_000,
            **overrides,
        )


@dataclass(frozen=True, slots=True)
class HealthDrift:
    """The off-chain health factor against the Pool's ``getUserAccountData`` at one block (wad)."""

    user: str
    block: int
    offchain: int
    onchain: int

    @property
    def exact(self) -> bool:
        return self.offchain == self.onchain


@dataclass(slots=True)
class LiquidationStats:
    borrowers: int = 0
    liquidatable: int = 0
    offered: int = 0
    unprofitable: int = 0
    no_route: int = 0
    drift_checked: int = 0
    drift_mismatches: int = 0
    failures: int = 0  # heads skipped after a failed read
    last_drift: list[HealthDrift] = field(default_factory=list)


class LiquidationStrategy:
    """Liquidations on one market, through the ``engine``'s pools, lenders, token prices and gas model."""

    def __init__(
        self,
        config: LiquidationConfig,
        engine: Any,
        lens: AaveLensClient,
        book: BorrowerBook,
        *,
        owned=(),
        drift_rpc: Any = None,
        prefetch_lens: AaveLensClient | None = None,
    ) -> None:
        self.config = config
        self.engine = engine
        self.lens = lens
        self.book = book
        self.screen: HealthScreen | None = None
        self.market: MarketSnapshot | None = None
        self.router: SwapRouter | None = None
        self._router_core: Any = None  # the engine core the router's pool list came from
        self.stats = LiquidationStats()
        self._offered: dict[str, tuple[int, tuple]] = {}  # user -> (block, what was offered)
        self._owned = list(owned)
        self._drift_rpc = drift_rpc or engine.rpc
        self._drift_pool: ThreadPoolExecutor | None = None
        self._drift_lock = threading.Lock()
        self._prefetch_lens = prefetch_lens or lens
        self._io_pool: ThreadPoolExecutor | None = None
        self._prefetch: Future[MarketSnapshot] | None = None

    @classmethod
    def connect(cls, config: LiquidationConfig, engine: Any, rpc_url: str, *, book_path: str = ":memory:", **kw):
        lens = AaveLensClient(rpc_url, pool=config.pool, addresses_provider=config.addresses_provider, **kw)
        book = BorrowerBook(rpc_url, config.pool, book_path, a_tokens=config.a_tokens, start_block=config.start_block)
        # their own HTTP sessions: the drift checks and the market prefetch run on worker threads
        drift_rpc = HttpRpc(rpc_url)
        prefetch_lens = AaveLensClient(
            rpc_url, pool=config.pool, addresses_provider=config.addresses_provider, **{**kw, "code": lens.code}
        )
        owned = (lens, book, drift_rpc, prefetch_lens)
        return cls(config, engine, lens, book, owned=owned, drift_rpc=drift_rpc, prefetch_lens=prefetch_lens)

    # ------------------------------------------------------------------ the HeadStrategy surface
    def start(self, head: BlockRef) -> list[Opportunity]:
        """Discovers every user from the Pool's events up to ``head``, reads all positions and the market."""
        self.market = self.lens.market(head.number)
        if not self.book.a_tokens:  # aToken transfers move collateral without a Pool event: follow them too
            self.book.a_tokens = tuple(r.a_token for r in self.market.reserves)
        self.book.sync(head.number)
        rules_for_revision(self.market.pool_revision)  # an unmodelled Pool revision fails here, by name
        users = self.book.borrowers()  # a supplier who borrows later is touched by that Borrow
        positions = self.lens.positions(users, head.number) if users else []
        self.screen = HealthScreen(self.market, [p for p in positions if _has_position(p)])
        self._new_router()
        self.stats.borrowers = len(self.screen)
        return self._detect(head)

    def step(self, update: SyncUpdate | None) -> list[Opportunity]:
        """The head's liquidations. A failed read (node, lens, log scan) costs this head's liquidations, never
        the bot's arbitrage: the strategy re-reads everything at the next head."""
        if update is None:
            return []
        try:
            if self.screen is None:
                return self.start(update.head)
            return self._step(update)
        except (LensError, DiscoveryError, RpcError, OSError) as exc:
            log.warning("liquidation strategy skipped block %d (%s); re-reading everything next", update.head.number,
                        exc)  # fmt: skip
            self.screen = None
            self.stats.failures += 1
            return []

    def _step(self, update: SyncUpdate) -> list[Opportunity]:
        assert self.screen is not None and self.market is not None
        head = update.head
        if update.full_resync or update.reorg or self._router_core is not self.engine.core:
            self._new_router()  # the engine re-read everything, or found new pools
        if update.reorg or update.full_resync:
            scan = self.book.sync(head.number)  # checks its own last block against the chain
            touched = set(scan.touched | scan.new_users)
        elif head.number > self.book.last_block:  # the engine has checked the chain up to this head
            scan = self.book.scan(self.book.last_block + 1, head.number, to_hash=head.hash)
            touched = set(scan.touched | scan.new_users)
        else:
            touched = set()
        market = self._prefetched(head)
        if [r.asset for r in market.reserves] != [r.asset for r in self.market.reserves]:  # a new reserve
            self.market = market
            return self.start(head)
        self.market = market
        if touched:
            for pos in self.lens.positions(sorted(touched), head.number):
                if _has_position(pos):
                    self.screen.upsert(pos)
                    self._offered.pop(pos.user, None)  # the position changed: it may be offered again
                elif pos.user in self.screen:
                    self.screen.remove(pos.user)
        self.stats.borrowers = len(self.screen)
        return self._detect(head)

    def _new_router(self) -> None:
        self.router = SwapRouter(self.engine.registry.pools(), self.engine.sync.states)
        self._router_core = self.engine.core

    def prefetch(self) -> None:
        """Starts reading the market at the latest block on a worker thread, while the engine syncs the pools:
        ``step`` uses it when it is the engine's head (else reads again)."""
        if self._io_pool is None:
            self._io_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="aave-prefetch")
        self._prefetch = self._io_pool.submit(self._prefetch_lens.market, "latest")

    def _prefetched(self, head: BlockRef) -> MarketSnapshot:
        future, self._prefetch = self._prefetch, None
        if future is not None:
            try:
                market = future.result()
                if market.block_number == head.number:
                    return market
            except Exception as exc:  # read again below, on this thread
                log.debug("market prefetch failed: %s", exc)
        return self.lens.market(head.number)

    def close(self) -> None:
        if self._io_pool is not None:
            self._io_pool.shutdown(wait=True)
            self._io_pool = None
        if self._drift_pool is not None:
            self._drift_pool.shutdown(wait=True)
            self._drift_pool = None
        for client in self._owned:
            client.close()
        self._owned = []

    # ------------------------------------------------------------------ detect and size
    def _detect(self, head: BlockRef) -> list[Opportunity]:
        assert self.market is not None and self.screen is not None
        market = self.market
        found = self.screen.liquidatable(market, market.block_timestamp)
        self.stats.liquidatable = len(found)
        found.sort(key=lambda pd: pd[1].health_factor)  # the deepest under water first
        self._check_drift([(p.user, d.health_factor) for p, d in found[: self.config.drift_checks_per_block]], head)
        gas_price = self.engine.last_gas_price or self.engine.gas_price()  # the engine's, for this head
        out: list[Opportunity] = []
        used: set[str] = set()  # pools this head's liquidations already sell through
        for position, data in found:
            if len(out) >= self.config.max_per_block:
                break
            opp = self._opportunity(head, position, data.health_factor, gas_price, used)
            if opp is None:
                continue
            if opp.net_profit <= 0:  # refused by the risk stage: on record once, again when something changes
                key = (opp.liquidation.collateral, opp.liquidation.debt, opp.amount_in)
                last = self._offered.get(position.user)
                if last is not None and last[1] == key and head.number - last[0] < self.config.retry_blocks:
                    continue
                self._offered[position.user] = (head.number, key)
            else:
                used.update(opp.pools)
            out.append(opp)
        self.stats.offered += len(out)
        return out

    def _gas(self, lender, path: SwapPath) -> int:
        gas = self.engine.config.gas
        n_v3 = path.n_v3
        return self.config.gas_liquidation + gas.estimate(lender, len(path.hops) - n_v3, n_v3)

    def _opportunity(
        self, head: BlockRef, position: UserPosition, hf: int, gas_price: int, used: set[str]
    ) -> Opportunity | None:
        market, router = self.market, self.router
        assert market is not None and router is not None
        ts = market.block_timestamp
        paths: dict[tuple[str, str], SwapPath | None] = {}

        def quote_back(collateral: str, debt: str, amount: int) -> int:
            # the path is searched once per pair (at the first, largest amount), then quoted exactly
            if (collateral, debt) not in paths:
                paths[collateral, debt] = router.best(collateral, debt, amount, exclude=used)
            found = paths[collateral, debt]
            return 0 if found is None else router.quote_along(found, amount)

        lenders = self.engine.lenders
        debts = [a for a in (*position.scaled_variable_debt, *position.stable_debt) if a in lenders.tokens]
        if not debts:
            return None
        bps = min(_premium_bps(lenders.sources(a)[0]) for a in debts)  # sized at the cheapest premium on offer
        plan = best_liquidation(market, position, quote_back, bps, ts)
        if plan is None or plan.debt_to_cover <= 0 or (plan.reason or "").startswith("refused"):
            return None
        plan = self._stable(market, position, plan, quote_back, bps)
        if plan is None:
            return None
        source = next((s for s in lenders.sources(plan.debt_asset) if s.available >= plan.debt_to_cover), None)
        if source is None:
            log.info("liquidation of %s: no lender for %d of %s", position.user, plan.debt_to_cover, plan.debt_asset)
            return None
        path = router.best(plan.collateral_asset, plan.debt_asset, plan.seized, exclude=used)
        if path is None:
            self.stats.no_route += 1
            log.info("liquidation of %s: no swap path from %s to %s", position.user, plan.collateral_asset,
                     plan.debt_asset)  # fmt: skip
            return None
        debt = plan.debt_asset
        core = self.engine.core
        price = float(core.pricer.price[core.token_index[debt]]) if debt in core.token_index else float("nan")
        if not price > 0:
            return None  # the debt token has no price path to native: gas cannot be costed
        gas_units = self._gas(source.lender, path)
        gas_cost = math.ceil(gas_units * gas_price * price)
        min_native = self.config.min_net_profit_native
        if min_native is None:
            min_native = self.engine.config.risk.min_net_profit_native
        min_profit = gas_cost + math.ceil(min_native * price)
        premium = source.premium(plan.debt_to_cover)
        expected_out = path.amount_out + (plan.debt_to_cover - plan.actual_debt)
        deadline = head.number + self.engine.config.deadline_blocks
        encoded = encode_plan(
            Plan(
                lender=source.lender,
                deadline=deadline,
                token=debt,
                amount_in=plan.debt_to_cover,
                min_profit=min_profit,
                steps=(LiquidationStep(plan.collateral_asset, position.user), *path.steps),
            )
        )
        gross = expected_out - plan.debt_to_cover
        net = gross - premium - gas_cost
        if net <= 0:
            self.stats.unprofitable += 1
        return Opportunity(
            chain_id=market.chain_id,
            block_number=head.number,
            block_hash=head.hash,
            deadline_block=deadline,
            cycle=path.hops,
            lender=source.lender,
            loan_token=debt,
            amount_in=plan.debt_to_cover,
            expected_out=expected_out,
            gross_profit=gross,
            flash_premium=premium,
            gas_estimate=gas_units,
            gas_price=gas_price,
            gas_cost=gas_cost,
            net_profit=net,
            min_profit=min_profit,
            plan=encoded,
            pools=path.pools,
            strategy=LIQUIDATION,
            liquidation=LiquidationTarget(
                user=position.user,
                collateral=plan.collateral_asset,
                debt=debt,
                debt_to_cover=plan.debt_to_cover,
                seized=plan.seized,
                protocol_fee=plan.protocol_fee,
                health_factor=hf,
                pool_revision=market.pool_revision,
            ),
        )

    def _stable(
        self, market: MarketSnapshot, position: UserPosition, plan: LiquidationPlan, quote_back: Any, bps: int
    ) -> LiquidationPlan | None:
        """``plan`` with a ``debtToCover`` whose outcome is the same now and ``horizon_s`` later (uncapped by the
        close factor and the user's collateral), shrunk by 0.1% steps when the cap binds."""
        ts = market.block_timestamp
        d = plan.debt_to_cover
        for _ in range(20):
            now = liquidation_amounts(market, position, plan.collateral_asset, plan.debt_asset, d, ts)
            later = liquidation_amounts(
                market, position, plan.collateral_asset, plan.debt_asset, d, ts + self.config.horizon_s
            )
            if not now.allowed:
                return None
            if (now.actual_debt, now.seized, now.protocol_fee) == (later.actual_debt, later.seized, later.protocol_fee) and (
                now.actual_debt == d
            ):
                return plan if d == plan.debt_to_cover else plan_for(plan.user, now, quote_back, bps)
            d = min(d, now.actual_debt) * 999 // 1000
            if d <= 0:
                return None
        return None

    def _check_drift(self, checks: list[tuple[str, int]], head: BlockRef) -> None:
        """The Pool's own health factor for the candidates at ``head`` against ours, on a worker thread so the
        head's opportunities never wait for it (only candidates pay these calls)."""
        if not checks:
            return
        if self._drift_pool is None:
            self._drift_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hf-drift")
        self._drift_pool.submit(self._drift_calls, checks, head.number)

    def _drift_calls(self, checks: list[tuple[str, int]], block: int) -> None:
        for user, offchain in checks:
            data = _ACCOUNT_DATA + user[2:].lower().rjust(64, "0")
            try:
                raw = self._drift_rpc.call("eth_call", [{"to": self.config.pool, "data": data}, hex(block)])
                onchain = int(raw[2 + 5 * 64 : 2 + 6 * 64], 16)
            except Exception as exc:  # a failed check is logged, never fatal
                log.warning("health factor check of %s failed: %s", user, exc)
                continue
            drift = HealthDrift(user, block, offchain, onchain)
            with self._drift_lock:
                self.stats.drift_checked += 1
                if not drift.exact:
                    self.stats.drift_mismatches += 1
                    log.warning("health factor drift for %s at %d: off-chain %d, Pool %d", user, block, offchain,
                                onchain)  # fmt: skip
                self.stats.last_drift = [*self.stats.last_drift[-31:], drift]

    def wait_for_drift_checks(self) -> None:
        """Blocks until the checks submitted so far are done (tests and reports)."""
        if self._drift_pool is not None:
            self._drift_pool.submit(lambda: None).result()


def _has_position(p: UserPosition) -> bool:
    return bool(p.scaled_variable_debt or p.stable_debt)


def _premium_bps(source: Any) -> int:
    """The source's premium in basis points (Aave: bps exactly; Balancer: 0)."""
    if source.premium_num == 0:
        return 0
    bps = source.premium_num * 10_000 // source.premium_den
    if bps * source.premium_den != source.premium_num * 10_000:
        raise ValueError(f"premium {source.premium_num}/{source.premium_den} is not whole basis points")
    return bps
