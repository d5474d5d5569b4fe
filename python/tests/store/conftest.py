"""Store test fixtures: a real PostgreSQL server for the session, and an empty database per test.

``postgres_server`` (session) starts a throwaway server with ``pg_server.start_server`` (initdb into a
temporary folder, postgres on a free loopback port, as a non-root user when run as root) and stops it at the
end. It fails the run, naming ``apt-get install -y postgresql``, when the server binaries are missing.

Each test that takes ``store_url`` (or ``store``) runs twice: on a fresh SQLite file, and on a fresh schema of
the shared PostgreSQL server (selected by the URL's ``search_path``; dropped afterwards).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_server import PostgresServer, require_pg_bin, start_server, stop_server

from flasharb.store import Store, sqlite_url


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = start_server(require_pg_bin())
    try:
        yield server
    finally:
        stop_server(server)


@pytest.fixture()
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    schema = postgres_server.create_schema()
    yield postgres_server.url_for_schema(schema)
    postgres_server.drop_schema(schema)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "flasharb.db")
    return request.getfixturevalue("postgres_url")


@pytest.fixture()
def store(store_url: str) -> Iterator[Store]:
    s = Store.open(store_url)
    yield s
    s.close()
