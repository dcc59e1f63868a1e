"""容缺 follow-up: overdue notices sent, when a promised material arrived, when reviewers saw it

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "commitment_overdue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("material_row_id", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["material_row_id"], ["application_materials.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("material_row_id", "deadline"),
    )
    op.add_column(
        "application_materials", sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "department_tasks", sa.Column("materials_seen_at", sa.DateTime(timezone=True), nullable=True)
    )


def downgrade() -> None:
    with op.batch_alter_table("department_tasks") as batch_op:
        batch_op.drop_column("materials_seen_at")
    with op.batch_alter_table("application_materials") as batch_op:
        batch_op.drop_column("delivered_at")
    op.drop_table("commitment_overdue")
