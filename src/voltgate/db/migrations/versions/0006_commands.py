"""operator commands to chargers, their idempotency keys, connector states from heartbeats

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "commands",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("operator_id", sa.String(64), sa.ForeignKey("clients.id"), nullable=False),
        sa.Column("device_id", sa.String(64), sa.ForeignKey("devices.id"), nullable=False),
        sa.Column("type", sa.String(32), nullable=False),
        sa.Column("connector", sa.Integer, nullable=True),
        sa.Column("params", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("delivered_at", sa.Float, nullable=True),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_commands_operator_id", "commands", ["operator_id", "id"])
    op.create_index("ix_commands_device_status", "commands", ["device_id", "status"])
    op.create_index("ix_commands_status_expires_at", "commands", ["status", "expires_at"])
    op.create_table(
        "command_requests",
        sa.Column("operator_id", sa.String(64), primary_key=True),
        sa.Column("idempotency_key", sa.String(200), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("command_ids", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_command_requests_expires_at", "command_requests", ["expires_at"])
    op.create_table(
        "connector_states",
        sa.Column(
            "device_id",
            sa.String(64),
            sa.ForeignKey("devices.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("connector", sa.Integer, primary_key=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("soc", sa.Float, nullable=True),
        sa.Column("reported_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("connector_states")
    op.drop_index("ix_command_requests_expires_at", "command_requests")
    op.drop_table("command_requests")
    op.drop_index("ix_commands_status_expires_at", "commands")
    op.drop_index("ix_commands_device_status", "commands")
    op.drop_index("ix_commands_operator_id", "commands")
    op.drop_table("commands")
