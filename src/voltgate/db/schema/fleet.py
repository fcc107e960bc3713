"""Tables of the fleet: sites, chargers, commands, telemetry, charging records."""

from __future__ import annotations

import sqlalchemy as sa

from voltgate.db.schema.base import metadata

# Operator inventory (issue 4): sites, chargers and their connectors, enrollment credentials.
sites = sa.Table(
    "sites",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("operator_id", sa.String(64), sa.ForeignKey("clients.id"), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("address", sa.String(500), nullable=True),
    sa.Column("latitude", sa.Float, nullable=True),
    sa.Column("longitude", sa.Float, nullable=True),
    sa.Column("timezone", sa.String(64), nullable=False),
    sa.Column("grid_limit_kw", sa.Float, nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_sites_operator_id", "operator_id", "id"),
)

# A charger; its id is its device client's id, so its secret is that client's secret.
devices = sa.Table(
    "devices",
    metadata,
    sa.Column("id", sa.String(64), sa.ForeignKey("clients.id"), primary_key=True),
    sa.Column("operator_id", sa.String(64), sa.ForeignKey("clients.id"), nullable=False),
    sa.Column("site_id", sa.String(64), sa.ForeignKey("sites.id"), nullable=True),
    sa.Column("serial", sa.String(64), nullable=False, unique=True),
    sa.Column("model", sa.String(100), nullable=False),
    sa.Column("manufacturer", sa.String(100), nullable=False),
    sa.Column("firmware_version", sa.String(64), nullable=False),
    sa.Column("mac", sa.String(17), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_seen_at", sa.Float, nullable=True),
    sa.Index("ix_devices_operator_id", "operator_id", "id"),
    # A home charger: the user who owns it sees its sessions through their apps (issue 5).
    sa.Column("owner_user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=True),
    sa.Index("ix_devices_owner_user_id", "owner_user_id"),
    # Registered without connectors: it gains them as it names them in its reports (0013).
    sa.Column("learns_connectors", sa.Boolean, nullable=False, server_default=sa.false()),
)

connectors = sa.Table(
    "connectors",
    metadata,
    sa.Column(
        "device_id",
        sa.String(64),
        sa.ForeignKey("devices.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("number", sa.Integer, primary_key=True),
    # NULL: a learned connector whose charger has not reported it yet.
    sa.Column("type", sa.String(16), nullable=True),
    sa.Column("max_power_kw", sa.Float, nullable=True),
)

# Enrollment credentials an operator hands to its installers; only their keyed hash is stored.
enrollments = sa.Table(
    "enrollments",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("operator_id", sa.String(64), sa.ForeignKey("clients.id"), nullable=False),
    sa.Column("site_id", sa.String(64), sa.ForeignKey("sites.id"), nullable=True),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("uses", sa.Integer, nullable=False),
    sa.Column("uses_left", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
)

# Operator commands to chargers (issue 4): queued → delivered → accepted | rejected →
# completed | failed, or expired when not delivered before expires_at.
commands = sa.Table(
    "commands",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("operator_id", sa.String(64), sa.ForeignKey("clients.id"), nullable=False),
    sa.Column("device_id", sa.String(64), sa.ForeignKey("devices.id"), nullable=False),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("connector", sa.Integer, nullable=True),
    sa.Column("params", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(500), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("delivered_at", sa.Float, nullable=True),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Index("ix_commands_operator_id", "operator_id", "id"),
    sa.Index("ix_commands_device_status", "device_id", "status"),
    sa.Index("ix_commands_status_expires_at", "status", "expires_at"),
)

# Idempotency-Key records: per operator, the request's hash and the commands it created.
command_requests = sa.Table(
    "command_requests",
    metadata,
    sa.Column("operator_id", sa.String(64), primary_key=True),
    sa.Column("idempotency_key", sa.String(200), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("command_ids", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Index("ix_command_requests_expires_at", "expires_at"),
)

# What each connector last reported in a heartbeat (state, and the vehicle's SoC if known).
connector_states = sa.Table(
    "connector_states",
    metadata,
    sa.Column(
        "device_id",
        sa.String(64),
        sa.ForeignKey("devices.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("connector", sa.Integer, primary_key=True),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("soc", sa.Float, nullable=True),
    sa.Column("reported_at", sa.Float, nullable=False),
)

# Charger telemetry (issue 4): one row per connector reading, written in batches. An integer
# rowid key keeps SQLite's batched inserts cheap; no foreign key, so a batch costs no look-ups
# (the device was checked when the reading was accepted).
telemetry = sa.Table(
    "telemetry",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("device_id", sa.String(64), nullable=False),
    sa.Column("connector", sa.Integer, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("power_kw", sa.Float, nullable=False),
    sa.Column("energy_kwh", sa.Float, nullable=False),
    sa.Column("soc", sa.Float, nullable=True),
    sa.Column("voltage", sa.Float, nullable=True),
    sa.Column("current", sa.Float, nullable=True),
    sa.Index("ix_telemetry_device_connector_at", "device_id", "connector", "at"),
)

# What chargers report happened: faults, plug in/out, …
device_events = sa.Table(
    "device_events",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("device_id", sa.String(64), nullable=False),
    sa.Column("connector", sa.Integer, nullable=True),
    sa.Column("type", sa.String(32), nullable=False),
    sa.Column("code", sa.String(64), nullable=True),
    sa.Column("message", sa.String(500), nullable=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Index("ix_device_events_device_at", "device_id", "at"),
)

# Charging sessions as the charger reports them; one per (device, transaction id).
charging_records = sa.Table(
    "charging_records",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("device_id", sa.String(64), sa.ForeignKey("devices.id"), nullable=False),
    sa.Column("operator_id", sa.String(64), sa.ForeignKey("clients.id"), nullable=False),
    sa.Column("transaction_id", sa.String(64), nullable=False),
    sa.Column("connector", sa.Integer, nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("stopped_at", sa.Float, nullable=True),
    sa.Column("energy_kwh", sa.Float, nullable=False),
    sa.Column("meter_start", sa.Float, nullable=True),
    sa.Column("meter_stop", sa.Float, nullable=True),
    sa.Column("meter_values", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.UniqueConstraint("device_id", "transaction_id", name="uq_charging_records_transaction"),
    sa.Index("ix_charging_records_operator", "operator_id", "id"),
    sa.Index("ix_charging_records_device", "device_id", "id"),
    # Time-range filters and aggregated energy (issue 5).
    sa.Index("ix_charging_records_operator_started", "operator_id", "started_at"),
)


# Telemetry rollups (issue 5): one row per (device, connector, minute), merged into by every
# flush. Per field a count, sum, min, max and the last value with its reading time: partials
# from any instance or flush merge exactly; 15-minute and 1-hour buckets are sums of these.
ROLLUP_FIELDS = ("power_kw", "energy_kwh", "soc", "voltage", "current")

# (suffix, type, nullable) of each field's columns; min/max/last are NULL while count is 0.
ROLLUP_PARTS = (
    ("count", sa.Integer, False),
    ("sum", sa.Float, False),
    ("min", sa.Float, True),
    ("max", sa.Float, True),
    ("last", sa.Float, True),
    ("last_at", sa.Float, True),
)

telemetry_rollups = sa.Table(
    "telemetry_rollups",
    metadata,
    sa.Column("device_id", sa.String(64), primary_key=True),
    sa.Column("connector", sa.Integer, primary_key=True),
    sa.Column("bucket", sa.BigInteger, primary_key=True),  # Unix seconds, a multiple of 60
    *(
        sa.Column(f"{name}_{part}", kind, nullable=nullable)
        for name in ROLLUP_FIELDS
        for part, kind, nullable in ROLLUP_PARTS
    ),
    sa.Index("ix_telemetry_rollups_bucket", "bucket"),  # the retention sweep
)
# The retention sweep finds old raw readings by their time.
sa.Index("ix_telemetry_at", telemetry.c.at)
