"""Charger frames from the `telemetry` table, on SQLite and PostgreSQL: a telemetry body
becomes one frame once committed, on this instance and on another sharing the database."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from tests.conftest import App
from tests.fixtures.fleet import device_headers, enroll, operator, register
from tests.telemetry.test_ingest import PORTS, reading
from voltgate.streams import chargers
from voltgate.streams.hub import Consumer


async def _charger(app: App) -> tuple[str, dict[str, str]]:
    op = await operator(app)
    charger = await register(app, await enroll(app, op), connectors=PORTS)
    return charger.device_id, await device_headers(app, charger)


async def _frame(consumer: Consumer) -> dict[str, Any]:
    async with asyncio.timeout(2):
        frame = await consumer.next()
    assert frame is not None
    found: dict[str, Any] = orjson.loads(frame)
    return found


async def _post(instance: App, headers: dict[str, str], at: float, power: float) -> None:
    body = {
        "timestamp": at,
        "connectors": [
            reading(1, power_kw=power, energy_kwh=3.5, soc=61),
            reading(2, state="available", power_kw=0, energy_kwh=0, soc=None),
        ],
    }
    response = await instance.http.post("/v1/device/telemetry", json=body, headers=headers)
    assert response.status_code == 202, response.text


async def test_a_telemetry_body_becomes_one_frame_once_committed(app: App) -> None:
    device_id, headers = await _charger(app)
    streams = app.rt.streams
    consumer = streams.chargers.subscribe([device_id])
    await streams.charger_feed.ready()
    at = app.clock.now()
    await _post(app, headers, at, 50.5)
    assert await _frame(consumer) == {
        "device_id": device_id,
        "connectors": [
            {
                "connector": 1,
                "state": "charging",
                "power": 50.5,
                "energy_delivered": 3.5,
                "soc": 61.0,
            },
            {
                "connector": 2,
                "state": "available",
                "power": 0.0,
                "energy_delivered": 0.0,
                "soc": None,
            },
        ],
        "timestamp": at,
    }
    consumer.end(1000, "")


async def test_frames_of_another_instance_reach_this_one(app: App, second: App) -> None:
    device_id, headers = await _charger(app)
    streams = app.rt.streams
    consumer = streams.chargers.subscribe([device_id])
    await streams.charger_feed.ready()
    for n, power in enumerate((11.5, 22.0, 7.4)):
        await _post(second, headers, app.clock.now() + n, power)
    powers = [(await _frame(consumer))["connectors"][0]["power"] for _ in range(3)]
    assert powers == [11.5, 22.0, 7.4]
    consumer.end(1000, "")


def test_rows_of_one_charger_at_one_time_make_one_frame() -> None:
    rows = [
        (1, "a", 10.0, 1, "charging", 7.0, 1.0, 50.0),
        (2, "b", 10.0, 1, "charging", 7.0, 1.0, None),
        (3, "a", 10.0, 2, "available", 0.0, 0.0, None),
        (4, "a", 15.0, 1, "charging", 7.0, 1.1, 51.0),
    ]
    found = [(k, orjson.loads(f)) for k, f in chargers.frames(rows, lambda key: key == "a")]
    assert [(k, f["timestamp"], len(f["connectors"])) for k, f in found] == [
        ("a", 10.0, 2),
        ("a", 15.0, 1),
    ]
    assert chargers.group(rows[0]) == chargers.group(rows[2]) != chargers.group(rows[3])
