"""a charger a user owns (home charger); charging records indexed by start time

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite adds a column with an inline reference in place; a constraint added afterwards
        # would need the table rebuilt (and its dependants' cascades would fire).
        op.execute("ALTER TABLE devices ADD COLUMN owner_user_id VARCHAR(64) REFERENCES users (id)")
    else:
        op.add_column("devices", sa.Column("owner_user_id", sa.String(64), nullable=True))
        op.create_foreign_key(
            "fk_devices_owner_user_id", "devices", "users", ["owner_user_id"], ["id"]
        )
    op.create_index("ix_devices_owner_user_id", "devices", ["owner_user_id"])
    op.create_index(
        "ix_charging_records_operator_started", "charging_records", ["operator_id", "started_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_charging_records_operator_started", "charging_records")
    op.drop_index("ix_devices_owner_user_id", "devices")
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot drop a referencing column without rebuilding `devices`, whose rebuild
        # would cascade into its connectors: the unused column stays.
        return
    op.drop_constraint("fk_devices_owner_user_id", "devices", type_="foreignkey")
    op.drop_column("devices", "owner_user_id")
