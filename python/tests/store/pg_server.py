"""A throwaway PostgreSQL server for the store tests, from Debian's server binaries (used by conftest.py).

``start_server`` runs ``initdb`` into a fresh temporary folder and starts ``postgres`` on a free loopback port
(TCP on 127.0.0.1 only, trust auth, fsync off: it is a throwaway). PostgreSQL refuses to run as root, so as
root the server runs as the ``postgres`` system user (created by Debian's package), or else as a
``flasharb-pg`` system user created here with ``useradd``. ``stop_server`` stops it and removes its folder.

Binaries are looked up in ``$FLASHARB_PG_BIN``, then ``/usr/lib/postgresql/<newest>/bin``, then ``PATH``. When
they are missing ``require_pg_bin`` fails the run (never skips) and names the fix, ``apt-get install -y
postgresql`` (``tools/ensure-postgres.sh`` does it).
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

INSTALL_HINT = "apt-get install -y postgresql (or run tools/ensure-postgres.sh)"
PG_SERVICE_USER = "flasharb-pg"
SUPERUSER = "flasharb"
_TOOLS = ("initdb", "pg_ctl", "postgres")


def find_pg_bin() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres, or None."""
    candidates: list[Path] = []
    if os.environ.get("FLASHARB_PG_BIN"):
        candidates.append(Path(os.environ["FLASHARB_PG_BIN"]))
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else -1,
        reverse=True,
    )
    candidates += versions
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(Path(on_path).resolve().parent)
    for folder in candidates:
        if all(os.access(folder / tool, os.X_OK) for tool in _TOOLS):
            return folder
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _service_user() -> pwd.struct_passwd | None:
    """None when not root (run as ourselves); else a non-root account postgres accepts, created if needed."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", PG_SERVICE_USER):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    proc = subprocess.run(
        [
            useradd,
            "--system",
            "--no-create-home",
            "--home-dir",
            "/nonexistent",
            "--shell",
            "/usr/sbin/nologin",
            "--user-group",
            PG_SERVICE_USER,
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode not in (0, 9):  # 9: the name exists already (another session created it)
        pytest.fail(
            f"postgres cannot run as root and `useradd {PG_SERVICE_USER}` failed: {proc.stderr.strip()}"
        )
    return pwd.getpwnam(PG_SERVICE_USER)


@dataclass
class PostgresServer:
    bin_dir: Path
    data_dir: Path
    port: int
    user: pwd.struct_passwd | None
    _ids: itertools.count

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        kwargs: dict = {}
        if self.user is not None:
            kwargs = dict(user=self.user.pw_uid, group=self.user.pw_gid, extra_groups=[])
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C", "TZ": "UTC"}
        return subprocess.run(
            args, capture_output=True, text=True, timeout=timeout, env=env, cwd=self.data_dir.parent, **kwargs
        )

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(sql)

    def create_schema(self) -> str:
        """A fresh empty schema (milliseconds; CREATE DATABASE takes ~0.2 s); see ``url_for_schema``."""
        name = f"t{os.getpid()}_{next(self._ids)}"
        self._admin(f'CREATE SCHEMA "{name}"')
        return name

    def drop_schema(self, name: str) -> None:
        self._admin(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')

    def url_for_schema(self, schema: str) -> str:
        """The ``postgres`` database with ``search_path`` = ``schema``: all the store makes goes there."""
        return f"{self.url('postgres')}?options=-csearch_path%3D{schema}"


def start_server(bin_dir: Path) -> PostgresServer:
    user = _service_user()
    root = Path(tempfile.mkdtemp(prefix="flasharb-pg-"))
    data = root / "data"
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    server = PostgresServer(bin_dir, data, 0, user, itertools.count())
    init = server.run(
        str(bin_dir / "initdb"),
        "-D",
        str(data),
        "-U",
        SUPERUSER,
        "--auth=trust",
        "-E",
        "UTF8",
        "--locale=C",
        "--no-sync",
        "--no-instructions",
    )
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"initdb failed ({init.returncode}): {init.stderr.strip() or init.stdout.strip()}")
    last_error = ""
    for _attempt in range(5):  # a free port can be taken between probing and binding: retry with another
        port = _free_port()
        conf = data / "postgresql.conf"
        with conf.open("a") as f:
            f.write(
                "\n# flasharb test server\n"
                f"port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{data}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\nmax_connections = 50\n"
                "shared_buffers = 32MB\n"
            )
        log = root / "postgres.log"
        start = server.run(
            str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "30", "start", timeout=60
        )
        if start.returncode == 0:
            server.port = port
            return server
        last_error = log.read_text(errors="replace")[-2000:] if log.exists() else start.stderr
        server.run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
    shutil.rmtree(root, ignore_errors=True)
    pytest.fail(f"postgres did not start: {last_error.strip()}")


def stop_server(server: PostgresServer) -> None:
    server.run(
        str(server.bin_dir / "pg_ctl"), "-D", str(server.data_dir), "-m", "fast", "-w", "stop", timeout=60
    )
    shutil.rmtree(server.data_dir.parent, ignore_errors=True)


def require_pg_bin() -> Path:
    """The server binaries' folder; fails the test run (never skips) with the install command when missing."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        pytest.fail(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in /usr/lib/postgresql/*/bin, "
            f"$FLASHARB_PG_BIN or PATH: install them with `{INSTALL_HINT}`"
        )
    try:
        import psycopg  # noqa: F401
    except ModuleNotFoundError:
        pytest.fail("the psycopg driver is missing: pip install 'psycopg[binary]==3.3.9'")
    return bin_dir
