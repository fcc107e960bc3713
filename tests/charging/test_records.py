"""Charging records: idempotent on (device, transaction id); an open record is completed by the
stop report; a stopped one is final; operators list only their own."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.conftest import App
from tests.fixtures.fleet import Charger, Operator, device_headers, enroll, operator, register

PORTS = [{"type": "CCS2", "max_power_kw": 150}]


async def _charger(app: App, op: Operator) -> tuple[Charger, dict[str, str]]:
    charger = await register(app, await enroll(app, op), connectors=PORTS)
    return charger, await device_headers(app, charger)


def session(app: App, **fields: Any) -> dict[str, Any]:
    start = app.clock.now() - 3600
    return {
        "transaction_id": "tx-0001",
        "connector": 1,
        "started_at": start,
        "energy_kwh": 0,
        "meter_start": 1000.0,
        **fields,
    }


def stopped(app: App, **fields: Any) -> dict[str, Any]:
    start = app.clock.now() - 3600
    done = {
        "stopped_at": start + 1800,
        "energy_kwh": 21.5,
        "meter_stop": 1021.5,
        "meter_values": [{"at": start + 900, "energy_kwh": 10.75, "power_kw": 43, "soc": 55}],
    }
    return session(app, **{**done, **fields})


async def test_a_session_is_opened_then_completed_and_repeats_answer_the_same_record(
    app: App,
) -> None:
    op = await operator(app)
    charger, headers = await _charger(app, op)
    opened = await app.http.post("/v1/device/charging-records", json=session(app), headers=headers)
    assert opened.status_code == 201, opened.text
    record = opened.json()["data"]
    assert record["stopped_at"] is None and record["device_id"] == charger.device_id

    closed = await app.http.post("/v1/device/charging-records", json=stopped(app), headers=headers)
    assert closed.status_code == 200, closed.text
    data = closed.json()["data"]
    assert data["id"] == record["id"]
    assert (data["energy_kwh"], data["meter_stop"]) == (21.5, 1021.5)
    assert data["meter_values"][0]["power_kw"] == 43

    again = await app.http.post("/v1/device/charging-records", json=stopped(app), headers=headers)
    assert again.status_code == 200 and again.json()["data"] == data

    listed = await app.http.get("/v1/operator/charging-records", headers=op.headers)
    assert listed.status_code == 200, listed.text
    page = listed.json()["data"]
    assert (page["total"], page["page"], page["size"]) == (1, 1, 20)
    assert page["items"] == [data]


async def test_a_stopped_record_is_final(app: App) -> None:
    op = await operator(app)
    _, headers = await _charger(app, op)
    await app.http.post("/v1/device/charging-records", json=stopped(app), headers=headers)
    changed = await app.http.post(
        "/v1/device/charging-records", json=stopped(app, energy_kwh=99), headers=headers
    )
    assert changed.status_code == 409 and changed.json()["code"] == 4001
    moved = await app.http.post(
        "/v1/device/charging-records", json=session(app, started_at=1), headers=headers
    )
    assert moved.status_code in (400, 409)
    listed = await app.http.get("/v1/operator/charging-records", headers=op.headers)
    assert listed.json()["data"]["items"][0]["energy_kwh"] == 21.5


async def test_the_same_transaction_id_on_two_chargers_is_two_records(app: App) -> None:
    op = await operator(app)
    (first, h1), (second, h2) = await _charger(app, op), await _charger(app, op)
    for headers in (h1, h2):
        response = await app.http.post(
            "/v1/device/charging-records", json=session(app), headers=headers
        )
        assert response.status_code == 201
    mine = await app.http.get(
        f"/v1/operator/charging-records?device_id={second.device_id}", headers=op.headers
    )
    assert [r["device_id"] for r in mine.json()["data"]["items"]] == [second.device_id]
    assert first.device_id != second.device_id


async def test_concurrent_repeats_create_one_record(app: App) -> None:
    op = await operator(app)
    _, headers = await _charger(app, op)
    answers = await asyncio.gather(
        *(
            app.http.post("/v1/device/charging-records", json=stopped(app), headers=headers)
            for _ in range(8)
        )
    )
    assert sorted(a.status_code for a in answers) == [200] * 7 + [201]
    assert len({a.json()["data"]["id"] for a in answers}) == 1


@pytest.mark.parametrize(
    "fields",
    [
        {"connector": 2},
        {"energy_kwh": -1},
        {"transaction_id": ""},
        {"transaction_id": "x" * 65},
        {"started_at": "soon"},
        {"stopped_at": 1},
        {"meter_start": 10, "meter_stop": 5},
        {"started_at": 4e9},
    ],
)
async def test_bad_records_are_400_code_1002_and_nothing_is_stored(
    app: App, fields: dict[str, Any]
) -> None:
    op = await operator(app)
    _, headers = await _charger(app, op)
    response = await app.http.post(
        "/v1/device/charging-records", json=session(app, **fields), headers=headers
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 1002
    listed = await app.http.get("/v1/operator/charging-records", headers=op.headers)
    assert listed.json()["data"]["total"] == 0


async def test_operators_see_only_their_own_records(app: App) -> None:
    op, other = await operator(app), await operator(app, name="Other ops")
    charger, headers = await _charger(app, op)
    await app.http.post("/v1/device/charging-records", json=session(app), headers=headers)
    theirs = await app.http.get("/v1/operator/charging-records", headers=other.headers)
    assert theirs.status_code == 200 and theirs.json()["data"]["total"] == 0
    by_device = await app.http.get(
        f"/v1/operator/charging-records?device_id={charger.device_id}", headers=other.headers
    )
    assert by_device.status_code == 404 and by_device.json()["code"] == 3001
    too_big = await app.http.get("/v1/operator/charging-records?size=101", headers=op.headers)
    assert too_big.status_code == 400 and too_big.json()["code"] == 1002
    as_device = await app.http.get("/v1/operator/charging-records", headers=headers)
    assert as_device.status_code == 403 and as_device.json()["code"] == 2003
