"""Users, partner accounts and connected apps are held in memory: what a process writes it reads
back at once, and their reads are answered without the database (sign-in still checks the
password where it is stored)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import App
from tests.fixtures.database import refuse_database
from tests.fixtures.keyhost import key_host
from tests.web.support import PASSWORD, REDIRECT, Flow

EMAIL = "driver@example.com"
SCOPE = "offline_access vehicle_device_data"


async def _grant(app: App) -> tuple[Flow, str, dict[str, Any]]:
    """A user who allowed an app, and the app's tokens for them."""
    cid, secret = await app.client(
        kind="third_party", scopes=SCOPE, redirect_uris=[REDIRECT], name="Charge Planner"
    )
    flow = Flow(app.http, cid, scope=SCOPE)
    response = await app.http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": await flow.code(EMAIL),
            "redirect_uri": REDIRECT,
            "code_verifier": flow.verifier,
        },
        auth=(cid, secret),
    )
    assert response.status_code == 200, response.text
    return flow, secret, response.json()


async def _apps(app: App, tokens: dict[str, Any]) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    response = await app.http.get("/v1/me/apps", headers=headers)
    assert response.status_code == 200, response.text
    apps: list[dict[str, Any]] = response.json()["apps"]
    return apps


async def test_a_user_and_their_disabling_read_back_at_once(app: App) -> None:
    users = app.rt.identity.users
    user = await users.create("Someone@Example.com", PASSWORD, "Someone")
    found = await users.find(user.id)
    assert found is not None and (found.email, found.display_name) == (
        "someone@example.com",
        "Someone",
    )
    assert found.disabled_at is None
    await users.disable(user.id)
    found = await users.find(user.id)
    assert found is not None and found.disabled_at == app.clock.now()
    assert await users.find("user_nobody") is None


async def test_an_apps_last_use_and_its_disconnection_show_at_once(app: App) -> None:
    await app.rt.identity.users.create(EMAIL, PASSWORD)
    flow, secret, tokens = await _grant(app)
    [entry] = await _apps(app, tokens)
    assert entry["name"] == "Charge Planner" and entry["last_used_at"] == int(app.clock.now())

    app.clock.advance(600)
    refreshed = await app.http.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(flow.client_id, secret),
    )
    assert refreshed.status_code == 200, refreshed.text
    tokens = refreshed.json()
    [entry] = await _apps(app, tokens)
    assert entry["last_used_at"] == int(app.clock.now())
    assert entry["last_used_at"] - entry["granted_at"] == 600

    # Disconnecting withdraws the consent at once: the next authorization asks again.
    user = await app.rt.identity.users.authenticate(EMAIL, PASSWORD, None)
    assert await app.rt.identity.consents.covers(user.id, flow.client_id, ("offline_access",))
    assert await app.rt.identity.consents.disconnect(user.id, flow.client_id)
    assert not await app.rt.identity.consents.covers(user.id, flow.client_id, ("offline_access",))
    assert await app.rt.identity.consents.apps(user.id) == []


async def test_identity_reads_are_answered_without_the_database(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await app.rt.identity.users.create(EMAIL, PASSWORD)
    flow, _, _ = await _grant(app)
    partner, partner_secret = await app.client(kind="partner", scopes="user_data")
    partner_token = (
        await app.http.post(
            "/oauth2/v3/token",
            data={"grant_type": "client_credentials"},
            auth=(partner, partner_secret),
        )
    ).json()["access_token"]
    with key_host() as host:
        key = host.serve_key()
        registered = await app.http.post(
            "/api/1/partner_accounts",
            json={"domain": host.domain},
            headers={"Authorization": f"Bearer {partner_token}"},
        )
    assert registered.status_code == 200, registered.text
    refuse_database(app.rt, monkeypatch)

    found = await app.rt.identity.users.find(user.id)
    assert found is not None and found.email == EMAIL
    assert (await app.rt.identity.partners.get(partner)).domain == host.domain
    assert await app.rt.identity.partners.public_key(host.domain) == key.point
    [connected] = await app.rt.identity.consents.apps(user.id)
    assert connected.client_name == "Charge Planner"
    assert connected.consent.scope.split() == SCOPE.split()
    assert await app.rt.identity.consents.covers(user.id, flow.client_id, ("vehicle_device_data",))
