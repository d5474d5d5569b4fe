"""The local Polygon replica's addresses, as written by script/DeployReplica.s.sol."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from flasharb.exceptions import ConfigError


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TokenInfo(_Frozen):
    address: str
    decimals: int
    usd_price_e8: int


class V2Dex(_Frozen):
    factory: str
    router: str
    fee_pips: int


class UniswapV3(_Frozen):
    factory: str
    position_manager: str
    swap_router: str


class AaveV3(_Frozen):
    pool: str
    pool_addresses_provider: str
    pool_configurator: str
    oracle: str
    data_provider: str


class BalancerV2(_Frozen):
    vault: str
    authorizer: str


class Pools(_Frozen):
    v2: tuple[str, ...]
    v3: tuple[str, ...]


class Replica(_Frozen):
    chain_id: int
    admin: str
    tokens: dict[str, TokenInfo]
    quickswap: V2Dex
    sushiswap: V2Dex
    uniswap_v3: UniswapV3
    aave_v3: AaveV3
    balancer_v2: BalancerV2
    pools: Pools

    def token(self, symbol: str) -> TokenInfo:
        try:
            return self.tokens[symbol]
        except KeyError:
            raise ConfigError(f"replica has no token {symbol!r} (known: {', '.join(sorted(self.tokens))})") from None

    @classmethod
    def load(cls, path: Path) -> "Replica":
        try:
            return cls.model_validate(json.loads(path.read_text()))
        except FileNotFoundError:
            raise ConfigError(f"replica file {path} not found: deploy it with `make replica`") from None
        except (json.JSONDecodeError, ValidationError) as exc:
            raise ConfigError(f"replica file {path} is malformed: {exc}") from None
