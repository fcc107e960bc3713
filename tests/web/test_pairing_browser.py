"""Pairing an app's key in headless Chromium against a live server, as an owner does it: they
connect the app (sign in, Allow), open `/_ak/<domain>`, see the app, its domain and its key's
fingerprint, tick a vehicle, choose a role and add the key; the app's `fleet_status` then reports
that vehicle paired. Disconnecting the app on the account page removes the key: connected again,
the app finds the vehicle unpaired. No script runs on these pages and the CSP blocks nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.fixtures.keyhost import key_host
from tests.fixtures.live import LiveServer, free_port, live_server
from tests.web.support import query
from voltgate.cli.common import started_runtime
from voltgate.config import Settings
from voltgate.identity import pkce
from voltgate.identity.appkeys import fingerprint
from voltgate.vehicles.seed import seed_vehicles

EMAIL = "owner@example.com"
PASSWORD = "correct horse battery staple"
SCOPES = "openid offline_access vehicle_device_data vehicle_cmds"
VERIFIER = "chromium-pairing-" + "v" * 40


@dataclass(frozen=True)
class Owner:
    server: LiveServer
    client_id: str
    secret: str
    redirect_uri: str
    car: tuple[str, str]  # (VIN, name): the Model 3
    suv: tuple[str, str]  # the Model Y


async def _provision(settings: Settings, redirect_uri: str) -> dict[str, Any]:
    """What an operator sets up before the server starts: the owner, their cars, the app."""
    async with started_runtime(settings) as rt:
        user = await rt.identity.users.create(EMAIL, PASSWORD)
        vehicles = await seed_vehicles(rt.owner.vehicles, rt.identity.users, user.id)
        car, suv, _ = sorted(vehicles, key=lambda v: v.seed_slot or 0)
        created = await rt.identity.admin.create(
            name="Charge Planner", kind="third_party", scopes=SCOPES, redirect_uris=[redirect_uri]
        )
    return {
        "client_id": created.client.id,
        "secret": created.secret,
        "car": (car.vin, car.display_name),
        "suv": (suv.vin, suv.display_name),
    }


@pytest.fixture
def owner(tmp_path: Path) -> Iterator[Owner]:
    """A live server on the embedded default with an owner, two cars and a third-party app."""
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    made = asyncio.run(_provision(Settings(data_dir=tmp_path / "data"), redirect_uri))
    with live_server(tmp_path / "data", tmp_path / "server.log") as server:
        yield Owner(
            server, made["client_id"], made["secret"], redirect_uri, made["car"], made["suv"]
        )


def _authorize_url(owner: Owner) -> str:
    params = {
        "response_type": "code",
        "client_id": owner.client_id,
        "redirect_uri": owner.redirect_uri,
        "scope": SCOPES,
        "state": "pairing",
        "code_challenge": pkce.s256(VERIFIER),
        "code_challenge_method": "S256",
    }
    return f"{owner.server.base_url}/oauth2/v3/authorize?{urlencode(params)}"


def _connect(page: Any, owner: Owner, landed: list[str], *, sign_in: bool) -> str:
    """The owner allows the app (signing in first if asked): the app's access token."""
    page.goto(_authorize_url(owner))
    if sign_in:
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Authorize Charge Planner?").wait_for()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{owner.redirect_uri}**")
    code = query(landed[-1])["code"]
    tokens = httpx.post(
        f"{owner.server.base_url}/oauth2/v3/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": owner.redirect_uri,
            "code_verifier": VERIFIER,
        },
        auth=(owner.client_id, owner.secret),
        timeout=10,
    )
    assert tokens.status_code == 200, tokens.text
    return str(tokens.json()["access_token"])


def _fleet_status(owner: Owner, token: str) -> dict[str, Any]:
    answer = httpx.post(
        f"{owner.server.base_url}/api/1/vehicles/fleet_status",
        json={"vins": [owner.car[0], owner.suv[0]]},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    status: dict[str, Any] = answer.json()["response"]
    return status


def _register(owner: Owner, domain: str) -> None:
    """The app registers its domain with its own client credentials (its partner token)."""
    base = owner.server.base_url
    token = httpx.post(
        f"{base}/oauth2/v3/token",
        data={"grant_type": "client_credentials"},
        auth=(owner.client_id, owner.secret),
        timeout=10,
    ).json()["access_token"]
    registered = httpx.post(
        f"{base}/api/1/partner_accounts",
        json={"domain": domain},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert registered.status_code == 200, registered.text


def test_an_owner_pairs_the_apps_key_in_chromium_and_disconnecting_removes_it(
    owner: Owner, chromium: Any
) -> None:
    base = owner.server.base_url
    car_vin, car_name = owner.car
    with key_host() as host:
        key = host.serve_key()
        _register(owner, host.domain)
    context = chromium.new_context()
    problems: list[str] = []
    landed: list[str] = []
    try:
        page = context.new_page()
        page.on("console", lambda message: problems.append(message.text))
        page.on("pageerror", lambda error: problems.append(str(error)))

        def catch(route: Any) -> None:
            landed.append(route.request.url)
            route.fulfill(body="ok")

        page.route(f"{owner.redirect_uri}**", catch)
        token = _connect(page, owner, landed, sign_in=True)

        page.goto(f"{base}/_ak/{host.domain}")
        page.get_by_role("heading", name="Add Charge Planner's key to your vehicles?").wait_for()
        assert page.get_by_text(host.domain, exact=True).is_visible()
        assert page.get_by_text(fingerprint(key.point), exact=True).is_visible()
        page.get_by_label(car_name).check()
        page.get_by_label("Role").select_option("charging_manager")
        page.get_by_role("button", name="Add key").click()
        page.wait_for_url(f"{base}/account/apps")
        page.get_by_role("heading", name="Vehicle keys").wait_for()
        remove = page.get_by_role("button", name=f"Remove Charge Planner's key from {car_name}")
        assert remove.is_visible()
        assert page.get_by_role("cell", name="charging_manager").is_visible()

        status = _fleet_status(owner, token)
        assert status["key_paired_vins"] == [car_vin]
        assert status["unpaired_vins"] == [owner.suv[0]]
        assert status["vehicle_info"][car_vin]["total_number_of_keys"] == 1

        page.get_by_role("button", name="Disconnect Charge Planner").click()
        page.get_by_text("No apps have access to your account.").wait_for()
        assert remove.count() == 0
        # Connected again (a new consent), the app finds the key gone from the vehicle.
        again = _connect(page, owner, landed, sign_in=False)
        assert _fleet_status(owner, again)["key_paired_vins"] == []
    finally:
        context.close()
    assert problems == [], problems
