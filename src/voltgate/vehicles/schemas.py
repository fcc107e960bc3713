"""Response views of the vehicles API, in the Tesla Fleet API's field names and units (miles,
kW, percent, millisecond `timestamp`s; their shapes are in `views.py`); request bodies of the
commands are in `commands.py`."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from voltgate.errors import ValidationFailed
from voltgate.vehicles.physics import MAX_TEMP, MIN_TEMP, Present, power_kw
from voltgate.vehicles.schedules import MAX_SCHEDULES
from voltgate.vehicles.store import ChargingSession, Vehicle
from voltgate.vehicles.views import (
    ChargeScheduleData,
    ChargeScheduleView,
    ChargeState,
    ChargingHistoryEntry,
    ClimateState,
    DriveState,
    GuiSettings,
    Sections,
    VehicleConfig,
    VehicleData,
    VehicleState,
    VehicleSummary,
)

API_VERSION = 71
CAR_VERSION = "2024.26.7 2a3b4c5d6e"
# drive_state fields that tell where the vehicle is: shown only with `vehicle_location`.
LOCATION_FIELDS = (
    "latitude",
    "longitude",
    "heading",
    "native_latitude",
    "native_longitude",
    "native_location_supported",
    "native_type",
    "gps_as_of",
)


def summary(vehicle: Vehicle, seen: Present) -> VehicleSummary:
    return {
        "id": vehicle.id,
        "vehicle_id": vehicle.id,
        "id_s": str(vehicle.id),
        "vin": vehicle.vin,
        "display_name": vehicle.display_name,
        "color": None,
        "access_type": "OWNER",
        "tokens": None,
        "state": seen.state,  # type: ignore[typeddict-item]
        "in_service": False,
        "calendar_enabled": True,
        "api_version": API_VERSION,
        "backseat_token": None,
        "backseat_token_updated_at": None,
        "command_signing": vehicle.command_signing,  # type: ignore[typeddict-item]
    }


def _charge_state(vehicle: Vehicle, seen: Present, stamp: int) -> ChargeState:
    level, charging = seen.level, seen.charging
    power = power_kw(vehicle) if charging else 0.0
    range_mi = vehicle.rated_range_mi * level / 100
    to_full = 0
    if charging and power > 0:
        hours = (vehicle.charge_limit - level) / 100 * vehicle.battery_kwh / power
        to_full = max(0, math.ceil(hours * 60))
    plugged = vehicle.plugged_in
    return {
        "battery_level": round(level),
        "usable_battery_level": round(level),
        "battery_range": round(range_mi, 2),
        "est_battery_range": round(range_mi * 0.92, 2),
        "ideal_battery_range": round(range_mi, 2),
        "charge_limit_soc": vehicle.charge_limit,
        "charge_limit_soc_min": 50,
        "charge_limit_soc_max": 100,
        "charge_limit_soc_std": 80,
        "charging_state": "Disconnected" if not plugged else seen.charging_state,
        "charge_energy_added": round(seen.energy_added, 2),
        "charge_miles_added_rated": round(
            seen.energy_added / vehicle.battery_kwh * vehicle.rated_range_mi, 1
        ),
        "charge_rate": round(power / vehicle.battery_kwh * vehicle.rated_range_mi, 1),
        "charger_power": round(power),
        "charger_voltage": round(vehicle.charger_voltage) if charging else 0,
        "charger_actual_current": vehicle.charging_amps if charging else 0,
        "charger_phases": 1 if charging else None,
        "charge_current_request": vehicle.charging_amps,
        "charge_current_request_max": vehicle.max_amps,
        "charge_amps": vehicle.charging_amps,
        "minutes_to_full_charge": to_full,
        "time_to_full_charge": round(to_full / 60, 2),
        "charge_port_door_open": plugged or vehicle.charge_port_open,
        "charge_port_latch": "Engaged" if plugged else "Disengaged",
        "conn_charge_cable": "IEC" if plugged else "<invalid>",
        "scheduled_charging_mode": "StartAt" if vehicle.scheduled_charging else "Off",
        "scheduled_charging_pending": vehicle.scheduled_charging and not charging,
        "scheduled_charging_start_time_app": vehicle.scheduled_minutes,
        "timestamp": stamp,
    }


def _drive_state(vehicle: Vehicle, seen: Present, stamp: int, located: bool) -> DriveState:
    state: DriveState = {"power": 0, "shift_state": None, "speed": None, "timestamp": stamp}
    if located:
        state["latitude"] = vehicle.latitude
        state["longitude"] = vehicle.longitude
        state["heading"] = vehicle.heading
        state["native_latitude"] = vehicle.latitude
        state["native_longitude"] = vehicle.longitude
        state["native_location_supported"] = 1
        state["native_type"] = "wgs"
        state["gps_as_of"] = int(seen.at)
    return state


SECTIONS = (
    "charge_state",
    "climate_state",
    "drive_state",
    "gui_settings",
    "vehicle_config",
    "vehicle_state",
)
LOCATION_DATA = "location_data"
CHARGE_SCHEDULE_DATA = "charge_schedule_data"  # answered only when `endpoints` names it
_ALL_SECTIONS = frozenset(SECTIONS)
_KNOWN = (*SECTIONS, LOCATION_DATA, CHARGE_SCHEDULE_DATA)
_KNOWN_SET = frozenset(_KNOWN)


def parse_endpoints(value: str | None) -> frozenset[str] | None:
    """Tesla's `endpoints` parameter (`charge_state;location_data`): the sections asked for,
    or None (all of them) when it is absent."""
    if value is None:
        return None
    asked = frozenset(part.strip() for part in value.split(";") if part.strip())
    unknown = sorted(asked - _KNOWN_SET)
    if unknown or not asked:
        known = ", ".join(_KNOWN)
        named = f"unknown section {unknown[0][:40]!r}" if unknown else "no section named"
        raise ValidationFailed(f"endpoints: {named}; the sections are {known}")
    return asked


def vehicle_data(
    vehicle: Vehicle, seen: Present, *, located: bool, sections: frozenset[str] | None = None
) -> VehicleData:
    """The vehicle as `vehicle_data` shows it: every section, or those in `sections` (where
    `location_data` asks for the drive state with the location); where it is, and where its
    charge schedules apply, only when `located` (the token has `vehicle_location`)."""
    schedules_located = located
    wanted: frozenset[str] = _ALL_SECTIONS
    if sections is not None:
        wanted = sections | ({"drive_state"} if LOCATION_DATA in sections else frozenset())
        located = located and LOCATION_DATA in sections
    stamp = int(seen.at * 1000)
    data: Sections = {}
    if "charge_state" in wanted:
        data["charge_state"] = _charge_state(vehicle, seen, stamp)
    if "climate_state" in wanted:
        data["climate_state"] = _climate_state(vehicle, seen, stamp)
    if "drive_state" in wanted:
        data["drive_state"] = _drive_state(vehicle, seen, stamp, located)
    if "gui_settings" in wanted:
        data["gui_settings"] = _gui_settings(stamp)
    if "vehicle_config" in wanted:
        data["vehicle_config"] = _vehicle_config(vehicle, stamp)
    if "vehicle_state" in wanted:
        data["vehicle_state"] = _vehicle_state(vehicle, seen, stamp)
    if CHARGE_SCHEDULE_DATA in wanted:
        data["charge_schedule_data"] = _charge_schedule_data(vehicle, stamp, schedules_located)
    return {**summary(vehicle, seen), **data}


def _climate_state(vehicle: Vehicle, seen: Present, stamp: int) -> ClimateState:
    on, defrost = vehicle.climate_on, vehicle.defrost_on
    return {
        "inside_temp": round(seen.inside_temp, 1),
        "outside_temp": vehicle.outside_temp,
        "driver_temp_setting": vehicle.driver_temp,
        "passenger_temp_setting": vehicle.passenger_temp,
        "min_avail_temp": MIN_TEMP,
        "max_avail_temp": MAX_TEMP,
        "is_climate_on": on,
        "is_auto_conditioning_on": on,
        "is_preconditioning": on,
        "defrost_mode": 2 if defrost else 0,
        "is_front_defroster_on": defrost,
        "is_rear_defroster_on": defrost,
        "fan_status": (11 if defrost else 4) if on else 0,
        "timestamp": stamp,
    }


def _charge_schedule_data(vehicle: Vehicle, stamp: int, located: bool) -> ChargeScheduleData:
    schedules: list[ChargeScheduleView] = []
    for s in vehicle.charge_schedules:
        view: ChargeScheduleView = {
            "id": s.id,
            "name": "",
            "days_of_week": s.days_of_week,
            "start_enabled": s.start_enabled,
            "start_time": s.start_time,
            "end_enabled": s.end_enabled,
            "end_time": s.end_time,
            "one_time": s.one_time,
            "enabled": s.enabled,
        }
        if located:
            view["latitude"], view["longitude"] = s.latitude, s.longitude
        schedules.append(view)
    return {
        "charge_schedules": schedules,
        "max_num_charge_schedules": MAX_SCHEDULES,
        "next_schedule": False,
        "timestamp": stamp,
    }


def _gui_settings(stamp: int) -> GuiSettings:
    return {
        "gui_distance_units": "mi/hr",
        "gui_temperature_units": "C",
        "gui_charge_rate_units": "kW",
        "gui_range_display": "Rated",
        "gui_24_hour_time": True,
        "timestamp": stamp,
    }


def _vehicle_config(vehicle: Vehicle, stamp: int) -> VehicleConfig:
    return {
        "car_type": vehicle.car_type,
        "exterior_color": vehicle.exterior_color,
        "charge_port_type": "CCS",
        "timestamp": stamp,
    }


def _vehicle_state(vehicle: Vehicle, seen: Present, stamp: int) -> VehicleState:
    return {
        "api_version": API_VERSION,
        "car_version": CAR_VERSION,
        "locked": vehicle.locked,
        "odometer": round(vehicle.odometer_mi, 1),
        "remote_start": seen.remote_start,
        "remote_start_enabled": True,
        "remote_start_supported": True,
        "sentry_mode": False,
        "is_user_present": False,
        "vehicle_name": vehicle.display_name,
        "timestamp": stamp,
    }


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="seconds")


def charging_session(session: ChargingSession) -> ChargingHistoryEntry:
    """One `dx/charging/history` entry: Tesla's fields (energy as the CHARGING fee's
    `usageBase` in kWh, free at home) plus the battery levels voltgate knows."""
    energy = round(session.energy_kwh or 0.0, 3)
    return {
        "sessionId": session.id,
        "vin": session.vin,
        "siteLocationName": session.location_name,
        "chargeStartDateTime": _iso(session.started_at),
        "chargeStopDateTime": None if session.ended_at is None else _iso(session.ended_at),
        "unlatchDateTime": None,
        "countryCode": None,
        "billingType": "NONE",
        "fees": [
            {
                "sessionFeeId": session.id,
                "feeType": "CHARGING",
                "pricingType": "NO_CHARGE",
                "currencyCode": None,
                "rateBase": 0.0,
                "usageBase": energy,
                "totalBase": 0.0,
                "totalDue": 0.0,
                "netDue": 0.0,
                "uom": "kwh",
                "isPaid": True,
                "status": "PAID",
            }
        ],
        "invoices": [],
        "energyAddedKwh": energy,
        "startBatteryLevel": round(session.start_level, 1),
        "endBatteryLevel": None if session.end_level is None else round(session.end_level, 1),
        "stopReason": session.stop_reason,
    }
