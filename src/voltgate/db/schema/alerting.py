"""Tables of alerts and webhooks: an app's alert rules, each rule's evaluation state per subject,
the alerts fired, the app's webhook endpoints, the outbox of deliveries and the delivery leases."""

from __future__ import annotations

import sqlalchemy as sa

from voltgate.db.schema.base import metadata

_ROWID = sa.BigInteger().with_variant(sa.Integer, "sqlite")

# A rule of an app (an OAuth client): its kind and its parameters (JSON), optionally limited to
# some subjects (VINs or charger ids, JSON list).
alert_rules = sa.Table(
    "alert_rules",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("client_id", sa.String(64), sa.ForeignKey("clients.id"), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("target", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("spec", sa.Text, nullable=False),
    sa.Column("subjects", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_alert_rules_client_id", "client_id", "id"),
)

# What a rule's state machine remembers about one subject (JSON), so a restart neither fires
# again nor forgets a pending crossing. `version` moves with every write and a write must name
# the version it read; `writer` marks the transaction that wrote it (its alerts are stored
# only if it did).
alert_states = sa.Table(
    "alert_states",
    metadata,
    sa.Column("rule_id", sa.String(40), primary_key=True),
    sa.Column("subject", sa.String(100), primary_key=True),
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("writer", sa.String(40), nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Index("ix_alert_states_subject", "subject"),
)

# A fired alert. One per (rule, subject, moment): the same signal observed twice (a batch
# delivered again) fires nothing new.
alerts = sa.Table(
    "alerts",
    metadata,
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
    sa.Index("ix_alerts_client_id", "client_id", "id"),
)

# An app's webhook endpoint; its signing secret sealed (it must be recovered to sign), and the
# secret before the last rotation while it still overlaps.
webhook_endpoints = sa.Table(
    "webhook_endpoints",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("client_id", sa.String(64), sa.ForeignKey("clients.id"), nullable=False),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("description", sa.String(200), nullable=False),
    sa.Column("secret_sealed", sa.Text, nullable=False),
    sa.Column("previous_sealed", sa.Text, nullable=True),
    sa.Column("previous_until", sa.Float, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("rotated_at", sa.Float, nullable=True),
    sa.Index("ix_webhook_endpoints_client_id", "client_id", "id"),
)

# The outbox: one row per (alert, endpoint), written in the alert's transaction. Delivered in
# id order per endpoint.
webhook_deliveries = sa.Table(
    "webhook_deliveries",
    metadata,
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
    sa.Index("ix_webhook_deliveries_endpoint_state", "endpoint_id", "state", "id"),
    sa.Index("ix_webhook_deliveries_state_next_at", "state", "next_at"),
)

# Who delivers an endpoint now (one instance at a time), until when.
webhook_leases = sa.Table(
    "webhook_leases",
    metadata,
    sa.Column("endpoint_id", sa.String(40), primary_key=True),
    sa.Column("owner", sa.String(40), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)
