"""user poses: private poses from photos, their author and promotion; keypoints on pose requests

Revision ID: 0011
Revises: 0010
Created: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PRIVATE = sa.text("owner_id IS NOT NULL")
_LIBRARY = sa.text("owner_id IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("poses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author_id", sa.String(length=26), nullable=True))
        batch_op.add_column(sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("promoted_by", sa.String(length=26), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_poses_author_id_users"), "users", ["author_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_poses_promoted_by_users"), "users", ["promoted_by"], ["id"], ondelete="SET NULL"
        )
        batch_op.drop_constraint("uq_poses_category_id_name", type_="unique")
    with op.batch_alter_table("poses", schema=None) as batch_op:
        batch_op.create_index(
            "uq_poses_library_category_name",
            ["category_id", "name"],
            unique=True,
            sqlite_where=_LIBRARY,
            postgresql_where=_LIBRARY,
        )
        batch_op.create_index(
            "uq_poses_owner_name",
            ["owner_id", "name"],
            unique=True,
            sqlite_where=_PRIVATE,
            postgresql_where=_PRIVATE,
        )
        batch_op.create_index("ix_poses_owner_created", ["owner_id", "created_at"], unique=False)
    with op.batch_alter_table("pose_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("keypoints", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("pose_requests", schema=None) as batch_op:
        batch_op.drop_column("keypoints")
    # Private poses cannot live under the old per-category uniqueness (nor should they survive a
    # downgrade that forgets who owns them).
    op.execute(sa.text("DELETE FROM poses WHERE owner_id IS NOT NULL"))
    with op.batch_alter_table("poses", schema=None) as batch_op:
        batch_op.drop_index("ix_poses_owner_created")
        batch_op.drop_index("uq_poses_owner_name")
        batch_op.drop_index("uq_poses_library_category_name")
    with op.batch_alter_table("poses", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_poses_category_id_name", ["category_id", "name"])
        batch_op.drop_constraint("fk_poses_promoted_by_users", type_="foreignkey")
        batch_op.drop_constraint("fk_poses_author_id_users", type_="foreignkey")
        batch_op.drop_column("promoted_by")
        batch_op.drop_column("promoted_at")
        batch_op.drop_column("author_id")
