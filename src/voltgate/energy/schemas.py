"""Request bodies and Tesla-shaped views of energy sites."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from voltgate.energy.store import EnergySite

UPDATED = {"response": {"code": 201, "message": "Updated"}}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class BackupReserve(_Body):
    backup_reserve_percent: int = Field(ge=0, le=100, strict=True)


class Operation(_Body):
    default_real_mode: Literal["autonomous", "self_consumption"]


class StormMode(_Body):
    enabled: StrictBool


def site_info(site: EnergySite) -> dict[str, Any]:
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


def product(site: EnergySite, live: dict[str, Any]) -> dict[str, Any]:
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
