"""Opening the store: migrations at open, errors that name the problem (never a password), concurrency."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from store_helpers import opportunity_fields, record_trade, tx_fields

from flasharb.store import SchemaError, Store, StoreError, default_database_url, safe_url, sqlite_url
from flasharb.store.models import VERSION_TABLE, Base

TABLES = {"opportunities", "decisions", "transactions", "results", "tokens", "relay_records", VERSION_TABLE}
HEAD_REVISION = "0002"


def test_open_migrates_to_head(store: Store) -> None:
    assert store.schema_revision() == HEAD_REVISION
    names = set(inspect(store.engine).get_table_names())
    assert TABLES <= names


def test_migrations_match_the_models(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE, "compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == []


def test_reopen_is_a_no_op_and_keeps_data(store_url: str) -> None:
    with Store.open(store_url) as s:
        oid = s.record_opportunity(**opportunity_fields())
    with Store.open(store_url) as s:
        assert s.schema_revision() == HEAD_REVISION
        assert s.get_opportunity(oid) is not None


def test_concurrent_opens_migrate_once(store_url: str) -> None:
    errors: list[BaseException] = []
    stores: list[Store] = []
    lock = threading.Lock()

    def open_one() -> None:
        try:
            s = Store.open(store_url)
            with lock:
                stores.append(s)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert {s.schema_revision() for s in stores} == {HEAD_REVISION}
    finally:
        for s in stores:
            s.close()


def test_concurrent_writers_lose_nothing(store_url: str) -> None:
    """Two processes' worth of stores (separate engines) and several threads each: every write lands."""
    a, b = Store.open(store_url), Store.open(store_url)
    errors: list[BaseException] = []

    def writer(s: Store, first: int) -> None:
        try:
            for n in range(first, first + 15):
                record_trade(s, n, realized=n)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(s, i * 100)) for i, s in enumerate([a, b, a, b])]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert len(a.result_rows()) == 60
        assert a.opportunity_count() == 60
    finally:
        a.close()
        b.close()


def test_newer_schema_is_refused(store_url: str) -> None:
    with Store.open(store_url) as s:
        with s.engine.begin() as conn:
            conn.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    with pytest.raises(SchemaError, match="newer version"):
        Store.open(store_url)


def test_open_errors(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="malformed database URL"):
        Store.open("not a url")
    with pytest.raises(StoreError, match="unsupported database"):
        Store.open("mysql://u:hunter2@localhost/x")
    missing = tmp_path / "nope" / "flasharb.db"
    with pytest.raises(StoreError, match="no database at"):
        Store.open(sqlite_url(missing), create=False)
    assert not missing.exists()
    with Store.open(sqlite_url(missing)) as s:  # create=True makes the folder and the file
        assert s.dialect == "sqlite"
    assert missing.exists()


def test_unreachable_postgres_names_the_url_without_password(postgres_server) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once closed
    url = f"postgresql://bot:s3cret-pw@127.0.0.1:{port}/flasharb"
    with pytest.raises(StoreError) as info:
        Store.open(url)
    message = str(info.value)
    assert "cannot open database" in message and f"127.0.0.1:{port}" in message
    assert "s3cret-pw" not in message and "***" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_safe_url_and_default_location(tmp_path: Path) -> None:
    assert safe_url("postgresql://u:pw@h:5/db") == "postgresql://u:***@h:5/db"
    config = tmp_path / "conf" / "bot.toml"
    assert default_database_url(config, tmp_path) == sqlite_url(tmp_path / "conf" / "flasharb.db")
    assert default_database_url(None, tmp_path) == sqlite_url(tmp_path / "flasharb.db")


def test_sqlite_is_durable_and_in_wal_mode(tmp_path: Path) -> None:
    with Store.open(sqlite_url(tmp_path / "f.db")) as s:
        with s.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_postgres_is_a_real_server_with_exact_numerics(postgres_url: str) -> None:
    with Store.open(postgres_url) as s:
        assert s.dialect == "postgresql"
        with s.engine.connect() as conn:
            assert conn.execute(text("SHOW server_version")).scalar().split(".")[0].isdigit()
            column = conn.execute(
                text(
                    "SELECT data_type, numeric_precision FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND table_name = 'opportunities' "
                    "AND column_name = 'amount_in'"
                )
            ).one()
        assert tuple(column) == ("numeric", 78)
        h = s.record_tx_sent(**tx_fields(1, max_fee_per_gas=2**255))
        assert s.get_transaction(h).max_fee_per_gas == 2**255


_WRITER = """
import sys
from datetime import UTC, datetime
from flasharb.store import Store

store = Store.open(sys.argv[1])
for n in range(100_000):
    store.record_tx_sent(
        tx_hash="0x" + f"{n:064x}", chain_id=137, nonce=n, from_address="0x" + "11" * 20,
        to_address=None, gas_limit=1, max_fee_per_gas=1, max_priority_fee_per_gas=1,
    )
    print(n, flush=True)  # acknowledged: record_tx_sent returned
"""


def test_acknowledged_writes_survive_a_killed_process(store_url: str) -> None:
    """SIGKILL a writer mid-stream: every write whose call had returned is in the database afterwards."""
    import signal
    import subprocess
    import sys

    Store.open(store_url).close()  # migrate first, so the child only writes
    child = subprocess.Popen([sys.executable, "-c", _WRITER, store_url], stdout=subprocess.PIPE, text=True)
    acknowledged = -1
    try:
        assert child.stdout is not None
        for line in child.stdout:
            acknowledged = int(line)
            if acknowledged >= 40:
                break
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert acknowledged >= 40
    with Store.open(store_url) as s:
        nonces = {t.nonce for t in s.transactions()}
    assert set(range(acknowledged + 1)) <= nonces
    assert nonces == set(range(len(nonces)))  # and nothing half-written in between
