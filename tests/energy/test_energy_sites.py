"""Energy sites on the Tesla dialect: scopes, ownership, changes, bad input (both backends)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import App
from tests.energy.driver import driver
from voltgate.energy.seed import seed_energy_site
from voltgate.vehicles.seed import seed_vehicles

READS = ("live_status", "site_info", "calendar_history")
CHANGES = (
    ("backup", {"backup_reserve_percent": 50}),
    ("operation", {"default_real_mode": "autonomous"}),
    ("storm_mode", {"enabled": True}),
)


def _at(app: App, local: str, zone: str = "Europe/Berlin") -> None:
    """Move the test's clock to a local wall-clock time at the site."""
    target = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(zone)).timestamp()
    app.clock.advance(target - app.clock.now())


async def test_reads_need_energy_device_data_and_changes_energy_cmds(app: App) -> None:
    d = await driver(app)
    reader = await d.token("energy_device_data")
    changer = await d.token("energy_cmds")
    for name in READS:
        assert (await d.get(f"{d.site}/{name}", reader)).status_code == 200, name
        denied = await d.get(f"{d.site}/{name}", changer)
        assert denied.status_code == 403
        assert "energy_device_data" in denied.json()["error_description"]
        assert denied.json()["response"] is None
    for name, body in CHANGES:
        denied = await d.post(f"{d.site}/{name}", reader, body)
        assert denied.status_code == 403 and "energy_cmds" in denied.json()["error_description"]
        done = await d.post(f"{d.site}/{name}", changer, body)
        assert done.status_code == 200, done.text
        assert done.json() == {"response": {"code": 201, "message": "Updated"}}


async def test_a_change_shows_in_site_info(app: App) -> None:
    d = await driver(app)
    token = await d.token()
    before = (await d.get(f"{d.site}/site_info", token)).json()["response"]
    assert before["backup_reserve_percent"] == 20
    assert before["default_real_mode"] == "self_consumption"
    assert before["components"]["solar"] and before["components"]["battery"]
    assert before["nameplate_energy"] == 13_500 and before["installation_time_zone"]
    for name, body in CHANGES:
        assert (await d.post(f"{d.site}/{name}", token, body)).status_code == 200
    after = (await d.get(f"{d.site}/site_info", token)).json()["response"]
    assert after["backup_reserve_percent"] == 50
    assert after["default_real_mode"] == "autonomous"
    assert after["user_settings"]["storm_mode_enabled"] is True


async def test_the_backup_reserve_holds_the_battery_back_in_the_evening(app: App) -> None:
    d = await driver(app)
    _at(app, "2027-06-21T21:00:00")
    token = await d.token()
    evening = (await d.get(f"{d.site}/live_status", token)).json()["response"]
    assert evening["battery_power"] > 0  # discharging into the house at the evening peak
    assert evening["percentage_charged"] > 25
    await d.post(f"{d.site}/backup", token, {"backup_reserve_percent": 100})
    held = (await d.get(f"{d.site}/live_status", token)).json()["response"]
    assert held["battery_power"] <= 0  # keeps (or charges towards) the full reserve
    assert held["grid_power"] >= evening["grid_power"] + evening["battery_power"] - 1


async def test_another_users_site_is_404_like_a_missing_one(app: App) -> None:
    mine, theirs = await driver(app), await driver(app)
    token = await mine.token()
    for path in (theirs.site, "/api/1/energy_sites/123456789012345", "/api/1/energy_sites/x1"):
        response = await mine.get(f"{path}/live_status", token)
        assert response.status_code == 404
        assert response.json()["response"] is None
        changed = await mine.post(f"{path}/backup", token, {"backup_reserve_percent": 0})
        assert changed.status_code == 404
    other = await theirs.token()
    info = (await theirs.get(f"{theirs.site}/site_info", other)).json()["response"]
    assert info["backup_reserve_percent"] == 20


@pytest.mark.parametrize("kind", ["operator", "partner"])
async def test_machine_tokens_get_403_naming_the_kind(app: App, kind: str) -> None:
    d = await driver(app)
    cid, secret = await app.client(kind=kind, scopes="energy_device_data energy_cmds")
    issued = await app.http.post(
        "/oauth2/v3/token", data={"grant_type": "client_credentials"}, auth=(cid, secret)
    )
    token = issued.json()["access_token"]
    for path in (f"{d.site}/live_status", "/api/1/products"):
        response = await d.get(path, token)
        assert response.status_code == 403
        assert kind in response.json()["error_description"]
        assert "third_party" in response.json()["error_description"]


@pytest.mark.parametrize(
    ("route", "body"),
    [
        ("backup", {"backup_reserve_percent": 101}),
        ("backup", {"backup_reserve_percent": -1}),
        ("backup", {"backup_reserve_percent": "50"}),
        ("backup", {"backup_reserve_percent": 50.5}),
        ("backup", {}),
        ("operation", {"default_real_mode": "backup"}),
        ("operation", {"default_real_mode": None}),
        ("storm_mode", {"enabled": "yes"}),
        ("storm_mode", {"enabled": True, "extra": 1}),
    ],
)
async def test_bad_change_is_400_and_changes_nothing(app: App, route: str, body: object) -> None:
    d = await driver(app)
    token = await d.token()
    before = (await d.get(f"{d.site}/site_info", token)).json()["response"]
    response = await d.post(f"{d.site}/{route}", token, body)
    assert response.status_code == 400, response.text
    assert response.json()["response"] is None and response.json()["error_description"]
    assert (await d.get(f"{d.site}/site_info", token)).json()["response"] == before


@pytest.mark.parametrize(("route", "body"), CHANGES)
async def test_an_unknown_field_in_a_change_is_400_naming_it_and_changes_nothing(
    app: App, route: str, body: dict[str, object]
) -> None:
    d = await driver(app)
    token = await d.token()
    before = (await d.get(f"{d.site}/site_info", token)).json()["response"]
    response = await d.post(f"{d.site}/{route}", token, {**body, "time_zone": "Europe/Paris"})
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["response"] is None and error["code"] == 1002
    assert error["error_description"] == "time_zone: Extra inputs are not permitted"
    assert (await d.get(f"{d.site}/site_info", token)).json()["response"] == before


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"kind": "power"}, "kind"),
        ({"period": "hour"}, "period"),
        ({"end_date": "yesterday"}, "end_date"),
        ({"end_date": "1999-12-31T00:00:00Z"}, "end_date"),
        ({"end_date": "2999-01-01T00:00:00Z"}, "end_date"),
        ({"end_date": "0001-01-01T00:00:00+01:00"}, "end_date"),  # overflows in the zone
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone"),
    ],
)
async def test_bad_calendar_history_query_is_400(
    app: App, params: dict[str, str], named: str
) -> None:
    d = await driver(app)
    response = await d.get(f"{d.site}/calendar_history", await d.token(), **params)
    assert response.status_code == 400, response.text
    assert named in response.json()["error_description"]


async def test_products_list_the_users_energy_site(app: App) -> None:
    d = await driver(app)
    await driver(app)  # someone else's site is not listed
    listed = (await d.get("/api/1/products", await d.token())).json()
    assert listed["count"] == 1
    (site,) = listed["response"]
    assert site["energy_site_id"] == d.site_id and site["resource_type"] == "battery"
    assert site["site_name"] == "Home" and site["id"].startswith("STE")
    assert 0 <= site["percentage_charged"] <= 100
    # Without the scope to read energy data, the token's user has no energy products to see.
    assert (await d.get("/api/1/products", await d.token("user_data"))).json()["response"] == []


async def test_products_list_the_users_vehicles_first_then_the_energy_site(app: App) -> None:
    both = "energy_device_data vehicle_device_data"
    d = await driver(app, scopes=both)
    vehicles = await seed_vehicles(app.rt.owner.vehicles, app.rt.identity.users, d.user_id)
    listed = (await d.get("/api/1/products", await d.token(both))).json()
    assert listed["count"] == 4  # three vehicles, one site
    *cars, site = listed["response"]
    assert sorted(c["vin"] for c in cars) == sorted(v.vin for v in vehicles)
    assert site["energy_site_id"] == d.site_id
    # A vehicle scope alone lists the vehicles only.
    only = (await d.get("/api/1/products", await d.token("vehicle_device_data"))).json()
    assert sorted(p["vin"] for p in only["response"]) == sorted(v.vin for v in vehicles)


async def test_seeding_is_idempotent(app: App) -> None:
    d = await driver(app)
    again = await seed_energy_site(app.rt.owner.energy, app.rt.coordinator, d.user_id)
    assert again.id == d.site_id
    assert len(await app.rt.owner.energy.of_user(d.user_id)) == 1


async def test_no_token_is_401(app: App) -> None:
    d = await driver(app)
    response = await app.http.get(f"{d.site}/live_status")
    assert response.status_code == 401 and response.json()["response"] is None
