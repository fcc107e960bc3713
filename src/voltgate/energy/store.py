"""The energy domain's record and the storage interface it owns (`repository.py` implements it
for SQLite and PostgreSQL)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from voltgate.readmodel import Versions


@dataclass(frozen=True, slots=True)
class EnergySite:
    id: int  # Tesla's energy_site_id: a number
    asset_id: str  # Tesla's product `id`, e.g. "STE20240312-00421"
    user_id: str
    site_name: str
    time_zone: str
    latitude: float
    longitude: float
    installation_date: float
    solar_kw: float
    battery_kwh: float
    battery_kw: float
    battery_count: int
    backup_reserve_percent: int
    default_real_mode: str
    storm_mode_enabled: bool
    created_at: float
    updated_at: float


class EnergySiteStore(Protocol):
    versions: Versions  # per user: moved by every change to one of the user's sites

    async def add(self, site: EnergySite) -> None: ...

    async def get(self, site_id: int) -> EnergySite | None:
        """The site, whoever owns it (the service checks the owner)."""

    async def of_user(self, user_id: str) -> list[EnergySite]:
        """The user's sites in id order."""

    async def reread(self, user_id: str) -> list[EnergySite]:
        """The user's sites in id order as the database holds them now (a read model takes
        them in too): for a decision that must not rest on a copy up to a second old."""

    async def update(self, site_id: int, changes: dict[str, Any], now: float) -> EnergySite | None:
        """Set the given columns (and updated_at) of one site: the site as stored, or None
        when there is no such site."""
