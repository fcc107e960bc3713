"""Connected apps: what the user granted, and disconnecting an app kills its tokens at once."""

from __future__ import annotations

from typing import Any

from tests.conftest import App
from tests.web.support import PASSWORD, REDIRECT, Flow, forms

EMAIL = "driver@example.com"
SCOPE = "offline_access vehicle_device_data"


async def _grant(app: App) -> tuple[Flow, str, dict[str, Any]]:
    await app.rt.identity.users.create(EMAIL, PASSWORD)
    cid, secret = await app.client(
        kind="third_party", scopes=SCOPE, redirect_uris=[REDIRECT], name="Charge Planner"
    )
    flow = Flow(app.http, cid, scope=SCOPE)
    code = await flow.code(EMAIL)
    response = await app.http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": flow.verifier,
        },
        auth=(cid, secret),
    )
    assert response.status_code == 200, response.text
    return flow, secret, response.json()


def _bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def _refresh(app: App, flow: Flow, secret: str, tokens: dict[str, Any]) -> int:
    response = await app.http.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        auth=(flow.client_id, secret),
    )
    return response.status_code


async def test_the_user_sees_the_app_and_disconnecting_it_kills_its_tokens(app: App) -> None:
    flow, secret, tokens = await _grant(app)
    listed = await app.http.get("/v1/me/apps", headers=_bearer(tokens))
    assert listed.status_code == 200
    [entry] = listed.json()["apps"]
    assert entry["client_id"] == flow.client_id and entry["name"] == "Charge Planner"
    assert entry["scopes"] == SCOPE.split()
    assert entry["last_used_at"] >= entry["granted_at"]

    page = await app.http.get("/account/apps")
    assert page.status_code == 200
    assert "Charge Planner" in page.text and "See your vehicles&#39; live data" in page.text

    gone = await app.http.delete(f"/v1/me/apps/{flow.client_id}", headers=_bearer(tokens))
    assert gone.status_code == 204
    # The very next call with the app's token fails, and so does its refresh token.
    after = await app.http.get("/v1/me", headers=_bearer(tokens))
    assert after.status_code == 401
    assert await _refresh(app, flow, secret, tokens) == 400
    # Consent is gone too: the next authorization asks again.
    again = await flow.start()
    assert again.status_code == 200 and "Authorize Charge Planner?" in again.text


async def test_disconnect_from_the_account_page(app: App) -> None:
    flow, secret, tokens = await _grant(app)
    page = await app.http.get("/account/apps")
    form = next(f for f in forms(page.text) if f.action == "/account/apps/revoke")
    assert form.fields["client_id"] == flow.client_id
    done = await app.http.post(form.action, data=form.fields)
    assert done.status_code == 303 and done.headers["location"] == "/account/apps"
    assert (await app.http.get("/v1/me", headers=_bearer(tokens))).status_code == 401
    assert await _refresh(app, flow, secret, tokens) == 400
    assert "No apps have access" in (await app.http.get("/account/apps")).text


async def test_a_code_not_yet_redeemed_dies_with_the_disconnect(app: App) -> None:
    flow, secret, tokens = await _grant(app)
    code = await flow.code(EMAIL)
    await app.http.delete(f"/v1/me/apps/{flow.client_id}", headers=_bearer(tokens))
    late = await app.http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": flow.verifier,
        },
        auth=(flow.client_id, secret),
    )
    assert late.status_code == 400 and late.json()["error"] == "invalid_grant"


async def test_account_page_and_api_need_a_person(app: App) -> None:
    _, _, tokens = await _grant(app)
    cid, secret = await app.client()
    machine = await app.token(cid, secret)
    refused = await app.http.get("/v1/me/apps", headers=_bearer(machine))
    assert refused.status_code == 403
    assert "third_party or open_source" in refused.json()["error_description"]
    unknown = await app.http.delete("/v1/me/apps/vgc_test_nobody", headers=_bearer(tokens))
    assert unknown.status_code == 404
    nul = await app.http.delete("/v1/me/apps/%00", headers=_bearer(tokens))
    assert nul.status_code == 404
    await app.http.post(
        "/logout", data=forms((await app.http.get("/account/apps")).text)[-1].fields
    )
    signed_out = await app.http.get("/account/apps")
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/login")


async def test_revoking_a_refresh_token_revokes_its_grant(app: App) -> None:
    flow, secret, tokens = await _grant(app)
    auth = (flow.client_id, secret)
    seen = await app.http.post(
        "/oauth/introspect", data={"token": tokens["refresh_token"]}, auth=auth
    )
    assert seen.json()["active"] is True and seen.json()["token_type"] == "refresh_token"
    revoked = await app.http.post(
        "/oauth/revoke", data={"token": tokens["refresh_token"]}, auth=auth
    )
    assert revoked.status_code == 200
    assert (await app.http.get("/v1/me", headers=_bearer(tokens))).status_code == 401
    assert await _refresh(app, flow, secret, tokens) == 400
    for token in (tokens["refresh_token"], tokens["access_token"]):
        after = await app.http.post("/oauth/introspect", data={"token": token}, auth=auth)
        assert after.json() == {"active": False}
