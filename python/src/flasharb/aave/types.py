"""The records the liquidation stages pass between them: one block's view of an Aave V3 market and of its
borrowers' positions, as raw on-chain integers (no floats): the math modules compute from these exactly.

Units: prices in the oracle's base currency (8 decimals on Aave V3 markets: USD * 1e8); indexes and rates in
ray (1e27); percentages in basis points (1e4 = 100%); balances in the asset's own units, *scaled* where the
field says so (aToken / variable debt token ``scaledBalanceOf``: multiply by the normalized index to get the
balance). Addresses are checksummed. Frozen, slotted dataclasses: no stage can change a record another holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "ReserveConfig",
    "ReserveState",
    "EModeCategory",
    "UserPosition",
    "MarketSnapshot",
]


@dataclass(frozen=True, slots=True)
class ReserveConfig:
    """The fields of a reserve's configuration bitmap (``DataTypes.ReserveConfigurationMap``) the math needs."""

    ltv: int  # bps
    liquidation_threshold: int  # bps
    liquidation_bonus: int  # bps, 10_000 + bonus (10_500 = 5% bonus)
    decimals: int
    active: bool
    frozen: bool
    paused: bool
    borrowing_enabled: bool
    liquidation_protocol_fee: int  # bps of the bonus
    emode_category: int  # v3.0-v3.1: the reserve's e-mode category (bits 168-175); 0 from v3.2 on

    @classmethod
    def from_bitmap(cls, data: int) -> ReserveConfig:
        return cls(
            ltv=data & 0xFFFF,
            liquidation_threshold=(data >> 16) & 0xFFFF,
            liquidation_bonus=(data >> 32) & 0xFFFF,
            decimals=(data >> 48) & 0xFF,
            active=bool((data >> 56) & 1),
            frozen=bool((data >> 57) & 1),
            borrowing_enabled=bool((data >> 58) & 1),
            paused=bool((data >> 60) & 1),
            liquidation_protocol_fee=(data >> 152) & 0xFFFF,
            emode_category=(data >> 168) & 0xFF,
        )


@dataclass(frozen=True, slots=True)
class ReserveState:
    """One reserve at one block: ``getReserveData`` fields plus its oracle price. ``id`` is the reserve's index
    in the Pool (the bit pair ``2*id``/``2*id+1`` in a user's configuration bitmap)."""

    id: int
    asset: str
    configuration: int  # raw bitmap; ``config`` decodes it
    liquidity_index: int  # ray
    variable_borrow_index: int  # ray
    current_liquidity_rate: int  # ray, per year
    current_variable_borrow_rate: int  # ray, per year
    last_update_timestamp: int
    a_token: str
    variable_debt_token: str
    stable_debt_token: str  # zero address from v3.2 on
    price: int  # oracle price in base currency units
    liquidation_grace_period_until: int = 0  # v3.1+: no liquidation of this collateral/debt before it

    @property
    def config(self) -> ReserveConfig:
        return ReserveConfig.from_bitmap(self.configuration)


@dataclass(frozen=True, slots=True)
class EModeCategory:
    """An e-mode category (``getEModeCategoryData``; v3.2+ adds the collateral/borrowable bitmaps, 0 before)."""

    id: int
    ltv: int  # bps
    liquidation_threshold: int  # bps
    liquidation_bonus: int  # bps, 10_000 + bonus
    price_source: str = "0x0000000000000000000000000000000000000000"  # v3.0-v3.1 only
    price: int = 0  # the price source's answer when it is set (base currency units), else 0
    collateral_bitmap: int = 0  # v3.2+
    borrowable_bitmap: int = 0  # v3.2+
    ltvzero_bitmap: int = 0  # v3.6+: reserves whose LTV is 0 in this category (the lens does not read it yet)
    label: str = ""


@dataclass(frozen=True, slots=True)
class UserPosition:
    """A borrower's position at one block. ``scaled_collateral[asset]`` is the aToken scaled balance,
    ``scaled_variable_debt[asset]`` the variable debt token scaled balance, ``stable_debt[asset]`` the stable debt
    balance as ``balanceOf`` returned it at ``block`` (v3.0-v3.1 only). Only non-zero entries are present."""

    user: str
    configuration: int  # raw ``UserConfigurationMap``: bit 2*id borrowing, bit 2*id+1 using as collateral
    emode: int
    scaled_collateral: dict[str, int] = field(default_factory=dict)
    scaled_variable_debt: dict[str, int] = field(default_factory=dict)
    stable_debt: dict[str, int] = field(default_factory=dict)
    block: int = 0

    def is_borrowing(self, reserve_id: int) -> bool:
        return bool((self.configuration >> (2 * reserve_id)) & 1)

    def is_collateral(self, reserve_id: int) -> bool:
        return bool((self.configuration >> (2 * reserve_id + 1)) & 1)


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """A market at one block: its reserves in reserve-id order, e-mode categories by id, and the Pool's revision
    (which liquidation rules apply: ``flasharb.aave.sizing``)."""

    chain_id: int
    block_number: int
    block_timestamp: int
    pool: str
    oracle: str
    pool_revision: int
    base_currency_unit: int  # 10**8 on USD-based markets
    reserves: tuple[ReserveState, ...]
    emodes: dict[int, EModeCategory] = field(default_factory=dict)

    def reserve(self, asset: str) -> ReserveState:
        for r in self.reserves:
            if r.asset == asset:
                return r
        raise KeyError(f"no reserve for {asset} in the market snapshot")
