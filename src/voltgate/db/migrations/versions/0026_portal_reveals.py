"""Developer portal: a secret just made is held sealed for the one page view that shows it

Revision ID: 0026
Revises: 0025
"""

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_reveals",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("sealed", sa.Text, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )
    op.create_index("ix_portal_reveals_expires_at", "portal_reveals", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_portal_reveals_expires_at", "portal_reveals")
    op.drop_table("portal_reveals")
