"""Vehicles speak Tesla's vehicle command protocol: whether each takes unsigned commands
(`command_signing`: off, allowed, required) and its side of the protocol (`command_protocol`:
the epoch, its clock and the counters it has seen per key and domain, as JSON; empty until a
client first asks for a session)

Revision ID: 0023
Revises: 0022
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "vehicles",
        sa.Column("command_signing", sa.String(16), nullable=False, server_default="allowed"),
    )
    op.add_column(
        "vehicles", sa.Column("command_protocol", sa.Text, nullable=False, server_default="")
    )


def downgrade() -> None:
    with op.batch_alter_table("vehicles") as batch:
        batch.drop_column("command_protocol")
        batch.drop_column("command_signing")
