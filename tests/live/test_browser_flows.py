"""The authorization-code flow end to end with clients written by others, in a real browser:
npm `openid-client` (a public client with PKCE) and Authlib (a confidential client), the sign-in
and consent pages driven in headless Debian Chromium through Playwright, against a live server.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.browser import Lines, landed_at, node_app
from tests.fixtures.live import LiveServer, free_port
from tests.live.support import me

RP = Path(__file__).parent / "rp"
EMAIL = "driver@example.com"
PASSWORD = "correct horse battery staple"
SCOPES = "openid offline_access profile email vehicle_device_data"


def _user(live: LiveServer) -> str:
    return str(
        live.cli_json("users", "create", "--email", EMAIL, "--password", PASSWORD)["user_id"]
    )


def _sign_in_and_allow(page: Any, app_name: str, typo_first: bool = False) -> None:
    """What a person does: sign in (after a typo, maybe), read the consent page, press Allow."""
    if typo_first:
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill(PASSWORD + "!")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("the email or password is incorrect").wait_for()
        assert page.get_by_text(f"to continue to {app_name}").is_visible()
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name=f"Authorize {app_name}?").wait_for()
    assert page.get_by_text("See your vehicles' live data").is_visible()
    assert page.get_by_text("See your email address").is_visible()
    page.get_by_role("button", name="Allow").click()


def _relying_party(live: LiveServer, client_id: str, port: int) -> AbstractContextManager[Lines]:
    env = {"ISSUER": live.base_url, "CLIENT_ID": client_id, "PORT": str(port), "SCOPE": SCOPES}
    return node_app(RP / "rp.mjs", env)


def test_openid_client_completes_the_flow_in_chromium(live: LiveServer, chromium: Any) -> None:
    user_id = _user(live)
    port = free_port()
    client_id = live.create_client(
        kind="open_source", scopes=SCOPES, redirect_uri=f"http://127.0.0.1:{port}/callback"
    )["client_id"]
    with _relying_party(live, client_id, port) as rp:
        ready = rp.next()
        assert ready["event"] == "ready", ready
        context = chromium.new_context()
        try:
            page = context.new_page()
            page.goto(ready["authorization_url"])
            page.get_by_role("heading", name="Sign in").wait_for()
            _sign_in_and_allow(page, "test open_source")
            page.locator("#done").wait_for()
            assert page.url.startswith(ready["redirect_uri"])
        finally:
            context.close()
        result = rp.next()
    assert result["event"] == "done", result
    # openid-client validated the ID token (signature, iss, aud, exp, nonce, at_hash) itself.
    claims, userinfo = result["claims"], result["userinfo"]
    assert claims["sub"] == user_id == userinfo["sub"]
    assert claims["aud"] == client_id and claims["iss"] == live.base_url
    assert {"nonce", "auth_time", "at_hash"} <= claims.keys()
    assert userinfo["email"] == EMAIL and userinfo["name"] == "driver"
    first, refreshed = result["first"], result["refreshed"]
    assert refreshed["refresh_token"] != first["refresh_token"]
    # The relying party revoked the refreshed access token: refused at once. The first access
    # token stays valid until it expires (refresh rotates the refresh token only).
    assert me(live.base_url, refreshed["access_token"]).status_code == 401
    assert me(live.base_url, first["access_token"]).status_code == 200


def test_authlib_confidential_client_completes_the_flow_in_chromium(
    live: LiveServer, chromium: Any
) -> None:
    from authlib.integrations.requests_client import OAuth2Session
    from joserfc import jwt
    from joserfc.jwk import KeySet

    from voltgate.identity.oidc import at_hash

    user_id = _user(live)
    redirect_uri = f"http://127.0.0.1:{free_port()}/authlib/callback"
    created = live.create_client(kind="third_party", scopes=SCOPES, redirect_uri=redirect_uri)
    meta = httpx.get(f"{live.base_url}/.well-known/openid-configuration", timeout=10).json()
    session = OAuth2Session(
        created["client_id"],
        created["client_secret"],
        scope=SCOPES,
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
    )
    verifier = "a" * 20 + "B" * 20 + "-._~" + "9" * 12
    url, state = session.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce="authlib-nonce"
    )
    callback = landed_at(
        chromium,
        url,
        redirect_uri,
        lambda page: _sign_in_and_allow(page, "test third_party", typo_first=True),
    )
    token = session.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    assert session.token and state in callback
    keys = KeySet.import_key_set(httpx.get(meta["jwks_uri"], timeout=10).json())
    claims = jwt.decode(token["id_token"], keys, algorithms=["ES256"]).claims
    assert claims["sub"] == user_id and claims["nonce"] == "authlib-nonce"
    assert claims["aud"] == created["client_id"] and claims["iss"] == meta["issuer"]
    assert claims["at_hash"] == at_hash(token["access_token"])
    assert session.get(meta["userinfo_endpoint"]).json()["sub"] == user_id
    old_refresh = token["refresh_token"]
    refreshed = session.refresh_token(meta["token_endpoint"])
    assert refreshed["refresh_token"] != old_refresh
    revoked = session.revoke_token(meta["revocation_endpoint"], refreshed["refresh_token"])
    assert revoked.status_code == 200
    # Revoking the refresh token revokes the grant: both access tokens stop working.
    for access in (token["access_token"], refreshed["access_token"]):
        assert me(live.base_url, access).status_code == 401


class _Attacker(BaseHTTPRequestHandler):
    """A page on another port of 127.0.0.1 (same site, so Lax cookies go along) that frames."""

    target = ""

    def do_GET(self) -> None:
        body = f'<iframe id="victim" src="{self.target}" width="600" height="400"></iframe>'
        self.send_response(200)
        self.send_header("content-type", "text/html")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *_args: Any) -> None:
        pass


@contextmanager
def _attacker_page(target: str) -> Iterator[str]:
    handler = type("Handler", (_Attacker,), {"target": target})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _framed_text(page: Any) -> str:
    frame = page.frame_locator("#victim")
    try:
        return str(frame.locator("body").inner_text(timeout=2_000))
    except Exception:  # a blocked frame has no document to read
        return ""


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_the_consent_page_cannot_be_framed(live: LiveServer, chromium: Any) -> None:
    _user(live)
    redirect_uri = "https://app.example/callback"
    client_id = live.create_client(kind="third_party", scopes=SCOPES, redirect_uri=redirect_uri)[
        "client_id"
    ]
    authorize = (
        f"{live.base_url}/oauth/authorize?response_type=code&client_id={client_id}"
        f"&redirect_uri={redirect_uri}&scope=vehicle_device_data&state=s&prompt=consent"
    )
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.goto(authorize)
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Authorize test third_party?").wait_for()
        # Control: a same-site page without frame protection does render inside the frame.
        with _attacker_page(f"{live.base_url}/.well-known/openid-configuration") as control:
            page.goto(control)
            assert "issuer" in _framed_text(page)
        with _attacker_page(authorize) as attacker:
            # Chromium reports the refusal on the console: a deterministic signal to wait for.
            with page.expect_console_message(
                lambda message: "frame-ancestors" in message.text, timeout=10_000
            ):
                page.goto(attacker)
            framed = _framed_text(page)
            assert "Allow" not in framed and "Authorize" not in framed
    finally:
        context.close()
