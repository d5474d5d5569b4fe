"""The records passed between the engine's stages: pools, pool state, blocks, cycles and opportunities.

Everything here is a frozen, slotted dataclass (no stage can change a message another one holds). An
``Opportunity`` is self-contained and serialisable (``to_json``/``from_json``: integers as decimal strings, as
in the plan golden vectors, so no consumer loses precision past 2**53) because a later stage ships it over
NATS to separate execution agents.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeAlias

from flasharb.math.uniswap_v3 import V3PoolState
from flasharb.route import Lender, Plan, decode_plan

__all__ = [
    "PoolKind",
    "PoolInfo",
    "V2State",
    "PoolState",
    "BlockRef",
    "CycleHop",
    "LiquidationTarget",
    "Opportunity",
    "ARBITRAGE",
    "LIQUIDATION",
    "OPPORTUNITY_SCHEMA",
]

OPPORTUNITY_SCHEMA = 1

#: Strategy names (the P&L store's ``strategy`` column, the metrics' ``strategy`` label).
ARBITRAGE = "arbitrage"
LIQUIDATION = "liquidation"


class PoolKind(str, Enum):
    """How a pool prices: a constant-product V2 pair (any fork fee) or a concentrated-liquidity V3 pool."""

    V2 = "v2"
    V3 = "v3"


@dataclass(frozen=True, slots=True)
class PoolInfo:
    """A pool's static facts, as its factory announced them. ``fee_pips`` is the fork's fee for a V2 pair
    (from
    the DEX config) and the pool's own fee for V3; ``tick_spacing`` is 0 for V2. Addresses are checksummed."""

    address: str
    kind: PoolKind
    dex: str
    token0: str
    token1: str
    fee_pips: int
    tick_spacing: int = 0
    created_block: int = 0

    def other(self, token: str) -> str:
        return self.token1 if token == self.token0 else self.token0


@dataclass(frozen=True, slots=True)
class V2State:
    """A V2 pair's reserves (what ``Sync`` carries)."""

    reserve0: int
    reserve1: int


#: A pool's swap-relevant state: V2 reserves, or the V3 math package's state record.
PoolState: TypeAlias = "V2State | V3PoolState"


@dataclass(frozen=True, slots=True)
class BlockRef:
    """A block the engine has seen: number, hash and parent hash (0x hex)."""

    number: int
    hash: str
    parent_hash: str = ""


@dataclass(frozen=True, slots=True)
class CycleHop:
    """One hop of an opportunity's cycle: sell ``token_in`` for ``token_out`` in ``pool``."""

    pool: str
    kind: PoolKind
    dex: str
    zero_for_one: bool
    token_in: str
    token_out: str
    fee_pips: int
    amount_in: int
    amount_out: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "pool": self.pool,
            "kind": self.kind.value,
            "dex": self.dex,
            "zeroForOne": self.zero_for_one,
            "tokenIn": self.token_in,
            "tokenOut": self.token_out,
            "feePips": str(self.fee_pips),
            "amountIn": str(self.amount_in),
            "amountOut": str(self.amount_out),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CycleHop:
        return cls(
            pool=d["pool"],
            kind=PoolKind(d["kind"]),
            dex=d["dex"],
            zero_for_one=bool(d["zeroForOne"]),
            token_in=d["tokenIn"],
            token_out=d["tokenOut"],
            fee_pips=int(d["feePips"]),
            amount_in=int(d["amountIn"]),
            amount_out=int(d["amountOut"]),
        )


@dataclass(frozen=True, slots=True)
class LiquidationTarget:
    """The Aave V3 liquidation an opportunity's plan starts with (``LiquidationStep``): repay ``debt_to_cover`` of
    ``user``'s ``debt`` (the loan token) and seize ``seized`` of ``collateral`` (after the protocol fee), as the
    deployed Pool revision computes it at ``health_factor`` (wad)."""

    user: str
    collateral: str
    debt: str
    debt_to_cover: int
    seized: int
    protocol_fee: int
    health_factor: int
    pool_revision: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "user": self.user,
            "collateral": self.collateral,
            "debt": self.debt,
            "debtToCover": str(self.debt_to_cover),
            "seized": str(self.seized),
            "protocolFee": str(self.protocol_fee),
            "healthFactor": str(self.health_factor),
            "poolRevision": str(self.pool_revision),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LiquidationTarget:
        return cls(
            user=d["user"],
            collateral=d["collateral"],
            debt=d["debt"],
            debt_to_cover=int(d["debtToCover"]),
            seized=int(d["seized"]),
            protocol_fee=int(d["protocolFee"]),
            health_factor=int(d["healthFactor"]),
            pool_revision=int(d["poolRevision"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Opportunity:
    """One sized opportunity (an arbitrage cycle, or a liquidation and its swap back), ready to execute:
    everything an execution agent needs, computed at one block.

    Amounts are raw units of ``loan_token``. ``gross_profit = expected_out - amount_in``; ``net_profit =
    gross_profit - flash_premium - gas_cost``; ``plan`` is ``flasharb.route.encode_plan`` of a plan borrowing
    ``amount_in`` from ``lender`` with ``min_profit`` (what the executor must keep after the premium).
    ``gas_cost`` is ``gas_estimate * gas_price`` converted to the loan token through pool prices.
    """

    chain_id: int
    block_number: int
    block_hash: str
    deadline_block: int
    cycle: tuple[CycleHop, ...]
    lender: Lender
    loan_token: str
    amount_in: int
    expected_out: int
    gross_profit: int
    flash_premium: int
    gas_estimate: int
    gas_price: int
    gas_cost: int
    net_profit: int
    min_profit: int
    plan: bytes
    pools: tuple[str, ...]
    capped: bool = False
    strategy: str = ARBITRAGE
    liquidation: LiquidationTarget | None = None  # set for LIQUIDATION: the plan's first step
    schema: int = field(default=OPPORTUNITY_SCHEMA)

    @property
    def tokens(self) -> tuple[str, ...]:
        """The cycle's tokens in order, the loan token first (and implicitly last)."""
        return tuple(h.token_in for h in self.cycle)

    @property
    def profit_after_premium(self) -> int:
        """What the executor keeps (its ``execute`` return value) if the pools are as predicted."""
        return self.expected_out - self.amount_in - self.flash_premium

    def decoded_plan(self) -> Plan:
        return decode_plan(self.plan)

    # ------------------------------------------------------------------ wire form
    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "chainId": str(self.chain_id),
            "blockNumber": str(self.block_number),
            "blockHash": self.block_hash,
            "deadlineBlock": str(self.deadline_block),
            "cycle": [h.to_dict() for h in self.cycle],
            "lender": self.lender.name,
            "loanToken": self.loan_token,
            "amountIn": str(self.amount_in),
            "expectedOut": str(self.expected_out),
            "grossProfit": str(self.gross_profit),
            "flashPremium": str(self.flash_premium),
            "gasEstimate": str(self.gas_estimate),
            "gasPrice": str(self.gas_price),
            "gasCost": str(self.gas_cost),
            "netProfit": str(self.net_profit),
            "minProfit": str(self.min_profit),
            "plan": "0x" + self.plan.hex(),
            "pools": list(self.pools),
            "capped": self.capped,
            "strategy": self.strategy,
            "liquidation": None if self.liquidation is None else self.liquidation.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Opportunity:
        if int(d.get("schema", OPPORTUNITY_SCHEMA)) != OPPORTUNITY_SCHEMA:
            raise ValueError(f"unknown opportunity schema {d.get('schema')!r}")
        return cls(
            chain_id=int(d["chainId"]),
            block_number=int(d["blockNumber"]),
            block_hash=d["blockHash"],
            deadline_block=int(d["deadlineBlock"]),
            cycle=tuple(CycleHop.from_dict(h) for h in d["cycle"]),
            lender=Lender[d["lender"]],
            loan_token=d["loanToken"],
            amount_in=int(d["amountIn"]),
            expected_out=int(d["expectedOut"]),
            gross_profit=int(d["grossProfit"]),
            flash_premium=int(d["flashPremium"]),
            gas_estimate=int(d["gasEstimate"]),
            gas_price=int(d["gasPrice"]),
            gas_cost=int(d["gasCost"]),
            net_profit=int(d["netProfit"]),
            min_profit=int(d["minProfit"]),
            plan=bytes.fromhex(d["plan"].removeprefix("0x")),
            pools=tuple(d["pools"]),
            capped=bool(d.get("capped", False)),
            strategy=d.get("strategy", ARBITRAGE),
            liquidation=LiquidationTarget.from_dict(d["liquidation"]) if d.get("liquidation") else None,
        )

    def to_json(self) -> bytes:
        """UTF-8 JSON (the message body a publisher sends)."""
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> Opportunity:
        return cls.from_dict(json.loads(data))
