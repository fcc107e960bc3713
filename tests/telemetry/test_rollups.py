"""Downsampled telemetry agrees with the raw readings it summarises, at every resolution, however
the readings arrived (several flushes into one minute, late and out of order, nulls), and keeps
answering after retention has deleted the raw rows."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from typing import Any

import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from tests.conftest import App
from tests.fixtures.fleet import Charger, Operator, device_headers, enroll, operator, register
from voltgate.config import Settings
from voltgate.db.schema import telemetry, telemetry_rollups
from voltgate.telemetry import service
from voltgate.telemetry.rollups import FIELDS
from voltgate.telemetry.store import Bucket

PORTS = [{"type": "CCS2", "max_power_kw": 150}, {"type": "Type2", "max_power_kw": 22}]
LENGTHS = {"1m": 60, "15m": 900, "1h": 3600}


async def _fleet(app: App) -> tuple[Operator, Charger, dict[str, str]]:
    op = await operator(app)
    charger = await register(app, await enroll(app, op), connectors=PORTS)
    return op, charger, await device_headers(app, charger)


async def _post(app: App, headers: dict[str, str], at: float, *items: dict[str, Any]) -> None:
    body = {"timestamp": at, "connectors": list(items)}
    response = await app.http.post("/v1/device/telemetry", json=body, headers=headers)
    assert response.status_code == 202, response.text


def _item(rng: random.Random, connector: int) -> dict[str, Any]:
    top = 150 if connector == 1 else 22
    item: dict[str, Any] = {
        "connector": connector,
        "state": "charging",
        "power_kw": round(rng.uniform(0, top), 2),
        "energy_kwh": round(rng.uniform(0, 80), 3),
    }
    # soc, voltage and current are often missing (null): they are not counted.
    for name, low, high in (("soc", 0, 100), ("voltage", 200, 800), ("current", -100, 100)):
        if rng.random() < 0.6:
            item[name] = round(rng.uniform(low, high), 1)
    return item


async def _raw(app: App, device_id: str) -> list[Any]:
    query = sa.select(telemetry).where(telemetry.c.device_id == device_id)
    return await app.rt.db.read(lambda conn: list(conn.execute(query)))


def _expected(rows: list[Any], connector: int, field: str, length: int) -> list[Bucket]:
    """The buckets computed straight from raw rows: what the rollups must agree with."""
    groups: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for row in rows:
        value = getattr(row, field)
        if row.connector == connector and value is not None:
            groups[int(row.at // length) * length].append((row.at, value))
    found = []
    for start in sorted(groups):
        points = groups[start]
        values = [v for _, v in points]
        last_at, last = max(points)  # the greatest time; ties: the greater value
        found.append(
            Bucket(start, len(values), sum(values), min(values), max(values), last, last_at)
        )
    return found


def _same(got: list[Bucket], expected: list[Bucket]) -> None:
    assert [b.start for b in got] == [b.start for b in expected]
    for g, e in zip(got, expected, strict=True):
        assert (g.count, g.min, g.max, g.last) == (e.count, e.min, e.max, e.last), g.start
        assert g.sum == pytest.approx(e.sum) and g.last_at == pytest.approx(e.last_at)


async def test_the_downsample_agrees_with_the_raw_readings_at_every_resolution(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    op, charger, headers = await _fleet(app)
    rng = random.Random(5)
    # Three hours ending an hour ago, readings at random times, posted out of order and
    # flushed every few posts: several flushes land in one minute.
    base = math.floor(app.clock.now() / 3600) * 3600 - 4 * 3600
    times = [base + rng.uniform(0, 3 * 3600) for _ in range(150)]
    # Two readings a few seconds apart: two flushes into one minute, both connectors.
    times += [base + 600.5, base + 601.5]
    for index, at in enumerate(times):
        connectors = [1, 2] if index % 3 else [1]
        await _post(app, headers, at, *(_item(rng, c) for c in connectors))
        if index % 4 == 3:
            await app.rt.fleet.telemetry.flush()
    await app.rt.fleet.telemetry.flush()
    # A late reading into the oldest, long-flushed bucket, at the very time of another one
    # (a tie: the greater value is the last), and one alone in a minute with only nulls.
    await _post(app, headers, times[0], _item(rng, 1), {**_item(rng, 2), "power_kw": 21.9})
    await _post(app, headers, base + 3 * 3600 - 30, {**_item(rng, 2), "soc": None})
    await app.rt.fleet.telemetry.flush()

    rows = await _raw(app, charger.device_id)
    assert len(rows) > 250
    start, end = base, base + 3 * 3600
    for resolution, length in LENGTHS.items():
        for connector in (1, 2):
            for field in FIELDS:
                got = await app.rt.fleet.telemetry.series(
                    op.client_id, charger.device_id, connector, field, start, end, resolution
                )
                _same(got, _expected(rows, connector, field, length))


async def test_two_flushes_into_one_minute_merge_into_one_rollup(app: App) -> None:
    op, charger, headers = await _fleet(app)
    minute = math.floor(app.clock.now() / 60) * 60 - 120
    item = {"connector": 1, "state": "charging", "energy_kwh": 1.0}
    await _post(app, headers, minute + 10, {**item, "power_kw": 10, "soc": 40})
    await app.rt.fleet.telemetry.flush()
    await _post(app, headers, minute + 50, {**item, "power_kw": 30})  # soc null
    await _post(app, headers, minute + 5, {**item, "power_kw": 5, "soc": 39})  # out of order
    await app.rt.fleet.telemetry.flush()
    # Two more at the very time of the last one, in later flushes: the greater value is last,
    # whichever order they come in.
    for power in (35, 32):
        await _post(app, headers, minute + 50, {**item, "power_kw": power})
        await app.rt.fleet.telemetry.flush()

    rows = await app.rt.db.read(lambda conn: list(conn.execute(sa.select(telemetry_rollups))))
    assert len(rows) == 1 and rows[0].bucket == minute
    power = await app.rt.fleet.telemetry.series(
        op.client_id, charger.device_id, 1, "power_kw", minute, minute + 60
    )
    assert power == [Bucket(minute, 5, 112.0, 5.0, 35.0, 35.0, minute + 50)]
    soc = await app.rt.fleet.telemetry.series(
        op.client_id, charger.device_id, 1, "soc", minute, minute + 60, "15m"
    )
    start = minute // 900 * 900
    assert soc == [Bucket(start, 2, 79.0, 39.0, 40.0, 40.0, minute + 10)]


async def test_retention_drops_raw_readings_first_and_the_series_keeps_answering(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "SWEEP_CHUNK", 3)  # several chunks, as a big sweep would take
    op, charger, headers = await _fleet(app)
    now = app.clock.now()
    old = math.floor((now - 6.5 * 86_400) / 3600) * 3600  # within the 7 days ingest accepts
    item = {"connector": 1, "state": "charging", "energy_kwh": 2.0}
    for i in range(10):
        await _post(app, headers, old + 100 * i, {**item, "power_kw": float(i)})
    await _post(app, headers, now - 60, {**item, "power_kw": 99.0})  # a recent one stays
    await app.rt.fleet.telemetry.flush()
    raw_before = await _raw(app, charger.device_id)
    assert len(raw_before) == 11

    async def series() -> list[Bucket]:
        return await app.rt.fleet.telemetry.series(
            op.client_id, charger.device_id, 1, "power_kw", old, old + 3600, "1h"
        )

    async def readings() -> list[float]:
        part = await app.rt.fleet.telemetry.readings(
            op.client_id, charger.device_id, 1, old, old + 3600, limit=100
        )
        return [r.power_kw for r in part.items]

    downsampled = await series()
    assert downsampled == [Bucket(old, 10, 45.0, 0.0, 9.0, 9.0, old + 900)]
    assert await app.rt.fleet.telemetry.sweep() == 0  # nothing is past its retention yet
    assert await readings() == [float(i) for i in range(10)]

    app.clock.advance(86_400)  # the old readings are now 7.5 days old: past raw retention
    assert await app.rt.fleet.telemetry.sweep() == 10
    assert [r.power_kw for r in await _raw(app, charger.device_id)] == [99.0]
    assert await readings() == []
    assert await series() == downsampled  # answered from the rollups

    app.clock.advance(400 * 86_400)  # past rollup retention too
    # The recent raw reading, the 10 old minutes' rollups and the recent one's.
    assert await app.rt.fleet.telemetry.sweep() == 12
    assert await series() == []


def test_rollups_must_be_kept_at_least_as_long_as_raw_readings() -> None:
    with pytest.raises(ValidationError, match="at least telemetry_raw_retention_days"):
        Settings(telemetry_raw_retention_days=30, telemetry_rollup_retention_days=7)
    with pytest.raises(ValidationError):
        Settings(telemetry_raw_retention_days=0)
    kept = Settings(telemetry_raw_retention_days=3, telemetry_rollup_retention_days=3)
    assert kept.telemetry_rollup_retention_days == 3
