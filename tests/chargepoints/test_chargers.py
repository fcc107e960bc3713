"""One world: an operator's charger at a site with a position is a public charge point (one
EVSE per connector), and its EVSEs' statuses follow the connectors' states as telemetry
reports them, in what a search shows and in what it filters on."""

from __future__ import annotations

from typing import Any

from tests.conftest import App
from tests.fixtures.fleet import (
    MUNICH,
    PORTS,
    device_headers,
    enroll,
    marienplatz,
    operator,
    register,
    site,
)
from voltgate.chargepoints.store import GeoFilter


def near(**filters: Any) -> GeoFilter:
    return GeoFilter(MUNICH[0], MUNICH[1], 1.0, **filters)


async def _telemetry(app: App, headers: dict[str, str], *states: str) -> None:
    body = {
        "connectors": [
            {"connector": n, "state": state, "power_kw": 0, "energy_kwh": 0}
            for n, state in enumerate(states, 1)
        ]
    }
    response = await app.http.post("/v1/device/telemetry", json=body, headers=headers)
    assert response.status_code == 202, response.text
    await app.rt.fleet.chargers.flush()


async def test_a_registered_charger_is_a_charge_point_with_an_evse_per_connector(app: App) -> None:
    device_id, site_id, _ = await marienplatz(app)
    page = await app.rt.fleet.charge_points.nearby(near(), 20, 0)
    assert page.total == 1
    point = page.hits[0].point
    assert (point.name, point.address, point.country, point.operator) == (
        "Marienplatz",
        "Marienplatz 1",
        "DEU",
        "Isar Laden",
    )
    assert (point.device_id, point.site_id) == (device_id, site_id)
    assert page.hits[0].distance_km == 0.0
    shown = [
        (e.status, c.number, c.standard, c.format, c.power_type, c.max_electric_power)
        for e in point.evses
        for c in e.connectors
    ]
    assert shown == [
        ("UNKNOWN", 1, "IEC_62196_T2_COMBO", "CABLE", "DC", 150_000),
        ("UNKNOWN", 2, "IEC_62196_T2", "SOCKET", "AC_3_PHASE", 22_000),
    ]
    located = await app.rt.fleet.charge_points.locate(point.evses[1].connectors[0].id)
    assert (located.point.device_id, located.connector.number) == (device_id, 2)
    # Publishing again changes nothing: the same point, the same id.
    device = await app.rt.fleet.devices.find(device_id)
    assert device is not None
    again = await app.rt.fleet.chargers.published(device)
    assert again is not None and again.id == point.id
    assert (await app.rt.fleet.charge_points.nearby(near(), 20, 0)).total == 1


async def test_a_charger_at_a_site_without_a_position_is_not_public(app: App) -> None:
    op = await operator(app)
    site_id = await site(app, op, name="Unmapped")
    charger = await register(app, await enroll(app, op, site_id=site_id), connectors=PORTS)
    assert await app.rt.fleet.charge_points.by_device(charger.device_id) is None


async def test_statuses_follow_the_connectors_states_and_the_filter_agrees(app: App) -> None:
    device_id, _, headers = await marienplatz(app)
    points = app.rt.fleet.charge_points
    before = points.version()
    await _telemetry(app, headers, "charging", "available")
    point = await points.by_device(device_id)
    assert point is not None
    assert [e.status for e in point.evses] == ["CHARGING", "AVAILABLE"]
    assert points.version() != before
    assert (await points.nearby(near(status="CHARGING"), 20, 0)).total == 1
    assert (await points.nearby(near(status="OUTOFORDER"), 20, 0)).total == 0

    await _telemetry(app, headers, "faulted", "charging")
    point = await points.by_device(device_id)
    assert point is not None
    assert [e.status for e in point.evses] == ["OUTOFORDER", "CHARGING"]
    assert (await points.nearby(near(status="OUTOFORDER"), 20, 0)).total == 1
    assert (await points.nearby(near(status="AVAILABLE"), 20, 0)).total == 0
    assert (await points.nearby(near(status="CHARGING"), 20, 0)).hits[0].point == point

    # The same states again are no transition: nothing is written.
    unchanged = points.version()
    await _telemetry(app, headers, "faulted", "charging")
    assert points.version() == unchanged


async def test_a_charger_that_learns_its_connectors_gains_its_evses(app: App) -> None:
    op = await operator(app)
    site_id = await site(app, op, name="Hof", latitude=MUNICH[0], longitude=MUNICH[1])
    charger = await register(app, await enroll(app, op, site_id=site_id))
    points = app.rt.fleet.charge_points
    point = await points.by_device(charger.device_id)
    assert point is not None and point.evses == ()
    headers = await device_headers(app, charger)
    body = {
        "connectors": [
            {
                "connector": 1,
                "state": "available",
                "power_kw": 0,
                "energy_kwh": 0,
                "type": "CCS2",
                "max_power_kw": 50,
            }
        ]
    }
    response = await app.http.post("/v1/device/telemetry", json=body, headers=headers)
    assert response.status_code == 202, response.text
    await app.rt.fleet.chargers.flush()
    point = await points.by_device(charger.device_id)
    assert point is not None
    assert [(e.status, e.connectors[0].max_electric_power) for e in point.evses] == [
        ("AVAILABLE", 50_000)
    ]
