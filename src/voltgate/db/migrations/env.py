"""Alembic environment: always run on a connection handed in by voltgate (see db/engine.py)."""

from alembic import context

from voltgate.db.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `voltgate db upgrade`")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
