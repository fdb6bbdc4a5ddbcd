"""metrics indexes: generations and generated poses by submission time

Revision ID: 0007
Revises: 0006
Created: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("generations", schema=None) as batch_op:
        batch_op.create_index("ix_generations_created_at", ["created_at"], unique=False)
    with op.batch_alter_table("generated_poses", schema=None) as batch_op:
        batch_op.create_index("ix_generated_poses_status_created_at", ["status", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("generated_poses", schema=None) as batch_op:
        batch_op.drop_index("ix_generated_poses_status_created_at")
    with op.batch_alter_table("generations", schema=None) as batch_op:
        batch_op.drop_index("ix_generations_created_at")
