"""charger telemetry (batched readings), device events, charging records

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ROWID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "telemetry",
        sa.Column("id", _ROWID, primary_key=True),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("connector", sa.Integer, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("power_kw", sa.Float, nullable=False),
        sa.Column("energy_kwh", sa.Float, nullable=False),
        sa.Column("soc", sa.Float, nullable=True),
        sa.Column("voltage", sa.Float, nullable=True),
        sa.Column("current", sa.Float, nullable=True),
    )
    op.create_index(
        "ix_telemetry_device_connector_at", "telemetry", ["device_id", "connector", "at"]
    )
    op.create_table(
        "device_events",
        sa.Column("id", _ROWID, primary_key=True),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("connector", sa.Integer, nullable=True),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("code", sa.String(64), nullable=True),
        sa.Column("message", sa.String(500), nullable=True),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("received_at", sa.Float, nullable=False),
    )
    op.create_index("ix_device_events_device_at", "device_events", ["device_id", "at"])
    op.create_table(
        "charging_records",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("device_id", sa.String(64), sa.ForeignKey("devices.id"), nullable=False),
        sa.Column("operator_id", sa.String(64), sa.ForeignKey("clients.id"), nullable=False),
        sa.Column("transaction_id", sa.String(64), nullable=False),
        sa.Column("connector", sa.Integer, nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("stopped_at", sa.Float, nullable=True),
        sa.Column("energy_kwh", sa.Float, nullable=False),
        sa.Column("meter_start", sa.Float, nullable=True),
        sa.Column("meter_stop", sa.Float, nullable=True),
        sa.Column("meter_values", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.UniqueConstraint("device_id", "transaction_id", name="uq_charging_records_transaction"),
    )
    op.create_index("ix_charging_records_operator", "charging_records", ["operator_id", "id"])
    op.create_index("ix_charging_records_device", "charging_records", ["device_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_charging_records_device", "charging_records")
    op.drop_index("ix_charging_records_operator", "charging_records")
    op.drop_table("charging_records")
    op.drop_index("ix_device_events_device_at", "device_events")
    op.drop_table("device_events")
    op.drop_index("ix_telemetry_device_connector_at", "telemetry")
    op.drop_table("telemetry")
