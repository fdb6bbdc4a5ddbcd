"""pose check: the score, verdict, detected keypoints and free re-renders of a generated pose

Revision ID: 0010
Revises: 0009
Created: 2026-12-04
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VERDICTS = "'passed', 'failed', 'inconclusive', 'skipped'"


def upgrade() -> None:
    # Rows from before this revision were never checked: null score and verdict, no re-renders (the
    # server default fills them, then goes; new rows take the model's 0).
    with op.batch_alter_table("generated_poses", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pose_score", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("pose_check", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("detected_keypoints", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("rerenders", sa.Integer(), nullable=False, server_default="0"))
        batch_op.create_check_constraint(
            op.f("ck_generated_poses_pose_check"), f"pose_check IS NULL OR pose_check IN ({VERDICTS})"
        )
    with op.batch_alter_table("generated_poses", schema=None) as batch_op:
        batch_op.alter_column("rerenders", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("generated_poses", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_generated_poses_pose_check"), type_="check")
        batch_op.drop_column("rerenders")
        batch_op.drop_column("detected_keypoints")
        batch_op.drop_column("pose_check")
        batch_op.drop_column("pose_score")
