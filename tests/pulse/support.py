"""Driving a sandbox vehicle for pulse's live test: its stored state changed as the car would
(plug in, unplug, move, lose charge), which the sandbox's simulated car then streams. Each
change runs on a worker thread with its own event loop (Playwright's sync API holds this one)."""

from __future__ import annotations

import asyncio
import base64
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from voltgate.config import Settings
from voltgate.db.engine import Database
from voltgate.vehicles.physics import Policy, present
from voltgate.vehicles.repository import SqlVehicleStore
from voltgate.vehicles.store import SessionEnd, SessionStart, Transition, Vehicle

_POLICY = Policy(sleep_after=900, wake_seconds=10)
# Counts a screenshot's pixels of the first series' colour (#2563eb), decoded by Chromium.
_BLUE_PIXELS = """async (b64) => {
  const img = new Image(); img.src = 'data:image/png;base64,' + b64; await img.decode();
  const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
  const g = c.getContext('2d'); g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data; let n = 0;
  for (let i = 0; i < d.length; i += 4) {
    const near = (v, w) => Math.abs(v - w) < 40;
    if (near(d[i], 0x25) && near(d[i + 1], 0x63) && near(d[i + 2], 0xeb)) n++;
  }
  return n;
}"""


def blue_pixels(chromium: Any, png: bytes) -> int:
    """How many pixels of the first series' colour a screenshot has (a plot's line drawn)."""
    page = chromium.new_page()
    try:
        return int(page.evaluate(_BLUE_PIXELS, base64.b64encode(png).decode()))
    finally:
        page.close()


async def _read(data_dir: Path, vin: str) -> Vehicle:
    db = Database(Settings(data_dir=data_dir))
    try:
        vehicle = await SqlVehicleStore(db).by_vin(vin)
        assert vehicle is not None
        return vehicle
    finally:
        await db.dispose()


async def _change(data_dir: Path, vin: str, changes: dict[str, Any]) -> Vehicle:
    db = Database(Settings(data_dir=data_dir))
    store = SqlVehicleStore(db)
    try:
        for _ in range(50):  # a compare-and-set: the server may change it in between
            before = await store.by_vin(vin)
            assert before is not None
            now = time.time()
            seen = present(before, now, _POLICY)
            values: dict[str, Any] = {
                "battery_level": seen.level, "energy_added": seen.energy_added,
                "charging_state": seen.charging_state if before.plugged_in else "Disconnected",
                "charging": seen.charging, "state_at": now, "last_active_at": now,
                "version": before.version + 1, **changes,
            }  # fmt: skip
            after = replace(before, **values)
            ends: tuple[SessionEnd, ...] = ()
            start = None
            if before.session_id is not None and not after.charging:
                end = SessionEnd(
                    before.session_id, now, after.battery_level, seen.energy_added, "stopped"
                )
                ends, after = (end,), replace(after, session_id=None)
            if after.charging and before.session_id is None:
                start = SessionStart(now, after.battery_level, before.location_name)
                after = replace(after, energy_added=0.0, session_start_level=after.battery_level)
            done = await store.apply(Transition(before, after, ends, start))
            if done is not None:
                return done
        raise AssertionError("the vehicle kept changing under the test")
    finally:
        await db.dispose()


class Driver:
    def __init__(self, data_dir: Path, vin: str) -> None:
        self.data_dir, self.vin = data_dir, vin
        self._pool = ThreadPoolExecutor(1)

    def read(self) -> Vehicle:
        return self._pool.submit(asyncio.run, _read(self.data_dir, self.vin)).result(30)

    def change(self, **changes: Any) -> Vehicle:
        return self._pool.submit(asyncio.run, _change(self.data_dir, self.vin, changes)).result(30)

    def unplug(self, **more: Any) -> Vehicle:
        return self.change(plugged_in=False, charging=False, charging_state="Disconnected", **more)

    def plug_in(self) -> Vehicle:
        return self.change(plugged_in=True, charging=True, charging_state="Charging")

    def close(self) -> None:
        self._pool.shutdown()
