"""telemetry rollups (1-minute buckets) for downsampled queries and longer retention

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_FIELDS = ("power_kw", "energy_kwh", "soc", "voltage", "current")
_PARTS = (
    ("count", sa.Integer, False),
    ("sum", sa.Float, False),
    ("min", sa.Float, True),
    ("max", sa.Float, True),
    ("last", sa.Float, True),
    ("last_at", sa.Float, True),
)


def upgrade() -> None:
    op.create_table(
        "telemetry_rollups",
        sa.Column("device_id", sa.String(64), primary_key=True),
        sa.Column("connector", sa.Integer, primary_key=True),
        sa.Column("bucket", sa.BigInteger, primary_key=True),
        *(
            sa.Column(f"{name}_{part}", kind, nullable=nullable)
            for name in _FIELDS
            for part, kind, nullable in _PARTS
        ),
    )
    op.create_index("ix_telemetry_rollups_bucket", "telemetry_rollups", ["bucket"])
    op.create_index("ix_telemetry_at", "telemetry", ["at"])


def downgrade() -> None:
    op.drop_index("ix_telemetry_at", "telemetry")
    op.drop_index("ix_telemetry_rollups_bucket", "telemetry_rollups")
    op.drop_table("telemetry_rollups")
