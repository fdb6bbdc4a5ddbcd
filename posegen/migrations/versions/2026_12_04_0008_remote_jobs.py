"""remote jobs: the server and id of a pose's (or background change's) work on a remote engine

Revision ID: 0008
Revises: 0007
Created: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("generated_poses", "background_changes")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("remote_server", sa.String(length=512), nullable=True))
            batch_op.add_column(sa.Column("remote_job_id", sa.String(length=128), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("remote_job_id")
            batch_op.drop_column("remote_server")
