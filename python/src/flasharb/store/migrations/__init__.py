"""Alembic migrations of the P&L store (``Store.open`` applies them; ``env.py`` is alembic's entry point)."""
