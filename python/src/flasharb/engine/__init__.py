"""The opportunity engine (issue 5): pools -> state -> cycles -> screen -> exact sizing -> ranked
opportunities.

One module per job, typed records between them, no global state, no I/O in the maths:

- ``config``: ``EngineConfig`` (Polygon mainnet and the replica in one format);
- ``registry``: pool discovery from factory events, persisted in SQLite;
- ``state``: lens snapshot + per-block log updates, reorg rollback, drift check;
- ``lenders``: flash sources (Aave V3, Balancer V2) with their exact premiums and liquidity;
- ``cycles``: every 2..N-hop cycle from a loan token, indexed by pool;
- ``screen``: the vectorised numpy first pass;
- ``sizing``: exact integer optimal input (Möbius composition, piecewise over V3 ticks);
- ``pricing``: native-token prices from the pools, for gas costs;
- ``detect``: ``OpportunityEngine`` (pure core) and ``Engine`` (wired to a chain);
- ``types``: ``PoolInfo``, ``V2State``, ``BlockRef``, ``Opportunity`` (the serialisable message).
"""

from __future__ import annotations

from flasharb.engine.config import DexConfig, EngineConfig, GasModel, RiskLimits
from flasharb.engine.detect import Engine, EvaluationStats, OpportunityEngine
from flasharb.engine.lenders import FlashSource, LenderBook, load_lender_book
from flasharb.engine.registry import PoolRegistry
from flasharb.engine.state import StateSync
from flasharb.engine.types import BlockRef, CycleHop, Opportunity, PoolInfo, PoolKind, V2State

__all__ = [
    "BlockRef",
    "CycleHop",
    "DexConfig",
    "Engine",
    "EngineConfig",
    "EvaluationStats",
    "FlashSource",
    "GasModel",
    "LenderBook",
    "Opportunity",
    "OpportunityEngine",
    "PoolInfo",
    "PoolKind",
    "PoolRegistry",
    "RiskLimits",
    "StateSync",
    "V2State",
    "load_lender_book",
]
