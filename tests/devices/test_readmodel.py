"""The device inventory is held in memory: what a process writes it reads back at once, and
its reads are answered without the database."""

from __future__ import annotations

import pytest

from tests.conftest import App
from tests.fixtures.database import refuse_database
from tests.fixtures.fleet import device_headers, enroll, operator, register
from voltgate.db.statements import Statement

_LAST_SEEN = Statement("SELECT last_seen_at FROM devices WHERE id = ?")
CONNECTORS = [{"type": "Type2", "max_power_kw": 22}, {"type": "CCS2", "max_power_kw": 150}]


async def test_a_registration_an_owner_and_a_heartbeat_read_back_at_once(app: App) -> None:
    op = await operator(app)
    charger = await register(app, await enroll(app, op), connectors=CONNECTORS)
    path = f"/v1/operator/devices/{charger.device_id}"
    shown = await app.http.get(path, headers=op.headers)
    assert shown.status_code == 200, shown.text
    data = shown.json()["data"]
    assert (data["sn"], data["online"], data["last_seen_at"]) == (charger.serial, False, None)
    assert [(c["number"], c["type"]) for c in data["connectors"]] == [(1, "Type2"), (2, "CCS2")]
    listed = (await app.http.get("/v1/operator/devices", headers=op.headers)).json()["data"]
    assert [d["id"] for d in listed["items"]] == [charger.device_id] and listed["total"] == 1

    beat = await app.http.post(
        "/v1/device/heartbeat", json={}, headers=await device_headers(app, charger)
    )
    assert beat.status_code == 200, beat.text
    data = (await app.http.get(path, headers=op.headers)).json()["data"]
    assert (data["online"], data["last_seen_at"]) == (True, int(app.clock.now()))

    user = await app.rt.identity.users.create("home@example.com", "correct horse battery")
    owned = await app.rt.fleet.devices.set_owner(charger.device_id, user.id)
    assert owned.owner_user_id == user.id
    found = await app.rt.fleet.devices.find(charger.device_id)
    assert found is not None and found.owner_user_id == user.id
    assert found.last_seen_at == app.clock.now()  # the owner's change kept the heartbeat


async def test_a_serial_is_taken_as_soon_as_its_charger_is_registered(app: App) -> None:
    op = await operator(app)
    token = await enroll(app, op, uses=2)
    first = await register(app, token)
    again = await app.http.post(
        "/v1/device/register",
        json={"sn": first.serial, "model": "M", "manufacturer": "T", "firmware_version": "1"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert again.status_code == 409 and again.json()["code"] == 4001


async def test_device_reads_are_answered_without_the_database(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    op = await operator(app)
    token = await enroll(app, op, uses=3)
    ids = sorted([(await register(app, token, connectors=CONNECTORS)).device_id for _ in range(3)])
    devices = app.rt.fleet.devices
    refuse_database(app.rt, monkeypatch)

    assert (await devices.get(op.client_id, ids[1])).connectors[1].type == "CCS2"
    found = await devices.find(ids[0])
    assert found is not None and found.operator_id == op.client_id
    page = await devices.page(op.client_id, 2, 2)
    assert [d.id for d in page.items] == ids[2:] and page.total == 3
    first = await devices.scroll(op.client_id, None, 2)
    assert [d.id for d in first.items] == ids[:2] and first.next_cursor is not None
    rest = await devices.scroll(op.client_id, first.next_cursor, 2)
    assert [d.id for d in rest.items] == ids[2:] and rest.next_cursor is None
    assert await devices.find("vgc_test_nothing") is None


async def test_heartbeats_are_written_at_most_every_ten_seconds_and_shown_at_once(
    app: App,
) -> None:
    op = await operator(app)
    charger = await register(app, await enroll(app, op))
    headers = await device_headers(app, charger)
    path = f"/v1/operator/devices/{charger.device_id}"

    async def beat() -> None:
        assert (await app.http.post("/v1/device/heartbeat", json={}, headers=headers)).is_success

    async def stored() -> float | None:
        row = await app.rt.db.reader.one(_LAST_SEEN, charger.device_id)
        return None if row is None else row[0]

    await beat()
    first = app.clock.now()
    app.clock.advance(4)
    await beat()
    shown = (await app.http.get(path, headers=op.headers)).json()["data"]["last_seen_at"]
    assert shown == int(first + 4)  # this process shows the newest heartbeat
    assert await stored() == first  # the database still holds the one 4 s before
    app.clock.advance(6)
    await beat()
    assert await stored() == first + 10  # ten seconds on: written
