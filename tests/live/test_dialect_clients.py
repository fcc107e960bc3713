"""The dialects' own OAuth flows with clients written by others, pages in headless Chromium,
against a live server: ev.energy's from its guide's authorization URL (no `scope`: the app's
registered scopes are granted; 10-hour tokens on `/o/token`) and Tesla's from the metadata URL
its guide gives (8-hour tokens on `/oauth2/v3/token`), with npm `openid-client`, Authlib and
requests-oauthlib.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.fixtures.browser import Lines, landed_at, node_app
from tests.fixtures.live import LiveServer, free_port
from tests.live.support import me

RP = Path(__file__).parent / "rp"
EMAIL = "driver@example.com"
PASSWORD = "correct horse battery staple"
EVENERGY_SCOPES = "charging_session:read vehicle:read"
TESLA_SCOPES = "openid offline_access vehicle_device_data"
TESLA_METADATA = "/oauth2/v3/thirdparty/.well-known/openid-configuration"


def _user(live: LiveServer) -> str:
    created = live.cli_json("users", "create", "--email", EMAIL, "--password", PASSWORD)
    return str(created["user_id"])


def _app(live: LiveServer, name: str, scopes: str, redirect_uri: str) -> dict[str, str]:
    data = live.cli_json(
        "clients", "create", "--name", name, "--kind", "third_party", "--scopes", scopes,
        "--redirect-uri", redirect_uri,
    )  # fmt: skip
    return {"client_id": str(data["client_id"]), "client_secret": str(data["client_secret"])}


def _sign_in_and_allow(page: Any, app_name: str, *described: str) -> None:
    """A person: signs in, reads what the consent page lists, allows."""
    page.get_by_role("heading", name="Sign in").wait_for()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=f"Authorize {app_name}?").wait_for()
    for text in described:
        assert page.get_by_text(text).is_visible(), text
    page.get_by_role("button", name="Allow").click()


def _browse(chromium: Any, url: str, redirect_uri: str, app_name: str, *described: str) -> str:
    """The browser from `url` to the app's redirect URI: the URL it lands on."""
    return landed_at(
        chromium, url, redirect_uri, lambda p: _sign_in_and_allow(p, app_name, *described)
    )


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def _works(live: LiveServer, token: str, path: str, **headers: str) -> None:
    answer = httpx.get(
        live.base_url + path, headers={"Authorization": f"Bearer {token}", **headers}
    )
    assert answer.status_code == 200, answer.text


def _node_app(
    live: LiveServer, dialect: str, app: dict[str, str], port: int, probe: str
) -> AbstractContextManager[Lines]:
    env = {
        "BASE": live.base_url,
        "DIALECT": dialect,
        "CLIENT_ID": app["client_id"],
        "CLIENT_SECRET": app["client_secret"],
        "PORT": str(port),
        "SCOPE": TESLA_SCOPES,
        "PROBE": probe,
    }
    return node_app(RP / "dialect.mjs", env)


def _node_flow(
    live: LiveServer, chromium: Any, dialect: str, scopes: str, probe: str
) -> dict[str, Any]:
    port = free_port()
    redirect_uri = f"http://127.0.0.1:{port}/callback"
    app = _app(live, f"{dialect} app", scopes, redirect_uri)
    with _node_app(live, dialect, app, port, probe) as rp:
        ready = rp.next()
        assert ready["event"] == "ready", ready
        context = chromium.new_context()
        try:
            page = context.new_page()
            page.goto(ready["authorization_url"])
            _sign_in_and_allow(page, f"{dialect} app")
            page.locator("#done").wait_for()
        finally:
            context.close()
        result = rp.next()
    assert result["event"] == "done", result
    return {**result, "authorization_url": ready["authorization_url"], **app}


def test_openid_client_follows_the_evenergy_guide(live: LiveServer, chromium: Any) -> None:
    _user(live)
    result = _node_flow(live, chromium, "evenergy", EVENERGY_SCOPES, "/v2/charging_sessions")
    url = result["authorization_url"]
    assert urlsplit(url).path == "/o/authorize/" and "scope" not in _query(url)
    first, refreshed = result["first"], result["refreshed"]
    assert sorted(first["scope"].split()) == sorted(EVENERGY_SCOPES.split())
    assert first["expires_in"] == refreshed["expires_in"] == 36_000
    assert result["probe"]["status"] == 200, result["probe"]
    # It revoked the refresh token at /o/revoke_token/: that ends the grant.
    assert me(live.base_url, refreshed["access_token"]).status_code == 401
    again = httpx.post(
        f"{live.base_url}/o/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": result["revoked"],
            "client_id": result["client_id"],
            "client_secret": result["client_secret"],
        },
    )
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant", again.text


def test_openid_client_discovers_tesla_from_the_guides_metadata_url(
    live: LiveServer, chromium: Any
) -> None:
    user_id = _user(live)
    result = _node_flow(live, chromium, "tesla", TESLA_SCOPES, "/api/1/vehicles")
    assert result["token_endpoint"] == f"{live.base_url}/oauth2/v3/token"
    assert urlsplit(result["authorization_url"]).path == "/oauth2/v3/authorize"
    claims = result["claims"]  # validated by openid-client: signature, iss, aud, nonce
    assert claims["sub"] == user_id == result["userinfo"]["sub"]
    assert claims["iss"] == live.base_url and claims["aud"] == result["client_id"]
    assert result["first"]["expires_in"] == result["refreshed"]["expires_in"] == 28_800
    assert result["probe"]["status"] == 200, result["probe"]
    _works(live, result["refreshed"]["access_token"], "/api/1/vehicles")


def test_authlib_follows_the_evenergy_guide(live: LiveServer, chromium: Any) -> None:
    from authlib.integrations.requests_client import OAuth2Session

    _user(live)
    redirect_uri = f"http://127.0.0.1:{free_port()}/authlib/callback"
    app = _app(live, "authlib app", EVENERGY_SCOPES, redirect_uri)
    session = OAuth2Session(
        app["client_id"],
        app["client_secret"],
        redirect_uri=redirect_uri,
        token_endpoint_auth_method="client_secret_post",
    )
    url, _ = session.create_authorization_url(f"{live.base_url}/o/authorize/")
    assert "scope" not in _query(url)
    callback = _browse(chromium, url, redirect_uri, "authlib app", "See your charging session data")
    token = session.fetch_token(f"{live.base_url}/o/token", authorization_response=callback)
    assert token["expires_in"] == 36_000
    assert sorted(token["scope"].split()) == sorted(EVENERGY_SCOPES.split())
    refreshed = session.refresh_token(f"{live.base_url}/o/token")
    assert (
        refreshed["expires_in"] == 36_000 and refreshed["refresh_token"] != token["refresh_token"]
    )
    _works(live, refreshed["access_token"], "/v2/charging_sessions")


def test_authlib_discovers_tesla_from_the_guides_metadata_url(
    live: LiveServer, chromium: Any
) -> None:
    from authlib.integrations.requests_client import OAuth2Session

    user_id = _user(live)
    redirect_uri = f"http://127.0.0.1:{free_port()}/authlib/callback"
    app = _app(live, "authlib tesla", TESLA_SCOPES, redirect_uri)
    meta = httpx.get(live.base_url + TESLA_METADATA).json()
    session = OAuth2Session(
        app["client_id"],
        app["client_secret"],
        scope=TESLA_SCOPES,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )
    verifier = "tesla-" + "v" * 50
    url, state = session.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce="tesla-nonce"
    )
    callback = _browse(chromium, url, redirect_uri, "authlib tesla")
    assert _query(callback)["state"] == [state]
    token = session.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    assert meta["token_endpoint"].endswith("/oauth2/v3/token") and token["expires_in"] == 28_800
    assert token["id_token"] and token["refresh_token"]
    assert session.get(meta["userinfo_endpoint"]).json()["sub"] == user_id
    refreshed = session.refresh_token(meta["token_endpoint"])
    _works(live, refreshed["access_token"], "/api/1/vehicles")


@pytest.fixture
def insecure_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """oauthlib refuses plain http unless told: the server is on 127.0.0.1."""
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")


@pytest.mark.usefixtures("insecure_loopback")
def test_requests_oauthlib_follows_the_evenergy_guide(live: LiveServer, chromium: Any) -> None:
    from requests_oauthlib import OAuth2Session

    _user(live)
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    app = _app(live, "oauthlib app", EVENERGY_SCOPES, redirect_uri)
    session = OAuth2Session(app["client_id"], redirect_uri=redirect_uri)
    url, _ = session.authorization_url(f"{live.base_url}/o/authorize/")
    assert "scope" not in _query(url)
    callback = _browse(chromium, url, redirect_uri, "oauthlib app")
    token = session.fetch_token(
        f"{live.base_url}/o/token",
        authorization_response=callback,
        client_secret=app["client_secret"],
        include_client_id=True,
    )
    assert token["expires_in"] == 36_000 and token["refresh_token"]
    _works(live, token["access_token"], "/v2/charging_sessions")


@pytest.mark.usefixtures("insecure_loopback")
def test_requests_oauthlib_discovers_tesla_from_the_guides_metadata_url(
    live: LiveServer, chromium: Any
) -> None:
    from requests_oauthlib import OAuth2Session

    _user(live)
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    app = _app(live, "oauthlib tesla", TESLA_SCOPES, redirect_uri)
    meta = httpx.get(live.base_url + TESLA_METADATA).json()
    session = OAuth2Session(
        app["client_id"], redirect_uri=redirect_uri, scope=TESLA_SCOPES.split(), pkce="S256"
    )
    url, _ = session.authorization_url(meta["authorization_endpoint"])
    callback = _browse(chromium, url, redirect_uri, "oauthlib tesla")
    token = session.fetch_token(
        meta["token_endpoint"],
        authorization_response=callback,
        client_secret=app["client_secret"],
        include_client_id=True,
    )
    assert token["expires_in"] == 28_800 and token["refresh_token"]
    refreshed = session.refresh_token(
        meta["token_endpoint"],
        client_id=app["client_id"],
        client_secret=app["client_secret"],
    )
    assert refreshed["refresh_token"] != token["refresh_token"]
    _works(live, refreshed["access_token"], "/api/1/vehicles")
