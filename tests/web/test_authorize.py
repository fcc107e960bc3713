"""The authorization endpoint and its pages (RFC 6749 §4.1, OIDC Core §3.1.2), in process."""

from __future__ import annotations

from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.conftest import App
from tests.web.support import PASSWORD, REDIRECT, Flow, forms, query
from voltgate.identity.oidc import at_hash

SCOPES = "openid offline_access profile email vehicle_device_data vehicle_location"
EMAIL = "driver@example.com"


async def _setup(app: App, kind: str = "third_party", **opts: Any) -> tuple[str, str]:
    await app.rt.identity.users.create(EMAIL, PASSWORD, "Dana Driver")
    return await app.client(kind=kind, scopes=SCOPES, redirect_uris=[REDIRECT], **opts)


async def _redeem(app: App, flow: Flow, code: str, cid: str, secret: str) -> httpx.Response:
    return await app.http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": flow.verifier,
        },
        auth=(cid, secret),
    )


async def test_sign_in_consent_and_code_exchange_with_an_id_token(app: App) -> None:
    cid, secret = await _setup(app)
    flow = Flow(app.http, cid, scope="openid offline_access email vehicle_device_data")
    page = await flow.start()
    assert page.status_code == 200 and "Sign in" in page.text and "test third_party" in page.text
    consent = await flow.sign_in(page, EMAIL)
    assert consent.status_code == 200
    assert "Authorize test third_party?" in consent.text
    assert "See your vehicles&#39; live data" in consent.text
    assert "See your email address" in consent.text
    redirect = await flow.decide(consent)
    assert redirect.status_code == 302
    location = redirect.headers["location"]
    assert location.startswith(REDIRECT + "?")
    params = query(location)
    assert params["state"] == "st-123" and params["iss"] == app.rt.settings.issuer

    response = await _redeem(app, flow, params["code"], cid, secret)
    assert response.status_code == 200, response.text
    body = response.json()
    assert {"access_token", "refresh_token", "id_token"} <= body.keys()
    jwks = KeySet.import_key_set((await app.http.get("/.well-known/jwks.json")).json())
    id_token = jwt.decode(body["id_token"], jwks, algorithms=["ES256"])
    claims = id_token.claims
    user = (await app.rt.identity.users.list_all())[0]
    assert claims["sub"] == user.id and claims["aud"] == cid and claims["nonce"] == "n-456"
    assert claims["iss"] == app.rt.settings.issuer and claims["email"] == EMAIL
    assert claims["at_hash"] == at_hash(body["access_token"])
    assert claims["auth_time"] <= claims["iat"] < claims["exp"]

    info = await app.http.get(
        "/oauth/userinfo", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert info.status_code == 200
    assert info.json() == {"sub": user.id, "email": EMAIL, "email_verified": False}


async def test_consent_is_remembered_until_more_is_asked_or_prompt_consent(app: App) -> None:
    cid, _ = await _setup(app)
    flow = Flow(app.http, cid, scope="openid vehicle_device_data")
    await flow.code(EMAIL)
    again = await flow.start()
    assert again.status_code == 302 and "code" in query(again.headers["location"])
    narrower = await flow.start(scope="vehicle_device_data")
    assert narrower.status_code == 302
    wider = await flow.start(scope="openid vehicle_device_data vehicle_location")
    assert wider.status_code == 200 and "Authorize" in wider.text
    forced = await flow.start(prompt="consent")
    assert forced.status_code == 200 and "Authorize" in forced.text


async def test_deny_redirects_with_access_denied_and_the_state(app: App) -> None:
    cid, _ = await _setup(app)
    flow = Flow(app.http, cid)
    consent = await flow.sign_in(await flow.start(), EMAIL)
    denied = await flow.decide(consent, "deny")
    assert denied.status_code == 302
    params = query(denied.headers["location"])
    assert params["error"] == "access_denied" and params["state"] == "st-123"
    assert "code" not in params


async def test_prompt_none_reports_login_and_consent_required(app: App) -> None:
    cid, _ = await _setup(app)
    flow = Flow(app.http, cid)
    first = await flow.start(prompt="none")
    assert query(first.headers["location"])["error"] == "login_required"
    page = await flow.start()
    await flow.sign_in(page, EMAIL)
    second = await flow.start(prompt="none")
    assert query(second.headers["location"])["error"] == "consent_required"


async def test_prompt_login_asks_again_and_then_continues(app: App) -> None:
    cid, _ = await _setup(app)
    flow = Flow(app.http, cid, scope="vehicle_device_data")
    await flow.code(EMAIL)
    page = await flow.start(prompt="login")
    assert page.status_code == 200 and "Sign in" in page.text
    back = await flow.sign_in(page, EMAIL)
    assert back.status_code == 302 and "code" in query(back.headers["location"])


async def test_every_dialect_path_serves_the_same_flow(app: App) -> None:
    cid, secret = await _setup(app)
    for path in ("/o/authorize/", "/oauth2/v3/authorize"):
        flow = Flow(app.http, cid, scope="vehicle_device_data", path=path)
        code = await flow.code(EMAIL)
        response = await _redeem(app, flow, code, cid, secret)
        assert response.status_code == 200, (path, response.text)


async def test_pages_refuse_framing_caching_and_third_party_assets(app: App) -> None:
    cid, _ = await _setup(app)
    flow = Flow(app.http, cid)
    login = await flow.start()
    consent = await flow.sign_in(login, EMAIL)
    for page in (login, consent):
        csp = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
        assert page.headers["x-frame-options"] == "DENY"
        assert page.headers["cache-control"] == "no-store"
        assert "https://app.example" in csp  # the redirect after Allow is a form target
        assert "http://" not in page.text.replace("https://app.example", "")


async def test_cookies_are_http_only_and_same_site(app: App) -> None:
    cid, _ = await _setup(app)
    flow = Flow(app.http, cid)
    login = await flow.start()
    assert "httponly" in login.headers["set-cookie"].lower()
    form = forms(login.text)[0]
    signed_in = await app.http.post(
        "/login", data={**form.fields, "email": EMAIL, "password": PASSWORD}
    )
    cookies = signed_in.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("vg_session="))
    assert "httponly" in session.lower() and "samesite=lax" in session.lower()
    assert "secure" not in session.lower()  # plain http here; https adds Secure and __Host-


async def test_secure_cookie_names_and_flags_over_https(app: App) -> None:
    cid, _ = await _setup(app)
    transport = app.http._transport  # the same in-process app, reached as https
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as https:
        flow = Flow(https, cid)
        login = await flow.start()
        cookie = login.headers["set-cookie"]
        assert cookie.startswith("__Host-vg_csrf=") and "secure" in cookie.lower()
        code = await flow.code(EMAIL)
        assert code.startswith("vgac_")
