"""telemetry rollups (1-minute buckets) for downsampled queries and longer retention

Revision ID: 0008
Revises: 0007
"""

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # placeholder: filled by the change that adds these tables


def downgrade() -> None:
    pass
