"""Alembic environment for the P&L store.

``Store.open`` runs it with an open connection in ``config.attributes["connection"]``, inside its own
transaction and migration lock. To write a new revision after changing ``flasharb.store.models``, from
Python::

    cfg = alembic.config.Config()
    cfg.set_main_option("script_location", "<this folder>")
    cfg.set_main_option("sqlalchemy.url", "sqlite:////tmp/scratch.db")   # a database at the current head
    alembic.command.revision(cfg, message="what changed", autogenerate=True, rev_id="0002")

then tidy the generated file (see ``versions/0001_initial.py`` for the style).
"""

from __future__ import annotations

from typing import Any

from alembic import context
from sqlalchemy import create_engine

from flasharb.store.models import VERSION_TABLE, Base

config = context.config
target_metadata = Base.metadata

OPTIONS: dict[str, Any] = dict(
    target_metadata=target_metadata,
    version_table=VERSION_TABLE,
    render_as_batch=True,  # SQLite cannot ALTER most things: batch mode copies the table
    compare_type=True,
)


def _url() -> str | None:
    return context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")


def run_offline() -> None:
    context.configure(url=_url(), literal_binds=True, **OPTIONS)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, **OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = _url()
    if not url:
        raise SystemExit("no database: pass -x url=... or set sqlalchemy.url")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context.configure(connection=conn, **OPTIONS)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
