"""Energy sites of one user: read with `energy_device_data`, changed with `energy_cmds` (the
endpoints check the scopes). Another user's site does not exist (404, so ids do not leak)."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from voltgate.clock import Clock
from voltgate.energy.history import History, parse_query
from voltgate.energy.model import STEP, Model, SiteSpec
from voltgate.energy.store import EnergySite, EnergySiteStore
from voltgate.errors import NotFound

MODES = ("autonomous", "self_consumption")
_MAX_ID = 10**15


@dataclass(frozen=True, slots=True)
class SiteDesign:
    """What an installer decides: the site's place, its solar array and its batteries."""

    site_name: str
    time_zone: str
    latitude: float
    longitude: float
    solar_kw: float
    battery_kwh: float
    battery_kw: float
    battery_count: int
    backup_reserve_percent: int = 20
    default_real_mode: str = "self_consumption"
    installed_at: float | None = None


def spec_of(site: EnergySite) -> SiteSpec:
    return SiteSpec(
        site_id=site.id,
        time_zone=site.time_zone,
        latitude=site.latitude,
        solar_kw=site.solar_kw,
        battery_kwh=site.battery_kwh,
        battery_kw=site.battery_kw,
        backup_reserve_percent=site.backup_reserve_percent,
        mode=site.default_real_mode,
        storm_mode=site.storm_mode_enabled,
    )


def new_site_id() -> int:
    """Tesla's energy_site_id is a large number; a random one does not reveal how many exist."""
    return 10**14 + secrets.randbelow(_MAX_ID - 10**14)


class EnergySites:
    def __init__(self, store: EnergySiteStore, clock: Clock) -> None:
        self._store = store
        self.versions = store.versions  # per user: what kept answers are made from
        self.clock = clock
        self.model = Model()
        self.history = History(self.model)

    async def create(self, user_id: str, design: SiteDesign) -> EnergySite:
        now = self.clock.now()
        site_id = new_site_id()
        installed = design.installed_at if design.installed_at is not None else now
        stamp = datetime.fromtimestamp(int(installed), ZoneInfo(design.time_zone))
        site = EnergySite(
            id=site_id,
            asset_id=f"STE{stamp:%Y%m%d}-{site_id % 100_000:05d}",
            user_id=user_id,
            site_name=design.site_name,
            time_zone=design.time_zone,
            latitude=design.latitude,
            longitude=design.longitude,
            installation_date=installed,
            solar_kw=design.solar_kw,
            battery_kwh=design.battery_kwh,
            battery_kw=design.battery_kw,
            battery_count=design.battery_count,
            backup_reserve_percent=design.backup_reserve_percent,
            default_real_mode=design.default_real_mode,
            storm_mode_enabled=False,
            created_at=now,
            updated_at=now,
        )
        await self._store.add(site)
        return site

    async def of_user(self, user_id: str) -> list[EnergySite]:
        return await self._store.of_user(user_id)

    async def reread(self, user_id: str) -> list[EnergySite]:
        """The user's sites as stored now (seeding decides on these)."""
        return await self._store.reread(user_id)

    async def get(self, user_id: str, site_id: str) -> EnergySite:
        found = None
        if site_id.isascii() and site_id.isdigit() and len(site_id) <= 18:
            found = await self._store.get(int(site_id))
        if found is None or found.user_id != user_id:
            raise NotFound(f"no energy site {site_id[:32]!r}")
        return found

    def live_status(self, site: EnergySite) -> dict[str, Any]:
        now = self.clock.now()
        flow = self.model.at(spec_of(site), now)
        pack = site.battery_kwh * 1000
        fraction = min(1.0, max(0.0, (now - flow.start) / STEP))
        soc = flow.soc_start + (flow.soc_end - flow.soc_start) * fraction
        return {
            "solar_power": round(flow.solar * 1000, 1),
            "battery_power": round(flow.battery * 1000, 1),
            "load_power": round(flow.load * 1000, 1),
            "grid_power": round(flow.grid * 1000, 1),
            "grid_services_power": 0,
            "generator_power": 0,
            "percentage_charged": round(soc * 100, 3),
            "energy_left": round(soc * pack, 1),
            "total_pack_energy": round(pack),
            "grid_status": "Active",
            "island_status": "on_grid",
            "grid_services_active": False,
            "backup_capable": True,
            "storm_mode_active": False,
            "timestamp": _local_iso(now, site.time_zone),
        }

    async def calendar_history(
        self,
        site: EnergySite,
        kind: str | None,
        period: str | None,
        end_date: str | None,
        time_zone: str | None,
    ) -> dict[str, Any]:
        now = self.clock.now()
        query = parse_query(kind, period, end_date, time_zone, site.time_zone, now)
        body: dict[str, Any] = {
            "serial_number": site.asset_id,
            "period": query.period,
            "installation_time_zone": site.time_zone,
        }
        if query.kind == "backup":
            return {**body, "events": [], "total_events": 0}
        args = (spec_of(site), query, site.installation_date, now)
        if query.period == "day":  # one model day, as live_status reads: the thread hop costs more
            series = self.history.series(*args)
        else:  # a year is ~100,000 model steps when not cached: computed off the event loop
            series = await asyncio.to_thread(self.history.series, *args)
        return {**body, "time_series": series}

    async def set_backup_reserve(self, site: EnergySite, percent: int) -> EnergySite:
        return await self._change(site, backup_reserve_percent=percent)

    async def set_mode(self, site: EnergySite, mode: str) -> EnergySite:
        return await self._change(site, default_real_mode=mode)

    async def set_storm_mode(self, site: EnergySite, enabled: bool) -> EnergySite:
        return await self._change(site, storm_mode_enabled=enabled)

    async def _change(self, site: EnergySite, **changes: Any) -> EnergySite:
        stored = await self._store.update(site.id, changes, self.clock.now())
        if stored is None:
            raise NotFound(f"no energy site {site.id}")
        return stored


def _local_iso(at: float, zone: str) -> str:
    return datetime.fromtimestamp(int(at), ZoneInfo(zone)).isoformat()
