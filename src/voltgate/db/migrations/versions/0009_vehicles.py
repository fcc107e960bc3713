"""users' vehicles and their charging sessions (Tesla Fleet API shapes)

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_ROWID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "vehicles",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("vin", sa.String(17), nullable=False),
        sa.Column("seed_slot", sa.Integer, nullable=True),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("car_type", sa.String(32), nullable=False),
        sa.Column("exterior_color", sa.String(32), nullable=False),
        sa.Column("battery_kwh", sa.Float, nullable=False),
        sa.Column("rated_range_mi", sa.Float, nullable=False),
        sa.Column("charger_voltage", sa.Float, nullable=False),
        sa.Column("max_amps", sa.Integer, nullable=False),
        sa.Column("charging_amps", sa.Integer, nullable=False),
        sa.Column("charge_limit", sa.Integer, nullable=False),
        sa.Column("plugged_in", sa.Boolean, nullable=False),
        sa.Column("charging", sa.Boolean, nullable=False),
        sa.Column("charging_state", sa.String(16), nullable=False),
        sa.Column("battery_level", sa.Float, nullable=False),
        sa.Column("state_at", sa.Float, nullable=False),
        sa.Column("last_active_at", sa.Float, nullable=False),
        sa.Column("awake_from", sa.Float, nullable=False),
        sa.Column("session_id", sa.BigInteger, nullable=True),
        sa.Column("session_start_level", sa.Float, nullable=True),
        sa.Column("energy_added", sa.Float, nullable=False),
        sa.Column("scheduled_charging", sa.Boolean, nullable=False),
        sa.Column("scheduled_minutes", sa.Integer, nullable=True),
        sa.Column("latitude", sa.Float, nullable=False),
        sa.Column("longitude", sa.Float, nullable=False),
        sa.Column("heading", sa.Integer, nullable=False),
        sa.Column("location_name", sa.String(200), nullable=False),
        sa.Column("odometer_mi", sa.Float, nullable=False),
        sa.Column("inside_temp", sa.Float, nullable=False),
        sa.Column("outside_temp", sa.Float, nullable=False),
        sa.Column("locked", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("vin", name="uq_vehicles_vin"),
        sa.UniqueConstraint("user_id", "seed_slot", name="uq_vehicles_seed_slot"),
    )
    op.create_index("ix_vehicles_user", "vehicles", ["user_id", "id"])
    op.create_table(
        "vehicle_charging_sessions",
        sa.Column("id", _ROWID, primary_key=True),
        sa.Column("vehicle_id", sa.BigInteger, sa.ForeignKey("vehicles.id"), nullable=False),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("vin", sa.String(17), nullable=False),
        sa.Column("location_name", sa.String(200), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("ended_at", sa.Float, nullable=True),
        sa.Column("start_level", sa.Float, nullable=False),
        sa.Column("end_level", sa.Float, nullable=True),
        sa.Column("energy_kwh", sa.Float, nullable=True),
        sa.Column("stop_reason", sa.String(16), nullable=True),
    )
    op.create_index(
        "ix_vehicle_charging_sessions_user", "vehicle_charging_sessions", ["user_id", "id"]
    )
    op.create_index(
        "ix_vehicle_charging_sessions_vehicle", "vehicle_charging_sessions", ["vehicle_id", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_vehicle_charging_sessions_vehicle", "vehicle_charging_sessions")
    op.drop_index("ix_vehicle_charging_sessions_user", "vehicle_charging_sessions")
    op.drop_table("vehicle_charging_sessions")
    op.drop_index("ix_vehicles_user", "vehicles")
    op.drop_table("vehicles")
