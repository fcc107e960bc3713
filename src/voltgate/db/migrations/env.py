"""Alembic environment: always run on a connection handed in by voltgate (see db/engine.py)."""

from alembic import context

from voltgate.db.schema import declared, metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `voltgate db upgrade`")
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=True,
    include_name=declared,  # the spatial index is built by hand (0015), per database
)
with context.begin_transaction():
    context.run_migrations()
