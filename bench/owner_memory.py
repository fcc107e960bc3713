"""`python -m bench.owner_memory`: bytes the owner read models hold per 10,000 vehicles and per
10,000 energy sites: what a whole load from a SQLite database leaves allocated (tracemalloc):
the records, their values, the index and, for vehicles, the VIN map.

    .venv/bin/python -m bench.owner_memory
"""

from __future__ import annotations

import asyncio
import gc
import random
import secrets
import tracemalloc
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from tempfile import TemporaryDirectory

from voltgate.cache.memory import InProcessCoordinator
from voltgate.changes import Changes
from voltgate.clock import SystemClock
from voltgate.config import Settings
from voltgate.db.engine import Database
from voltgate.db.schema import users
from voltgate.energy.readmodel import EnergySiteReadModel
from voltgate.energy.repository import SqlEnergySiteStore
from voltgate.energy.seed import HOME
from voltgate.energy.service import SiteDesign
from voltgate.energy.store import EnergySite
from voltgate.vehicles.readmodel import VehicleReadModel
from voltgate.vehicles.repository import SqlVehicleStore
from voltgate.vehicles.seed import _model_3, _model_y
from voltgate.vehicles.store import Vehicle

COUNT = 10_000


class _Generation:
    async def bump(self) -> int:
        return 0


async def _held(load: Callable[[], Awaitable[int]]) -> tuple[int, int]:
    """(rows held, bytes still allocated after `load` returned)."""
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    rows = await load()
    await asyncio.sleep(0)  # the loop lets go of the finished read (its rows) on the next turn
    gc.collect()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return rows, after - before


def _site(user_id: str, n: int, now: float, design: SiteDesign) -> EnergySite:
    return EnergySite(
        id=10**14 + n,
        asset_id=f"STE20250101-{n:05d}",
        user_id=user_id,
        site_name=design.site_name,
        time_zone=design.time_zone,
        latitude=design.latitude + random.random(),
        longitude=design.longitude + random.random(),
        installation_date=now - random.uniform(0, 3e7),
        solar_kw=design.solar_kw,
        battery_kwh=design.battery_kwh,
        battery_kw=design.battery_kw,
        battery_count=design.battery_count,
        backup_reserve_percent=random.randint(0, 100),
        default_real_mode=design.default_real_mode,
        storm_mode_enabled=False,
        created_at=now,
        updated_at=now,
    )


async def measure(data: Path) -> None:
    db = Database(Settings(data_dir=data))
    await db.upgrade()
    now = SystemClock().now()
    user_ids = [f"user_{secrets.token_hex(13)}" for _ in range(COUNT)]
    rows = [
        {"id": u, "email": f"{u}@example.com", "display_name": u, "password_hash": "-"}
        | {"created_at": now}
        for u in user_ids
    ]
    await db.write(lambda conn: conn.execute(users.insert(), rows))
    vehicles = SqlVehicleStore(db)
    batch: list[Vehicle] = []
    for user_id in user_ids[: COUNT // 2]:
        for car in (_model_3(user_id, now), _model_y(user_id, now, now - 7200)):
            vin = f"{car.vin[:11]}{len(batch):06d}"  # random serials would collide at 10,000
            level = random.uniform(10, 95)
            batch.append(replace(car, vin=vin, battery_level=level, state_at=now))
    assert await vehicles.add_all(batch)
    sites = SqlEnergySiteStore(db)
    for n, user_id in enumerate(user_ids):
        await sites.add(_site(user_id, n, now, HOME))

    changes = Changes(InProcessCoordinator(clock=SystemClock()), _Generation(), "bench")
    held_vehicles = VehicleReadModel(vehicles, changes)
    held_sites = EnergySiteReadModel(sites, changes)

    async def load_vehicles() -> int:
        await held_vehicles.get(batch[0].id)  # the first read loads every vehicle
        return len(batch)

    async def load_sites() -> int:
        await held_sites.get(10**14)  # the first read loads every site
        return COUNT

    for name, load in (("vehicles", load_vehicles), ("energy sites", load_sites)):
        count, held = await _held(load)
        per_10k = held * 10_000 / count
        print(f"{name}: {count} held, {held / 1e6:.2f} MB, {per_10k / 1e6:.2f} MB per 10,000")
    await db.dispose()


def main() -> None:
    with TemporaryDirectory() as tmp:
        asyncio.run(measure(Path(tmp)))


if __name__ == "__main__":
    main()
