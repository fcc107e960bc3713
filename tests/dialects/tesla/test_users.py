"""`user_data` on the Tesla dialect: `GET /api/1/users/me` and `/api/1/users/region`, and the
profile claims (name, email, picture) it releases at userinfo and in ID tokens."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.conftest import App
from tests.fixtures.grants import user_grant

REDIRECT = "https://app.example/callback"
SCOPES = "openid offline_access user_data vehicle_device_data"
EMAIL = "ada@example.com"


async def _app(app: App) -> tuple[str, str]:
    return await app.client(kind="third_party", scopes=SCOPES, redirect_uris=[REDIRECT])


async def _grant(app: App, client: tuple[str, str], user_id: str, scopes: str) -> dict[str, Any]:
    """The token response of a code the user granted `scopes` for, at Tesla's token path."""
    return await user_grant(app, *client, user_id, scopes, REDIRECT)


async def _get(app: App, path: str, token: str) -> httpx.Response:
    return await app.http.get(path, headers={"Authorization": f"Bearer {token}"})


async def test_users_me_answers_the_users_account_with_user_data(app: App) -> None:
    client = await _app(app)
    user = await app.rt.identity.users.create(EMAIL, "correct horse battery", "Ada Lovelace")
    token = (await _grant(app, client, user.id, "user_data"))["access_token"]
    response = await _get(app, "/api/1/users/me", token)
    assert response.status_code == 200, response.text
    me = response.json()["response"]
    assert set(me) == {"email", "full_name", "profile_image_url", "vault_uuid"}
    assert (me["email"], me["full_name"]) == (EMAIL, "Ada Lovelace")
    issuer = app.rt.settings.issuer
    assert re.fullmatch(
        rf"{re.escape(issuer)}/avatars/[0-9a-f]{{32}}\.svg", me["profile_image_url"]
    )
    assert uuid.UUID(me["vault_uuid"]).version == 5

    picture = await app.http.get(me["profile_image_url"].removeprefix(issuer))
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/svg+xml"

    # The same for a new token, and for another app the user granted; another user's differs.
    again = (await _get(app, "/api/1/users/me", token)).json()["response"]
    other_app = await _app(app)
    elsewhere = (await _grant(app, other_app, user.id, "user_data"))["access_token"]
    assert (await _get(app, "/api/1/users/me", elsewhere)).json()["response"] == me == again
    bob = await app.rt.identity.users.create("bob@example.com", "correct horse battery")
    theirs = (await _grant(app, client, bob.id, "user_data"))["access_token"]
    bobs = (await _get(app, "/api/1/users/me", theirs)).json()["response"]
    assert bobs["email"] == "bob@example.com" and bobs["full_name"] == "bob"
    assert bobs["vault_uuid"] != me["vault_uuid"]
    assert bobs["profile_image_url"] != me["profile_image_url"]


async def test_users_region_names_this_server_as_the_fleet_api(app: App) -> None:
    client = await _app(app)
    user = await app.rt.identity.users.create(EMAIL, "correct horse battery")
    token = (await _grant(app, client, user.id, "user_data"))["access_token"]
    response = await _get(app, "/api/1/users/region", token)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "response": {"region": "na", "fleet_api_base_url": app.rt.settings.issuer}
    }
    assert response.headers["ratelimit-limit"]  # counted against the app like every /api/1


async def test_user_routes_need_user_data_on_a_users_token(app: App) -> None:
    client = await _app(app)
    user = await app.rt.identity.users.create(EMAIL, "correct horse battery")
    token = (await _grant(app, client, user.id, "openid vehicle_device_data"))["access_token"]
    partner = await app.client(kind="partner", scopes="user_data")
    machine = await app.http.post(
        "/oauth2/v3/token", data={"grant_type": "client_credentials"}, auth=partner
    )
    for path in ("/api/1/users/me", "/api/1/users/region"):
        refused = await _get(app, path, token)
        assert refused.status_code == 403, refused.text
        assert refused.json() == {
            "response": None,
            "error": "insufficient_scope",
            "error_description": "this request needs the scope user_data",
            "code": 2003,
        }
        kind = await _get(app, path, machine.json()["access_token"])
        assert kind.status_code == 403 and "partner" in kind.json()["error_description"]
        missing = await app.http.get(path)
        assert missing.status_code == 401 and missing.json()["response"] is None


async def test_userinfo_and_the_id_token_carry_the_profile_with_user_data(app: App) -> None:
    client = await _app(app)
    user = await app.rt.identity.users.create(EMAIL, "correct horse battery", "Ada Lovelace")
    granted = await _grant(app, client, user.id, "openid user_data")
    me = (await _get(app, "/api/1/users/me", granted["access_token"])).json()["response"]
    profile = {
        "sub": user.id,
        "name": "Ada Lovelace",
        "picture": me["profile_image_url"],
        "email": EMAIL,
        "email_verified": False,
    }
    info = await _get(app, "/oauth/userinfo", granted["access_token"])
    assert info.status_code == 200 and info.json() == profile
    jwks = KeySet.import_key_set((await app.http.get("/.well-known/jwks.json")).json())
    claims = jwt.decode(granted["id_token"], jwks, algorithms=["ES256"]).claims
    assert {k: claims[k] for k in profile} == profile

    bare = await _grant(app, client, user.id, "openid vehicle_device_data")
    assert (await _get(app, "/oauth/userinfo", bare["access_token"])).json() == {"sub": user.id}
    bare_claims = jwt.decode(bare["id_token"], jwks, algorithms=["ES256"]).claims
    assert not {"name", "email", "picture"} & set(bare_claims)
    # userinfo is OpenID Connect's: user_data without openid does not reach it.
    no_openid = await _grant(app, client, user.id, "user_data")
    assert (await _get(app, "/oauth/userinfo", no_openid["access_token"])).status_code == 403
