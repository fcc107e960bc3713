"""Developer portal: who registered each app there (and its stage and allowed origins), a
production app's wait for approval on the client, and each app's usage per minute

Revision ID: 0025
Revises: 0024
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NULL: live. A production app registered in the portal waits here for `voltgate apps approve`.
    with op.batch_alter_table("clients") as batch:
        batch.add_column(sa.Column("awaiting_approval_since", sa.Float, nullable=True))
    op.create_table(
        "developer_apps",
        sa.Column(
            "client_id",
            sa.String(64),
            sa.ForeignKey("clients.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("owner_id", sa.String(64), nullable=False),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("allowed_origins", sa.Text, nullable=False, server_default="[]"),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("approved_at", sa.Float, nullable=True),
    )
    op.create_index("ix_developer_apps_owner_id", "developer_apps", ["owner_id", "created_at"])
    op.create_table(
        "app_usage",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("bucket", sa.BigInteger, primary_key=True),  # the minute's first second
        sa.Column("requests", sa.BigInteger, nullable=False),
        sa.Column("tokens", sa.BigInteger, nullable=False),
        sa.Column("limited", sa.BigInteger, nullable=False),
        sa.Column("errors", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("app_usage")
    op.drop_index("ix_developer_apps_owner_id", "developer_apps")
    op.drop_table("developer_apps")
    with op.batch_alter_table("clients") as batch:
        batch.drop_column("awaiting_approval_since")
