"""usage counted: a completed pose adds to its library pose's usage once, when its generation ends

Revision ID: 0009
Revises: 0008
Created: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Rows from before this revision were counted when they were submitted: true for them, and no
    # server default afterwards (new rows take the model's False).
    with op.batch_alter_table("generated_poses", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("usage_counted", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table("generated_poses", schema=None) as batch_op:
        batch_op.alter_column("usage_counted", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("generated_poses", schema=None) as batch_op:
        batch_op.drop_column("usage_counted")
