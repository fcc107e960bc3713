"""chargers learn their connectors from their reports: a device registered without connectors
learns them (existing ones too: they had none to use), and a learned connector's type and
maximum power are NULL until the charger reports them

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "devices",
        sa.Column("learns_connectors", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    devices = sa.table("devices", sa.column("id"), sa.column("learns_connectors", sa.Boolean))
    connectors = sa.table("connectors", sa.column("device_id"))
    has_none = ~sa.exists().where(connectors.c.device_id == devices.c.id)
    op.execute(devices.update().where(has_none).values(learns_connectors=True))
    with op.batch_alter_table("connectors") as batch:
        batch.alter_column("type", existing_type=sa.String(16), nullable=True)
        batch.alter_column("max_power_kw", existing_type=sa.Float, nullable=True)


def downgrade() -> None:
    # A connector learned without its type or power cannot be described by the old schema.
    connectors = sa.table(
        "connectors", sa.column("type", sa.String), sa.column("max_power_kw", sa.Float)
    )
    op.execute(
        connectors.delete().where(connectors.c.type.is_(None) | connectors.c.max_power_kw.is_(None))
    )
    with op.batch_alter_table("connectors") as batch:
        batch.alter_column("type", existing_type=sa.String(16), nullable=False)
        batch.alter_column("max_power_kw", existing_type=sa.Float, nullable=False)
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("learns_connectors")
