"""The operator's telemetry queries over HTTP: a raw range page by page, a downsampled series,
every bad input refused with 400 code 1002 naming the problem and the limit, other operators'
chargers 404."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import App
from tests.fixtures.fleet import Charger, Operator, device_headers, enroll, operator, register

PORTS = [{"type": "CCS2", "max_power_kw": 150}, {"type": "Type2", "max_power_kw": 22}]
DAY = 86_400


async def _fleet(app: App) -> tuple[Operator, Charger, dict[str, str]]:
    op = await operator(app)
    charger = await register(app, await enroll(app, op), connectors=PORTS)
    return op, charger, await device_headers(app, charger)


async def _post(app: App, headers: dict[str, str], at: float, power: float, soc: Any) -> None:
    item = {"connector": 1, "state": "charging", "power_kw": power, "energy_kwh": 3.0, "soc": soc}
    other = {"connector": 2, "state": "available", "power_kw": 0, "energy_kwh": 0}
    body = {"timestamp": at, "connectors": [item, other]}
    response = await app.http.post("/v1/device/telemetry", json=body, headers=headers)
    assert response.status_code == 202, response.text


def _rfc3339(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).isoformat().replace("+00:00", "Z")


async def test_a_raw_range_comes_oldest_first_page_by_page(app: App) -> None:
    op, charger, headers = await _fleet(app)
    base = math.floor(app.clock.now()) - 3600
    times = [base + 30 * i for i in (4, 1, 3, 0, 2, 5)]  # posted out of order
    for at in times:
        await _post(app, headers, at, power=at - base, soc=None)
    await app.rt.fleet.telemetry.flush()
    path = f"/v1/operator/devices/{charger.device_id}/telemetry"
    # [from, to) in RFC 3339 and Unix seconds: the reading at `to` is left out.
    params: dict[str, Any] = {
        "connector": 1,
        "from": _rfc3339(base),
        "to": str(base + 150),
        "limit": 2,
    }
    seen: list[float] = []
    pages = 0
    while True:
        response = await app.http.get(path, params=params, headers=op.headers)
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["device_id"] == charger.device_id and data["connector"] == 1
        assert len(data["items"]) <= 2 and all(i["connector"] == 1 for i in data["items"])
        seen += [item["at"] for item in data["items"]]
        pages += 1
        if data["next_cursor"] is None:
            break
        params["cursor"] = data["next_cursor"]
    assert seen == [base + 30 * i for i in range(5)] and pages == 3
    # Without a connector: every connector's readings, still oldest first.
    both = await app.http.get(
        path, params={"from": base, "to": base + 31, "limit": 10}, headers=op.headers
    )
    items = both.json()["data"]["items"]
    assert [(i["at"], i["connector"]) for i in items] == [
        (base, 1),
        (base, 2),
        (base + 30, 1),
        (base + 30, 2),
    ]


async def test_a_series_is_answered_in_aligned_buckets(app: App) -> None:
    op, charger, headers = await _fleet(app)
    hour = math.floor(app.clock.now() / 3600) * 3600 - 2 * 3600
    for offset, power, soc in ((10, 10.0, 50), (70, 20.0, None), (950, 40.0, 52), (3700, 7, 60)):
        await _post(app, headers, hour + offset, power, soc)
    await app.rt.fleet.telemetry.flush()
    path = f"/v1/operator/devices/{charger.device_id}/telemetry/series"
    query = {"connector": 1, "field": "power_kw", "from": hour + 5, "to": hour + 2 * 3600}

    response = await app.http.get(path, params={**query, "resolution": "15m"}, headers=op.headers)
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert {k: data[k] for k in ("device_id", "connector", "field", "resolution")} == {
        "device_id": charger.device_id,
        "connector": 1,
        "field": "power_kw",
        "resolution": "15m",
    }
    assert data["buckets"] == [
        {"start": hour, "count": 2, "avg": 15.0, "min": 10.0, "max": 20.0, "last": 20.0},
        {"start": hour + 900, "count": 1, "avg": 40.0, "min": 40.0, "max": 40.0, "last": 40.0},
        {"start": hour + 3600, "count": 1, "avg": 7.0, "min": 7.0, "max": 7.0, "last": 7.0},
    ]
    soc = await app.http.get(
        path, params={**query, "field": "soc", "resolution": "1h"}, headers=op.headers
    )
    assert soc.json()["data"]["buckets"] == [
        {"start": hour, "count": 2, "avg": 51.0, "min": 50.0, "max": 52.0, "last": 52.0},
        {"start": hour + 3600, "count": 1, "avg": 60.0, "min": 60.0, "max": 60.0, "last": 60.0},
    ]
    minutes = await app.http.get(path, params=query, headers=op.headers)  # 1m by default
    assert [b["start"] for b in minutes.json()["data"]["buckets"]] == [
        hour,
        hour + 60,
        hour + 900,
        hour + 3660,
    ]


RAW = "telemetry"
SERIES = "telemetry/series"


@pytest.mark.parametrize(
    ("suffix", "params", "message"),
    [
        (RAW, {"from": 2000, "to": 1000}, "to must be after from"),
        (RAW, {"from": 1000, "to": 1000}, "to must be after from"),
        (RAW, {"from": 0, "to": DAY + 1}, "at most 1 day"),
        (RAW, {"from": "yesterday", "to": 10}, "from: Unix seconds or an RFC 3339"),
        (RAW, {"from": 0, "to": "2026-13-01T00:00:00Z"}, "to: Unix seconds or an RFC 3339"),
        (RAW, {"from": 0, "to": 10, "connector": 3}, "no connector 3"),
        (RAW, {"from": 0, "to": 10, "limit": 0}, "limit"),
        (RAW, {"from": 0, "to": 10, "limit": 1001}, "limit"),
        (RAW, {"from": 0, "to": 10, "cursor": "bm9wZQ"}, "cursor"),
        (SERIES, {"connector": 1, "field": "temperature"}, "field: one of power_kw"),
        (SERIES, {"connector": 1, "field": "soc", "resolution": "5m"}, "resolution: one of 1m"),
        (SERIES, {"connector": 3, "field": "soc"}, "no connector 3"),
        (SERIES, {"field": "soc"}, "connector"),
        (SERIES, {"connector": 1}, "field"),
        (SERIES, {"connector": 1, "field": "soc", "from": 5, "to": 5}, "to must be after from"),
        (
            SERIES,
            {"connector": 1, "field": "soc", "from": 0, "to": 7 * DAY + 1},
            "1m series may span at most 7 days",
        ),
        (
            SERIES,
            {"connector": 1, "field": "soc", "resolution": "15m", "from": 0, "to": 32 * DAY},
            "at most 31 days",
        ),
        (
            SERIES,
            {"connector": 1, "field": "soc", "resolution": "1h", "from": 0, "to": 367 * DAY},
            "at most 366 days",
        ),
    ],
)
async def test_bad_queries_are_400_code_1002_naming_the_problem(
    app: App, suffix: str, params: dict[str, Any], message: str
) -> None:
    op, charger, _ = await _fleet(app)
    response = await app.http.get(
        f"/v1/operator/devices/{charger.device_id}/{suffix}", params=params, headers=op.headers
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == 1002 and body["data"] is None
    assert message in body["message"]


async def test_another_operators_charger_is_404_and_a_write_token_is_403(app: App) -> None:
    _, charger, headers = await _fleet(app)
    now = app.clock.now()
    await _post(app, headers, now - 10, power=5, soc=None)
    await app.rt.fleet.telemetry.flush()
    other = await operator(app, name="Other ops")
    writer = await operator(app, scopes="write", name="No read")
    for suffix, params in (
        (RAW, {"from": now - 60, "to": now}),
        (SERIES, {"connector": 1, "field": "power_kw", "from": now - 60, "to": now}),
    ):
        path = f"/v1/operator/devices/{charger.device_id}/{suffix}"
        foreign = await app.http.get(path, params=params, headers=other.headers)
        assert foreign.status_code == 404 and foreign.json()["code"] == 3001
        missing = await app.http.get(
            f"/v1/operator/devices/vgc_test_nope/{suffix}", params=params, headers=other.headers
        )
        # Exactly as for a charger that does not exist.
        named = foreign.json()["message"].replace(charger.device_id, "vgc_test_nope")
        assert missing.status_code == 404 and missing.json()["message"] == named
        denied = await app.http.get(path, params=params, headers=writer.headers)
        assert denied.status_code == 403 and denied.json()["code"] == 2003


async def test_a_charger_without_connectors_has_no_readings_and_no_series(app: App) -> None:
    op = await operator(app)
    bare = await register(app, await enroll(app, op))
    path = f"/v1/operator/devices/{bare.device_id}/telemetry"
    raw = await app.http.get(path, headers=op.headers)
    assert raw.status_code == 200, raw.text
    assert raw.json()["data"]["items"] == [] and raw.json()["data"]["next_cursor"] is None
    series = await app.http.get(
        f"{path}/series", params={"connector": 1, "field": "soc"}, headers=op.headers
    )
    assert series.status_code == 400 and "(it has none)" in series.json()["message"]
