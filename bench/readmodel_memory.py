"""`python -m bench.readmodel_memory [--devices N] [--users N]`: what the devices and users read
models hold in memory, measured with tracemalloc around their load from a scratch SQLite file.

Chargers are shaped like a real fleet: 20 operators with 10 sites each, a few models and
firmware versions, two connectors each (Type2 22 kW, CCS2 150 kW), every one heard from.
Prints bytes in total and per device / per user (docs/design.md states the figure per 10,000), and
how long a whole reload of both takes (what a server spends when a CLI wrote to its file).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sqlite3
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path

from voltgate.cache.memory import InProcessCoordinator
from voltgate.changes import Changes
from voltgate.clock import SystemClock
from voltgate.config import Settings
from voltgate.db.delegation import SqlUserStore
from voltgate.db.engine import Database
from voltgate.db.readmodels import UserReadModel
from voltgate.db.statements import Statement
from voltgate.db.stores import SqlStateStore
from voltgate.devices.readmodel import DeviceReadModel
from voltgate.devices.repository import SqlDeviceStore
from voltgate.ids import ulid

MODELS = [("Tellus 22", "Tellus"), ("Wallbox Pulsar", "Wallbox"), ("Alfen Eve", "Alfen")]
FIRMWARE = ["1.4.2", "1.5.0", "2.0.1"]
PING = Statement("SELECT 1")


def _fill(path: Path, devices: int, users: int) -> list[str]:
    conn = sqlite3.connect(path)  # foreign keys off: no client rows needed
    operators = [f"vgc_live_{ulid()}" for _ in range(20)]
    sites = [f"site{ulid()}" for _ in range(200)]
    rows, ports = [], []
    for n in range(devices):
        device_id = f"vgc_live_{ulid()}"
        model, maker = MODELS[n % len(MODELS)]
        mac = ":".join(f"{(n >> s) & 0xFF:02X}" for s in (40, 32, 24, 16, 8, 0))
        at = 1.76e9 + n
        site, firmware = sites[n % 200], FIRMWARE[n % 3]
        row = (device_id, operators[n % 20], site, f"SN-{n:08d}", model, maker, firmware)
        rows.append((*row, mac, at, at + 30, None))
        ports += [(device_id, 1, "Type2", 22.0), (device_id, 2, "CCS2", 150.0)]
    conn.executemany("INSERT INTO devices VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
    conn.executemany("INSERT INTO connectors VALUES (?,?,?,?)", ports)
    conn.executemany(
        "INSERT INTO users VALUES (?,?,?,?,?,?)",
        [
            (f"user{ulid()}", f"driver{n}@example.com", f"Driver {n}", "$argon2id$x", 1.76e9, None)
            for n in range(users)
        ],
    )
    conn.commit()
    conn.close()
    return [row[0] for row in rows]


async def _measure(data: Path, devices: int, users: int) -> None:
    db = Database(Settings(data_dir=data))
    await db.upgrade()
    ids = _fill(data / "voltgate.db", devices, users)
    changes = Changes(InProcessCoordinator(SystemClock()), SqlStateStore(db), origin="bench")
    held_devices = DeviceReadModel(SqlDeviceStore(db), changes)
    held_users = UserReadModel(SqlUserStore(db), changes)
    loads: list[tuple[str, int, Callable[[], Awaitable[object]]]] = [
        ("devices", devices, lambda: held_devices.by_id("none")),
        ("users", users, lambda: held_users.get("none")),
    ]
    try:
        await db.reader.all(PING)  # the reader's connection, outside the measurement
        for name, count, load in loads:
            gc.collect()
            tracemalloc.start()
            before = tracemalloc.get_traced_memory()[0]
            await load()  # the first read loads the whole table
            # The step that resumed this task holds the load's raw rows until the next yield.
            await asyncio.sleep(0)
            gc.collect()
            held = tracemalloc.get_traced_memory()[0] - before
            tracemalloc.stop()
            _report(name, count, held)
        # Every charger heard from since this process started: its time is noted (`Stamps`).
        gc.collect()
        tracemalloc.start()
        before = tracemalloc.get_traced_memory()[0]
        for device_id in ids:
            await held_devices.touch(device_id, 1.8e9)
        await asyncio.sleep(0.5)  # the batch of times has gone out
        gc.collect()
        _report("heartbeat times", len(ids), tracemalloc.get_traced_memory()[0] - before)
        tracemalloc.stop()
        # What a server spends when the change counter moves (a CLI wrote): every table again.
        started = time.perf_counter()
        await changes.reload_all()
        print(f"reload of both tables: {(time.perf_counter() - started) * 1000:.0f} ms")
    finally:
        await db.dispose()


def _report(name: str, count: int, held: int) -> None:
    print(
        f"{name}: {count} held in {held / 1e6:.2f} MB, {held / count:.0f} bytes each, "
        f"{held * 10_000 / count / 1e6:.2f} MB per 10,000"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        asyncio.run(_measure(Path(scratch), args.devices, args.users))


if __name__ == "__main__":
    main()
