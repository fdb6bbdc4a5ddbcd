"""pose deleted: users' own poses deleted while past generations still reference them

Revision ID: 0012
Revises: 0011
Created: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PRIVATE = sa.text("owner_id IS NOT NULL")
# A deleted pose frees its name: its owner may save another pose under it.
_PRIVATE_LIVE = sa.text("owner_id IS NOT NULL AND deleted_at IS NULL")


def upgrade() -> None:
    with op.batch_alter_table("poses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_index("uq_poses_owner_name")
    with op.batch_alter_table("poses", schema=None) as batch_op:
        batch_op.create_index(
            "uq_poses_owner_name",
            ["owner_id", "name"],
            unique=True,
            sqlite_where=_PRIVATE_LIVE,
            postgresql_where=_PRIVATE_LIVE,
        )


def downgrade() -> None:
    # Without the column a deleted pose would be visible again (and its name could clash with the
    # pose that reused it): drop them; generations that used one keep their rows (pose_id SET NULL).
    op.execute(
        sa.text(
            "UPDATE generated_poses SET pose_id = NULL WHERE pose_id IN "
            "(SELECT id FROM poses WHERE deleted_at IS NOT NULL)"
        )
    )
    op.execute(
        sa.text(
            "UPDATE pose_requests SET completed_pose_id = NULL WHERE completed_pose_id IN "
            "(SELECT id FROM poses WHERE deleted_at IS NOT NULL)"
        )
    )
    # Explicit: SQLite may run this without foreign-key cascades.
    deleted = "pose_id IN (SELECT id FROM poses WHERE deleted_at IS NOT NULL)"
    op.execute(sa.text(f"DELETE FROM pose_tags WHERE {deleted}"))  # noqa: S608 -- constant SQL
    op.execute(sa.text(f"DELETE FROM pose_favorites WHERE {deleted}"))  # noqa: S608 -- constant SQL
    op.execute(sa.text("DELETE FROM poses WHERE deleted_at IS NOT NULL"))
    with op.batch_alter_table("poses", schema=None) as batch_op:
        batch_op.drop_index("uq_poses_owner_name")
    with op.batch_alter_table("poses", schema=None) as batch_op:
        batch_op.create_index(
            "uq_poses_owner_name",
            ["owner_id", "name"],
            unique=True,
            sqlite_where=_PRIVATE,
            postgresql_where=_PRIVATE,
        )
        batch_op.drop_column("deleted_at")
