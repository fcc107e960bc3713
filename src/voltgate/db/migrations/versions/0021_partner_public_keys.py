"""Partner accounts keep the public key their domain hosts (the P-256 point, hex); a domain
with a key belongs to one app

Revision ID: 0021
Revises: 0020
"""

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

# Domains registered before keys were read have none, and may repeat: the index skips them.
_HAS_KEY = sa.text("public_key IS NOT NULL")


def upgrade() -> None:
    op.add_column("partner_accounts", sa.Column("public_key", sa.String(130), nullable=True))
    op.create_index(
        "uq_partner_accounts_domain_key",
        "partner_accounts",
        ["domain"],
        unique=True,
        sqlite_where=_HAS_KEY,
        postgresql_where=_HAS_KEY,
    )


def downgrade() -> None:
    op.drop_index("uq_partner_accounts_domain_key", "partner_accounts")
    with op.batch_alter_table("partner_accounts") as batch:
        batch.drop_column("public_key")
