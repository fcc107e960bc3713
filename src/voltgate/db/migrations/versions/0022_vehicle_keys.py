"""Virtual keys paired with vehicles: which app's public key each vehicle holds, in which role,
paired by which owner

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "vehicle_keys",
        sa.Column("vin", sa.String(17), primary_key=True),
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("public_key", sa.String(130), primary_key=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String(64), nullable=False),
        sa.Column("paired_at", sa.Float, nullable=False),
    )
    op.create_index("ix_vehicle_keys_user_client", "vehicle_keys", ["user_id", "client_id"])


def downgrade() -> None:
    op.drop_index("ix_vehicle_keys_user_client", "vehicle_keys")
    op.drop_table("vehicle_keys")
