"""Virtual keys paired with vehicles (migration 0022): the app's public key (the P-256 point in
hex) each vehicle holds, in which role, and the owner who paired it."""

from __future__ import annotations

import sqlalchemy as sa

from voltgate.db.schema.base import metadata

vehicle_keys = sa.Table(
    "vehicle_keys",
    metadata,
    sa.Column("vin", sa.String(17), primary_key=True),
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("public_key", sa.String(130), primary_key=True),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("paired_at", sa.Float, nullable=False),
    sa.Index("ix_vehicle_keys_user_client", "user_id", "client_id"),
)
