"""The P&L store's tables (SQLAlchemy 2 declarative). The schema itself is created by the alembic migrations
in ``flasharb/store/migrations/versions``; a test checks that the migrations and these models agree.

Amounts are exact integers in the token's base units (wei): they do not fit 64 bits (plans carry ``uint128``),
so ``Wei`` stores them as ``NUMERIC(78, 0)`` on PostgreSQL and as decimal text on SQLite, and always hands
back a Python ``int``. Times are timezone-aware UTC (``UtcDateTime``), whatever the backend keeps.

Changing a table: edit the model, add a migration (``alembic revision`` with ``script_location`` pointing at
``flasharb/store/migrations``, or by hand), give every new column a default or make it nullable so old rows
stay valid.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

#: alembic's bookkeeping table, named so it cannot clash with another tool sharing the database.
VERSION_TABLE = "flasharb_alembic_version"

# Deterministic constraint names, so migrations can refer to them on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Wei(TypeDecorator[int]):
    """An exact integer of any size (signed): NUMERIC(78, 0) on PostgreSQL, decimal text elsewhere."""

    impl = String(80)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(Numeric(78, 0, asdecimal=True))
        return dialect.type_descriptor(String(80))

    def process_bind_param(self, value: int | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if type(value) is not int:
            raise TypeError(f"Wei column takes an int, got {type(value).__name__}")
        return Decimal(value) if dialect.name == "postgresql" else str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> int | None:
        return None if value is None else int(value)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime (SQLite keeps no zone: naive values read back are UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the store takes timezone-aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class DecisionKind(StrEnum):
    """What the bot did with an opportunity."""

    EXECUTE = "execute"  # sent (or, in dry-run, would have sent)
    REFUSE = "refuse"  # a risk check said no (reason: a flasharb.risk.RefusalReason value)
    DROP = (
        "drop"  # not worth a risk check: simulation reverted, stale, superseded (reason: the pipeline's code)
    )


class TxStatus(StrEnum):
    """A sent transaction's state; ``mined``/``reverted`` come from a receipt (see ``record_tx_outcome``)."""

    PENDING = "pending"
    MINED = "mined"  # receipt status 1
    REVERTED = "reverted"  # receipt status 0
    REPLACED = "replaced"  # another transaction with the same nonce (ours) was mined or sent instead
    DROPPED = "dropped"  # gone from the mempool without a receipt

    @property
    def from_receipt(self) -> bool:
        return self in (TxStatus.MINED, TxStatus.REVERTED)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Token(Base):
    """Display metadata for amounts in the report (symbol, decimals); optional."""

    __tablename__ = "tokens"

    chain_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32))
    decimals: Mapped[int] = mapped_column(Integer)


class Opportunity(Base):
    """One opportunity the engine found at one block. ``id`` is a content hash (``opportunity_id``)."""

    __tablename__ = "opportunities"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    chain_id: Mapped[int] = mapped_column(Integer)
    block_number: Mapped[int] = mapped_column(BigInteger)
    strategy: Mapped[str] = mapped_column(String(32))  # "arbitrage"; "liquidation" later
    route_shape: Mapped[str] = mapped_column(String(64))  # "3-hop V2/V3/V2"
    dexes: Mapped[list[str]] = mapped_column(JSON)  # one name per hop: ["QuickSwap", "UniswapV3", ...]
    pools: Mapped[list[str]] = mapped_column(JSON)  # one address per hop
    lender: Mapped[str | None] = mapped_column(String(32), nullable=True)
    loan_token: Mapped[str] = mapped_column(String(42))
    amount_in: Mapped[int] = mapped_column(Wei)
    expected_profit: Mapped[int] = mapped_column(Wei)  # net of premium and gas, in the loan token
    premium: Mapped[int] = mapped_column(Wei)
    gas_estimate: Mapped[int] = mapped_column(BigInteger)
    plan_hex: Mapped[str] = mapped_column(Text)  # 0x-prefixed executor plan bytes
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index(None, "created_at"), Index(None, "chain_id", "block_number"))


class DecisionRow(Base):
    """What was decided about an opportunity, and why (append-only)."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    opportunity_id: Mapped[str] = mapped_column(ForeignKey("opportunities.id", ondelete="CASCADE"))
    decision: Mapped[str] = mapped_column(String(16))  # DecisionKind
    reason: Mapped[str] = mapped_column(String(64))  # RefusalReason value or the pipeline's drop code
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (Index(None, "opportunity_id"), Index(None, "at"))


class Transaction(Base):
    """A signed transaction the bot sent, and what became of it."""

    __tablename__ = "transactions"

    hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    opportunity_id: Mapped[str | None] = mapped_column(
        ForeignKey("opportunities.id", ondelete="SET NULL"), nullable=True
    )
    chain_id: Mapped[int] = mapped_column(Integer)
    nonce: Mapped[int] = mapped_column(BigInteger)
    from_address: Mapped[str] = mapped_column(String(42))
    to_address: Mapped[str | None] = mapped_column(String(42), nullable=True)
    gas_limit: Mapped[int] = mapped_column(BigInteger)
    max_fee_per_gas: Mapped[int] = mapped_column(Wei)
    max_priority_fee_per_gas: Mapped[int] = mapped_column(Wei)
    status: Mapped[str] = mapped_column(String(16))  # TxStatus
    replaced_by: Mapped[str | None] = mapped_column(String(66), nullable=True)
    block_number: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    gas_used: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    effective_gas_price: Mapped[int | None] = mapped_column(Wei, nullable=True)
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    mined_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)

    __table_args__ = (
        Index(None, "chain_id", "from_address", "nonce"),
        Index(None, "status"),
        Index(None, "opportunity_id"),
    )


class Result(Base):
    """The realized outcome of a mined (or reverted) transaction, next to what was predicted."""

    __tablename__ = "results"

    tx_hash: Mapped[str] = mapped_column(
        ForeignKey("transactions.hash", ondelete="CASCADE"), primary_key=True
    )
    success: Mapped[bool] = mapped_column(Boolean)  # RunExecuted was emitted
    loan_token: Mapped[str] = mapped_column(String(42))
    realized_profit: Mapped[int] = mapped_column(Wei)  # RunExecuted.profit (after premium); 0 when reverted
    premium: Mapped[int] = mapped_column(Wei)  # RunExecuted.premium
    gas_cost_native: Mapped[int] = mapped_column(Wei)  # gasUsed * effectiveGasPrice
    gas_cost_token: Mapped[int] = mapped_column(Wei)  # the same in the loan token (the bot's conversion)
    predicted_profit: Mapped[int] = mapped_column(Wei)  # what the simulation said RunExecuted.profit would be
    exact: Mapped[bool] = mapped_column(Boolean)  # success and predicted == realized, to the wei
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RelayRecord(Base):
    """One relay result the recorder has written (``flasharb record``): the key that makes recording
    idempotent under redelivery. A result is one (opportunity, agent, decision); a second delivery of it finds
    its row here and writes nothing."""

    __tablename__ = "relay_records"

    opportunity_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agent: Mapped[str] = mapped_column(String(64), primary_key=True)
    decision: Mapped[str] = mapped_column(String(16), primary_key=True)  # sent | refuse | drop | stale | outcome
    tx_hash: Mapped[str | None] = mapped_column(String(66), nullable=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
