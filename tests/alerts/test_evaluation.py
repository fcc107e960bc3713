"""Signals observed after their batch is durable fire the rules of the apps that may see them;
alerts are listed by cursor; a restart neither fires a crossing again nor forgets one; charger
telemetry reaches the evaluator by itself."""

from __future__ import annotations

from typing import Any

from tests.conftest import App, Backend
from tests.fixtures.alerting import (
    AppClient,
    alerting_app,
    consenting_vehicle,
    crossings,
    rule,
    third_party,
)
from tests.fixtures.fleet import device_headers, enroll, operator, register
from voltgate.alerts.signals import Signal

LOW_SOC = {"kind": "threshold", "field": "Soc", "op": "below", "value": 20, "hysteresis": 2}


async def _alerts(app: App, headers: dict[str, str], query: str = "") -> dict[str, Any]:
    response = await app.http.get(f"/v1/alerts{query}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_an_apps_rules_fire_on_its_consented_vehicles_only(alerting: App) -> None:
    app = alerting
    client, other = await third_party(app), await third_party(app)
    vin = await consenting_vehicle(app, client.client_id)
    stranger = await consenting_vehicle(app, other.client_id)  # consented to the other app only
    created = await rule(app, client, **LOW_SOC)
    start = app.clock.now()
    soc = [30.0, 25.0, 19.0, 18.0, 21.0, 23.0, 15.0]  # below, back past 22, below again
    signals = crossings(vin, "Soc", start, soc) + crossings(stranger, "Soc", start, soc)
    fired = await app.rt.alerting.alerts.observe(signals)
    assert [(a.subject, a.fired_at, a.value) for a in fired] == [
        (vin, start + 2, 19.0),
        (vin, start + 6, 15.0),
    ]
    listed = await _alerts(app, client.headers)
    assert listed["next_cursor"] is None
    assert [(a["rule_id"], a["subject"], a["value"]) for a in listed["items"]] == [
        (created["id"], vin, 19.0),
        (created["id"], vin, 15.0),
    ]
    first = listed["items"][0]
    assert first["kind"] == "threshold" and first["fired_at"] == start + 2
    assert first["details"]["threshold"] == 20.0 and first["details"]["op"] == "below"
    assert (await _alerts(app, other.headers))["items"] == []

    # By cursor, and after an alert id (polling).
    page = await _alerts(app, client.headers, "?limit=1")
    assert [a["id"] for a in page["items"]] == [first["id"]] and page["next_cursor"]
    rest = await _alerts(app, client.headers, f"?limit=1&cursor={page['next_cursor']}")
    assert [a["id"] for a in rest["items"]] == [listed["items"][1]["id"]]
    after = await _alerts(app, client.headers, f"?after={first['id']}")
    assert [a["id"] for a in after["items"]] == [listed["items"][1]["id"]]
    both = await app.http.get(
        f"/v1/alerts?after={first['id']}&cursor={page['next_cursor']}", headers=client.headers
    )
    assert both.status_code == 400
    bad = await app.http.get("/v1/alerts?cursor=nonsense", headers=client.headers)
    assert bad.status_code == 400 and bad.json()["code"] == 1002


async def test_a_withdrawn_consent_stops_the_alerts(alerting: App) -> None:
    app = alerting
    client = await third_party(app)
    vin = await consenting_vehicle(app, client.client_id)
    await rule(app, client, **LOW_SOC)
    start = app.clock.now()
    assert len(await app.rt.alerting.alerts.observe(crossings(vin, "Soc", start, [30, 10]))) == 1
    owner = await app.rt.owner.vehicles.owner_of(vin)
    assert owner is not None
    assert await app.rt.identity.consents.disconnect(owner, client.client_id)
    later = crossings(vin, "Soc", start + 10, [30, 10])
    assert await app.rt.alerting.alerts.observe(later) == []


async def test_a_restart_neither_fires_again_nor_forgets(backend: Backend) -> None:
    async with alerting_app(backend) as app:
        client = await third_party(app)
        vin = await consenting_vehicle(app, client.client_id)
        await rule(app, client, **LOW_SOC)
        start = app.clock.now()
        batch = crossings(vin, "Soc", start, [30.0, 19.0, 18.0])
        assert len(await app.rt.alerting.alerts.observe(batch)) == 1
        # Quieter progress, saved by the flush at stop: it has come back above 22.
        assert await app.rt.alerting.alerts.observe(crossings(vin, "Soc", start + 3, [25])) == []
        headers = client.headers
    async with alerting_app(backend) as app:
        alerts = app.rt.alerting.alerts
        # The same batch delivered again, after the restart: nothing new.
        assert await alerts.observe(batch) == []
        # Restored as re-armed (25 > 22): the next crossing fires.
        fired = await alerts.observe(crossings(vin, "Soc", start + 4, [21.0, 17.0]))
        assert [(a.fired_at, a.value) for a in fired] == [(start + 5, 17.0)]
        assert len((await _alerts(app, headers))["items"]) == 2


async def test_a_deleted_rule_fires_no_more(alerting: App) -> None:
    app = alerting
    client = await third_party(app)
    vin = await consenting_vehicle(app, client.client_id)
    created = await rule(app, client, **LOW_SOC)
    alerts = app.rt.alerting.alerts
    assert len(await alerts.observe(crossings(vin, "Soc", app.clock.now(), [30, 10]))) == 1
    await app.http.delete(f"/v1/alerts/rules/{created['id']}", headers=client.headers)
    assert await alerts.observe(crossings(vin, "Soc", app.clock.now() + 5, [30, 10])) == []
    assert len((await _alerts(app, client.headers))["items"]) == 1  # its alerts stay


async def test_a_vehicle_that_stops_charging_below_its_target(alerting: App) -> None:
    app = alerting
    client = await third_party(app)
    vin = await consenting_vehicle(app, client.client_id)
    await rule(app, client, kind="charging_stopped_below_target")
    at = app.clock.now()
    payloads = [
        [("ChargeState", "Charging"), ("Soc", 50.0), ("ChargeLimitSoc", 80.0)],
        [("Soc", 56.0)],
        [("Soc", 57.0), ("ChargeState", "Stopped")],  # one payload: the Soc sent with it counts
    ]
    signals = [
        Signal(vin, name, at + i, value)
        for i, fields in enumerate(payloads)
        for name, value in fields
    ]
    fired = await app.rt.alerting.alerts.observe(signals)
    assert [(a.kind, a.value, a.details["charge_limit_soc"]) for a in fired] == [
        ("charging_stopped_below_target", 57.0, 80.0)
    ]


async def test_charger_telemetry_reaches_the_evaluator(alerting: App) -> None:
    app = alerting
    op = await operator(app)
    charger = await register(
        app, await enroll(app, op), connectors=[{"type": "CCS2", "max_power_kw": 150}]
    )
    headers = await device_headers(app, charger)
    client = AppClient(op.client_id, "", op.headers)
    await rule(app, client, kind="connector_faulted")
    other_op = await operator(app, name="Someone else")
    await rule(app, AppClient(other_op.client_id, "", other_op.headers), kind="connector_faulted")

    def reading(state: str) -> dict[str, Any]:
        return {"connector": 1, "state": state, "power_kw": 0, "energy_kwh": 1.5}

    for state in ("available", "faulted", "faulted", "available", "faulted"):
        sent = await app.http.post(
            "/v1/device/telemetry", json={"connectors": [reading(state)]}, headers=headers
        )
        assert sent.status_code == 202, sent.text
        await app.rt.alerting.alerts.engine.drain()
        app.clock.advance(5)
    items = (await _alerts(app, op.headers))["items"]
    assert [(a["kind"], a["subject"], a["value"]) for a in items] == [
        ("connector_faulted", f"{charger.device_id}:1", "faulted"),
    ] * 2
    assert [a["details"]["previous_state"] for a in items] == ["available", "available"]
    assert (await _alerts(app, other_op.headers))["items"] == []  # not its charger


async def test_two_processes_seeing_one_vehicle_never_fire_a_crossing_twice(
    backend: Backend,
) -> None:
    async with alerting_app(backend) as first:
        client = await third_party(first)
        vin = await consenting_vehicle(first, client.client_id)
        await rule(first, client, **LOW_SOC)
        start = first.clock.now()
        async with alerting_app(backend) as second:
            a, b = first.rt.alerting.alerts, second.rt.alerting.alerts

            def soc(at: float, value: float) -> list[Signal]:
                return [Signal(vin, "Soc", start + at, value)]

            assert await a.observe(soc(0, 30)) == []  # armed in the first
            assert len(await b.observe(soc(1, 10))) == 1  # the second fires
            # The first, unaware, sees it below too: its write loses to the second's.
            assert await a.observe(soc(2, 9)) == []
            assert a.engine.lost == 1
            # Read again from the database (fired), it re-arms and fires the next crossing.
            assert await a.observe(soc(3, 25)) == []
            fired = await a.observe(soc(4, 10))
            assert [x.fired_at for x in fired] == [start + 4]
            listed = (await _alerts(first, client.headers))["items"]
            assert [x["fired_at"] for x in listed] == [start + 1, start + 4]
