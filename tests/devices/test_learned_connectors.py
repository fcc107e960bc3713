"""A charger registered with only the documented fields (`sn, model, manufacturer,
firmware_version, mac?`) learns its connectors from what it reports, as OCPP chargers do: the
first heartbeat, telemetry frame, event or charging record naming connector n gives it
connector n (with the type and maximum power the report carries, else unknown until one does),
and operator commands then target it. A charger registered with connectors keeps exactly those."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import App
from tests.fixtures.fleet import Charger, Operator, device_headers, enroll, operator, register
from tests.fixtures.instances import seen_within
from voltgate.db.schema import connectors, telemetry
from voltgate.devices.store import Connector

START = {"charge_power": 11, "duration": 3600, "target_soc": 80}


def reading(connector: int, **fields: Any) -> dict[str, Any]:
    return {"connector": connector, "state": "charging", "power_kw": 7, "energy_kwh": 1, **fields}


async def _learner(
    app: App, op: Operator | None = None
) -> tuple[Operator, Charger, dict[str, str]]:
    """A charger registered with the guide's body only, mac included: no `connectors`."""
    op = op or await operator(app)
    charger = await register(app, await enroll(app, op), mac="AA:BB:CC:DD:EE:02")
    return op, charger, await device_headers(app, charger)


async def _shown(app: App, op: Operator, device_id: str) -> dict[str, Any]:
    response = await app.http.get(f"/v1/operator/devices/{device_id}", headers=op.headers)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


async def _ports(app: App, device_id: str) -> list[tuple[int, str | None, float | None]]:
    """The connector rows in the database."""
    query = (
        sa.select(connectors.c.number, connectors.c.type, connectors.c.max_power_kw)
        .where(connectors.c.device_id == device_id)
        .order_by(connectors.c.number)
    )
    return await app.rt.db.read(lambda conn: [tuple(r) for r in conn.execute(query)])


async def _post(app: App, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    return await app.http.post(path, json=body, headers=headers)


async def test_a_documented_registration_reports_on_connectors_1_and_2_and_starts_on_2(
    app: App,
) -> None:
    op, charger, device = await _learner(app)
    listed = await app.http.get("/v1/operator/devices", headers=op.headers)  # kept from here on
    [before] = listed.json()["data"]["items"]
    assert (before["connectors"], before["learns_connectors"]) == ([], True)

    frame = {"connectors": [reading(1), reading(2, type="CCS2", max_power_kw=50, power_kw=49)]}
    response = await _post(app, "/v1/device/telemetry", frame, device)
    assert response.status_code == 202, response.text
    assert response.json()["data"] == {"accepted": 2}

    learned = [
        {"number": 1, "type": None, "max_power_kw": None},
        {"number": 2, "type": "CCS2", "max_power_kw": 50},
    ]
    listed = await app.http.get("/v1/operator/devices", headers=op.headers)
    assert listed.json()["data"]["items"][0]["connectors"] == learned
    assert (await app.http.get("/v1/devices", headers=op.headers)).json()["items"][0][
        "connectors"
    ] == learned
    latest = await app.http.get(
        f"/v1/operator/devices/{charger.device_id}/telemetry/latest", headers=op.headers
    )
    assert [c["connector"] for c in latest.json()["data"]["connectors"]] == [1, 2]

    start = f"/v1/operator/devices/{charger.device_id}/connectors/2/start"
    too_much = await _post(app, start, {**START, "charge_power": 60}, op.headers)
    assert too_much.status_code == 400 and "maximum of 50 kW" in too_much.json()["message"]
    queued = await _post(app, start, START, op.headers)
    assert queued.status_code == 202, queued.text
    command_id = queued.json()["data"]["command_id"]
    beat = await _post(app, "/v1/device/heartbeat", {}, device)
    [delivered] = beat.json()["data"]["commands"]
    assert (delivered["command_id"], delivered["type"], delivered["connector"]) == (
        command_id,
        "start",
        2,
    )
    # Connector 1's maximum is unknown: the charger decides what it can give.
    one = f"/v1/operator/devices/{charger.device_id}/connectors/1/start"
    assert (await _post(app, one, {**START, "charge_power": 300}, op.headers)).status_code == 202


async def test_a_connector_not_reported_yet_cannot_be_targeted(app: App) -> None:
    op, charger, device = await _learner(app)
    start = f"/v1/operator/devices/{charger.device_id}/connectors/3/start"
    refused = await _post(app, start, START, op.headers)
    assert refused.status_code == 400 and refused.json()["code"] == 1002
    assert (
        "no connector 3 (its connectors: none yet; it gains each one it reports)"
        in (refused.json()["message"])
    )
    beat = {"connectors": [{"connector": 3, "state": "available"}]}
    assert (await _post(app, "/v1/device/heartbeat", beat, device)).status_code == 200
    assert (await _post(app, start, START, op.headers)).status_code == 202


@pytest.mark.parametrize(
    ("path", "body", "status", "learned"),
    [
        (
            "/v1/device/heartbeat",
            {"connectors": [{"connector": 3, "state": "available", "type": "Type2"}]},
            200,
            (3, "Type2", None),
        ),
        (
            "/v1/device/heartbeat",
            {"connectors": [{"connector": 1, "state": "preparing", "max_power_kw": 7.4}]},
            200,
            (1, None, 7.4),
        ),
        (
            "/v1/device/events",
            {"events": [{"type": "plug_in", "connector": 4}]},
            201,
            (4, None, None),
        ),
        (
            "/v1/device/charging-records",
            {"transaction_id": "tx-1", "connector": 5, "started_at": 1, "energy_kwh": 0},
            201,
            (5, None, None),
        ),
    ],
)
async def test_every_report_that_names_a_connector_teaches_it(
    app: App,
    path: str,
    body: dict[str, Any],
    status: int,
    learned: tuple[int, str | None, float | None],
) -> None:
    op, charger, device = await _learner(app)
    if "started_at" in body:
        body = {**body, "started_at": app.clock.now() - 60}
    response = await _post(app, path, body, device)
    assert response.status_code == status, response.text
    number, kind, power = learned
    assert (await _shown(app, op, charger.device_id))["connectors"] == [
        {"number": number, "type": kind, "max_power_kw": power}
    ]
    assert await _ports(app, charger.device_id) == [learned]


async def test_type_and_power_are_filled_in_when_reported_and_kept_when_left_out(
    app: App,
) -> None:
    op, charger, device = await _learner(app)
    events = {"events": [{"type": "boot", "connector": 1}]}
    assert (await _post(app, "/v1/device/events", events, device)).status_code == 201
    beat = {"connectors": [{"connector": 1, "state": "available", "type": "Type2"}]}
    assert (await _post(app, "/v1/device/heartbeat", beat, device)).status_code == 200
    frame = {"connectors": [reading(1, max_power_kw=22)]}
    assert (await _post(app, "/v1/device/telemetry", frame, device)).status_code == 202
    frame = {"connectors": [reading(1)]}  # says neither: both stay
    assert (await _post(app, "/v1/device/telemetry", frame, device)).status_code == 202
    assert (await _shown(app, op, charger.device_id))["connectors"] == [
        {"number": 1, "type": "Type2", "max_power_kw": 22}
    ]
    # The charger's word counts: a later report of another power replaces it.
    frame = {"connectors": [reading(1, max_power_kw=11, power_kw=11)]}
    assert (await _post(app, "/v1/device/telemetry", frame, device)).status_code == 202
    assert await _ports(app, charger.device_id) == [(1, "Type2", 11.0)]
    # Power is checked against what it reported: 1.1 x 11 kW.
    frame = {"connectors": [reading(1, power_kw=13)]}
    over = await _post(app, "/v1/device/telemetry", frame, device)
    assert over.status_code == 400 and "power_kw" in over.json()["message"]


async def test_a_known_connector_costs_no_write(app: App) -> None:
    _, _, device = await _learner(app)
    frame = {"connectors": [reading(1, type="CCS2", max_power_kw=50)]}
    assert (await _post(app, "/v1/device/telemetry", frame, device)).status_code == 202
    writes = sum(w.writes for w in app.rt.db.writers().values())
    for _ in range(3):  # the same again, and less: nothing to learn
        for body in (frame, {"connectors": [reading(1)]}):
            assert (await _post(app, "/v1/device/telemetry", body, device)).status_code == 202
            app.clock.advance(1)
    await app.rt.fleet.telemetry.flush()
    readings_written = 6  # one group-commit write each (no heartbeat is due within 10 s)
    assert sum(w.writes for w in app.rt.db.writers().values()) - writes == readings_written


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/device/telemetry", {"connectors": [reading(1), reading(17)]}),
        ("/v1/device/telemetry", {"connectors": [reading(0)]}),
        ("/v1/device/heartbeat", {"connectors": [{"connector": 17, "state": "available"}]}),
        ("/v1/device/events", {"events": [{"type": "plug_in", "connector": 17}]}),
        (
            "/v1/device/charging-records",
            {"transaction_id": "t", "connector": 99, "started_at": 1, "energy_kwh": 0},
        ),
        ("/v1/device/telemetry", {"connectors": [reading(1, type="Schuko")]}),
        ("/v1/device/telemetry", {"connectors": [reading(1, max_power_kw=0)]}),
        ("/v1/device/heartbeat", {"connectors": [{"connector": 1, "state": "x"}]}),
    ],
)
async def test_numbers_past_16_and_bad_types_or_powers_are_400_and_teach_nothing(
    app: App, path: str, body: dict[str, Any]
) -> None:
    _, charger, device = await _learner(app)
    response = await _post(app, path, body, device)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 1002
    assert await _ports(app, charger.device_id) == []


async def test_a_charger_gains_at_most_16_connectors(app: App) -> None:
    op, charger, device = await _learner(app)
    frame = {"connectors": [reading(n) for n in range(1, 17)]}
    assert (await _post(app, "/v1/device/telemetry", frame, device)).status_code == 202
    shown = (await _shown(app, op, charger.device_id))["connectors"]
    assert [c["number"] for c in shown] == list(range(1, 17))
    refused = await _post(app, "/v1/device/telemetry", {"connectors": [reading(17)]}, device)
    assert refused.status_code == 400 and refused.json()["code"] == 1002
    assert "connectors.0.connector: connector numbers are 1 to 16" in refused.json()["message"]
    assert len(await _ports(app, charger.device_id)) == 16


async def test_racing_reports_of_one_connector_make_one_row(app: App) -> None:
    op, charger, device = await _learner(app)
    frames = [
        {"connectors": [reading(2, **({"type": "CCS2"} if i == 3 else {}))]} for i in range(8)
    ]
    beats = [{"connectors": [{"connector": 2, "state": "charging"}]} for _ in range(4)]
    answers = await asyncio.gather(
        *(_post(app, "/v1/device/telemetry", f, device) for f in frames),
        *(_post(app, "/v1/device/heartbeat", b, device) for b in beats),
    )
    assert [a.status_code for a in answers] == [202] * 8 + [200] * 4
    assert await _ports(app, charger.device_id) == [(2, "CCS2", None)]
    rows = await app.rt.db.read(
        lambda conn: conn.execute(
            sa.select(sa.func.count()).where(telemetry.c.device_id == charger.device_id)
        ).scalar_one()
    )
    assert rows == 8
    # The service itself, raced: one row, and what either report said.
    found = await app.rt.fleet.devices.find(charger.device_id)
    assert found is not None
    await asyncio.gather(
        app.rt.fleet.devices.learn(found, [Connector(3, None, 22.0)]),
        app.rt.fleet.devices.learn(found, [Connector(3, "Type2", None)]),
    )
    assert (await _ports(app, charger.device_id))[1] == (3, "Type2", 22.0)
    shown = (await _shown(app, op, charger.device_id))["connectors"]
    assert shown[1] == {"number": 3, "type": "Type2", "max_power_kw": 22}


async def test_a_charger_registered_with_connectors_keeps_exactly_those(app: App) -> None:
    op = await operator(app)
    declared = [{"type": "Type2", "max_power_kw": 22}]
    charger = await register(app, await enroll(app, op), connectors=declared)
    device = await device_headers(app, charger)
    frame = {"connectors": [reading(2)]}
    refused = await _post(app, "/v1/device/telemetry", frame, device)
    assert refused.status_code == 400
    assert "this charger has no connector 2" in refused.json()["message"]
    events = {"events": [{"type": "plug_in", "connector": 2}]}
    assert (await _post(app, "/v1/device/events", events, device)).status_code == 400
    # Its own type and power stand whatever a report says; a heartbeat's states are noted.
    frame = {"connectors": [reading(1, type="CCS2", max_power_kw=300)]}
    assert (await _post(app, "/v1/device/telemetry", frame, device)).status_code == 202
    beat = {"connectors": [{"connector": 2, "state": "available", "type": "CCS2"}]}
    assert (await _post(app, "/v1/device/heartbeat", beat, device)).status_code == 200
    shown = await _shown(app, op, charger.device_id)
    assert (shown["connectors"], shown["learns_connectors"]) == (
        [{"number": 1, "type": "Type2", "max_power_kw": 22}],
        False,
    )
    start = f"/v1/operator/devices/{charger.device_id}/connectors/2/start"
    assert (await _post(app, start, START, op.headers)).status_code == 400


async def test_a_connector_learned_on_one_instance_is_shown_and_targeted_on_the_other(
    app: App, second: App
) -> None:
    op, charger, device = await _learner(app)
    assert (await _shown(second, op, charger.device_id))["connectors"] == []  # held there
    frames = [{"connectors": [reading(2, type="CCS2", max_power_kw=50)]}] * 2
    answers = await asyncio.gather(
        *(
            _post(instance, "/v1/device/telemetry", f, device)
            for instance, f in zip((app, second), frames, strict=True)
        )
    )
    assert [a.status_code for a in answers] == [202, 202]
    assert await _ports(app, charger.device_id) == [(2, "CCS2", 50.0)]
    beat = {"connectors": [{"connector": 1, "state": "available", "type": "Type2"}]}
    assert (await _post(app, "/v1/device/heartbeat", beat, device)).status_code == 200

    async def listed() -> list[dict[str, Any]]:
        response = await second.http.get("/v1/operator/devices", headers=op.headers)
        items: list[dict[str, Any]] = response.json()["data"]["items"][0]["connectors"]
        return items

    shown, delay = await seen_within(listed, lambda ports: len(ports) == 2, 1.0)
    assert shown == [
        {"number": 1, "type": "Type2", "max_power_kw": None},
        {"number": 2, "type": "CCS2", "max_power_kw": 50},
    ]
    assert delay < 1.0
    start = f"/v1/operator/devices/{charger.device_id}/connectors/1/start"
    assert (await _post(second, start, START, op.headers)).status_code == 202
