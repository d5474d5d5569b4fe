"""The engine's configuration: one validated format for Polygon mainnet and for the local replica.

``EngineConfig`` names the token universe, the DEXes to discover pools on (V2 forks with their fee, V3
factories), the flash lenders, the cycle length, the gas model and the risk limits. It loads from JSON or TOML
(``EngineConfig.load``), and two constructors build the known ones: ``EngineConfig.polygon_mainnet()`` and
``EngineConfig.from_replica(replica)`` (from ``flasharb.replica.Replica``, so the replica's addresses are
never copied by hand).
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flasharb.engine.types import PoolKind
from flasharb.exceptions import ConfigError
from flasharb.replica import Replica
from flasharb.route import Lender
from flasharb.settings import Address

__all__ = [
    "TokenConfig",
    "DexConfig",
    "LenderConfig",
    "GasModel",
    "RiskLimits",
    "EngineConfig",
    "POLYGON_TOKENS",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TokenConfig(_Frozen):
    symbol: str
    address: Address
    decimals: int = Field(ge=0, le=36)


class DexConfig(_Frozen):
    """A DEX whose factory the registry scans: ``PairCreated`` (v2) or ``PoolCreated`` (v3) from
    ``start_block`` (its deployment block or earlier). ``fee_pips`` is the fork's swap fee, V2 only (V3 pools
    carry their own)."""

    name: str = Field(pattern=r"^[a-z0-9_\-]+$")
    kind: PoolKind
    factory: Address
    fee_pips: int | None = Field(None, ge=0, lt=1_000_000)
    start_block: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _fee_for_v2(self) -> DexConfig:
        if self.kind is PoolKind.V2 and self.fee_pips is None:
            raise ValueError(f"V2 DEX {self.name!r} needs fee_pips (forks differ)")
        return self


class LenderConfig(_Frozen):
    """Where flash liquidity comes from. Premiums and available amounts are read from chain
    (``flasharb.engine.lenders``), never assumed."""

    aave_pool: Address | None = None
    balancer_vault: Address | None = None


class GasModel(_Frozen):
    """Gas of a run by route shape: ``base`` (intrinsic, calldata, executor), the lender's overhead, each hop
    by kind, and each V3 initialised tick crossed.

    Defaults are upper bounds of ``eth_estimateGas`` of the executor's real runs on the replica
    (tests/engine/test_engine_replica.py checks every plan it executes against them): Balancer-funded 2 V2
    hops 257.6k, 3 V2 hops 348k, V2+V3 247-254k, 2 V3 306k, 3 V3 with one crossing 456k, V2+3 V3 467k; Aave's
    ``flashLoanSimple`` adds 112-124k. The real cost also depends on how many distinct (cold) tokens a route
    touches, which this linear model folds into the per-hop numbers.
    """

    base: int = 75_000
    lender: dict[str, int] = Field(
        default_factory=lambda: {
            "CAPITAL": 0,
            "AAVE_SIMPLE": 130_000,
            "AAVE_MULTI": 150_000,
            "BALANCER": 5_000,
        }
    )
    v2_hop: int = 90_000
    v3_hop: int = 115_000
    v3_tick_crossed: int = 35_000

    def estimate(self, lender: Lender, n_v2: int, n_v3: int, ticks_crossed: int = 0) -> int:
        return (
            self.base
            + self.lender.get(lender.name, 0)
            + n_v2 * self.v2_hop
            + n_v3 * self.v3_hop
            + ticks_crossed * self.v3_tick_crossed
        )

    def lower_bound(self, n_v2: int, n_v3: int) -> int:
        """The least any lender's run of this shape can cost (what screening may assume)."""
        return self.base + min(self.lender.values(), default=0) + n_v2 * self.v2_hop + n_v3 * self.v3_hop


class RiskLimits(_Frozen):
    """Caps on what the engine proposes.

    - ``max_loan``: per loan token (symbol or address) the largest amount in, raw units;
    - ``lender_utilisation_pips``: the share of a lender's available liquidity a loan may take;
    - ``min_net_profit_native``: least net profit, in wei of the native token (converted per loan token);
    - ``max_hop_share_pips``: reserved for later (share of a V2 reserve one hop may move); 0 = off.
    """

    max_loan: dict[str, int] = Field(default_factory=dict)
    lender_utilisation_pips: int = Field(900_000, gt=0, le=1_000_000)
    min_net_profit_native: int = Field(0, ge=0)


class EngineConfig(_Frozen):
    """Everything the engine needs to know about one chain."""

    chain_id: int
    native_token: Address = Field(description="the wrapped native token, for gas cost conversion")
    tokens: tuple[TokenConfig, ...]
    dexes: tuple[DexConfig, ...]
    lenders: LenderConfig = LenderConfig()
    loan_tokens: tuple[str, ...] | None = Field(
        None, description="symbols or addresses cycles may start in; default: every token a lender can lend"
    )
    max_hops: int = Field(3, ge=2, le=5)
    gas: GasModel = GasModel()
    risk: RiskLimits = RiskLimits()
    deadline_blocks: int = Field(2, ge=0, description="a plan may run up to this many blocks after its block")
    max_opportunities: int | None = Field(
        None,
        ge=1,
        description="stop the ranked selection after this many opportunities per block (None: all)",
    )
    confirmations: int = Field(
        0, ge=0, description="the registry scans factory events this far behind the head"
    )
    log_chunk_blocks: int = Field(5_000, ge=1, description="eth_getLogs block span (halved on node limits)")
    lens_words_each_side: int = Field(
        2, ge=0, le=64, description="V3 bitmap words read each side of the tick"
    )
    lens_batch_size: int = Field(200, ge=1)
    max_reorg_depth: int = Field(64, ge=1)

    @model_validator(mode="after")
    def _unique(self) -> EngineConfig:
        names = [d.name for d in self.dexes]
        if len(set(names)) != len(names):
            raise ValueError("DEX names must be unique")
        if len({t.address for t in self.tokens}) != len(self.tokens):
            raise ValueError("token addresses must be unique")
        if self.native_token not in {t.address for t in self.tokens}:
            raise ValueError("native_token must be one of the tokens")
        return self

    # ------------------------------------------------------------------ lookups
    def token(self, symbol_or_address: str) -> TokenConfig:
        for t in self.tokens:
            if t.symbol == symbol_or_address or t.address.lower() == symbol_or_address.lower():
                return t
        raise ConfigError(f"token {symbol_or_address!r} is not in the engine's universe")

    @property
    def token_addresses(self) -> tuple[str, ...]:
        return tuple(t.address for t in self.tokens)

    def max_loan_of(self, token: str) -> int | None:
        """The configured cap on the loan of ``token`` (address), or None."""
        info = self.token(token)
        for key in (info.address, info.symbol, info.address.lower()):
            if key in self.risk.max_loan:
                return self.risk.max_loan[key]
        return None

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: Path) -> EngineConfig:
        """From a JSON or TOML file (by extension)."""
        try:
            text = path.read_text()
            data: Any = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
            return cls.model_validate(data)
        except FileNotFoundError:
            raise ConfigError(f"engine config {path} not found") from None
        except (json.JSONDecodeError, tomllib.TOMLDecodeError, ValidationError) as exc:
            raise ConfigError(f"engine config {path} is malformed: {exc}") from None

    def dump(self) -> str:
        return self.model_dump_json(indent=2)

    @classmethod
    def from_replica(cls, replica: Replica, **overrides: Any) -> EngineConfig:
        """The local replica: its 8 tokens, QuickSwap/SushiSwap (V2) and Uniswap V3, Aave V3 and Balancer."""
        data: dict[str, Any] = {
            "chain_id": replica.chain_id,
            "native_token": replica.token("WMATIC").address,
            "tokens": [
                {"symbol": s, "address": t.address, "decimals": t.decimals}
                for s, t in sorted(replica.tokens.items())
            ],
            "dexes": [
                {
                    "name": "quickswap",
                    "kind": "v2",
                    "factory": replica.quickswap.factory,
                    "fee_pips": replica.quickswap.fee_pips,
                },
                {
                    "name": "sushiswap",
                    "kind": "v2",
                    "factory": replica.sushiswap.factory,
                    "fee_pips": replica.sushiswap.fee_pips,
                },
                {"name": "uniswap_v3", "kind": "v3", "factory": replica.uniswap_v3.factory},
            ],
            "lenders": {"aave_pool": replica.aave_v3.pool, "balancer_vault": replica.balancer_v2.vault},
            "log_chunk_blocks": 10_000,
            "max_reorg_depth": 32,
        }
        data.update(overrides)
        return cls.model_validate(data)

    @classmethod
    def polygon_mainnet(cls, **overrides: Any) -> EngineConfig:
        """Polygon PoS (chain 137): the main tokens, QuickSwap V2, SushiSwap V2 and Uniswap V3, Aave V3 and
        Balancer V2. ``start_block`` is at or before each factory's deployment (earlier only costs
        scanning)."""
        data: dict[str, Any] = {
            "chain_id": 137,
            "native_token": POLYGON_TOKENS["WMATIC"][0],
            "tokens": [{"symbol": s, "address": a, "decimals": d} for s, (a, d) in POLYGON_TOKENS.items()],
            "dexes": [
                {
                    "name": "quickswap",
                    "kind": "v2",
                    "factory": "0x5757371414417b8C6CAad45bAeF941aBc7d3Ab32",
                    "fee_pips": 3000,
                    "start_block": 4_900_000,
                },
                {
                    "name": "sushiswap",
                    "kind": "v2",
                    "factory": "0xc35DADB65012eC5796536bD9864eD8773aBc74C4",
                    "fee_pips": 3000,
                    "start_block": 11_000_000,
                },
                {
                    "name": "uniswap_v3",
                    "kind": "v3",
                    "factory": "0x1F98431c8aD98523631AE4a59f267346ea31F984",
                    "start_block": 22_700_000,
                },
            ],
            "lenders": {
                "aave_pool": "0x794a61358D6845594F94dc1DB02A252b5b4814aD",
                "balancer_vault": "0xBA12222222228d8Ba445958a75a0704d566BF2C8",
            },
            "confirmations": 32,
            "log_chunk_blocks": 2_000,
            "max_reorg_depth": 128,
        }
        data.update(overrides)
        return cls.model_validate(data)


#: symbol -> (address, decimals) of the Polygon PoS tokens the mainnet config starts from.
POLYGON_TOKENS: dict[str, tuple[str, int]] = {
    "WMATIC": ("0x0d500B1d8E8eF31E21C99d1Db9A6444d3ADf1270", 18),
    "WETH": ("0x7ceB23fD6bC0adD59E62ac25578270cFf1b9f619", 18),
    "USDC": ("0x3c499c542cEF5E3811e1192ce70d8cC03d5c3359", 6),
    "USDC.e": ("0x2791Bca1f2de4661ED88A30C99A7a9449Aa84174", 6),
    "USDT": ("0xc2132D05D31c914a87C6611C10748AEb04B58e8F", 6),
    "DAI": ("0x8f3Cf7ad23Cd3CaDbD9735AFf958023239c6A063", 18),
    "WBTC": ("0x1BFD67037B42Cf73acF2047067bd4F2C47D9BfD6", 8),
    "LINK": ("0x53E0bca35eC356BD5ddDFebbD1Fc0fD03FaBad39", 18),
    "AAVE": ("0xD6DF932A45C0f255f85145f286eA0b292B21C90B", 18),
}
