"""pose library: categories, poses with tags, favorites, pose requests and votes

Revision ID: 0003
Revises: 0002
Created: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "pose_categories",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("slug", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("parent_id", sa.String(length=26), nullable=True),
        sa.Column("icon", sa.String(length=64), nullable=False),
        sa.Column("color", sa.String(length=7), nullable=False),
        sa.Column("display_order", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["pose_categories.id"],
            name=op.f("fk_pose_categories_parent_id_pose_categories"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pose_categories")),
        sa.UniqueConstraint("slug", name=op.f("uq_pose_categories_slug")),
    )
    with op.batch_alter_table("pose_categories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pose_categories_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "poses",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("category_id", sa.String(length=26), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("difficulty", sa.String(length=16), nullable=False),
        sa.Column("gender_suitability", sa.String(length=8), nullable=False),
        sa.Column("framing", sa.String(length=16), nullable=False),
        sa.Column("keypoints", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("owner_id", sa.String(length=26), nullable=True),
        sa.Column("is_public", sa.Boolean(), nullable=False),
        sa.Column("is_featured", sa.Boolean(), nullable=False),
        sa.Column("is_premium", sa.Boolean(), nullable=False),
        sa.Column("usage_count", sa.Integer(), nullable=False),
        sa.Column("favorite_count", sa.Integer(), nullable=False),
        sa.Column("popularity_score", sa.Float(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("preview_key", sa.String(length=512), nullable=True),
        sa.Column("thumbnail_key", sa.String(length=512), nullable=True),
        sa.Column("control_map_key", sa.String(length=512), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "difficulty IN ('beginner', 'intermediate', 'advanced')", name=op.f("ck_poses_difficulty")
        ),
        sa.CheckConstraint(
            "framing IN ('full_body', 'upper_body', 'portrait')", name=op.f("ck_poses_framing")
        ),
        sa.CheckConstraint(
            "gender_suitability IN ('male', 'female', 'unisex')", name=op.f("ck_poses_gender_suitability")
        ),
        sa.CheckConstraint("source IN ('curated', 'admin', 'user')", name=op.f("ck_poses_source")),
        sa.CheckConstraint(
            "usage_count >= 0 AND favorite_count >= 0", name=op.f("ck_poses_counts_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["pose_categories.id"],
            name=op.f("fk_poses_category_id_pose_categories"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["users.id"], name=op.f("fk_poses_owner_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poses")),
        sa.UniqueConstraint("category_id", "name", name=op.f("uq_poses_category_id_name")),
        sa.UniqueConstraint("slug", name=op.f("uq_poses_slug")),
    )
    with op.batch_alter_table("poses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_poses_category_id"), ["category_id"], unique=False)
        batch_op.create_index("ix_poses_public_popularity", ["is_public", "popularity_score"], unique=False)

    op.create_table(
        "pose_favorites",
        sa.Column("user_id", sa.String(length=26), nullable=False),
        sa.Column("pose_id", sa.String(length=26), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["pose_id"], ["poses.id"], name=op.f("fk_pose_favorites_pose_id_poses"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_pose_favorites_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "pose_id", name=op.f("pk_pose_favorites")),
    )
    with op.batch_alter_table("pose_favorites", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pose_favorites_pose_id"), ["pose_id"], unique=False)

    op.create_table(
        "pose_requests",
        sa.Column("id", sa.String(length=26), nullable=False),
        sa.Column("user_id", sa.String(length=26), nullable=False),
        sa.Column("pose_name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=1000), nullable=False),
        sa.Column("category_id", sa.String(length=26), nullable=True),
        sa.Column("use_case", sa.String(length=200), nullable=True),
        sa.Column("reference_upload_id", sa.String(length=26), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("admin_notes", sa.String(length=1000), nullable=True),
        sa.Column("completed_pose_id", sa.String(length=26), nullable=True),
        sa.Column("votes_count", sa.Integer(), nullable=False),
        sa.Column("reviewed_by", sa.String(length=26), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'in_progress', 'completed')",
            name=op.f("ck_pose_requests_status"),
        ),
        sa.CheckConstraint("votes_count >= 0", name=op.f("ck_pose_requests_votes_count_not_negative")),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["pose_categories.id"],
            name=op.f("fk_pose_requests_category_id_pose_categories"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["completed_pose_id"],
            ["poses.id"],
            name=op.f("fk_pose_requests_completed_pose_id_poses"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by"],
            ["users.id"],
            name=op.f("fk_pose_requests_reviewed_by_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_pose_requests_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pose_requests")),
    )
    with op.batch_alter_table("pose_requests", schema=None) as batch_op:
        batch_op.create_index("ix_pose_requests_status_votes", ["status", "votes_count"], unique=False)
        batch_op.create_index(batch_op.f("ix_pose_requests_user_id"), ["user_id"], unique=False)

    op.create_table(
        "pose_tags",
        sa.Column("pose_id", sa.String(length=26), nullable=False),
        sa.Column("tag", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["pose_id"], ["poses.id"], name=op.f("fk_pose_tags_pose_id_poses"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("pose_id", "tag", name=op.f("pk_pose_tags")),
    )
    with op.batch_alter_table("pose_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pose_tags_tag"), ["tag"], unique=False)

    op.create_table(
        "pose_request_votes",
        sa.Column("request_id", sa.String(length=26), nullable=False),
        sa.Column("user_id", sa.String(length=26), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["pose_requests.id"],
            name=op.f("fk_pose_request_votes_request_id_pose_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_pose_request_votes_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("request_id", "user_id", name=op.f("pk_pose_request_votes")),
    )


def downgrade() -> None:
    op.drop_table("pose_request_votes")
    with op.batch_alter_table("pose_tags", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pose_tags_tag"))

    op.drop_table("pose_tags")
    with op.batch_alter_table("pose_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pose_requests_user_id"))
        batch_op.drop_index("ix_pose_requests_status_votes")

    op.drop_table("pose_requests")
    with op.batch_alter_table("pose_favorites", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pose_favorites_pose_id"))

    op.drop_table("pose_favorites")
    with op.batch_alter_table("poses", schema=None) as batch_op:
        batch_op.drop_index("ix_poses_public_popularity")
        batch_op.drop_index(batch_op.f("ix_poses_category_id"))

    op.drop_table("poses")
    with op.batch_alter_table("pose_categories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pose_categories_parent_id"))

    op.drop_table("pose_categories")
