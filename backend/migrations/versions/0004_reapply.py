"""reapply: a new application remembers the refused one it reapplies for

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("applications", sa.Column("previous_code", sa.String(length=32), nullable=True))
    # One reapplication per refused application, even when two requests race.
    op.create_index("uq_applications_previous", "applications", ["previous_code"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_applications_previous", table_name="applications")
    with op.batch_alter_table("applications") as batch_op:
        batch_op.drop_column("previous_code")
