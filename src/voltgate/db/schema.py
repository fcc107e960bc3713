"""Table definitions (SQLAlchemy Core). Alembic migrations in `migrations/` mirror these.

Times are Unix seconds as double precision: portable across SQLite and PostgreSQL and cheap
to compare with token claims.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

clients = sa.Table(
    "clients",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("scopes", sa.Text, nullable=False),
    sa.Column("grant_types", sa.Text, nullable=False),
    sa.Column("redirect_uris", sa.Text, nullable=False, server_default="[]"),
    sa.Column("token_ttl", sa.Integer, nullable=False),
    sa.Column("environment", sa.String(16), nullable=False),
    sa.Column("signing", sa.String(16), nullable=False, server_default="off"),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("disabled_at", sa.Float, nullable=True),
)

client_secrets = sa.Table(
    "client_secrets",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column(
        "client_id", sa.String(64), sa.ForeignKey("clients.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("secret_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("secret_sealed", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=True),
    sa.Index("ix_client_secrets_client_id", "client_id"),
)

signing_keys = sa.Table(
    "signing_keys",
    metadata,
    sa.Column("kid", sa.String(64), primary_key=True),
    sa.Column("alg", sa.String(16), nullable=False),
    sa.Column("private_sealed", sa.Text, nullable=False),
    sa.Column("public_jwk", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("retired_at", sa.Float, nullable=True),
    # After this instant no unexpired token can carry the key's signature: it leaves the JWKS.
    sa.Column("expires_at", sa.Float, nullable=True),
)

revoked_tokens = sa.Table(
    "revoked_tokens",
    metadata,
    sa.Column("jti", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float, nullable=False),
    sa.Index("ix_revoked_tokens_expires_at", "expires_at"),
)

audit_events = sa.Table(
    "audit_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("client_id", sa.String(64), nullable=True),
    sa.Column("request_id", sa.String(128), nullable=True),
    sa.Column("address", sa.String(64), nullable=True),
    sa.Column("detail", sa.Text, nullable=False, server_default="{}"),
    sa.Index("ix_audit_events_at", "at"),
    sa.Index("ix_audit_events_client_id", "client_id"),
)

# A counter bumped by every admin change (clients, keys) so other processes notice.
state = sa.Table(
    "state",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Integer, nullable=False),
)

# Delegated access (issue 3): users, their grants to apps, codes and refresh-token families.
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("disabled_at", sa.Float, nullable=True),
)

authorization_codes = sa.Table(
    "authorization_codes",
    metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("redirect_uri", sa.Text, nullable=False),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("nonce", sa.String(512), nullable=True),
    sa.Column("code_challenge", sa.String(128), nullable=True),
    sa.Column("auth_time", sa.Float, nullable=False),
    sa.Column("family_id", sa.String(64), nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("used_at", sa.Float, nullable=True),
)

# One family per grant (a code redemption): every access and refresh token descends from it.
token_families = sa.Table(
    "token_families",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float, nullable=True),
    sa.Column("revoked_reason", sa.String(64), nullable=True),
    sa.Index("ix_token_families_user_client", "user_id", "client_id"),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("family_id", sa.String(64), nullable=False),
    sa.Column("client_id", sa.String(64), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("consumed_at", sa.Float, nullable=True),
    # The successor pair, sealed, so a repeat within the grace window gets the very same one.
    sa.Column("successor_sealed", sa.Text, nullable=True),
    sa.Index("ix_refresh_tokens_family_id", "family_id"),
    sa.Index("ix_refresh_tokens_user_client", "user_id", "client_id"),
)

# A partner app's registered domain (Tesla partner accounts); its public key comes later.
partner_accounts = sa.Table(
    "partner_accounts",
    metadata,
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("domain", sa.String(253), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

# What each user allowed each app; its rows are the user's "connected apps".
consents = sa.Table(
    "consents",
    metadata,
    sa.Column("user_id", sa.String(64), primary_key=True),
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("scope", sa.Text, nullable=False),
    sa.Column("granted_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)

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
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("max_power_kw", sa.Float, nullable=False),
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

# A user's home energy sites (issue 5, Tesla Fleet API energy products). `id` is Tesla's
# numeric energy_site_id; the battery's settings live here, the flows come from the model.
energy_sites = sa.Table(
    "energy_sites",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("asset_id", sa.String(64), nullable=False, unique=True),
    sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("site_name", sa.String(200), nullable=False),
    sa.Column("time_zone", sa.String(64), nullable=False),
    sa.Column("latitude", sa.Float, nullable=False),
    sa.Column("longitude", sa.Float, nullable=False),
    sa.Column("installation_date", sa.Float, nullable=False),
    sa.Column("solar_kw", sa.Float, nullable=False),
    sa.Column("battery_kwh", sa.Float, nullable=False),
    sa.Column("battery_kw", sa.Float, nullable=False),
    sa.Column("battery_count", sa.Integer, nullable=False),
    sa.Column("backup_reserve_percent", sa.Integer, nullable=False),
    sa.Column("default_real_mode", sa.String(32), nullable=False),
    sa.Column("storm_mode_enabled", sa.Boolean, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Index("ix_energy_sites_user_id", "user_id", "id"),
)

# A user's vehicles (issue 5, Tesla dialect). The present (battery level, asleep or not) is
# computed at read time from the stored state and its timestamps; `version` makes every change
# a compare-and-set, so instances that settle the same finished charge settle it once.
vehicles = sa.Table(
    "vehicles",
    metadata,
    sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("vin", sa.String(17), nullable=False),
    sa.Column("seed_slot", sa.Integer, nullable=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("car_type", sa.String(32), nullable=False),
    sa.Column("exterior_color", sa.String(32), nullable=False),
    sa.Column("battery_kwh", sa.Float, nullable=False),
    sa.Column("rated_range_mi", sa.Float, nullable=False),
    sa.Column("charger_voltage", sa.Float, nullable=False),
    sa.Column("max_amps", sa.Integer, nullable=False),
    sa.Column("charging_amps", sa.Integer, nullable=False),
    sa.Column("charge_limit", sa.Integer, nullable=False),
    sa.Column("plugged_in", sa.Boolean, nullable=False),
    sa.Column("charging", sa.Boolean, nullable=False),
    sa.Column("charging_state", sa.String(16), nullable=False),
    sa.Column("battery_level", sa.Float, nullable=False),
    sa.Column("state_at", sa.Float, nullable=False),
    sa.Column("last_active_at", sa.Float, nullable=False),
    sa.Column("awake_from", sa.Float, nullable=False),
    sa.Column("session_id", sa.BigInteger, nullable=True),
    sa.Column("session_start_level", sa.Float, nullable=True),
    sa.Column("energy_added", sa.Float, nullable=False),
    sa.Column("scheduled_charging", sa.Boolean, nullable=False),
    sa.Column("scheduled_minutes", sa.Integer, nullable=True),
    sa.Column("latitude", sa.Float, nullable=False),
    sa.Column("longitude", sa.Float, nullable=False),
    sa.Column("heading", sa.Integer, nullable=False),
    sa.Column("location_name", sa.String(200), nullable=False),
    sa.Column("odometer_mi", sa.Float, nullable=False),
    sa.Column("inside_temp", sa.Float, nullable=False),
    sa.Column("outside_temp", sa.Float, nullable=False),
    sa.Column("locked", sa.Boolean, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.UniqueConstraint("vin", name="uq_vehicles_vin"),
    sa.UniqueConstraint("user_id", "seed_slot", name="uq_vehicles_seed_slot"),
    sa.Index("ix_vehicles_user", "user_id", "id"),
)

# One row per charging session of a vehicle (charge_start → charge_stop or charge complete).
vehicle_charging_sessions = sa.Table(
    "vehicle_charging_sessions",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("vehicle_id", sa.BigInteger, sa.ForeignKey("vehicles.id"), nullable=False),
    sa.Column("user_id", sa.String(64), sa.ForeignKey("users.id"), nullable=False),
    sa.Column("vin", sa.String(17), nullable=False),
    sa.Column("location_name", sa.String(200), nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("ended_at", sa.Float, nullable=True),
    sa.Column("start_level", sa.Float, nullable=False),
    sa.Column("end_level", sa.Float, nullable=True),
    sa.Column("energy_kwh", sa.Float, nullable=True),
    sa.Column("stop_reason", sa.String(16), nullable=True),
    sa.Index("ix_vehicle_charging_sessions_user", "user_id", "id"),
    sa.Index("ix_vehicle_charging_sessions_vehicle", "vehicle_id", "id"),
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
