"""consents: what each user allowed each app (connected apps)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("user_id", sa.String(64), primary_key=True),
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("granted_at", sa.Float, nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_refresh_tokens_user_client", "refresh_tokens", ["user_id", "client_id"])


def downgrade() -> None:
    op.drop_index("ix_refresh_tokens_user_client", "refresh_tokens")
    op.drop_table("consents")
