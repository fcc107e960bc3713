"""Fleet Telemetry messages: one index, the dedupe key in (vin, created_at, txid) order, serves
both the dedupe and the scans of a vehicle's messages by time

Revision ID: 0024
Revises: 0023

The key (vin, txid, created_at) and the index (vin, created_at) were two B-trees written for
every message; (vin, created_at, txid) is the same key (the same columns) and its prefix is the
scan's. SQLite cannot drop a table's unique constraint in place: the table is copied.
"""

from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

_OLD_KEY, _KEY, _INDEX = (
    "uq_vehicle_messages_txid",
    "uq_vehicle_messages_key",
    "ix_vehicle_messages_vin_created",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE vehicle_messages DROP CONSTRAINT {_OLD_KEY}")
        op.execute(
            f"ALTER TABLE vehicle_messages ADD CONSTRAINT {_KEY} UNIQUE (vin, created_at, txid)"
        )
        op.execute(f"DROP INDEX {_INDEX}")
        return
    op.drop_index(_INDEX, "vehicle_messages")
    with op.batch_alter_table("vehicle_messages", recreate="always") as batch:
        batch.drop_constraint(_OLD_KEY, type_="unique")
        batch.create_unique_constraint(_KEY, ["vin", "created_at", "txid"])


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE vehicle_messages DROP CONSTRAINT {_KEY}")
        op.execute(
            f"ALTER TABLE vehicle_messages ADD CONSTRAINT {_OLD_KEY} UNIQUE (vin, txid, created_at)"
        )
        op.execute(f"CREATE INDEX {_INDEX} ON vehicle_messages (vin, created_at)")
        return
    with op.batch_alter_table("vehicle_messages", recreate="always") as batch:
        batch.drop_constraint(_KEY, type_="unique")
        batch.create_unique_constraint(_OLD_KEY, ["vin", "txid", "created_at"])
    op.create_index(_INDEX, "vehicle_messages", ["vin", "created_at"])
