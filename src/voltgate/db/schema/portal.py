"""Tables of the developer portal: the apps developers registered there, and apps' usage."""

from __future__ import annotations

import sqlalchemy as sa

from voltgate.db.schema.base import metadata

developer_apps = sa.Table(
    "developer_apps",
    metadata,
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
    sa.Index("ix_developer_apps_owner_id", "owner_id", "created_at"),
)

# Per app and minute; rows are added to (never rewritten) by each flush of the counters.
app_usage = sa.Table(
    "app_usage",
    metadata,
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("bucket", sa.BigInteger, primary_key=True),
    sa.Column("requests", sa.BigInteger, nullable=False),
    sa.Column("tokens", sa.BigInteger, nullable=False),
    sa.Column("limited", sa.BigInteger, nullable=False),
    sa.Column("errors", sa.BigInteger, nullable=False),
)

# A secret the portal just made, held sealed for the one page view that shows it (then deleted).
portal_reveals = sa.Table(
    "portal_reveals",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),  # keyed hash of session and reveal id
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("sealed", sa.Text, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Index("ix_portal_reveals_expires_at", "expires_at"),
)
