"""Tables of Fleet Telemetry: what vehicles sent, their signals' rollups, their connections.

On PostgreSQL `vehicle_messages` is partitioned by day (migration 0019): its primary key there
is (id, created_at) and its partitions (`vehicle_messages_default`, `vehicle_messages_pYYYYMMDD`)
are not declared here; `declared` leaves them out of Alembic's comparison."""

from __future__ import annotations

import sqlalchemy as sa

from voltgate.db.schema.base import metadata

_ROWID = sa.BigInteger().with_variant(sa.Integer, "sqlite")
PARTITION_PREFIX = "vehicle_messages_"

vehicle_messages = sa.Table(
    "vehicle_messages",
    metadata,
    sa.Column("id", _ROWID, primary_key=True),
    sa.Column("vin", sa.String(17), nullable=False),
    sa.Column("topic", sa.String(16), nullable=False),
    sa.Column("txid", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Column("payload", sa.LargeBinary, nullable=False),  # as the vehicle sent it (protobuf)
    # The dedupe key, in the order of a vehicle's messages by time (migration 0024).
    sa.UniqueConstraint("vin", "created_at", "txid", name="uq_vehicle_messages_key"),
)

# One numeric signal's aggregate over one minute of one vehicle.
vehicle_signal_rollups = sa.Table(
    "vehicle_signal_rollups",
    metadata,
    sa.Column("vin", sa.String(17), primary_key=True),
    sa.Column("field", sa.String(64), primary_key=True),
    sa.Column("bucket", sa.BigInteger, primary_key=True),  # Unix seconds, a multiple of 60
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("sum", sa.Float, nullable=False),
    sa.Column("min", sa.Float, nullable=False),
    sa.Column("max", sa.Float, nullable=False),
    sa.Column("last", sa.Float, nullable=False),
    sa.Column("last_at", sa.Float, nullable=False),
)

# A vehicle's streaming connection opened (CONNECTED) or closed (DISCONNECTED, with why).
vehicle_connectivity = sa.Table(
    "vehicle_connectivity",
    metadata,
    sa.Column("id", _ROWID, primary_key=True),
    sa.Column("vin", sa.String(17), nullable=False),
    sa.Column("connection_id", sa.String(36), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("network_interface", sa.String(16), nullable=True),
    sa.Column("reason", sa.String(32), nullable=True),
    sa.Column("ingest", sa.String(64), nullable=False),  # the listener that held it
    sa.Index("ix_vehicle_connectivity_vin", "vin", "id"),
)
