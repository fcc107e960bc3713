"""Charger telemetry: 202 at once, stored within a flush, the latest per connector shown to the
operator; bad readings are refused whole, with code 1002, and nothing is stored."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import orjson
import pytest
import sqlalchemy as sa

from tests.conftest import App
from tests.fixtures.fleet import Charger, Operator, device_headers, enroll, operator, register
from voltgate.db.schema import telemetry
from voltgate.identity.clients import ClientKind
from voltgate.sdk.signer import Signer

PORTS = [{"type": "CCS2", "max_power_kw": 150}, {"type": "Type2", "max_power_kw": 22}]


async def _fleet(app: App) -> tuple[Operator, Charger, dict[str, str]]:
    op = await operator(app)
    charger = await register(app, await enroll(app, op), connectors=PORTS)
    return op, charger, await device_headers(app, charger)


def reading(connector: int = 1, **fields: Any) -> dict[str, Any]:
    return {
        "connector": connector,
        "state": "charging",
        "power_kw": 50.5,
        "energy_kwh": 12.25,
        "soc": 63,
        "voltage": 402.0,
        "current": 125.6,
        **fields,
    }


async def _stored(app: App) -> list[Any]:
    query = sa.select(telemetry).order_by(telemetry.c.id)
    return await app.rt.db.read(lambda conn: list(conn.execute(query)))


async def test_telemetry_is_stored_when_accepted_and_shown_as_latest(app: App) -> None:
    op, charger, headers = await _fleet(app)
    body = {"connectors": [reading(1), reading(2, state="available", power_kw=0, energy_kwh=0)]}
    response = await app.http.post("/v1/device/telemetry", json=body, headers=headers)
    assert response.status_code == 202, response.text
    assert response.json() == {"code": 0, "message": "success", "data": {"accepted": 2}}

    latest = await app.http.get(
        f"/v1/operator/devices/{charger.device_id}/telemetry/latest", headers=op.headers
    )
    assert latest.status_code == 200, latest.text
    data = latest.json()["data"]
    assert data["device_id"] == charger.device_id and data["online"] is True
    first = data["connectors"][0]
    assert {k: first[k] for k in ("connector", "state", "power_kw", "energy_kwh", "soc")} == {
        "connector": 1,
        "state": "charging",
        "power_kw": 50.5,
        "energy_kwh": 12.25,
        "soc": 63,
    }
    assert first["at"] == pytest.approx(app.clock.now())
    assert [c["state"] for c in data["connectors"]] == ["charging", "available"]

    rows = await _stored(app)  # no flush: the 202 came after the commit
    assert [(r.device_id, r.connector, r.state, r.power_kw) for r in rows] == [
        (charger.device_id, 1, "charging", 50.5),
        (charger.device_id, 2, "available", 0.0),
    ]
    device = await app.http.get(f"/v1/operator/devices/{charger.device_id}", headers=op.headers)
    assert device.json()["data"]["online"] is True  # telemetry counts as a heartbeat


async def test_the_latest_reading_comes_from_storage_when_another_instance_took_it(
    app: App,
) -> None:
    op, charger, headers = await _fleet(app)
    await app.http.post(
        "/v1/device/telemetry", json={"connectors": [reading(1, power_kw=7)]}, headers=headers
    )
    await app.rt.fleet.telemetry.flush()
    app.rt.fleet.telemetry._latest.clear()  # as on an instance that never saw it
    latest = await app.http.get(
        f"/v1/operator/devices/{charger.device_id}/telemetry/latest", headers=op.headers
    )
    assert [c["power_kw"] for c in latest.json()["data"]["connectors"]] == [7.0]


async def test_a_timestamp_is_kept_and_an_older_reading_does_not_replace_a_newer(
    app: App,
) -> None:
    op, charger, headers = await _fleet(app)
    now = app.clock.now()
    for at, power in ((now - 10, 20), (now - 60, 5)):
        body = {"timestamp": at, "connectors": [reading(1, power_kw=power)]}
        response = await app.http.post("/v1/device/telemetry", json=body, headers=headers)
        assert response.status_code == 202, response.text
    iso = {"timestamp": "2020-01-01T00:00:00Z", "connectors": [reading(1)]}
    too_old = await app.http.post("/v1/device/telemetry", json=iso, headers=headers)
    assert too_old.status_code == 400 and "older than" in too_old.json()["message"]
    latest = await app.http.get(
        f"/v1/operator/devices/{charger.device_id}/telemetry/latest", headers=op.headers
    )
    only = latest.json()["data"]["connectors"][0]
    assert (only["power_kw"], only["at"]) == (20, pytest.approx(now - 10))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"connectors": [reading(3)]}, "no connector 3"),
        ({"connectors": [reading(1, power_kw=-3)]}, "power_kw"),
        ({"connectors": [reading(1, power_kw=500)]}, "power_kw"),
        ({"connectors": [reading(1, state="discharging", power_kw=4)]}, "power_kw"),
        ({"connectors": [reading(1, state="exploded")]}, "state"),
        ({"connectors": [reading(1, soc=101)]}, "soc"),
        ({"connectors": [reading(1, energy_kwh=-1)]}, "energy_kwh"),
        ({"connectors": [reading(1, power_kw="50")]}, "power_kw"),
        ({"connectors": [reading(1, power_kw=True)]}, "power_kw"),
        ({"connectors": [{"connector": 1, "state": "charging"}]}, "power_kw"),
        ({"connectors": [reading(1), reading(1)]}, "twice"),
        ({"connectors": [reading(1), reading(2, power_kw=7, voltage=-1)]}, "connectors.1.voltage"),
        ({"connectors": []}, "connectors"),
        ({"connectors": "all"}, "connectors"),
        ({"connectors": [reading(1)], "timestamp": "yesterday"}, "timestamp"),
        ({"connectors": [reading(1)], "timestamp": 4e9}, "future"),
        ([reading(1)], "object"),
        ({"connectors": [reading(1, SoC=40)]}, "connectors.0.SoC: Extra inputs"),
        ({"connectors": [reading(1)], "time_stamp": 0}, "time_stamp: Extra inputs"),
    ],
)
async def test_bad_telemetry_is_400_code_1002_and_nothing_is_stored(
    app: App, body: Any, message: str
) -> None:
    op, charger, headers = await _fleet(app)
    response = await app.http.post("/v1/device/telemetry", json=body, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == 1002 and response.json()["data"] is None
    assert message in response.json()["message"]
    await app.rt.fleet.telemetry.flush()
    assert await _stored(app) == []
    latest = await app.http.get(
        f"/v1/operator/devices/{charger.device_id}/telemetry/latest", headers=op.headers
    )
    assert latest.json()["data"]["connectors"] == []


async def test_a_discharging_connector_reports_negative_power(app: App) -> None:
    _, _, headers = await _fleet(app)
    body = {"connectors": [reading(1, state="discharging", power_kw=-11, current=-27)]}
    response = await app.http.post("/v1/device/telemetry", json=body, headers=headers)
    assert response.status_code == 202, response.text


async def test_malformed_json_and_missing_or_wrong_tokens_are_refused(app: App) -> None:
    op, _, headers = await _fleet(app)
    bad = await app.http.post(
        "/v1/device/telemetry",
        content=b'{"connectors": [',
        headers={**headers, "Content-Type": "application/json"},
    )
    assert bad.status_code == 400 and bad.json()["code"] == 1002
    anonymous = await app.http.post("/v1/device/telemetry", json={"connectors": [reading()]})
    assert anonymous.status_code == 401 and anonymous.json()["code"] == 2001
    as_operator = await app.http.post(
        "/v1/device/telemetry", json={"connectors": [reading()]}, headers=op.headers
    )
    assert as_operator.status_code == 403 and as_operator.json()["code"] == 2003
    expired = app.clock.advance
    expired(86_400 + 10)
    late = await app.http.post(
        "/v1/device/telemetry", json={"connectors": [reading()]}, headers=headers
    )
    assert late.status_code == 401 and late.json()["code"] == 2002


async def test_operators_see_only_their_own_chargers_telemetry(app: App) -> None:
    _, charger, headers = await _fleet(app)
    await app.http.post("/v1/device/telemetry", json={"connectors": [reading()]}, headers=headers)
    other = await operator(app, name="Other ops")
    for path in ("telemetry/latest", "events"):
        response = await app.http.get(
            f"/v1/operator/devices/{charger.device_id}/{path}", headers=other.headers
        )
        assert response.status_code == 404 and response.json()["code"] == 3001
    reader = await operator(app, scopes="write", name="No read")
    response = await app.http.get(
        f"/v1/operator/devices/{charger.device_id}/telemetry/latest", headers=reader.headers
    )
    assert response.status_code == 403 and response.json()["code"] == 2003


async def test_ingest_pushes_back_with_429_when_storage_is_behind(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, headers = await _fleet(app)
    telemetry = app.rt.fleet.telemetry
    store = telemetry._store
    slow, release = asyncio.Event(), asyncio.Event()
    real_append = store.append_gathered
    held: list[asyncio.Task[None]] = []

    def held_append(take: Any, committed: Any) -> None:
        async def later() -> None:
            slow.set()
            await release.wait()  # a database that takes its time: storage is "behind"
            real_append(take, committed)

        held.append(asyncio.create_task(later()))

    monkeypatch.setattr(store, "append_gathered", held_append)
    telemetry._max_pending = 5
    body = {"connectors": [reading(1), reading(2, state="available", power_kw=0)]}
    post = functools.partial(app.http.post, "/v1/device/telemetry", json=body, headers=headers)
    first = asyncio.create_task(post())  # its batch is waiting for the database
    await slow.wait()
    second = asyncio.create_task(post())  # joins it: 4 of 5 waiting
    while telemetry.pending < 4:
        await asyncio.sleep(0)
    third = await post()
    assert third.status_code == 429 and third.json()["code"] == 5001
    assert third.headers["retry-after"] == "1"
    assert not first.done() and not second.done()  # not answered before stored
    release.set()
    assert (await first).status_code == 202 and (await second).status_code == 202
    assert telemetry.pending == 0
    assert len(await _stored(app)) == 4


async def test_a_request_cancelled_while_its_batch_commits_leaves_the_batch_to_the_others(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, headers = await _fleet(app)
    telemetry = app.rt.fleet.telemetry
    store = telemetry._store
    slow, release = asyncio.Event(), asyncio.Event()
    real_append = store.append_gathered
    held: list[asyncio.Task[None]] = []

    def held_append(take: Any, committed: Any) -> None:
        async def later() -> None:
            slow.set()
            await release.wait()
            real_append(take, committed)

        held.append(asyncio.create_task(later()))

    monkeypatch.setattr(store, "append_gathered", held_append)
    body = {"connectors": [reading(1), reading(2, state="available", power_kw=0)]}
    post = functools.partial(app.http.post, "/v1/device/telemetry", json=body, headers=headers)
    gone = asyncio.create_task(post())
    await slow.wait()
    kept = asyncio.create_task(post())  # the same batch
    while telemetry.pending < 4:
        await asyncio.sleep(0)
    gone.cancel()  # its client went away while the batch waits for the database
    await asyncio.sleep(0)
    release.set()
    assert (await kept).status_code == 202
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert len(await _stored(app)) == 4  # the batch, the cancelled request's readings too
    assert telemetry.commit_failures == 0 and telemetry.pending == 0


async def test_a_202_means_committed_and_a_failed_commit_is_a_503_storing_nothing(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, headers = await _fleet(app)
    body = {"connectors": [reading(1), reading(2, state="available", power_kw=0)]}
    accepted = await app.http.post("/v1/device/telemetry", json=body, headers=headers)
    assert accepted.status_code == 202
    assert len(await _stored(app)) == 2  # no flush: the answer came after the commit

    store = app.rt.fleet.telemetry._store
    real_append = store.append_gathered

    def refused(take: Any, committed: Any) -> None:
        # Rows the database refuses (no device): the batch's transaction fails in the database.
        real_append(lambda: [r._replace(device_id=None) for r in take()], committed)

    monkeypatch.setattr(store, "append_gathered", refused)
    failed = await app.http.post("/v1/device/telemetry", json=body, headers=headers)
    assert failed.status_code == 503 and failed.json()["code"] == 5002
    assert failed.headers["retry-after"] == "1"
    monkeypatch.undo()
    assert len(await _stored(app)) == 2
    again = await app.http.post("/v1/device/telemetry", json=body, headers=headers)
    assert again.status_code == 202 and len(await _stored(app)) == 4


async def test_a_device_that_must_sign_has_its_telemetry_signature_verified(app: App) -> None:
    _, charger, headers = await _fleet(app)
    await app.rt.identity.admin.set_signing(charger.device_id, "required", kind=ClientKind.DEVICE)
    body = orjson.dumps({"connectors": [reading(1)]})
    post = {**headers, "Content-Type": "application/json"}
    unsigned = await app.http.post("/v1/device/telemetry", content=body, headers=post)
    assert unsigned.status_code == 401 and unsigned.json()["code"] == 2001

    stamp = int(app.clock.now())
    signed = Signer(charger.secret).headers("POST", "/v1/device/telemetry", body, stamp)
    ok = await app.http.post("/v1/device/telemetry", content=body, headers={**post, **signed})
    assert ok.status_code == 202, ok.text
    replayed = await app.http.post("/v1/device/telemetry", content=body, headers={**post, **signed})
    assert replayed.status_code == 401 and "replay" in replayed.json()["message"]
    forged = Signer(charger.secret).headers("POST", "/v1/device/telemetry", b"{}", stamp + 1)
    tampered = await app.http.post("/v1/device/telemetry", content=body, headers={**post, **forged})
    assert tampered.status_code == 401 and "does not match" in tampered.json()["message"]
