"""vehicles answer Tesla's vehicle commands: the charge port door, climate (on, max defrost,
setpoints, the time the cabin temperature was taken), remote start, and charge schedules

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_ADDED = (
    sa.Column("charge_port_open", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("climate_on", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("defrost_on", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("driver_temp", sa.Float, nullable=False, server_default="21.0"),
    sa.Column("passenger_temp", sa.Float, nullable=False, server_default="21.0"),
    sa.Column("climate_at", sa.Float, nullable=False, server_default="0"),
    sa.Column("remote_start_at", sa.Float, nullable=True),
    sa.Column("charge_schedules", sa.Text, nullable=False, server_default="[]"),
)


def upgrade() -> None:
    with op.batch_alter_table("vehicles") as batch:
        for column in _ADDED:
            batch.add_column(column)
    # An existing vehicle's cabin temperature was last taken when it was last active.
    vehicles = sa.table(
        "vehicles", sa.column("climate_at", sa.Float), sa.column("last_active_at", sa.Float)
    )
    op.execute(vehicles.update().values(climate_at=vehicles.c.last_active_at))


def downgrade() -> None:
    with op.batch_alter_table("vehicles") as batch:
        for column in reversed(_ADDED):
            batch.drop_column(column.name)
