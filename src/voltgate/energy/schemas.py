"""Request bodies and Tesla-shaped views of energy sites (TypedDicts: their exact shapes)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal, NotRequired
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StrictBool
from typing_extensions import TypedDict

from voltgate.energy.store import EnergySite


class Done(TypedDict):
    code: Literal[201]
    message: Literal["Updated"]


class Updated(TypedDict):
    """What a change answers."""

    response: Done


UPDATED: Updated = {"response": {"code": 201, "message": "Updated"}}


class LiveStatus(TypedDict):
    """Power flows (W) and the battery's charge now."""

    solar_power: float
    battery_power: float  # positive: discharging
    load_power: float
    grid_power: float  # positive: importing
    grid_services_power: int
    generator_power: int
    percentage_charged: float
    energy_left: float  # Wh
    total_pack_energy: int  # Wh
    grid_status: str
    island_status: str
    grid_services_active: bool
    backup_capable: bool
    storm_mode_active: bool
    timestamp: str  # RFC 3339 in the site's time zone


class EnergyTotals(TypedDict):
    """One day's (or month's) energy in Wh; `timestamp` is its local start."""

    timestamp: str
    solar_energy_exported: float
    grid_energy_imported: float
    grid_energy_exported_from_solar: float
    grid_energy_exported_from_battery: float
    battery_energy_exported: float
    battery_energy_imported_from_grid: float
    battery_energy_imported_from_solar: float
    consumer_energy_imported_from_grid: float
    consumer_energy_imported_from_solar: float
    consumer_energy_imported_from_battery: float
    total_home_usage: float


class BackupEvent(TypedDict):
    """A grid outage the battery bridged (the simulated grid never fails)."""

    timestamp: str
    duration: int  # milliseconds


class CalendarHistory(TypedDict):
    """`kind=energy` answers `time_series`; `kind=backup` answers `events` and their count."""

    serial_number: str
    period: Literal["day", "week", "month", "year"]
    installation_time_zone: str
    time_series: NotRequired[list[EnergyTotals]]
    events: NotRequired[list[BackupEvent]]
    total_events: NotRequired[int]


class SiteUserSettings(TypedDict):
    storm_mode_enabled: bool


class SiteComponents(TypedDict):
    solar: bool
    solar_type: str
    battery: bool
    battery_type: str
    grid: bool
    backup: bool
    gateway: str
    load_meter: bool
    tou_capable: bool
    storm_mode_capable: bool
    off_grid_vehicle_charging_reserve_supported: bool
    configurable: bool
    grid_services_enabled: bool


class Place(TypedDict):
    latitude: float
    longitude: float


class SiteInfo(TypedDict):
    id: str
    energy_site_id: int
    site_name: str
    backup_reserve_percent: int
    default_real_mode: str  # autonomous | self_consumption
    installation_date: str
    installation_time_zone: str
    time_zone_offset: int  # minutes
    user_settings: SiteUserSettings
    components: SiteComponents
    version: str
    battery_count: int
    nameplate_power: int  # W
    nameplate_energy: int  # Wh
    solar_nameplate_power: int  # W
    address: Place


class ProductComponents(TypedDict):
    battery: bool
    battery_type: str
    solar: bool
    solar_type: str
    grid: bool
    load_meter: bool
    market_type: str


class EnergyProduct(TypedDict):
    """An energy site as `/api/1/products` lists it."""

    energy_site_id: int
    resource_type: Literal["battery"]
    site_name: str
    id: str
    gateway_id: str
    asset_site_id: str
    energy_left: float
    total_pack_energy: int
    percentage_charged: float
    battery_type: str
    backup_capable: bool
    battery_power: float
    storm_mode_enabled: bool
    components: ProductComponents


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BackupReserve(_Body):
    backup_reserve_percent: int = Field(
        ge=0, le=100, strict=True, description="percent of the battery kept for outages"
    )


class Operation(_Body):
    default_real_mode: Literal["autonomous", "self_consumption"]


class StormMode(_Body):
    enabled: StrictBool = Field(description="keep the battery full when a storm is forecast")


def site_info(site: EnergySite) -> SiteInfo:
    installed = datetime.fromtimestamp(int(site.installation_date), ZoneInfo(site.time_zone))
    return {
        "id": site.asset_id,
        "energy_site_id": site.id,
        "site_name": site.site_name,
        "backup_reserve_percent": site.backup_reserve_percent,
        "default_real_mode": site.default_real_mode,
        "installation_date": installed.isoformat(),
        "installation_time_zone": site.time_zone,
        "time_zone_offset": int((installed.utcoffset() or _ZERO).total_seconds() // 60),
        "user_settings": {"storm_mode_enabled": site.storm_mode_enabled},
        "components": {
            "solar": site.solar_kw > 0,
            "solar_type": "pv_panel",
            "battery": site.battery_kwh > 0,
            "battery_type": "ac_powerwall",
            "grid": True,
            "backup": True,
            "gateway": "teg",
            "load_meter": True,
            "tou_capable": True,
            "storm_mode_capable": True,
            "off_grid_vehicle_charging_reserve_supported": False,
            "configurable": True,
            "grid_services_enabled": False,
        },
        "version": "24.4.0",
        "battery_count": site.battery_count,
        "nameplate_power": round(site.battery_kw * 1000),
        "nameplate_energy": round(site.battery_kwh * 1000),
        "solar_nameplate_power": round(site.solar_kw * 1000),
        "address": {"latitude": site.latitude, "longitude": site.longitude},
    }


def product(site: EnergySite, live: LiveStatus) -> EnergyProduct:
    """An energy site as /api/1/products lists it."""
    return {
        "energy_site_id": site.id,
        "resource_type": "battery",
        "site_name": site.site_name,
        "id": site.asset_id,
        "gateway_id": f"{site.asset_id}-GW",
        "asset_site_id": site.asset_id.lower(),
        "energy_left": live["energy_left"],
        "total_pack_energy": live["total_pack_energy"],
        "percentage_charged": live["percentage_charged"],
        "battery_type": "ac_powerwall",
        "backup_capable": True,
        "battery_power": live["battery_power"],
        "storm_mode_enabled": site.storm_mode_enabled,
        "components": {
            "battery": True,
            "battery_type": "ac_powerwall",
            "solar": site.solar_kw > 0,
            "solar_type": "pv_panel",
            "grid": True,
            "load_meter": True,
            "market_type": "residential",
        },
    }


_ZERO = timedelta(0)
