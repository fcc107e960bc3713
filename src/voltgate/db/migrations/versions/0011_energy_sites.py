"""users' home energy sites (Tesla Fleet API energy products)

Revision ID: 0011
Revises: 0010
"""

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # placeholder: filled by the change that adds these tables


def downgrade() -> None:
    pass
