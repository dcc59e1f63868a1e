"""handoff: one open handoff per applicant; 容缺 reminders sent

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-24 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status IN ('waiting', 'claimed')")


def upgrade() -> None:
    op.create_table(
        "commitment_reminders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("material_row_id", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["material_row_id"], ["application_materials.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("material_row_id", "deadline"),
    )
    op.create_index(
        "uq_handoffs_open_applicant",
        "handoffs",
        ["applicant_id"],
        unique=True,
        postgresql_where=OPEN,
        sqlite_where=OPEN,
    )


def downgrade() -> None:
    op.drop_index("uq_handoffs_open_applicant", table_name="handoffs")
    op.drop_table("commitment_reminders")
