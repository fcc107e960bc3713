"""Alerts and webhooks: alert rules, their state per subject, fired alerts, webhook endpoints,
the delivery outbox and delivery leases

Revision ID: 0020
Revises: 0019
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_ROWID = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("client_id", sa.String(64), sa.ForeignKey("clients.id"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("target", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("spec", sa.Text, nullable=False),
        sa.Column("subjects", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_alert_rules_client_id", "alert_rules", ["client_id", "id"])
    op.create_table(
        "alert_states",
        sa.Column("rule_id", sa.String(40), primary_key=True),
        sa.Column("subject", sa.String(100), primary_key=True),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("writer", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_index("ix_alert_states_subject", "alert_states", ["subject"])
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("rule_id", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("fired_at", sa.Float, nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("rule_id", "subject", "fired_at", name="uq_alerts_rule_subject_at"),
    )
    op.create_index("ix_alerts_client_id", "alerts", ["client_id", "id"])
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("client_id", sa.String(64), sa.ForeignKey("clients.id"), nullable=False),
        sa.Column("url", sa.String(2000), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("secret_sealed", sa.Text, nullable=False),
        sa.Column("previous_sealed", sa.Text, nullable=True),
        sa.Column("previous_until", sa.Float, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("rotated_at", sa.Float, nullable=True),
    )
    op.create_index("ix_webhook_endpoints_client_id", "webhook_endpoints", ["client_id", "id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", _ROWID, primary_key=True),
        sa.Column("endpoint_id", sa.String(40), nullable=False),
        sa.Column("alert_id", sa.String(40), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_at", sa.Float, nullable=False),
        sa.Column("last_status", sa.Integer, nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("delivered_at", sa.Float, nullable=True),
        sa.UniqueConstraint("endpoint_id", "alert_id", name="uq_webhook_deliveries_endpoint_alert"),
    )
    op.create_index(
        "ix_webhook_deliveries_endpoint_state",
        "webhook_deliveries",
        ["endpoint_id", "state", "id"],
    )
    op.create_index(
        "ix_webhook_deliveries_state_next_at", "webhook_deliveries", ["state", "next_at"]
    )
    op.create_table(
        "webhook_leases",
        sa.Column("endpoint_id", sa.String(40), primary_key=True),
        sa.Column("owner", sa.String(40), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("webhook_leases")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhook_endpoints")
    op.drop_table("alerts")
    op.drop_table("alert_states")
    op.drop_table("alert_rules")
