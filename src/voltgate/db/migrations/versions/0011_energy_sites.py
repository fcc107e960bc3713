"""users' home energy sites (Tesla Fleet API energy products)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "energy_sites",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("asset_id", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("site_name", sa.String(200), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("latitude", sa.Float, nullable=False),
        sa.Column("longitude", sa.Float, nullable=False),
        sa.Column("installation_date", sa.Float, nullable=False),
        sa.Column("solar_kw", sa.Float, nullable=False),
        sa.Column("battery_kwh", sa.Float, nullable=False),
        sa.Column("battery_kw", sa.Float, nullable=False),
        sa.Column("battery_count", sa.Integer, nullable=False),
        sa.Column("backup_reserve_percent", sa.Integer, nullable=False),
        sa.Column("default_real_mode", sa.String(32), nullable=False),
        sa.Column("storm_mode_enabled", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_energy_sites_user_id", "energy_sites", ["user_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_energy_sites_user_id", "energy_sites")
    op.drop_table("energy_sites")
