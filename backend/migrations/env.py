"""Alembic environment: the backend passes its own connection in (see backend.db.migrate)."""

from alembic import context
from sqlalchemy import Connection

from backend.models import Base

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through backend.db.migrate (or `python -m backend migrate`)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
