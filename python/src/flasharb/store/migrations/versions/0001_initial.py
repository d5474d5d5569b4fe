"""Initial schema: opportunities, decisions, transactions, results, tokens.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from flasharb.store.models import UtcDateTime, Wei

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "opportunities",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("chain_id", sa.Integer(), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("strategy", sa.String(32), nullable=False),
        sa.Column("route_shape", sa.String(64), nullable=False),
        sa.Column("dexes", sa.JSON(), nullable=False),
        sa.Column("pools", sa.JSON(), nullable=False),
        sa.Column("lender", sa.String(32), nullable=True),
        sa.Column("loan_token", sa.String(42), nullable=False),
        sa.Column("amount_in", Wei(), nullable=False),
        sa.Column("expected_profit", Wei(), nullable=False),
        sa.Column("premium", Wei(), nullable=False),
        sa.Column("gas_estimate", sa.BigInteger(), nullable=False),
        sa.Column("plan_hex", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunities")),
    )
    op.create_index(
        op.f("ix_opportunities_chain_id_block_number"), "opportunities", ["chain_id", "block_number"]
    )
    op.create_index(op.f("ix_opportunities_created_at"), "opportunities", ["created_at"])

    op.create_table(
        "tokens",
        sa.Column("chain_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.String(42), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("decimals", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id", "address", name=op.f("pk_tokens")),
    )

    op.create_table(
        "decisions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("opportunity_id", sa.String(64), nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_decisions_opportunity_id_opportunities"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_decisions")),
    )
    op.create_index(op.f("ix_decisions_at"), "decisions", ["at"])
    op.create_index(op.f("ix_decisions_opportunity_id"), "decisions", ["opportunity_id"])

    op.create_table(
        "transactions",
        sa.Column("hash", sa.String(66), nullable=False),
        sa.Column("opportunity_id", sa.String(64), nullable=True),
        sa.Column("chain_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("from_address", sa.String(42), nullable=False),
        sa.Column("to_address", sa.String(42), nullable=True),
        sa.Column("gas_limit", sa.BigInteger(), nullable=False),
        sa.Column("max_fee_per_gas", Wei(), nullable=False),
        sa.Column("max_priority_fee_per_gas", Wei(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("replaced_by", sa.String(66), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("gas_used", sa.BigInteger(), nullable=True),
        sa.Column("effective_gas_price", Wei(), nullable=True),
        sa.Column("sent_at", UtcDateTime(), nullable=False),
        sa.Column("mined_at", UtcDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["opportunity_id"],
            ["opportunities.id"],
            name=op.f("fk_transactions_opportunity_id_opportunities"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("hash", name=op.f("pk_transactions")),
    )
    op.create_index(
        op.f("ix_transactions_chain_id_from_address_nonce"),
        "transactions",
        ["chain_id", "from_address", "nonce"],
    )
    op.create_index(op.f("ix_transactions_opportunity_id"), "transactions", ["opportunity_id"])
    op.create_index(op.f("ix_transactions_status"), "transactions", ["status"])

    op.create_table(
        "results",
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("loan_token", sa.String(42), nullable=False),
        sa.Column("realized_profit", Wei(), nullable=False),
        sa.Column("premium", Wei(), nullable=False),
        sa.Column("gas_cost_native", Wei(), nullable=False),
        sa.Column("gas_cost_token", Wei(), nullable=False),
        sa.Column("predicted_profit", Wei(), nullable=False),
        sa.Column("exact", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tx_hash"],
            ["transactions.hash"],
            name=op.f("fk_results_tx_hash_transactions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tx_hash", name=op.f("pk_results")),
    )


def downgrade() -> None:
    op.drop_table("results")
    op.drop_table("transactions")
    op.drop_table("decisions")
    op.drop_table("tokens")
    op.drop_table("opportunities")
