"""Fleet Telemetry configs per app and vehicle, and the counter ordering their writes

Revision ID: 0018
Revises: 0017
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fleet_telemetry_configs",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("vin", sa.String(17), primary_key=True),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("config", sa.Text, nullable=True),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("applied_version", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_fleet_telemetry_configs_seq", "fleet_telemetry_configs", ["seq"])
    op.create_index(
        "ix_fleet_telemetry_configs_user", "fleet_telemetry_configs", ["user_id", "client_id"]
    )
    op.execute("INSERT INTO state (key, value) VALUES ('fleet_telemetry_configs', 0)")


def downgrade() -> None:
    op.execute("DELETE FROM state WHERE key = 'fleet_telemetry_configs'")
    op.drop_index("ix_fleet_telemetry_configs_user", "fleet_telemetry_configs")
    op.drop_index("ix_fleet_telemetry_configs_seq", "fleet_telemetry_configs")
    op.drop_table("fleet_telemetry_configs")
