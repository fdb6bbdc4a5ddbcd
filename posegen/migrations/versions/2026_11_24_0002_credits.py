"""credits: accounts with a non-negative balance, the ledger, unlimited usage, audit log

Revision ID: 0002
Revises: 0001
Created: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("actor_id", sa.String(length=26), nullable=True),
        sa.Column("user_id", sa.String(length=26), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.String(length=64), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_audit_log_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_audit_log_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index("ix_audit_log_action_created_at", "audit_log", ["action", "created_at"], unique=False)
    op.create_index("ix_audit_log_target", "audit_log", ["target_type", "target_id"], unique=False)
    op.create_index("ix_audit_log_user_id_created_at", "audit_log", ["user_id", "created_at"], unique=False)

    op.create_table(
        "credit_accounts",
        sa.Column("user_id", sa.String(length=26), nullable=False),
        sa.Column("balance", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("balance >= 0", name=op.f("ck_credit_accounts_balance_not_negative")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_credit_accounts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_credit_accounts")),
    )
    op.create_table(
        "credit_entries",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("user_id", sa.String(length=26), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("balance_after", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("reference_type", sa.String(length=32), nullable=True),
        sa.Column("reference_id", sa.String(length=64), nullable=True),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('purchase', 'bonus', 'usage', 'refund', 'admin_grant', 'admin_debit')",
            name=op.f("ck_credit_entries_kind"),
        ),
        sa.CheckConstraint("amount <> 0", name=op.f("ck_credit_entries_amount_not_zero")),
        sa.CheckConstraint("balance_after >= 0", name=op.f("ck_credit_entries_balance_after_not_negative")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_credit_entries_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_entries")),
        sa.UniqueConstraint(
            "user_id", "idempotency_key", name=op.f("uq_credit_entries_user_id_idempotency_key")
        ),
    )
    op.create_index(
        "ix_credit_entries_user_id_created_at", "credit_entries", ["user_id", "created_at"], unique=False
    )
    op.create_index(
        "uq_credit_entries_refund_reference",
        "credit_entries",
        ["kind", "reference_type", "reference_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'refund'"),
        sqlite_where=sa.text("kind = 'refund'"),
    )

    op.create_table(
        "unlimited_usage",
        sa.Column("user_id", sa.String(length=26), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("used", sa.Integer(), nullable=False),
        sa.CheckConstraint("used >= 0", name=op.f("ck_unlimited_usage_used_not_negative")),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_unlimited_usage_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "day", name=op.f("pk_unlimited_usage")),
    )


def downgrade() -> None:
    op.drop_table("unlimited_usage")
    op.drop_table("credit_entries")
    op.drop_table("credit_accounts")
    op.drop_table("audit_log")
