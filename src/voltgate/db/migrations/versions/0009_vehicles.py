"""users' vehicles and their charging sessions (Tesla Fleet API shapes)

Revision ID: 0009
Revises: 0008
"""

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # placeholder: filled by the change that adds these tables


def downgrade() -> None:
    pass
