"""A believable home energy site for a user, for the sandbox and tests."""

from __future__ import annotations

from dataclasses import replace

from voltgate.cache.port import Coordinator
from voltgate.energy.service import EnergySites, SiteDesign
from voltgate.energy.store import EnergySite

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


async def seed_energy_site(
    sites: EnergySites, coordinator: Coordinator, user_id: str
) -> EnergySite:
    """The user's first energy site, created (installed a year ago) if they have none."""
    async with coordinator.lock(f"energy-seed:{user_id}", ttl=30, wait=30):
        # As stored, not as this process last heard: another instance may have just seeded.
        existing = await sites.reread(user_id)
        if existing:
            return existing[0]
        installed = sites.clock.now() - _YEAR
        return await sites.create(user_id, replace(HOME, installed_at=installed))
