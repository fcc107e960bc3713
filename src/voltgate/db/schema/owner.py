"""Tables of the owner area: home energy sites, vehicles, their charging sessions."""

from __future__ import annotations

import sqlalchemy as sa

from voltgate.db.schema.base import metadata

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
    # Tesla's vehicle commands (0014): the charge port door, climate, remote start, and the
    # charge schedules as one JSON list (changed only with the vehicle, under its version).
    sa.Column("charge_port_open", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("climate_on", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("defrost_on", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("driver_temp", sa.Float, nullable=False, server_default="21.0"),
    sa.Column("passenger_temp", sa.Float, nullable=False, server_default="21.0"),
    sa.Column("climate_at", sa.Float, nullable=False, server_default="0"),
    sa.Column("remote_start_at", sa.Float, nullable=True),
    sa.Column("charge_schedules", sa.Text, nullable=False, server_default="[]"),
    # The vehicle command protocol (0023): off | allowed | required, and the vehicle's side of
    # it as JSON (epoch, its clock, counters per key and domain), empty until first used.
    sa.Column("command_signing", sa.String(16), nullable=False, server_default="allowed"),
    sa.Column("command_protocol", sa.Text, nullable=False, server_default=""),
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
