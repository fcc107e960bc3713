"""The key-pairing page `/_ak/<domain>` and the account page's vehicle keys, driven like a
browser (cookies, forms): sign in first, CSRF on every form, only an owner who connected the app
adds its key, only to their own vehicles, and keys go when removed or when the app is
disconnected."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import App
from tests.fixtures.keyhost import key_host
from tests.web.support import PASSWORD, REDIRECT, Flow, forms
from voltgate.identity.appkeys import KeyPair, fingerprint
from voltgate.vehicles.seed import seed_vehicles
from voltgate.vehicles.store import Vehicle
from voltgate.virtualkeys.store import VehicleKey

EMAIL = "owner@example.com"
SCOPE = "offline_access vehicle_device_data vehicle_cmds"


@dataclass
class World:
    app: App
    client_id: str
    domain: str
    key: KeyPair
    user_id: str
    car: Vehicle  # the owner's Model 3
    suv: Vehicle  # the owner's Model Y

    @property
    def page(self) -> str:
        return f"/_ak/{self.domain}"

    async def connect(self) -> None:
        """The owner signs in and allows the app (the browser keeps the session)."""
        await Flow(self.app.http, self.client_id, scope=SCOPE).code(EMAIL)

    async def keys(self, vehicle: Vehicle) -> list[VehicleKey]:
        return await self.app.rt.owner.keys.keys_for(vehicle.vin)


@pytest.fixture
async def world(app: App) -> AsyncIterator[World]:
    user = await app.rt.identity.users.create(EMAIL, PASSWORD)
    car, suv, _ = sorted(
        await seed_vehicles(app.rt.owner.vehicles, app.rt.identity.users, user.id),
        key=lambda v: v.seed_slot or 0,
    )
    cid, secret = await app.client(
        kind="third_party", scopes=SCOPE, redirect_uris=[REDIRECT], name="Charge Planner"
    )
    token = await app.http.post(
        "/oauth2/v3/token", data={"grant_type": "client_credentials"}, auth=(cid, secret)
    )
    with key_host() as host:
        key = host.serve_key()
        registered = await app.http.post(
            "/api/1/partner_accounts",
            json={"domain": host.domain},
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
        )
        assert registered.status_code == 200, registered.text
    yield World(app, cid, host.domain, key, user.id, car, suv)


async def _pair(w: World, *vehicles: Vehicle, role: str = "driver") -> httpx.Response:
    shown = await w.app.http.get(w.page)
    assert shown.status_code == 200, shown.text
    form = next(f for f in forms(shown.text) if f.action == w.page)
    data = {"csrf": form.fields["csrf"], "role": role}
    data |= {f"vin.{v.vin}": "1" for v in vehicles}
    return await w.app.http.post(w.page, data=data)


async def test_a_browser_without_a_session_signs_in_first_and_comes_back(world: World) -> None:
    http = world.app.http
    first = await http.get(world.page)
    assert first.status_code == 303
    assert first.headers["location"] == f"/login?return_to={quote(world.page, safe='')}"
    login = await http.get(first.headers["location"])
    form = next(f for f in forms(login.text) if f.action == "/login")
    assert form.fields["return_to"] == world.page
    signed_in = await http.post(
        "/login", data={**form.fields, "email": EMAIL, "password": PASSWORD}
    )
    assert signed_in.status_code == 303 and signed_in.headers["location"] == world.page


async def test_an_owner_who_connected_the_app_adds_its_key_to_chosen_vehicles(
    world: World,
) -> None:
    await world.connect()
    shown = await world.app.http.get(world.page)
    assert shown.status_code == 200
    assert "Add Charge Planner's key to your vehicles?" in shown.text
    assert world.domain in shown.text and fingerprint(world.key.point) in shown.text
    csp = shown.headers["content-security-policy"]
    assert "form-action 'self'" in csp and "frame-ancestors 'none'" in csp
    assert shown.headers["cache-control"] == "no-store"

    added = await _pair(world, world.car, role="charging_manager")
    assert added.status_code == 303 and added.headers["location"] == "/account/apps"
    assert await world.keys(world.car) == [(world.key.point, "charging_manager", world.client_id)]
    assert await world.keys(world.suv) == []
    account = await world.app.http.get("/account/apps")
    assert "Vehicle keys" in account.text and "charging_manager" in account.text
    again = await world.app.http.get(world.page)
    assert "has the key: charging_manager" in again.text


async def test_a_post_without_the_pages_csrf_token_is_refused(world: World) -> None:
    await world.connect()
    http = world.app.http
    for data in ({"role": "driver"}, {"csrf": "forged", "role": "driver"}):
        refused = await http.post(world.page, data={**data, f"vin.{world.car.vin}": "1"})
        assert refused.status_code == 403
        assert "the form has expired" in refused.text
    # A form from another browser (its own CSRF cookie) is refused in this one too.
    assert world.app.asgi is not None
    transport = httpx.ASGITransport(app=world.app.asgi, client=("127.0.0.1", 40002))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
        login = await other.get("/login")
        token = next(f for f in forms(login.text) if f.action == "/login").fields["csrf"]
    stolen = await http.post(
        world.page, data={"csrf": token, "role": "driver", f"vin.{world.car.vin}": "1"}
    )
    assert stolen.status_code == 403
    assert await world.keys(world.car) == []


async def test_an_owner_who_has_not_connected_the_app_gets_no_form(world: World) -> None:
    http = world.app.http
    login = await http.get("/login")
    form = next(f for f in forms(login.text) if f.action == "/login")
    await http.post("/login", data={**form.fields, "email": EMAIL, "password": PASSWORD})
    shown = await http.get(world.page)
    assert shown.status_code == 403
    assert "You have not given Charge Planner access to your account" in shown.text
    assert not [f for f in forms(shown.text) if f.action == world.page]
    csrf = forms((await http.get("/account/apps")).text)[-1].fields["csrf"]  # a genuine one
    posted = await http.post(
        world.page, data={"csrf": csrf, "role": "owner", f"vin.{world.car.vin}": "1"}
    )
    assert posted.status_code == 403
    assert await world.keys(world.car) == []


async def test_only_the_owners_vehicles_and_known_roles_are_accepted(world: World) -> None:
    await world.connect()
    stranger = await world.app.rt.identity.users.create("other@example.com", PASSWORD)
    theirs, *_ = await seed_vehicles(
        world.app.rt.owner.vehicles, world.app.rt.identity.users, stranger.id
    )
    refused = await _pair(world, theirs)
    assert refused.status_code == 400 and f"no vehicle &#39;{theirs.vin}&#39;" in refused.text
    bad_role = await _pair(world, world.car, role="admin")
    assert bad_role.status_code == 400 and "role must be one of: owner, driver" in bad_role.text
    none = await _pair(world)
    assert none.status_code == 400 and "choose at least one vehicle" in none.text
    assert await world.keys(theirs) == [] and await world.keys(world.car) == []


async def test_an_unknown_domain_is_404(world: World) -> None:
    await world.connect()
    missing = await world.app.http.get("/_ak/nobody.example.com")
    assert missing.status_code == 404
    assert "no app has registered a public key" in missing.text


async def test_a_key_is_removed_from_the_account_page(world: World) -> None:
    await world.connect()
    await _pair(world, world.car, world.suv)
    account = await world.app.http.get("/account/apps")
    removals = [f for f in forms(account.text) if f.action == "/account/keys/remove"]
    assert len(removals) == 2
    car_form = next(f for f in removals if f.fields["vin"] == world.car.vin)
    forged = await world.app.http.post(car_form.action, data={**car_form.fields, "csrf": "x"})
    assert forged.status_code == 403 and len(await world.keys(world.car)) == 1
    removed = await world.app.http.post(car_form.action, data=car_form.fields)
    assert removed.status_code == 303
    assert await world.keys(world.car) == []
    assert len(await world.keys(world.suv)) == 1


async def test_disconnecting_the_app_removes_its_keys(world: World) -> None:
    await world.connect()
    await _pair(world, world.car, world.suv, role="owner")
    assert await world.app.rt.owner.keys.paired(world.client_id, world.car.vin)
    account = await world.app.http.get("/account/apps")
    form = next(f for f in forms(account.text) if f.action == "/account/apps/revoke")
    assert form.fields["client_id"] == world.client_id
    done = await world.app.http.post(form.action, data=form.fields)
    assert done.status_code == 303
    assert await world.keys(world.car) == [] and await world.keys(world.suv) == []
    assert not await world.app.rt.owner.keys.paired(world.client_id, world.car.vin)
    assert "No app keys" in (await world.app.http.get("/account/apps")).text
