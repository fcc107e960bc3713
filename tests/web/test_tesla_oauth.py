"""Tesla's token rules on its own path (seed 002): 8-hour access tokens, and a refresh token
only with `offline_access` whatever else is asked; voltgate's own `/oauth/token` keeps OpenID
Connect's rule (`offline_access` is needed only with `openid`)."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import App
from tests.web.support import PASSWORD, REDIRECT

SCOPES = "openid offline_access user_data vehicle_device_data"
EMAIL = "driver@example.com"


async def _redeem(
    app: App, path: str, scopes: str, **opts: object
) -> tuple[httpx.Response, tuple[str, str]]:
    """A code for `scopes`, issued to a fresh app for the user, redeemed at `path`; the answer
    and the app's credentials."""
    users = await app.rt.identity.users.list_all()
    user = users[0] if users else await app.rt.identity.users.create(EMAIL, PASSWORD, "Dana")
    cid, secret = await app.client(
        kind="third_party", scopes=SCOPES, redirect_uris=[REDIRECT], **opts
    )
    client = await app.rt.identity.clients.get(cid)
    assert client is not None
    code = await app.rt.identity.delegation.issue_code(
        client=client,
        user_id=user.id,
        redirect_uri=REDIRECT,
        scopes=tuple(scopes.split()),
        auth_time=app.clock.now(),
    )
    answer = await app.http.post(
        path,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        auth=(cid, secret),
    )
    return answer, (cid, secret)


@pytest.mark.parametrize(
    ("scopes", "on_tesla", "on_voltgate"),
    [
        ("user_data vehicle_device_data", False, True),
        ("openid user_data", False, False),
        ("offline_access vehicle_device_data", True, True),
        ("openid offline_access", True, True),
    ],
)
async def test_a_refresh_token_on_teslas_path_needs_offline_access(
    app: App, scopes: str, on_tesla: bool, on_voltgate: bool
) -> None:
    tesla, _ = await _redeem(app, "/oauth2/v3/token", scopes)
    assert tesla.status_code == 200, tesla.text
    assert ("refresh_token" in tesla.json()) is on_tesla
    own, _ = await _redeem(app, "/oauth/token", scopes)
    assert ("refresh_token" in own.json()) is on_voltgate


async def test_access_tokens_live_eight_hours_on_teslas_path_unless_the_app_chose(
    app: App,
) -> None:
    tesla, credentials = await _redeem(
        app, "/oauth2/v3/token", "offline_access vehicle_device_data"
    )
    assert tesla.json()["expires_in"] == 28_800
    refreshed = await app.http.post(
        "/oauth2/v3/token",
        data={"grant_type": "refresh_token", "refresh_token": tesla.json()["refresh_token"]},
        auth=credentials,
    )
    assert refreshed.status_code == 200 and refreshed.json()["expires_in"] == 28_800
    own, _ = await _redeem(app, "/oauth/token", "vehicle_device_data")
    assert own.json()["expires_in"] == 3_600  # the kind's default on voltgate's own path
    chosen, _ = await _redeem(app, "/oauth2/v3/token", "vehicle_device_data", token_ttl=900)
    assert chosen.json()["expires_in"] == 900


@pytest.mark.parametrize(
    ("granted", "issued_at", "refreshed_at", "narrowed"),
    [
        # Granted without offline_access on voltgate's path, refreshed at Tesla's.
        ("vehicle_device_data", "/oauth/token", "/oauth2/v3/token", None),
        # Narrowed on refresh to leave offline_access out, on either path.
        (
            "offline_access vehicle_device_data",
            "/oauth2/v3/token",
            "/oauth2/v3/token",
            "vehicle_device_data",
        ),
        (
            "openid offline_access vehicle_device_data",
            "/oauth/token",
            "/oauth/token",
            "openid vehicle_device_data",
        ),
    ],
)
async def test_a_refresh_token_once_given_is_always_succeeded(
    app: App, granted: str, issued_at: str, refreshed_at: str, narrowed: str | None
) -> None:
    first, credentials = await _redeem(app, issued_at, granted)
    data = {"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]}
    if narrowed is not None:
        data["scope"] = narrowed
    rotated = await app.http.post(refreshed_at, data=data, auth=credentials)
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["refresh_token"] != data["refresh_token"]
