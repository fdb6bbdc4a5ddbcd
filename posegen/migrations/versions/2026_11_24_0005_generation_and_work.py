"""generation and work: generations, per-pose work items, events, workers, queue state

Revision ID: 0005
Revises: 0004
Created: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "queue_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("last_recovery_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_recovered", sa.Integer(), nullable=False),
        sa.Column("last_dead_lettered", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queue_state")),
    )
    op.create_table(
        "workers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("busy_slots", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
    )
    op.create_table(
        "generations",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("user_id", sa.String(length=26), nullable=False),
        sa.Column("project_id", sa.String(length=26), nullable=False),
        sa.Column("generation_type", sa.String(length=20), nullable=False),
        sa.Column("text_prompt", sa.Text(), nullable=True),
        sa.Column("batch_size", sa.Integer(), nullable=False),
        sa.Column("variation_count", sa.Integer(), nullable=False),
        sa.Column("total_expected", sa.Integer(), nullable=False),
        sa.Column("engine", sa.String(length=32), nullable=False),
        sa.Column("quality", sa.String(length=16), nullable=False),
        sa.Column("base_seed", sa.Integer(), nullable=False),
        sa.Column("use_background_changer", sa.Boolean(), nullable=False),
        sa.Column("background_mode", sa.String(length=16), nullable=True),
        sa.Column("background_prompt", sa.String(length=300), nullable=True),
        sa.Column("background_color", sa.String(length=7), nullable=True),
        sa.Column("background_upload_id", sa.String(length=26), nullable=True),
        sa.Column("export_formats", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("cancel_requested", sa.Boolean(), nullable=False),
        sa.Column("credit_charged", sa.Integer(), nullable=False),
        sa.Column("credit_refunded", sa.Integer(), nullable=False),
        sa.Column("quota_day", sa.Date(), nullable=True),
        sa.Column("poses_completed", sa.Integer(), nullable=False),
        sa.Column("poses_failed", sa.Integer(), nullable=False),
        sa.Column("poses_canceled", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=255), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("accepted_response", sa.JSON(), nullable=True),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("error_message", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "generation_type IN ('GALLERY_REFERENCE', 'TEXT_DESCRIPTION')",
            name=op.f("ck_generations_generation_type"),
        ),
        sa.CheckConstraint(
            "status IN ('queued', 'processing', 'completed', 'partial', 'failed', 'canceled')",
            name=op.f("ck_generations_status"),
        ),
        sa.CheckConstraint(
            "credit_refunded <= credit_charged", name=op.f("ck_generations_refund_within_charge")
        ),
        sa.ForeignKeyConstraint(
            ["background_upload_id"],
            ["uploads.id"],
            name=op.f("fk_generations_background_upload_id_uploads"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name=op.f("fk_generations_project_id_projects"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_generations_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generations")),
        sa.UniqueConstraint(
            "user_id", "idempotency_key", name=op.f("uq_generations_user_id_idempotency_key")
        ),
    )
    with op.batch_alter_table("generations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_generations_project_id_created_at", ["project_id", "created_at"], unique=False
        )
        batch_op.create_index("ix_generations_status", ["status"], unique=False)
        batch_op.create_index("ix_generations_user_id_created_at", ["user_id", "created_at"], unique=False)

    op.create_table(
        "generated_poses",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("generation_id", sa.String(length=26), nullable=False),
        sa.Column("user_id", sa.String(length=26), nullable=False),
        sa.Column("pose_id", sa.String(length=26), nullable=True),
        sa.Column("variation_key", sa.String(length=64), nullable=False),
        sa.Column("variation_index", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("prompt_used", sa.Text(), nullable=False),
        sa.Column("keypoints", sa.JSON(), nullable=False),
        sa.Column("engine", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("available_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cost", sa.Integer(), nullable=False),
        sa.Column("refunded", sa.Boolean(), nullable=False),
        sa.Column("charge_round", sa.Integer(), nullable=False),
        sa.Column("image_key", sa.String(length=512), nullable=True),
        sa.Column("thumbnail_key", sa.String(length=512), nullable=True),
        sa.Column("control_map_key", sa.String(length=512), nullable=True),
        sa.Column("export_keys", sa.JSON(), nullable=False),
        sa.Column("figure_box", sa.JSON(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("background_changed", sa.Boolean(), nullable=False),
        sa.Column("error_code", sa.String(length=32), nullable=True),
        sa.Column("error_message", sa.String(length=500), nullable=True),
        sa.Column("generation_time_ms", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'completed', 'failed', 'canceled')",
            name=op.f("ck_generated_poses_status"),
        ),
        sa.CheckConstraint(
            "attempts >= 0 AND cost >= 0", name=op.f("ck_generated_poses_counts_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["generations.id"],
            name=op.f("fk_generated_poses_generation_id_generations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pose_id"], ["poses.id"], name=op.f("fk_generated_poses_pose_id_poses"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_generated_poses_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generated_poses")),
        sa.UniqueConstraint(
            "generation_id", "variation_key", name=op.f("uq_generated_poses_generation_id_variation_key")
        ),
    )
    with op.batch_alter_table("generated_poses", schema=None) as batch_op:
        batch_op.create_index(
            "ix_generated_poses_generation_id_status", ["generation_id", "status"], unique=False
        )
        batch_op.create_index(
            "ix_generated_poses_status_available_at", ["status", "available_at"], unique=False
        )
        batch_op.create_index(
            "ix_generated_poses_status_lease_expires_at", ["status", "lease_expires_at"], unique=False
        )
        batch_op.create_index("ix_generated_poses_user_id_status", ["user_id", "status"], unique=False)

    op.create_table(
        "generation_events",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("generation_id", sa.String(length=26), nullable=False),
        sa.Column("user_id", sa.String(length=26), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["generation_id"],
            ["generations.id"],
            name=op.f("fk_generation_events_generation_id_generations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_generation_events_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generation_events")),
        sa.UniqueConstraint("generation_id", "seq", name=op.f("uq_generation_events_generation_id_seq")),
    )
    with op.batch_alter_table("generation_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_generation_events_user_id_created_at", ["user_id", "created_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("generation_events", schema=None) as batch_op:
        batch_op.drop_index("ix_generation_events_user_id_created_at")

    op.drop_table("generation_events")
    with op.batch_alter_table("generated_poses", schema=None) as batch_op:
        batch_op.drop_index("ix_generated_poses_user_id_status")
        batch_op.drop_index("ix_generated_poses_status_lease_expires_at")
        batch_op.drop_index("ix_generated_poses_status_available_at")
        batch_op.drop_index("ix_generated_poses_generation_id_status")

    op.drop_table("generated_poses")
    with op.batch_alter_table("generations", schema=None) as batch_op:
        batch_op.drop_index("ix_generations_user_id_created_at")
        batch_op.drop_index("ix_generations_status")
        batch_op.drop_index("ix_generations_project_id_created_at")

    op.drop_table("generations")
    op.drop_table("workers")
    op.drop_table("queue_state")
