"""The P&L store: every opportunity, decision, transaction and realized result the bot sees, in SQL.

``Store.open(url)`` takes a SQLAlchemy URL: ``sqlite:///path/flasharb.db`` (the default, a file next to the
config: ``default_database_url``) or ``postgresql://user:pass@host/db`` (driver psycopg 3). Opening brings the
schema to the newest alembic revision (``flasharb/store/migrations``; no alembic.ini needed), under a lock, so
several processes may open the same database at once.

Writes: each ``record_*`` call is one transaction, committed (on SQLite: fsynced, WAL mode) before it
returns; ``with store.atomic() as batch:`` groups several into one. Re-recording is idempotent: an opportunity
is keyed by its content hash (``opportunity_id``), a transaction by its hash, a result by its transaction; a
decision is an event and is appended each time. The calls block (a commit is ~1 ms on SQLite): from asyncio,
call them from a worker thread (``asyncio.to_thread``) off the hot path. A ``Store`` is safe to share between
threads.

Amounts are exact ``int`` in base units; times are timezone-aware UTC; addresses are stored checksummed and
transaction hashes lower-case.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Connection, Engine, bindparam, create_engine, event, func, select, text, update
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError

from flasharb.exceptions import FlasharbError
from flasharb.store.models import (
    VERSION_TABLE,
    DecisionKind,
    DecisionRow,
    Opportunity,
    RelayRecord,
    Result,
    Token,
    Transaction,
    TxStatus,
    UtcDateTime,
)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
DEFAULT_DB_NAME = "flasharb.db"
PSYCOPG_PIN = "psycopg[binary]==3.3.9"
_PG_LOCK_KEY = 0x666C617368617262  # "flasharb": serialises concurrent migrations on PostgreSQL
_SQLITE_BUSY_TIMEOUT_MS = 30_000


# ---------------------------------------------------------------------------------------------- errors
class StoreError(FlasharbError):
    """The P&L database cannot be opened, migrated, read or written. Messages never carry a password."""


class SchemaError(StoreError):
    """The database's schema is not one this version of flasharb can migrate (newer, or foreign)."""


class UnknownTransaction(StoreError):
    """An outcome or result names a transaction that was never recorded as sent."""


# ---------------------------------------------------------------------------------------------- helpers
def default_database_url(config_file: str | Path | None, root: Path) -> str:
    """SQLite file ``flasharb.db`` next to the config file, or in ``root`` when there is no config file."""
    folder = Path(config_file).expanduser().resolve().parent if config_file else Path(root).resolve()
    return sqlite_url(folder / DEFAULT_DB_NAME)


def sqlite_url(path: str | Path) -> str:
    return URL.create("sqlite", database=str(Path(path).expanduser().resolve())).render_as_string()


def safe_url(url: str | URL) -> str:
    """``url`` with its password masked (for messages and logs)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<malformed database URL>"


def opportunity_id(chain_id: int, block_number: int, strategy: str, plan: bytes) -> str:
    """The content hash that keys an opportunity: the same plan at the same block is the same opportunity."""
    h = hashlib.sha256()
    h.update(f"{chain_id}:{block_number}:{strategy}:".encode())
    h.update(bytes(plan))
    return h.hexdigest()


def route_shape(plan: bytes) -> str:
    """``"3-hop V2/V3/V2"`` from an executor plan's steps (``flasharb.route`` decodes it)."""
    from flasharb.route import StepKind, decode_plan

    steps = decode_plan(plan).steps
    kinds = "/".join(StepKind(type(s).KIND).name for s in steps)
    return f"{len(steps)}-hop {kinds}"


_route_shape = route_shape  # record_opportunity's parameter shadows the name


def _address(value: str, what: str) -> str:
    from eth_utils import is_hex_address, to_checksum_address

    if not isinstance(value, str) or not is_hex_address(value):
        raise StoreError(f"{what}: not an address: {value!r}")
    return to_checksum_address(value)


def _tx_hash(value: str | bytes) -> str:
    if isinstance(value, (bytes, bytearray)):
        value = "0x" + bytes(value).hex()
    if not isinstance(value, str):
        raise StoreError(f"transaction hash: expected hex text or bytes, got {type(value).__name__}")
    text_ = value.lower()
    if not text_.startswith("0x"):
        text_ = "0x" + text_
    if len(text_) != 66 or any(c not in "0123456789abcdef" for c in text_[2:]):
        raise StoreError(f"not a 32-byte transaction hash: {value!r}")
    return text_


def _int(value: Any, what: str, *, signed: bool = False) -> int:
    if type(value) is not int:
        raise StoreError(f"{what} must be an int, got {type(value).__name__}")
    if not signed and value < 0:
        raise StoreError(f"{what} must not be negative: {value}")
    return value


def _aware(value: datetime | None, what: str) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise StoreError(f"{what} must be timezone-aware (UTC)")
    return value.astimezone(UTC)


# ---------------------------------------------------------------------------------------------- read records
@dataclass(frozen=True, slots=True, kw_only=True)
class OpportunityRecord:
    id: str
    chain_id: int
    block_number: int
    strategy: str
    route_shape: str
    dexes: tuple[str, ...]
    pools: tuple[str, ...]
    lender: str | None
    loan_token: str
    amount_in: int
    expected_profit: int
    premium: int
    gas_estimate: int
    plan: bytes
    created_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionRecord:
    id: int
    opportunity_id: str
    decision: DecisionKind
    reason: str
    detail: str
    at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class TxRecord:
    hash: str
    opportunity_id: str | None
    chain_id: int
    nonce: int
    from_address: str
    to_address: str | None
    gas_limit: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    status: TxStatus
    replaced_by: str | None
    block_number: int | None
    gas_used: int | None
    effective_gas_price: int | None
    sent_at: datetime
    mined_at: datetime | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultRecord:
    tx_hash: str
    success: bool
    loan_token: str
    realized_profit: int
    premium: int
    gas_cost_native: int
    gas_cost_token: int
    predicted_profit: int
    exact: bool
    recorded_at: datetime

    @property
    def net_profit(self) -> int:
        """Realized profit less gas, in the loan token (negative for a revert)."""
        return self.realized_profit - self.gas_cost_token


@dataclass(frozen=True, slots=True, kw_only=True)
class ResultView:
    """A result joined with its transaction and opportunity: one row of the report's P&L tables."""

    tx_hash: str
    chain_id: int
    at: datetime  # mined (else sent) time
    status: TxStatus
    opportunity_id: str | None
    strategy: str | None
    route_shape: str | None
    dexes: tuple[str, ...]
    loan_token: str
    success: bool
    realized_profit: int
    premium: int
    gas_cost_native: int
    gas_cost_token: int
    predicted_profit: int
    exact: bool

    @property
    def day(self) -> date:
        return self.at.date()

    @property
    def net_profit(self) -> int:
        return self.realized_profit - self.gas_cost_token


@dataclass(frozen=True, slots=True)
class DecisionCount:
    decision: DecisionKind
    reason: str
    count: int
    last_at: datetime
    last_detail: str


@dataclass(frozen=True, slots=True)
class TokenInfo:
    chain_id: int
    address: str
    symbol: str
    decimals: int


# ---------------------------------------------------------------------------------------------- writes
class Batch:
    """The ``record_*`` writes on one open transaction (``Store.atomic``; ``Store.record_*`` use one each)."""

    def __init__(self, conn: Connection, now: Callable[[], datetime]) -> None:
        self._conn = conn
        self._now = now

    def _insert(self, model: type) -> Any:
        """The dialect's INSERT (both have ``on_conflict_do_nothing``/``on_conflict_do_update``)."""
        if self._conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            return pg_insert(model)
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(model)

    # -------------------------------------------------------------- opportunities and decisions
    def record_opportunity(
        self,
        *,
        chain_id: int,
        block_number: int,
        loan_token: str,
        amount_in: int,
        expected_profit: int,
        premium: int,
        gas_estimate: int,
        plan: bytes,
        dexes: Sequence[str],
        pools: Sequence[str] = (),
        lender: str | None = None,
        strategy: str = "arbitrage",
        route_shape: str | None = None,
        created_at: datetime | None = None,
    ) -> str:
        """Records an opportunity (once: a second call with the same content changes nothing); returns its id.

        ``route_shape`` defaults to the plan's (``"3-hop V2/V3/V2"``); ``dexes`` names each hop's venue
        (``"QuickSwap"``, ``"UniswapV3"``), ``pools`` each hop's address; ``expected_profit`` is net of
        premium and gas in the loan token; ``lender`` a name such as ``"BALANCER"``.
        """
        plan = bytes(plan)
        if not plan:
            raise StoreError("opportunity plan is empty")
        _int(chain_id, "chain_id")
        _int(block_number, "block_number")
        if isinstance(dexes, str) or isinstance(pools, str):
            raise StoreError("dexes and pools are sequences (one item per hop), not a string")
        if route_shape is None:
            route_shape = _route_shape(plan)
        key = opportunity_id(chain_id, block_number, strategy, plan)
        values = dict(
            id=key,
            chain_id=chain_id,
            block_number=block_number,
            strategy=str(strategy),
            route_shape=str(route_shape),
            dexes=[str(d) for d in dexes],
            pools=[_address(p, "pool") for p in pools],
            lender=None if lender is None else str(getattr(lender, "name", lender)),
            loan_token=_address(loan_token, "loan_token"),
            amount_in=_int(amount_in, "amount_in"),
            expected_profit=_int(expected_profit, "expected_profit", signed=True),
            premium=_int(premium, "premium"),
            gas_estimate=_int(gas_estimate, "gas_estimate"),
            plan_hex="0x" + plan.hex(),
            created_at=_aware(created_at, "created_at") or self._now(),
        )
        self._conn.execute(self._insert(Opportunity).values(**values).on_conflict_do_nothing())
        return key

    def record_decision(
        self,
        opportunity_id: str,
        decision: DecisionKind | str,
        reason: str,
        detail: str = "",
        *,
        at: datetime | None = None,
    ) -> int:
        """Appends a decision about a recorded opportunity; ``reason`` is a code (say, a RefusalReason)."""
        try:
            kind = DecisionKind(decision)
        except ValueError:
            raise StoreError(
                f"decision must be one of {[d.value for d in DecisionKind]}, got {decision!r}"
            ) from None
        known = self._conn.execute(select(Opportunity.id).where(Opportunity.id == opportunity_id)).first()
        if known is None:
            raise StoreError(f"decision for an opportunity that was never recorded: {opportunity_id}")
        reason = str(getattr(reason, "value", reason))
        if not reason:
            raise StoreError("a decision needs a reason code")
        row = self._conn.execute(
            self._insert(DecisionRow)
            .values(
                opportunity_id=opportunity_id,
                decision=kind.value,
                reason=reason,
                detail=str(detail),
                at=_aware(at, "at") or self._now(),
            )
            .returning(DecisionRow.id)
        ).scalar_one()
        return int(row)

    # -------------------------------------------------------------- transactions
    def record_tx_sent(
        self,
        *,
        tx_hash: str | bytes,
        chain_id: int,
        nonce: int,
        from_address: str,
        to_address: str | None,
        gas_limit: int,
        max_fee_per_gas: int,
        max_priority_fee_per_gas: int,
        opportunity_id: str | None = None,
        sent_at: datetime | None = None,
    ) -> str:
        """Records a sent transaction as pending (once: the same hash again changes nothing); its hash."""
        h = _tx_hash(tx_hash)
        values = dict(
            hash=h,
            opportunity_id=opportunity_id,
            chain_id=_int(chain_id, "chain_id"),
            nonce=_int(nonce, "nonce"),
            from_address=_address(from_address, "from_address"),
            to_address=None if to_address is None else _address(to_address, "to_address"),
            gas_limit=_int(gas_limit, "gas_limit"),
            max_fee_per_gas=_int(max_fee_per_gas, "max_fee_per_gas"),
            max_priority_fee_per_gas=_int(max_priority_fee_per_gas, "max_priority_fee_per_gas"),
            status=TxStatus.PENDING.value,
            sent_at=_aware(sent_at, "sent_at") or self._now(),
        )
        if opportunity_id is not None:
            known = self._conn.execute(select(Opportunity.id).where(Opportunity.id == opportunity_id)).first()
            if known is None:
                raise StoreError(f"transaction for an opportunity that was never recorded: {opportunity_id}")
        self._conn.execute(self._insert(Transaction).values(**values).on_conflict_do_nothing())
        return h

    def record_tx_outcome(
        self,
        tx_hash: str | bytes,
        status: TxStatus | str,
        *,
        block_number: int | None = None,
        gas_used: int | None = None,
        effective_gas_price: int | None = None,
        mined_at: datetime | None = None,
        replaced_by: str | bytes | None = None,
    ) -> TxStatus:
        """Sets a sent transaction's status; returns the status it has afterwards.

        ``mined``/``reverted`` come from a receipt and need ``block_number``, ``gas_used`` and
        ``effective_gas_price``; they overwrite anything (a reorg may re-mine). ``replaced``, ``dropped`` and
        ``pending`` never overwrite a receipt's status: a late "dropped" after the receipt changes nothing.
        """
        h = _tx_hash(tx_hash)
        try:
            new = TxStatus(status)
        except ValueError:
            raise StoreError(f"status must be one of {[s.value for s in TxStatus]}, got {status!r}") from None
        row = self._conn.execute(select(Transaction.status).where(Transaction.hash == h)).first()
        if row is None:
            raise UnknownTransaction(f"outcome for a transaction that was never recorded as sent: {h}")
        current = TxStatus(row.status)
        values: dict[str, Any] = {"status": new.value}
        if new.from_receipt:
            if block_number is None or gas_used is None or effective_gas_price is None:
                raise StoreError(
                    f"a {new.value} outcome needs block_number, gas_used and effective_gas_price"
                )
            values.update(
                block_number=_int(block_number, "block_number"),
                gas_used=_int(gas_used, "gas_used"),
                effective_gas_price=_int(effective_gas_price, "effective_gas_price"),
                mined_at=_aware(mined_at, "mined_at") or self._now(),
                replaced_by=None,
            )
        else:
            if current.from_receipt:
                return current
            values.update(block_number=None, gas_used=None, effective_gas_price=None, mined_at=None)
            values["replaced_by"] = (
                _tx_hash(replaced_by) if (new is TxStatus.REPLACED and replaced_by) else None
            )
        self._conn.execute(update(Transaction).where(Transaction.hash == h).values(**values))
        return new

    # -------------------------------------------------------------- results and tokens
    def record_result(
        self,
        tx_hash: str | bytes,
        *,
        success: bool,
        loan_token: str,
        realized_profit: int,
        premium: int,
        gas_cost_native: int,
        gas_cost_token: int,
        predicted_profit: int,
        recorded_at: datetime | None = None,
    ) -> bool:
        """Records what a landed transaction earned (RunExecuted's ``profit`` and ``premium``; 0 and 0 for a
        revert) next to the simulation's prediction; a second call for the same transaction replaces it.

        Returns whether the prediction was exact (``success`` and predicted == realized, to the wei).
        """
        h = _tx_hash(tx_hash)
        if type(success) is not bool:
            raise StoreError("success must be a bool")
        known = self._conn.execute(select(Transaction.hash).where(Transaction.hash == h)).first()
        if known is None:
            raise UnknownTransaction(f"result for a transaction that was never recorded as sent: {h}")
        realized = _int(realized_profit, "realized_profit", signed=True)
        predicted = _int(predicted_profit, "predicted_profit", signed=True)
        exact = success and realized == predicted
        values = dict(
            tx_hash=h,
            success=success,
            loan_token=_address(loan_token, "loan_token"),
            realized_profit=realized,
            premium=_int(premium, "premium"),
            gas_cost_native=_int(gas_cost_native, "gas_cost_native"),
            gas_cost_token=_int(gas_cost_token, "gas_cost_token"),
            predicted_profit=predicted,
            exact=exact,
            recorded_at=_aware(recorded_at, "recorded_at") or self._now(),
        )
        stmt = self._insert(Result).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[Result.tx_hash], set_={k: v for k, v in values.items() if k != "tx_hash"}
        )
        self._conn.execute(stmt)
        return exact

    # -------------------------------------------------------------- relay records (the recorder's keys)
    def mark_relayed(self, opportunity_id: str, agent: str, decision: str, *, tx_hash: str | None = None) -> bool:
        """Claims the key of one relay result in this transaction; False when it was recorded before (the
        caller then writes nothing). With the writes in the same ``atomic`` block it is exactly once."""
        if not opportunity_id or not agent or not decision:
            raise StoreError("a relay record needs an opportunity id, an agent and a decision")
        values = dict(
            opportunity_id=str(opportunity_id)[:64],
            agent=str(agent)[:64],
            decision=str(decision)[:16],
            tx_hash=None if tx_hash is None else _tx_hash(tx_hash),
            recorded_at=self._now(),
        )
        result = self._conn.execute(self._insert(RelayRecord).values(**values).on_conflict_do_nothing())
        return result.rowcount == 1

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A nested transaction: what runs inside is undone if it raises, the rest of the batch stays."""
        with self._conn.begin_nested():
            yield

    def is_sent(self, tx_hash: str | bytes) -> bool:
        """Whether a transaction was recorded as sent (an outcome needs it first)."""
        found = self._conn.execute(select(Transaction.hash).where(Transaction.hash == _tx_hash(tx_hash))).first()
        return found is not None

    def record_token(self, *, chain_id: int, address: str, symbol: str, decimals: int) -> None:
        """Display metadata for the report (upserted)."""
        values = dict(
            chain_id=_int(chain_id, "chain_id"),
            address=_address(address, "token"),
            symbol=str(symbol),
            decimals=_int(decimals, "decimals"),
        )
        stmt = self._insert(Token).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[Token.chain_id, Token.address], set_={"symbol": symbol, "decimals": decimals}
        )
        self._conn.execute(stmt)


# ---------------------------------------------------------------------------------------------- the store
def _make_engine(url: URL, create: bool) -> Engine:
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database or ""
        in_memory = database in ("", ":memory:") or database.startswith("file::memory:")
        if not in_memory:
            path = Path(database)
            if not create and not path.exists():
                raise StoreError(
                    f"no database at {path} (nothing recorded yet, or a wrong --db/database_url)"
                )
            if not path.parent.is_dir():
                if not create:
                    raise StoreError(f"no database at {path}")
                path.parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": _SQLITE_BUSY_TIMEOUT_MS / 1000})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # SQLAlchemy's "begin" event emits BEGIN (pysqlite's own transaction handling skips DDL).
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            if not in_memory:
                cur.execute("PRAGMA journal_mode=WAL")  # readers (the report) never block the bot's writes
            cur.execute("PRAGMA synchronous=FULL")  # a commit is on disk when record_* returns
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # Writers take the lock up front (BEGIN IMMEDIATE): no deadlock upgrading a read lock.
            mode = conn.get_execution_options().get("flasharb_begin", "")
            conn.exec_driver_sql(f"BEGIN {mode}".strip())

        return engine
    if backend == "postgresql":
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        try:
            return create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
        except (ModuleNotFoundError, NoSuchModuleError):
            raise StoreError(f"PostgreSQL needs the psycopg driver: pip install '{PSYCOPG_PIN}'") from None
    raise StoreError(f"unsupported database {safe_url(url)}: use sqlite:///path or postgresql://...")


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _in_transaction(method: Callable[Concatenate[Batch, _P], _R]) -> Callable[Concatenate[Store, _P], _R]:
    """``Store.<method>``: runs ``Batch.<method>`` in a transaction of its own (typed like the original)."""

    @functools.wraps(method)
    def run(self: Store, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with self.atomic() as batch:
            return method(batch, *args, **kwargs)

    return run


def _driver_message(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    first = str(orig).strip().splitlines()
    return first[0] if first else type(orig).__name__


class Store:
    """The P&L database. ``Store.open(url)``; ``close()`` (or use it as a context manager)."""

    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] | None = None) -> None:
        self._engine = engine
        self._clock = clock or (lambda: datetime.now(UTC))
        self._closed = False

    # -------------------------------------------------------------- opening
    @classmethod
    def open(cls, url: str, *, create: bool = True, clock: Callable[[], datetime] | None = None) -> Store:
        """Connects and migrates the schema to the newest revision.

        ``create=False`` (the report) refuses to create a SQLite file that does not exist yet.
        """
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise StoreError("malformed database URL (expected sqlite:///path or postgresql://...)") from None
        engine = _make_engine(parsed, create)
        store = cls(engine, clock=clock)
        try:
            store._migrate()
        except BaseException:
            engine.dispose()
            raise
        return store

    def _migrate(self) -> None:
        from alembic import command
        from alembic.config import Config
        from alembic.util.exc import CommandError

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
        try:
            with self._engine.connect() as conn:
                conn = conn.execution_options(flasharb_begin="IMMEDIATE")
                with conn.begin():
                    if conn.dialect.name == "postgresql":
                        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
        except CommandError as exc:
            raise SchemaError(
                f"database {self.url} has a schema this flasharb cannot migrate ({exc}); "
                "is it from a newer version?"
            ) from None
        except DBAPIError as exc:
            raise StoreError(f"cannot open database {self.url}: {_driver_message(exc)}") from None
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot migrate database {self.url}: {type(exc).__name__}") from None

    @property
    def url(self) -> str:
        """The database URL, password masked."""
        return safe_url(self._engine.url)

    @property
    def dialect(self) -> str:
        return self._engine.dialect.name

    @property
    def engine(self) -> Engine:
        return self._engine

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def schema_revision(self) -> str | None:
        from alembic.runtime.migration import MigrationContext

        with self._engine.connect() as conn:
            return MigrationContext.configure(
                conn, opts={"version_table": VERSION_TABLE}
            ).get_current_revision()

    # -------------------------------------------------------------- writing
    @contextmanager
    def atomic(self) -> Iterator[Batch]:
        """One transaction for several writes: all are committed when the block ends, none if it raises."""
        if self._closed:
            raise StoreError("the store is closed")
        try:
            with self._engine.connect() as conn:
                conn = conn.execution_options(flasharb_begin="IMMEDIATE")
                with conn.begin():
                    yield Batch(conn, self._clock)
        except DBAPIError as exc:
            raise StoreError(f"database write failed ({self.url}): {_driver_message(exc)}") from exc

    # Each write in its own transaction: Batch's methods, same signatures (see ``_in_transaction``).
    record_opportunity = _in_transaction(Batch.record_opportunity)
    record_decision = _in_transaction(Batch.record_decision)
    record_tx_sent = _in_transaction(Batch.record_tx_sent)
    record_tx_outcome = _in_transaction(Batch.record_tx_outcome)
    record_result = _in_transaction(Batch.record_result)
    record_token = _in_transaction(Batch.record_token)

    # -------------------------------------------------------------- reading
    @contextmanager
    def _read(self) -> Iterator[Connection]:
        if self._closed:
            raise StoreError("the store is closed")
        try:
            with self._engine.connect() as conn:
                with conn.begin():
                    yield conn
        except DBAPIError as exc:
            raise StoreError(f"database read failed ({self.url}): {_driver_message(exc)}") from exc

    def relay_records(self) -> list[tuple[str, str, str]]:
        """Every relay result the recorder wrote, as (opportunity id, agent, decision), in key order."""
        stmt = select(RelayRecord.opportunity_id, RelayRecord.agent, RelayRecord.decision).order_by(
            RelayRecord.opportunity_id, RelayRecord.agent, RelayRecord.decision
        )
        with self._read() as conn:
            return [(r[0], r[1], r[2]) for r in conn.execute(stmt).all()]

    def get_opportunity(self, opportunity_id: str) -> OpportunityRecord | None:
        with self._read() as conn:
            row = conn.execute(select(Opportunity).where(Opportunity.id == opportunity_id)).mappings().first()
        return None if row is None else _opportunity(row)

    def opportunities(
        self, *, since: datetime | None = None, until: datetime | None = None, chain_id: int | None = None
    ) -> list[OpportunityRecord]:
        stmt = select(Opportunity).order_by(Opportunity.created_at, Opportunity.id)
        stmt = _window(stmt, Opportunity.created_at, since, until)
        if chain_id is not None:
            stmt = stmt.where(Opportunity.chain_id == chain_id)
        with self._read() as conn:
            return [_opportunity(r) for r in conn.execute(stmt).mappings()]

    def decisions(self, opportunity_id: str | None = None) -> list[DecisionRecord]:
        stmt = select(DecisionRow).order_by(DecisionRow.id)
        if opportunity_id is not None:
            stmt = stmt.where(DecisionRow.opportunity_id == opportunity_id)
        with self._read() as conn:
            return [
                DecisionRecord(
                    id=r.id,
                    opportunity_id=r.opportunity_id,
                    decision=DecisionKind(r.decision),
                    reason=r.reason,
                    detail=r.detail,
                    at=r.at,
                )
                for r in conn.execute(stmt).mappings()
            ]

    def get_transaction(self, tx_hash: str | bytes) -> TxRecord | None:
        with self._read() as conn:
            row = (
                conn.execute(select(Transaction).where(Transaction.hash == _tx_hash(tx_hash)))
                .mappings()
                .first()
            )
        return None if row is None else _tx(row)

    def transactions(
        self,
        *,
        chain_id: int | None = None,
        from_address: str | None = None,
        status: TxStatus | str | None = None,
    ) -> list[TxRecord]:
        """Sent transactions, by nonce then send time (``status="pending"``: what a restart must track)."""
        stmt = select(Transaction).order_by(Transaction.nonce, Transaction.sent_at)
        if chain_id is not None:
            stmt = stmt.where(Transaction.chain_id == chain_id)
        if from_address is not None:
            stmt = stmt.where(Transaction.from_address == _address(from_address, "from_address"))
        if status is not None:
            stmt = stmt.where(Transaction.status == TxStatus(status).value)
        with self._read() as conn:
            return [_tx(r) for r in conn.execute(stmt).mappings()]

    def last_nonce(self, chain_id: int, from_address: str) -> int | None:
        """The highest nonce this sender was recorded sending with (None: none recorded)."""
        stmt = select(func.max(Transaction.nonce)).where(
            Transaction.chain_id == chain_id,
            Transaction.from_address == _address(from_address, "from_address"),
        )
        with self._read() as conn:
            value = conn.execute(stmt).scalar()
        return None if value is None else int(value)

    def get_result(self, tx_hash: str | bytes) -> ResultRecord | None:
        with self._read() as conn:
            row = conn.execute(select(Result).where(Result.tx_hash == _tx_hash(tx_hash))).mappings().first()
        if row is None:
            return None
        return ResultRecord(**{k: row[k] for k in ResultRecord.__slots__})

    def result_rows(
        self, *, since: datetime | None = None, until: datetime | None = None, chain_id: int | None = None
    ) -> list[ResultView]:
        """Every result with its transaction and opportunity, oldest first (``since <= at < until``)."""
        at = func.coalesce(Transaction.mined_at, Transaction.sent_at)
        stmt = (
            select(
                Result.tx_hash,
                Result.success,
                Result.loan_token,
                Result.realized_profit,
                Result.premium,
                Result.gas_cost_native,
                Result.gas_cost_token,
                Result.predicted_profit,
                Result.exact,
                Transaction.chain_id,
                Transaction.status,
                Transaction.opportunity_id,
                Transaction.mined_at,
                Transaction.sent_at,
                Opportunity.strategy,
                Opportunity.route_shape,
                Opportunity.dexes,
            )
            .join(Transaction, Transaction.hash == Result.tx_hash)
            .outerjoin(Opportunity, Opportunity.id == Transaction.opportunity_id)
            .order_by(at, Result.tx_hash)
        )
        stmt = _window(stmt, at, since, until)
        if chain_id is not None:
            stmt = stmt.where(Transaction.chain_id == chain_id)
        with self._read() as conn:
            rows = conn.execute(stmt).mappings().all()
        return [
            ResultView(
                tx_hash=r["tx_hash"],
                chain_id=r["chain_id"],
                at=r["mined_at"] or r["sent_at"],
                status=TxStatus(r["status"]),
                opportunity_id=r["opportunity_id"],
                strategy=r["strategy"],
                route_shape=r["route_shape"],
                dexes=tuple(r["dexes"] or ()),
                loan_token=r["loan_token"],
                success=r["success"],
                realized_profit=r["realized_profit"],
                premium=r["premium"],
                gas_cost_native=r["gas_cost_native"],
                gas_cost_token=r["gas_cost_token"],
                predicted_profit=r["predicted_profit"],
                exact=r["exact"],
            )
            for r in rows
        ]

    def decision_counts(
        self, *, since: datetime | None = None, until: datetime | None = None, chain_id: int | None = None
    ) -> list[DecisionCount]:
        """Decisions grouped by (decision, reason), most frequent first, with the latest detail of each."""
        stmt = select(
            DecisionRow.decision,
            DecisionRow.reason,
            func.count().label("n"),
            func.max(DecisionRow.at).label("last_at"),
            func.max(DecisionRow.id).label("last_id"),
        ).group_by(DecisionRow.decision, DecisionRow.reason)
        stmt = _window(stmt, DecisionRow.at, since, until)
        if chain_id is not None:
            stmt = stmt.join(Opportunity, Opportunity.id == DecisionRow.opportunity_id).where(
                Opportunity.chain_id == chain_id
            )
        with self._read() as conn:
            rows = conn.execute(stmt).all()
            details = dict(
                conn.execute(
                    select(DecisionRow.id, DecisionRow.detail).where(
                        DecisionRow.id.in_([r.last_id for r in rows])
                    )
                ).all()
            )
        counts = [
            DecisionCount(
                DecisionKind(r.decision),
                r.reason,
                int(r.n),
                r.last_at if r.last_at.tzinfo else r.last_at.replace(tzinfo=UTC),
                details.get(r.last_id, ""),
            )
            for r in rows
        ]
        counts.sort(key=lambda c: (-c.count, c.decision.value, c.reason))
        return counts

    def tx_status_counts(
        self, *, since: datetime | None = None, until: datetime | None = None, chain_id: int | None = None
    ) -> dict[TxStatus, int]:
        stmt = select(Transaction.status, func.count()).group_by(Transaction.status)
        stmt = _window(stmt, Transaction.sent_at, since, until)
        if chain_id is not None:
            stmt = stmt.where(Transaction.chain_id == chain_id)
        with self._read() as conn:
            return {TxStatus(s): int(n) for s, n in conn.execute(stmt).all()}

    def opportunity_count(
        self, *, since: datetime | None = None, until: datetime | None = None, chain_id: int | None = None
    ) -> int:
        stmt = _window(select(func.count()).select_from(Opportunity), Opportunity.created_at, since, until)
        if chain_id is not None:
            stmt = stmt.where(Opportunity.chain_id == chain_id)
        with self._read() as conn:
            return int(conn.execute(stmt).scalar_one())

    def tokens(self) -> dict[tuple[int, str], TokenInfo]:
        with self._read() as conn:
            return {
                (r.chain_id, r.address): TokenInfo(r.chain_id, r.address, r.symbol, r.decimals)
                for r in conn.execute(select(Token)).mappings()
            }


def _window(stmt: Any, column: Any, since: datetime | None, until: datetime | None) -> Any:
    """``since <= column < until``; the bounds are bound as UtcDateTime (what the backend stores)."""
    if since is not None:
        stmt = stmt.where(column >= bindparam(None, _aware(since, "since"), type_=UtcDateTime()))
    if until is not None:
        stmt = stmt.where(column < bindparam(None, _aware(until, "until"), type_=UtcDateTime()))
    return stmt


def _opportunity(row: Any) -> OpportunityRecord:
    return OpportunityRecord(
        id=row["id"],
        chain_id=row["chain_id"],
        block_number=row["block_number"],
        strategy=row["strategy"],
        route_shape=row["route_shape"],
        dexes=tuple(row["dexes"] or ()),
        pools=tuple(row["pools"] or ()),
        lender=row["lender"],
        loan_token=row["loan_token"],
        amount_in=row["amount_in"],
        expected_profit=row["expected_profit"],
        premium=row["premium"],
        gas_estimate=row["gas_estimate"],
        plan=bytes.fromhex(row["plan_hex"][2:]),
        created_at=row["created_at"],
    )


def _tx(row: Any) -> TxRecord:
    values = {k: row[k] for k in TxRecord.__slots__}
    values["status"] = TxStatus(values["status"])
    return TxRecord(**values)
