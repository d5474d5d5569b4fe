"""The bot's opportunity source when it runs more than one strategy: the arbitrage engine (which follows the
chain and syncs the pools) and the liquidation strategy (which reads the same head and sells seized
collateral through the same synced pools), weighed against each other for one risk budget.

Per head, both lists are merged greedily by net value in the native token, and an opportunity that shares a
pool with a better one of the same head is dropped (its predicted output assumed that pool untouched); the
risk manager then applies the same limits to whatever is left. The surface is the ``Engine``'s one (``start``,
``step``, ``last_update``, ``close``), so ``Bot`` runs it unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from flasharb.engine.state import SyncUpdate
from flasharb.engine.types import BlockRef, Opportunity

__all__ = ["HeadStrategy", "StrategySet", "merge_by_value", "native_value"]


class HeadStrategy(Protocol):
    """A strategy that acts on the head the engine has synced to (``flasharb.aave.strategy``)."""

    def start(self, head: BlockRef) -> list[Opportunity]: ...

    def step(self, update: SyncUpdate) -> list[Opportunity]: ...

    def close(self) -> None: ...


def native_value(opp: Opportunity) -> float:
    """Net profit in the native token: the opportunity's own gas costing fixes its token's price."""
    if opp.gas_cost > 0 and opp.gas_estimate > 0 and opp.gas_price > 0:
        return opp.net_profit * (opp.gas_estimate * opp.gas_price) / opp.gas_cost
    return float(opp.net_profit)


def merge_by_value(*lists: Sequence[Opportunity]) -> list[Opportunity]:
    """All opportunities, best native value first, none sharing a pool (or a liquidated user) with a better one."""
    merged = sorted((o for lst in lists for o in lst), key=native_value, reverse=True)
    used: set[str] = set()
    out = []
    for opp in merged:
        keys = {p.lower() for p in opp.pools}
        if opp.liquidation is not None:
            keys.add("user:" + opp.liquidation.user.lower())
        if keys & used:
            continue
        used |= keys
        out.append(opp)
    return out


class StrategySet:
    """The arbitrage ``engine`` plus ``strategies`` that act on the engine's head."""

    def __init__(self, engine: Any, strategies: Sequence[HeadStrategy]) -> None:
        self.engine = engine
        self.strategies = list(strategies)

    @property
    def last_update(self) -> SyncUpdate | None:
        return self.engine.last_update

    def start(self) -> list[Opportunity]:
        arbitrage = self.engine.start()
        head = self.engine.sync.head if self.engine.sync is not None else None
        others = [s.start(head) for s in self.strategies] if head is not None else []
        return merge_by_value(arbitrage, *others)

    def step(self) -> list[Opportunity]:
        for s in self.strategies:  # their reads overlap the engine's sync
            prefetch = getattr(s, "prefetch", None)
            if prefetch is not None:
                prefetch()
        arbitrage = self.engine.step()
        update = self.engine.last_update
        return merge_by_value(arbitrage, *(s.step(update) for s in self.strategies))

    def close(self) -> None:
        for s in self.strategies:
            s.close()
        self.engine.close()
