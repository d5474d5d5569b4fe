"""The PostgreSQL test server itself: a real postmaster, not root, and a clear failure without it."""

from __future__ import annotations

import os
from pathlib import Path

import pg_server
import pytest


def test_server_runs_as_a_non_root_user(postgres_server: pg_server.PostgresServer) -> None:
    pid = int((postgres_server.data_dir / "postmaster.pid").read_text().splitlines()[0])
    owner = os.stat(f"/proc/{pid}").st_uid
    assert owner != 0
    if os.geteuid() != 0:
        assert owner == os.geteuid()
    assert Path(f"/proc/{pid}/exe").resolve().name == "postgres"


def test_missing_binaries_fail_with_the_install_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg_server, "find_pg_bin", lambda: None)
    with pytest.raises(pytest.fail.Exception, match=r"apt-get install -y postgresql"):
        pg_server.require_pg_bin()


def test_pg_bin_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = pg_server.find_pg_bin()
    assert real is not None
    monkeypatch.setenv("FLASHARB_PG_BIN", str(real))
    assert pg_server.find_pg_bin() == real
    monkeypatch.setenv("FLASHARB_PG_BIN", str(tmp_path))  # not a server folder: the search goes on
    assert pg_server.find_pg_bin() == real
