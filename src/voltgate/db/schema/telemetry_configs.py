"""Fleet Telemetry configs: what each app asked each vehicle to stream (migration 0018)."""

from __future__ import annotations

import sqlalchemy as sa

from voltgate.db.schema.base import metadata

# The `state` counter whose value each write to the table takes as its `seq` (see
# fleettelemetry/configs/store.py): writes update it first, so they get their numbers in the
# order they commit.
CONFIG_SEQ_KEY = "fleet_telemetry_configs"

fleet_telemetry_configs = sa.Table(
    "fleet_telemetry_configs",
    metadata,
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("vin", sa.String(17), primary_key=True),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("config", sa.Text, nullable=True),  # JSON; NULL once deleted
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("applied_version", sa.BigInteger, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Index("ix_fleet_telemetry_configs_seq", "seq"),
    sa.Index("ix_fleet_telemetry_configs_user", "user_id", "client_id"),
)
