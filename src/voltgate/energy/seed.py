"""A believable home energy site for a user, for the sandbox and tests."""

from __future__ import annotations

from dataclasses import replace

from voltgate.energy.service import SiteDesign
from voltgate.energy.store import EnergySite
from voltgate.runtime import Runtime

HOME = SiteDesign(
    site_name="Home",
    time_zone="Europe/Berlin",
    latitude=52.52,
    longitude=13.405,
    solar_kw=8.2,  # 20 panels of 410 W
    battery_kwh=13.5,  # one Powerwall 2
    battery_kw=5.0,
    battery_count=1,
    backup_reserve_percent=20,
    default_real_mode="self_consumption",
)
_YEAR = 365 * 86_400


async def seed_energy_site(rt: Runtime, user_id: str) -> EnergySite:
    """The user's first energy site, created (installed a year ago) if they have none."""
    async with rt.coordinator.lock(f"energy-seed:{user_id}", ttl=30, wait=30):
        existing = await rt.owner.energy.of_user(user_id)
        if existing:
            return existing[0]
        installed = rt.clock.now() - _YEAR
        return await rt.owner.energy.create(user_id, replace(HOME, installed_at=installed))
