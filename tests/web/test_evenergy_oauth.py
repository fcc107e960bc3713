"""ev.energy's OAuth as its developer guide writes it (seed 001), in process: the authorize URL
without `scope`, the PKCE URL without the trailing slash, the Python snippet's verifier, the
curls' form bodies, and 10-hour tokens; voltgate's own `/oauth/*` paths keep to the RFCs."""

from __future__ import annotations

import base64
import hashlib
import random
import string

import httpx
import pytest

from tests.conftest import App
from tests.web.support import PASSWORD, REDIRECT, Flow, forms
from voltgate.identity import pkce
from voltgate.identity.consent import describe_scope

SCOPES = "charging_session:read vehicle:read"
EMAIL = "driver@example.com"
FORM = {"Cache-Control": "no-cache", "Content-Type": "application/x-www-form-urlencoded"}


async def _app(app: App, kind: str = "third_party", **opts: object) -> tuple[str, str]:
    await app.rt.identity.users.create(EMAIL, PASSWORD, "Dana Driver")
    return await app.client(kind=kind, scopes=SCOPES, redirect_uris=[REDIRECT], **opts)


def _guide_verifier(length: int) -> tuple[str, str]:
    """The guide's Python snippet, as written (its length drawn from 43-128 there): the
    verifier it sends and its challenge."""
    rng = random.Random(length)
    code_verifier = "".join(
        rng.choice(string.ascii_uppercase + string.digits) for _ in range(length)
    )
    encoded = base64.urlsafe_b64encode(code_verifier.encode("utf-8"))
    code_challenge = hashlib.sha256(encoded).digest()
    challenge = base64.urlsafe_b64encode(code_challenge).decode("utf-8").replace("=", "")
    return encoded.decode("utf-8"), challenge


async def _curl(app: App, path: str, **fields: str) -> httpx.Response:
    """The guide's curl: `-H` its two headers, `-d` each field."""
    return await app.http.post(
        path, content="&".join(f"{k}={v}" for k, v in fields.items()), headers=FORM
    )


async def _redeem(app: App, code: str, **client: str) -> httpx.Response:
    """The guide's curl redeeming a code, with the app's fields (its secret, or a verifier)."""
    return await _curl(
        app, "/o/token", **client, code=code, redirect_uri=REDIRECT, grant_type="authorization_code"
    )


async def test_the_authorize_url_without_scope_asks_for_the_apps_scopes(app: App) -> None:
    cid, secret = await _app(app)
    # https://api.ev.energy/o/authorize/?response_type=code&client_id=…&redirect_uri=…
    flow = Flow(
        app.http, cid, scope=None, verifier=None, state=None, nonce=None, path="/o/authorize/"
    )
    page = await flow.start()
    assert page.status_code == 200 and "Sign in" in page.text, page.text
    consent = await flow.sign_in(page, EMAIL)
    assert "Authorize test third_party?" in consent.text
    listed = [f for f in forms(consent.text) if f.action == "/oauth/authorize/decision"]
    assert listed and all(describe_scope(s) in consent.text for s in SCOPES.split())
    code = await flow.code(EMAIL)

    redeemed = await _redeem(app, code, client_id=cid, client_secret=secret)
    assert redeemed.status_code == 200, redeemed.text
    body = redeemed.json()
    assert body["expires_in"] == 36_000 and body["token_type"] == "Bearer"
    assert sorted(body["scope"].split()) == sorted(SCOPES.split())
    assert body["refresh_token"]

    refreshed = await _curl(
        app,
        "/o/token",
        client_id=cid,
        client_secret=secret,
        refresh_token=body["refresh_token"],
        grant_type="refresh_token",
    )
    assert refreshed.status_code == 200 and refreshed.json()["expires_in"] == 36_000


async def test_voltgates_own_authorize_still_wants_a_scope(app: App) -> None:
    cid, _ = await _app(app)
    flow = Flow(app.http, cid, scope=None, verifier=None, nonce=None)
    refused = await flow.start()
    assert refused.status_code == 302
    assert "error=invalid_scope" in refused.headers["location"]


@pytest.mark.parametrize("length", [43, 128])
async def test_a_public_app_with_the_guides_pkce_url_and_snippet(app: App, length: int) -> None:
    cid, _ = await _app(app, kind="open_source")
    verifier, challenge = _guide_verifier(length)
    assert not pkce.VERIFIER.match(verifier)  # outside RFC 7636: padded, or past 128
    # https://api.ev.energy/o/authorize?response_type=code&…&code_challenge=…&code_challenge_method=S256
    flow = Flow(
        app.http, cid, scope=None, verifier=None, state=None, nonce=None, path="/o/authorize"
    )
    code = await flow.code(EMAIL, code_challenge=challenge, code_challenge_method="S256")

    # voltgate's own token endpoint keeps to RFC 7636 (and the code stays unused).
    strict = await app.http.post(
        "/oauth/token",
        data={
            "client_id": cid,
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": REDIRECT,
            "grant_type": "authorization_code",
        },
    )
    assert strict.status_code == 400 and strict.json()["error"] == "invalid_grant", strict.text
    assert "43-128" in strict.json()["error_description"]

    redeemed = await _redeem(app, code, client_id=cid, code_verifier=verifier)
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json()["expires_in"] == 36_000


async def test_a_wrong_verifier_of_the_guides_shape_is_still_refused(app: App) -> None:
    cid, _ = await _app(app, kind="open_source")
    _, challenge = _guide_verifier(90)
    other, _ = _guide_verifier(91)
    flow = Flow(
        app.http, cid, scope=None, verifier=None, state=None, nonce=None, path="/o/authorize"
    )
    code = await flow.code(EMAIL, code_challenge=challenge, code_challenge_method="S256")
    refused = await _redeem(app, code, client_id=cid, code_verifier=other)
    assert refused.status_code == 400 and "does not match" in refused.json()["error_description"]


async def test_tokens_live_ten_hours_on_o_token_unless_the_app_chose(app: App) -> None:
    cid, secret = await _app(app)
    credential = base64.b64encode(f"{cid}:{secret}".encode()).decode()
    basic = {"Authorization": f"Basic {credential}", **FORM}
    guide = await app.http.post("/o/token", content="grant_type=client_credentials", headers=basic)
    assert guide.status_code == 200, guide.text
    assert guide.json()["expires_in"] == 36_000 and guide.json()["token_type"] == "Bearer"
    slashed = await app.http.post(
        "/o/token/", content="grant_type=client_credentials", headers=basic
    )
    assert slashed.status_code == 200 and slashed.json()["expires_in"] == 36_000, slashed.text
    own = await app.http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(cid, secret)
    )
    assert own.json()["expires_in"] == 3_600  # the kind's default on voltgate's own path

    chose, chose_secret = await app.client(kind="third_party", scopes=SCOPES, token_ttl=600)
    short = await app.http.post(
        "/o/token", data={"grant_type": "client_credentials"}, auth=(chose, chose_secret)
    )
    assert short.json()["expires_in"] == 600
