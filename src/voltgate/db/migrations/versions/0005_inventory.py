"""operator inventory: sites, devices (chargers), connectors, enrollment credentials

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sites",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("operator_id", sa.String(64), sa.ForeignKey("clients.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("address", sa.String(500), nullable=True),
        sa.Column("latitude", sa.Float, nullable=True),
        sa.Column("longitude", sa.Float, nullable=True),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("grid_limit_kw", sa.Float, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_sites_operator_id", "sites", ["operator_id", "id"])
    op.create_table(
        "devices",
        sa.Column("id", sa.String(64), sa.ForeignKey("clients.id"), primary_key=True),
        sa.Column("operator_id", sa.String(64), sa.ForeignKey("clients.id"), nullable=False),
        sa.Column("site_id", sa.String(64), sa.ForeignKey("sites.id"), nullable=True),
        sa.Column("serial", sa.String(64), nullable=False, unique=True),
        sa.Column("model", sa.String(100), nullable=False),
        sa.Column("manufacturer", sa.String(100), nullable=False),
        sa.Column("firmware_version", sa.String(64), nullable=False),
        sa.Column("mac", sa.String(17), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("last_seen_at", sa.Float, nullable=True),
    )
    op.create_index("ix_devices_operator_id", "devices", ["operator_id", "id"])
    op.create_table(
        "connectors",
        sa.Column(
            "device_id",
            sa.String(64),
            sa.ForeignKey("devices.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("number", sa.Integer, primary_key=True),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("max_power_kw", sa.Float, nullable=False),
    )
    op.create_table(
        "enrollments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("operator_id", sa.String(64), sa.ForeignKey("clients.id"), nullable=False),
        sa.Column("site_id", sa.String(64), sa.ForeignKey("sites.id"), nullable=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("uses", sa.Integer, nullable=False),
        sa.Column("uses_left", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("enrollments")
    op.drop_table("connectors")
    op.drop_index("ix_devices_operator_id", "devices")
    op.drop_table("devices")
    op.drop_index("ix_sites_operator_id", "sites")
    op.drop_table("sites")
