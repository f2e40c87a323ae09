"""Alembic environment: always given an open connection by apdocs.register.db.migrate.

The caller has already begun the transaction and taken the register's write lock, so two
processes opening a new register at once cannot both create its tables.
"""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable by running alembic by hand
    raise RuntimeError("apdocs register migrations run from apdocs.register.db.migrate, which passes a connection")
context.configure(connection=connection, target_metadata=None, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
