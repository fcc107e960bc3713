"""Seed 002, the Tesla Fleet API's authentication page: the bearer header, the three token
types, the eight scopes and what each one opens, and the OAuth server's metadata file, against
a live sandbox.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import httpx
import pytest

from tests.fixtures.keyhost import key_host
from tests.seeds.conftest import Sandbox, assert_quoted, redirect_target, tesla_token

METADATA = "https://auth.tesla.com/oauth2/v3/thirdparty/.well-known/openid-configuration"
HEADER = "Authorization: Bearer <token>"
SCOPES = (
    "openid",
    "offline_access",
    "user_data",
    "vehicle_device_data",
    "vehicle_cmds",
    "vehicle_charging_cmds",
    "energy_device_data",
    "energy_cmds",
)


def test_what_is_quoted_here_is_the_guides() -> None:
    assert_quoted(
        "002",
        f"The OAuth server's metadata file can be found at: {METADATA}.",
        HEADER,
        "Developers building closed-source software on top of Fleet API that will access "
        "user's accounts: Third party token.",
        "All calls to Partner Endpoints: Partner token.",
        "Developer building open-source software which interacts with Fleet API: Open-source "
        "token.",
        *(f"{scope}" for scope in SCOPES),
    )


def _get(sandbox: Sandbox, path: str, token: str) -> httpx.Response:
    return httpx.get(sandbox.base_url + path, headers={"Authorization": f"Bearer {token}"})


def _post(sandbox: Sandbox, path: str, token: str, body: Any = None) -> httpx.Response:
    return httpx.post(
        sandbox.base_url + path, json=body, headers={"Authorization": f"Bearer {token}"}
    )


def test_the_metadata_file_is_at_the_guides_path(sandbox: Sandbox) -> None:
    answer = httpx.get(METADATA.replace("https://auth.tesla.com", sandbox.base_url))
    assert answer.status_code == 200, answer.text
    meta = answer.json()
    assert meta["issuer"] == sandbox.base_url
    assert meta["authorization_endpoint"] == f"{sandbox.base_url}/oauth2/v3/authorize"
    assert meta["token_endpoint"] == f"{sandbox.base_url}/oauth2/v3/token"
    assert set(SCOPES) <= set(meta["scopes_supported"])
    assert httpx.get(meta["jwks_uri"]).json()["keys"]


def _awake(sandbox: Sandbox, vehicle: int, token: str) -> None:
    """Wake the vehicle if it sleeps, and wait (bounded) until it is online."""
    path = f"/api/1/vehicles/{vehicle}"
    deadline = time.monotonic() + 30
    while _get(sandbox, path, token).json()["response"]["state"] != "online":
        assert _post(sandbox, f"{path}/wake_up", token).status_code == 200
        assert time.monotonic() < deadline, "the vehicle did not wake up"
        time.sleep(0.5)


def _opens(sandbox: Sandbox) -> dict[str, tuple[str, str, Any]]:
    """For each data scope, one request only it opens (method, path, body)."""
    user = sandbox.creds["users"][0]
    vehicle, site = user["vehicles"][0]["id"], user["energy_site_id"]
    return {
        "user_data": ("GET", "/api/1/users/me", None),
        "vehicle_device_data": ("GET", f"/api/1/vehicles/{vehicle}/vehicle_data", None),
        "vehicle_cmds": ("POST", f"/api/1/vehicles/{vehicle}/command/flash_lights", None),
        "vehicle_charging_cmds": ("GET", "/api/1/dx/charging/history", None),
        "energy_device_data": ("GET", f"/api/1/energy_sites/{site}/site_info", None),
        "energy_cmds": ("POST", f"/api/1/energy_sites/{site}/storm_mode", {"enabled": True}),
    }


@pytest.mark.parametrize("scope", SCOPES[2:])  # those that open data
def test_each_scope_opens_its_own_data_and_nothing_else(sandbox: Sandbox, scope: str) -> None:
    token = tesla_token(sandbox, scope)["access_token"]
    user = sandbox.creds["users"][0]
    if scope in ("vehicle_cmds", "vehicle_device_data"):
        waker = tesla_token(sandbox, "vehicle_cmds")["access_token"]
        _awake(sandbox, user["vehicles"][0]["id"], waker)
    for other, (method, path, body) in _opens(sandbox).items():
        answer = httpx.request(
            method,
            sandbox.base_url + path,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )
        if other == scope:
            assert answer.status_code == 200, (path, answer.text)
            assert answer.json()["response"], answer.text
        else:
            assert answer.status_code == 403, (scope, path, answer.text)
            assert other in answer.json()["error_description"], answer.text


def test_openid_signs_in_and_offline_access_gives_the_refresh_token(sandbox: Sandbox) -> None:
    signed_in = tesla_token(sandbox, "openid vehicle_device_data")
    assert signed_in["id_token"] and "refresh_token" not in signed_in
    userinfo = _get(sandbox, "/oauth/userinfo", signed_in["access_token"])
    assert userinfo.json()["sub"] == sandbox.creds["users"][0]["user_id"]
    offline = tesla_token(sandbox, "offline_access vehicle_device_data")
    assert offline["refresh_token"] and "id_token" not in offline
    assert offline["expires_in"] == 8 * 3600


def test_a_third_party_token_acts_for_the_user_and_reads_their_vehicles(sandbox: Sandbox) -> None:
    token = tesla_token(sandbox, "vehicle_device_data")["access_token"]
    listed = _get(sandbox, "/api/1/vehicles", token)
    assert listed.status_code == 200, listed.text
    ids = [v["id"] for v in listed.json()["response"]]
    assert ids and sorted(ids) == sorted(v["id"] for v in sandbox.creds["users"][0]["vehicles"])


def test_a_partner_token_is_for_partner_endpoints_only(sandbox: Sandbox) -> None:
    partner = sandbox.app("seed partner", "partner", "openid vehicle_device_data")
    answer = httpx.post(
        f"{sandbox.base_url}/oauth2/v3/token",
        data={"grant_type": "client_credentials", **partner},
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    with key_host() as host:  # the app's domain, hosting its public key
        key = host.serve_key()
        registered = _post(sandbox, "/api/1/partner_accounts", token, {"domain": host.domain})
    assert registered.status_code == 200, registered.text
    assert registered.json()["response"]["domain"] == host.domain
    assert registered.json()["response"]["public_key"] == key.point.hex()
    assert _get(sandbox, "/api/1/vehicles", token).status_code == 403

    third_party = tesla_token(sandbox, "vehicle_device_data")["access_token"]
    refused = _post(sandbox, "/api/1/partner_accounts", third_party, {"domain": "x.example"})
    assert refused.status_code == 403 and "partner" in refused.json()["error_description"]


def test_an_open_source_token_comes_to_a_public_client_with_pkce(sandbox: Sandbox) -> None:
    public = sandbox.app(
        "seed open source", "open_source", "vehicle_device_data", redirect_target(sandbox)
    )
    del public["client_secret"]  # a public client has none
    token = tesla_token(sandbox, "vehicle_device_data", public, verifier=secrets.token_urlsafe(48))
    assert _get(sandbox, "/api/1/vehicles", token["access_token"]).status_code == 200
