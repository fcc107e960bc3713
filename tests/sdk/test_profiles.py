"""Provider profiles are data: the shipped ones say what each platform documents, a profile
file of one's own drives the same client with no code, and a malformed one is refused by
name."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import httpx
import pytest

from tests.conftest import App
from tests.sdk.support import PLATFORMS, start_grant
from voltgate.sdk.profiles import Profile, ProfileError, load_profile, profile_names
from voltgate.sdk.vault import AppCredentials, AsyncApiClient, TokenVault


def test_the_shipped_profiles_say_what_each_platform_documents() -> None:
    assert profile_names() == ["beenergised", "evenergy", "tellus", "tesla", "voltgate"]
    tellus, evenergy, tesla, be, canonical = (
        load_profile(n) for n in ("tellus", "evenergy", "tesla", "beenergised", "voltgate")
    )
    assert (tellus.token_url, tellus.client_auth, tellus.body, tellus.token_envelope) == (
        "/v1/operator/oauth/token", "json", "json", "data",
    )  # fmt: skip
    assert (tellus.access_ttl, tellus.refresh) == (86_400, "credentials")
    assert (evenergy.token_endpoint(), evenergy.access_ttl, evenergy.refresh) == (
        "https://api.ev.energy/o/token", 36_000, "rotating",
    )  # fmt: skip
    assert tesla.base_url("eu") == "https://fleet-api.prd.eu.vn.cloud.tesla.com"
    assert tesla.base_url() == "https://fleet-api.prd.na.vn.cloud.tesla.com"
    assert tesla.token_endpoint() == "https://auth.tesla.com/oauth2/v3/token"
    assert (tesla.access_ttl, tesla.refresh_ttl, tesla.refresh) == (28_800, 7_776_000, "rotating")
    assert (be.access_ttl, be.body, be.refresh_as_bearer) == (3_600, "graphql", True)
    assert canonical.token_url == "/oauth/token"
    with pytest.raises(ProfileError, match="pass base_url"):
        tellus.base_url()  # Tellus publishes no API host: the integrator is given one
    # Where a user's sign-in starts: on the token host (Tesla's auth.tesla.com, .cn for China).
    assert tesla.authorize_endpoint() == "https://auth.tesla.com/oauth2/v3/authorize"
    assert tesla.authorize_endpoint(region="cn") == "https://auth.tesla.cn/oauth2/v3/authorize"
    assert evenergy.authorize_endpoint() == "https://api.ev.energy/o/authorize/"
    assert canonical.authorize_endpoint("https://vg.example/") == (
        "https://vg.example/oauth/authorize"
    )
    for no_code_flow in (tellus, be):
        with pytest.raises(ProfileError, match="no authorization endpoint"):
            no_code_flow.authorize_endpoint("https://api.example")


def _response(status: int, body: object, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


def test_each_profile_knows_its_platforms_expiry_signal() -> None:
    tellus, tesla, be = (load_profile(n) for n in ("tellus", "tesla", "beenergised"))
    expired = _response(401, {"code": 2002, "message": "token expired", "data": None})
    invalid = _response(401, {"code": 2001, "message": "invalid token", "data": None})
    assert tellus.expired(expired) and not tellus.expired(invalid)
    challenge = _response(401, {"response": None, "error": "invalid_token"},
                          **{"WWW-Authenticate": 'Bearer error="invalid_token"'})  # fmt: skip
    assert tesla.expired(challenge) and not tesla.expired(_response(403, {"error": "x"}))
    unauthenticated = _response(200, {"errors": [{"extensions": {"code": "UNAUTHENTICATED"}}]})
    forbidden = _response(200, {"errors": [{"extensions": {"code": "FORBIDDEN"}}]})
    assert be.expired(unauthenticated) and not be.expired(forbidden)
    assert not tesla.expired(unauthenticated)


def test_a_malformed_profile_is_refused_by_name(tmp_path: Path) -> None:
    base = json.loads(resources.files("voltgate.sdk.profiles").joinpath("tesla.json").read_text())
    for change, message in (
        ({"client_auth": "mtls"}, "client_auth must be one of"),
        ({"expiry": []}, "no expiry signal"),
        ({"token_lifetime": 1}, "unknown fields"),
        ({"body": "graphql"}, "refresh_query"),
    ):
        path = tmp_path / "bad.json"
        path.write_text(json.dumps({**base, **change}))
        with pytest.raises(ProfileError, match=message):
            load_profile(path)
    with pytest.raises(ProfileError, match="shipped"):
        load_profile("acme")


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_profile_from_a_users_file_needs_no_code(app: App, tmp_path: Path) -> None:
    """A platform the SDK does not ship, described in a file: an 'Acme' whose token endpoint is
    voltgate's ev.energy path with credentials in the form body, read from a file and used by
    the same client as the shipped profiles."""
    path = tmp_path / "acme.json"
    path.write_text(json.dumps({
        "name": "acme", "title": "Acme Charging", "base_urls": {"eu": "https://eu.acme.test"},
        "default_region": "eu", "token_url": "/o/token/", "client_auth": "form", "body": "form",
        "access_ttl": 36000, "refresh": "rotating",
        "expiry": [{"status": 401, "error": "invalid_token"}],
    }))  # fmt: skip
    profile = load_profile(path)
    assert isinstance(profile, Profile) and profile.base_url() == "https://eu.acme.test"
    vault = TokenVault(path=tmp_path / "vault.db", clock=app.clock.now)
    assert app.asgi is not None
    transport = httpx.ASGITransport(app=app.asgi, client=("127.0.0.1", 40000))

    def make(credentials: AppCredentials, user: str) -> AsyncApiClient:
        return AsyncApiClient(profile, vault, credentials, user, base_url="http://testserver",
                              transport=transport)  # fmt: skip

    platform = PLATFORMS["evenergy"]
    client, _ = await start_grant(app, platform, make)
    try:
        await platform.check(client)
        app.clock.advance(36_000)  # past expiry: refreshed ahead of the call, rotated
        await platform.check(client)
        assert vault.refreshes == 1
        assert (await vault.status(client.key)).refreshed_at == app.clock.now()
    finally:
        await client.aclose()
        await vault.close()
