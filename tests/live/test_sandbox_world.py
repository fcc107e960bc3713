"""Live: the sandbox's world after it has run for a minute (issue 5's done-when line).

`voltgate sandbox` runs its simulated chargers for at least a minute while the operator starts
short sessions on them; then it is stopped, so the data is at rest, and a `voltgate serve` on
the same data directory answers the checks: the operator's aggregated energy for each day equals
the sum of its charging records (each site in its own time zone), and a connector's telemetry
downsample at 1 min, 15 min and 1 h agrees with its raw readings.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import orjson
import pytest

from tests.fixtures.live import free_port, server_env, voltgate_process

RUN_SECONDS = 60.0
PUBLIC_CHARGERS = 4
SESSION_SECONDS = 20
FIELDS = ("power_kw", "energy_kwh", "soc")
RESOLUTIONS = {"1m": 60, "15m": 900, "1h": 3600}


def _operator_headers(http: httpx.Client, operator: dict[str, Any]) -> dict[str, str]:
    answer = http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(operator["client_id"], operator["client_secret"]),
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _data(answer: httpx.Response) -> Any:
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]


def _walk(http: httpx.Client, headers: dict[str, str], path: str, limit: int) -> list[Any]:
    """Every item of a cursor-paged list."""
    items: list[Any] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = _data(http.get(path, params=params, headers=headers))
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def _online_devices(http: httpx.Client, headers: dict[str, str], count: int) -> list[Any]:
    deadline = time.monotonic() + 30
    while True:
        devices = _data(http.get("/v1/operator/devices?size=100", headers=headers))["items"]
        if len(devices) == count and all(d["online"] for d in devices):
            return list(devices)
        assert time.monotonic() < deadline, devices
        time.sleep(0.5)


def _start_sessions(
    http: httpx.Client, headers: dict[str, str], devices: list[Any]
) -> dict[str, str]:
    """A short session on each charger's first connector: command id -> device id."""
    started = {}
    for device in devices:
        connector = device["connectors"][0]
        answer = http.post(
            f"/v1/operator/devices/{device['id']}/connectors/1/start",
            json={
                "charge_power": min(7.0, connector["max_power_kw"]),
                "duration": SESSION_SECONDS,
                "target_soc": 100,
            },
            headers=headers,
        )
        assert answer.status_code == 202, answer.text
        started[answer.json()["data"]["command_id"]] = device["id"]
    return started


def _settled(http: httpx.Client, headers: dict[str, str], command_ids: list[str]) -> list[Any]:
    deadline = time.monotonic() + 30
    while True:
        commands = [
            _data(http.get(f"/v1/operator/commands/{c}", headers=headers)) for c in command_ids
        ]
        if all(c["status"] in ("completed", "rejected", "failed", "expired") for c in commands):
            return commands
        assert time.monotonic() < deadline, commands
        time.sleep(0.5)


def _run_the_sandbox(tmp_path: Path, data: Path) -> tuple[dict[str, Any], list[str], float]:
    """The sandbox for at least RUN_SECONDS, until the commanded sessions are reported stopped;
    the credentials, the (device, connector 1) pairs that charged, and when the run began."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    creds_path = tmp_path / "creds.json"
    args = ["sandbox", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--fleet", str(PUBLIC_CHARGERS), "--credentials-out", str(creds_path)]
    with (
        voltgate_process(args, server_env(data), tmp_path / "sandbox.log", base),
        httpx.Client(base_url=base, timeout=10) as http,
    ):
        began = time.time()
        creds = orjson.loads(creds_path.read_bytes())
        headers = _operator_headers(http, creds["operator"])
        devices = _online_devices(http, headers, PUBLIC_CHARGERS + 1)  # and the home charger
        started = _start_sessions(http, headers, devices)
        commands = _settled(http, headers, list(started))
        charged = [started[c["command_id"]] for c in commands if c["status"] == "completed"]
        assert len(charged) >= 3, commands  # a busy connector may refuse; most accept
        deadline = time.monotonic() + RUN_SECONDS + 60
        while True:
            finished = _walk(http, headers, "/v1/operator/charging-records?finished=true", 100)
            done = {r["device_id"] for r in finished if r["started_at"] >= began}
            if time.time() - began >= RUN_SECONDS and set(charged) <= done:
                break
            assert time.monotonic() < deadline, (charged, done)
            time.sleep(1.0)
    return creds, charged, began


def _expected_series(readings: list[Any], field: str, width: int) -> dict[int, dict[str, Any]]:
    buckets: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for reading in readings:
        if reading[field] is not None:
            buckets[int(reading["at"] // width * width)].append((reading["at"], reading[field]))
    expected = {}
    for start, points in buckets.items():
        values = [v for _, v in points]
        expected[start] = {
            "count": len(values),
            "avg": pytest.approx(sum(values) / len(values)),
            "min": pytest.approx(min(values)),
            "max": pytest.approx(max(values)),
            "last": pytest.approx(max(points)[1]),  # the newest reading (a tie: the greater)
        }
    return expected


def _check_series(http: httpx.Client, headers: dict[str, str], device_id: str, began: float) -> int:
    low = math.floor(began / 3600) * 3600
    high = math.ceil(time.time() / 3600) * 3600 + 3600
    path = f"/v1/operator/devices/{device_id}/telemetry"
    raw: list[Any] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"connector": 1, "from": low, "to": high, "limit": 1000}
        if cursor:
            params["cursor"] = cursor
        page = _data(http.get(path, params=params, headers=headers))
        raw += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    charging = [r for r in raw if r["power_kw"] > 0]
    assert len(raw) >= RUN_SECONDS / 5 - 4 and charging, raw
    for resolution, width in RESOLUTIONS.items():
        for field in FIELDS:
            series = _data(
                http.get(
                    path + "/series",
                    params={
                        "connector": 1,
                        "field": field,
                        "resolution": resolution,
                        "from": low,
                        "to": high,
                    },
                    headers=headers,
                )
            )
            got = {
                int(b["start"]): {k: b[k] for k in ("count", "avg", "min", "max", "last")}
                for b in series["buckets"]
            }
            assert got == _expected_series(raw, field, width), (resolution, field)
    return len(raw)


def _local_days(records: list[Any], zone: ZoneInfo) -> set[datetime]:
    return {
        datetime.fromtimestamp(r["started_at"], zone).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        for r in records
    }


def _check_daily_energy(
    http: httpx.Client, headers: dict[str, str], records: list[Any], devices: list[Any]
) -> float:
    """Each site's days in its own zone, and the home charger's (no site: UTC), each equal to
    the sum of its records; the energy of all the days checked."""
    sites = _data(http.get("/v1/operator/sites", headers=headers))["items"]
    groups = [
        ("site", s["id"], s["timezone"], {d["id"] for d in devices if d["site_id"] == s["id"]})
        for s in sites
    ]
    groups += [("device", d["id"], "UTC", {d["id"]}) for d in devices if d["site_id"] is None]
    checked = 0.0
    for param, ident, zone_name, members in groups:
        zone = ZoneInfo(zone_name)
        mine = [r for r in records if r["device_id"] in members]
        for midnight in _local_days(mine, zone):
            start, end = midnight.timestamp(), (midnight + timedelta(days=1)).timestamp()
            day = [r for r in mine if start <= r["started_at"] < end]
            report = _data(
                http.get(
                    "/v1/operator/aggregated/energy",
                    params={"granularity": "day", param: ident, "from": start, "to": end},
                    headers=headers,
                )
            )
            assert report["timezone"] == zone_name
            (bucket,) = report["buckets"]
            assert bucket["period"] == midnight.date().isoformat()
            assert bucket["sessions"] == len(day) == report["total_sessions"]
            expected = sum(r["energy_kwh"] for r in day)
            assert bucket["energy_kwh"] == pytest.approx(expected, abs=1e-6)
            assert report["total_energy_kwh"] == pytest.approx(expected, abs=1e-6)
            checked += bucket["energy_kwh"]
    return checked


def test_after_a_minute_daily_energy_equals_the_records_and_series_agree_with_raw(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    creds, charged, began = _run_the_sandbox(tmp_path, data)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = ["serve", "--host", "127.0.0.1", "--port", str(port)]
    with (
        voltgate_process(args, server_env(data), tmp_path / "serve.log", base),
        httpx.Client(base_url=base, timeout=10) as http,
    ):
        headers = _operator_headers(http, creds["operator"])
        devices = _data(http.get("/v1/operator/devices?size=100", headers=headers))["items"]
        records = _walk(http, headers, "/v1/operator/charging-records", 100)
        finished = [r for r in records if r["stopped_at"] is not None and r["energy_kwh"] > 0]
        assert len({r["device_id"] for r in finished}) >= 3, records
        # Every record is in one of the days checked: together they are all the energy.
        checked = _check_daily_energy(http, headers, records, devices)
        assert checked == pytest.approx(sum(r["energy_kwh"] for r in records), abs=1e-6)
        readings = _check_series(http, headers, charged[0], began)
    print(f"{len(records)} records, {readings} readings of {charged[0]} connector 1")
