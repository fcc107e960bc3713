"""Seed 001, ev.energy's OAuth guide: every URL, curl and Python snippet it shows, as written,
against a live sandbox.

The guide's apps are created the way it says ev.energy creates them ("we will create an OAuth
application for you with these details and scopes"): `voltgate clients create` with the app's
name, scopes and redirect URI. Its one-minute code lifetime is not waited out here; it is tested
with a clock in `tests/identity/`.
"""

from __future__ import annotations

import contextlib
import io
from typing import Any

import httpx
import pytest

from tests.seeds.conftest import (
    Answer,
    Sandbox,
    assert_quoted,
    code_from,
    fill,
    redirect_target,
    scopes_of,
    sign_in_and_allow,
)
from voltgate.identity.consent import describe_scope

HOST = "https://api.ev.energy"
SCOPES = "charging_session:read vehicle:read"  # the guide's sample answers' scopes
APP_NAME = "your_app_name"

AUTHORIZE = (
    "https://api.ev.energy/o/authorize/?response_type=code&client_id=your_client_id"
    "&redirect_uri=your_redirect_uri"
)
REDEEM = (
    'curl -X POST -H "Cache-Control: no-cache" -H "Content-Type: application/x-www-form-urlencoded"'
    ' "https://api.ev.energy/o/token" -d "client_id=<your_client_id>"'
    ' -d "client_secret=<your_client_secret>" -d "code=<your_authorization_code>"'
    ' -d "redirect_uri=<your_redirect_uri>" -d "grant_type=authorization_code"'
)
PKCE_SNIPPET = """\
import random
import string
import base64
import hashlib
code_verifier = ''.join(random.choice(string.ascii_uppercase + string.digits) for _ in range(random.randint(43, 128)))
code_verifier = base64.urlsafe_b64encode(code_verifier.encode('utf-8'))
code_challenge = hashlib.sha256(code_verifier).digest()
code_challenge = base64.urlsafe_b64encode(code_challenge).decode('utf-8').replace('=', '')
"""
PKCE_AUTHORIZE = (
    "https://api.ev.energy/o/authorize?response_type=code&client_id=your_client_id"
    "&redirect_uri=your_redirect_uri&code_challenge=your_code_challenge"
    "&code_challenge_method=S256"
)
PKCE_REDEEM = (
    'curl -X POST -H "Cache-Control: no-cache" -H "Content-Type: application/x-www-form-urlencoded"'
    ' "https://api.ev.energy/o/token" -d "client_id=<your_client_id>"'
    ' -d "code=<your_authorization_code>" -d "code_verifier=<your_code_verifier>"'
    ' -d "redirect_uri=<your_redirect_uri>" -d "grant_type=authorization_code"'
)
BASIC_SNIPPET = """\
import base64
client_id = "<your_client_id>"
client_secret = "<your_client_secret>"
credential = f"{client_id}:{client_secret}"
print(base64.b64encode(credential.encode("utf-8")))
"""
CLIENT_CREDENTIALS = (
    'curl -X POST -H "Authorization: Basic <your_base64_encoded_credential>"'
    ' -H "Cache-Control: no-cache" -H "Content-Type: application/x-www-form-urlencoded"'
    ' "https://api.ev.energy/o/token" -d "grant_type=client_credentials"'
)
# The guide prints these two over several lines without a `\`: pasted line by line they would
# be separate commands, so they are run as the one command they show.
REFRESH = """curl -X POST
-H "Cache-Control: no-cache"
-H "Content-Type: application/x-www-form-urlencoded"
"https://api.ev.energy/o/token"
-d "client_id=<your_client_id>"
-d "client_secret=<your_client_secret>"
-d "refresh_token=<your_refresh_token>"
-d "grant_type=refresh_token\""""
REVOKE = """curl -X POST
-H "Cache-Control: no-cache"
-H "Content-Type: application/x-www-form-urlencoded"
"https://api.ev.energy/o/revoke_token"
-d "client_id=<your_client_id>"
-d "client_secret=<your_client_secret>"
-d "token=<token>\""""
SLASH_NOTE = (
    "Note: the trailing slash on this URL is required. You will receive a 405 error without it."
)


def test_the_requests_quoted_here_are_the_guides() -> None:
    assert_quoted(
        "001",
        AUTHORIZE,
        REDEEM,
        PKCE_SNIPPET,
        PKCE_AUTHORIZE,
        PKCE_REDEEM,
        BASIC_SNIPPET,
        CLIENT_CREDENTIALS,
        REFRESH,
        REVOKE,
        SLASH_NOTE,
        '"expires_in": 36000, "token_type": "Bearer", "scope": "charging_session:read vehicle:read"',
    )


def _one_line(command: str) -> str:
    return " ".join(command.split("\n"))


def _token(answer: Answer, *, refresh: bool) -> dict[str, Any]:
    """The guide's sample answer's fields and values."""
    assert answer.status == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["expires_in"] == 36_000 and body["token_type"] == "Bearer"
    assert scopes_of(body["scope"]) == scopes_of(SCOPES)
    assert bool(body.get("refresh_token")) is refresh
    return body


def _sessions(sandbox: Sandbox, token: str, **headers: str) -> httpx.Response:
    """ "Make requests to the API endpoints that your scopes permit"."""
    return httpx.get(
        f"{sandbox.base_url}/v2/charging_sessions",
        headers={"Authorization": f"Bearer {token}", **headers},
    )


@pytest.fixture(scope="module")
def app(sandbox: Sandbox) -> dict[str, str]:
    return sandbox.app(APP_NAME, "third_party", SCOPES, redirect_target(sandbox))


def _authorize(sandbox: Sandbox, url: str, client_id: str) -> tuple[str, str]:
    """The user at `url` (the guide's, filled in): code and the consent page they saw."""
    user = sandbox.creds["users"][0]
    target = fill(url, **{HOST: sandbox.base_url, "your_client_id": client_id}).replace(
        "your_redirect_uri", redirect_target(sandbox)
    )
    with httpx.Client(base_url=sandbox.base_url) as http:
        redirect = sign_in_and_allow(http, target, user["email"], user["password"])
    return code_from(redirect, redirect_target(sandbox)), redirect.extensions["consent"]


def test_authorization_code_with_the_guides_url_and_curl_then_refresh_and_revoke(
    sandbox: Sandbox, app: dict[str, str]
) -> None:
    code, consent = _authorize(sandbox, AUTHORIZE, app["client_id"])
    # "the authorization page listing the scopes you are requesting from them"
    assert f"Authorize {APP_NAME}?" in consent
    assert all(describe_scope(scope) in consent for scope in SCOPES.split())

    client = {
        HOST: sandbox.base_url,
        "<your_client_id>": app["client_id"],
        "<your_client_secret>": app["client_secret"],
        "<your_redirect_uri>": redirect_target(sandbox),
    }
    first = _token(
        sandbox.curl(REDEEM, **client, **{"<your_authorization_code>": code}), refresh=True
    )
    assert _sessions(sandbox, first["access_token"]).status_code == 200

    refreshed = _token(
        sandbox.curl(
            _one_line(REFRESH), **client, **{"<your_refresh_token>": first["refresh_token"]}
        ),
        refresh=True,
    )
    assert refreshed["refresh_token"] != first["refresh_token"]

    # Without the trailing slash: 405, as the guide's note says; with it, revoked.
    revoke = _one_line(REVOKE)
    token = {"<token>": refreshed["access_token"]}
    assert sandbox.curl(revoke, **client, **token).status == 405
    with_slash = revoke.replace("/o/revoke_token", "/o/revoke_token/")
    assert sandbox.curl(with_slash, **client, **token).status == 200
    assert _sessions(sandbox, refreshed["access_token"]).status_code == 401


def test_pkce_with_the_guides_snippet_url_and_curl(sandbox: Sandbox) -> None:
    public = sandbox.app(APP_NAME, "open_source", SCOPES, redirect_target(sandbox))
    made: dict[str, Any] = {}
    exec(PKCE_SNIPPET, made)  # the guide's snippet, run as written
    verifier = made["code_verifier"].decode("utf-8")  # what its author pastes
    code, _ = _authorize(
        sandbox,
        PKCE_AUTHORIZE.replace("your_code_challenge", made["code_challenge"]),
        public["client_id"],
    )
    answer = sandbox.curl(
        PKCE_REDEEM,
        **{
            HOST: sandbox.base_url,
            "<your_client_id>": public["client_id"],
            "<your_authorization_code>": code,
            "<your_code_verifier>": verifier,
            "<your_redirect_uri>": redirect_target(sandbox),
        },
    )
    token = _token(answer, refresh=True)
    assert _sessions(sandbox, token["access_token"]).status_code == 200


def test_client_credentials_with_the_guides_basic_credential_and_curl(
    sandbox: Sandbox, app: dict[str, str]
) -> None:
    # "Make sure your users have consented to share their ev.energy data with you"
    _authorize(sandbox, AUTHORIZE, app["client_id"])
    printed = io.StringIO()
    snippet = BASIC_SNIPPET.replace("<your_client_id>", app["client_id"]).replace(
        "<your_client_secret>", app["client_secret"]
    )
    with contextlib.redirect_stdout(printed):
        exec(snippet, {})  # the guide's snippet, run as written
    shown = printed.getvalue().strip()
    assert shown.startswith("b'") and shown.endswith("'"), shown
    credential = shown[2:-1]  # the credential inside the bytes the snippet prints

    answer = sandbox.curl(
        CLIENT_CREDENTIALS,
        **{HOST: sandbox.base_url, "<your_base64_encoded_credential>": credential},
    )
    token = _token(answer, refresh=False)
    # "You will be able to access data for any of your users."
    user = sandbox.creds["users"][0]
    read = _sessions(sandbox, token["access_token"], **{"EvEnergy-User": user["user_id"]})
    assert read.status_code == 200, read.text
