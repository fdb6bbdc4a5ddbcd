"""background changes: paid background changes of finished poses, as units of work

Revision ID: 0006
Revises: 0005
Created: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "background_changes",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("pose_id", sa.String(length=26), nullable=False),
        sa.Column("generation_id", sa.String(length=26), nullable=False),
        sa.Column("user_id", sa.String(length=26), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("prompt", sa.String(length=300), nullable=True),
        sa.Column("color", sa.String(length=7), nullable=True),
        sa.Column("upload_id", sa.String(length=26), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False),
        sa.Column("quota_day", sa.Date(), nullable=True),
        sa.Column("refunded", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("error_message", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'completed', 'failed', 'canceled')",
            name=op.f("ck_background_changes_status"),
        ),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["generations.id"],
            name=op.f("fk_background_changes_generation_id_generations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pose_id"],
            ["generated_poses.id"],
            name=op.f("fk_background_changes_pose_id_generated_poses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["upload_id"],
            ["uploads.id"],
            name=op.f("fk_background_changes_upload_id_uploads"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_background_changes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_background_changes")),
    )
    with op.batch_alter_table("background_changes", schema=None) as batch_op:
        batch_op.create_index("ix_background_changes_pose_id", ["pose_id"], unique=False)
        batch_op.create_index(
            "ix_background_changes_status_available_at", ["status", "available_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("background_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_background_changes_status_available_at")
        batch_op.drop_index("ix_background_changes_pose_id")

    op.drop_table("background_changes")
