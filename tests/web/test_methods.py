"""A page URL answers every method with a page: a form's URL opened by GET (a reload, a bookmark,
a pasted link) leads to its page, never acting; /logout asks before signing out; the consent
decision says to start again from the app; a wrong method is an HTML 405 with Allow. The API
paths keep their JSON errors."""

from __future__ import annotations

import httpx

from tests.conftest import App
from tests.web.support import PASSWORD, REDIRECT, Flow, forms

EMAIL = "driver@example.com"


async def _sign_in(app: App) -> None:
    await app.rt.identity.users.create(EMAIL, PASSWORD)
    page = await app.http.get("/login")
    form = next(f for f in forms(page.text) if f.action == "/login")
    answer = await app.http.post(
        "/login", data={**form.fields, "email": EMAIL, "password": PASSWORD}
    )
    assert answer.status_code == 303, answer.text


def _is_page(answer: httpx.Response) -> None:
    """An HTML page under the pages' security headers, not an API body."""
    assert answer.headers["content-type"].startswith("text/html"), answer.text
    csp = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert answer.headers["cache-control"] == "no-store"


async def test_a_forms_url_opened_by_get_leads_to_its_page(app: App) -> None:
    await _sign_in(app)
    for path, page in (
        ("/account/apps/revoke", "/account/apps"),
        ("/account/keys/remove", "/account/apps#keys"),
    ):
        for method in ("GET", "HEAD"):
            answer = await app.http.request(method, path)
            assert (answer.status_code, answer.headers["location"]) == (303, page), path
    assert (await app.http.get("/account/apps")).status_code == 200


async def test_logout_opened_by_get_asks_and_signs_nobody_out(app: App) -> None:
    signed_out = await app.http.get("/logout")
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/login")
    await _sign_in(app)
    for method in ("GET", "HEAD"):
        assert (await app.http.request(method, "/logout")).status_code == 200
    asked = await app.http.get("/logout")
    _is_page(asked)
    assert "Sign out?" in asked.text and EMAIL in asked.text
    assert (await app.http.get("/account/apps")).status_code == 200  # still signed in
    # A link from another site carries no CSRF token: the page's own form does.
    refused = await app.http.post("/logout", data={"csrf": "forged"})
    assert refused.status_code == 403
    assert (await app.http.get("/account/apps")).status_code == 200
    [form] = [f for f in forms(asked.text) if f.action == "/logout"]
    assert (await app.http.post("/logout", data=form.fields)).status_code == 303
    gone = await app.http.get("/account/apps")
    assert gone.status_code == 303 and gone.headers["location"].startswith("/login")


async def test_the_consent_decision_opened_by_get_says_to_start_again(app: App) -> None:
    user = await app.rt.identity.users.create(EMAIL, PASSWORD)
    cid, _ = await app.client(kind="third_party", scopes="openid", redirect_uris=[REDIRECT])
    flow = Flow(app.http, cid, scope="openid")
    consent = await flow.sign_in(await flow.start(), EMAIL)
    assert "Authorize" in consent.text
    for method in ("GET", "HEAD"):
        opened = await app.http.request(method, "/oauth/authorize/decision")
        assert (opened.status_code, opened.headers["allow"]) == (405, "POST"), method
    opened = await app.http.get("/oauth/authorize/decision?decision=allow")
    _is_page(opened)
    assert "go back to the app and start again" in opened.text
    assert not await app.rt.identity.consents.covers(user.id, cid, ("openid",))
    # The consent page's own form still works after that.
    assert (await flow.decide(consent)).status_code == 302


async def test_a_wrong_method_on_a_page_is_an_html_405_with_allow(app: App) -> None:
    for path, allow in (
        ("/login", "GET, HEAD, POST"),
        ("/logout", "GET, HEAD, POST"),
        ("/oauth/authorize", "GET, HEAD"),
        ("/o/authorize/", "GET, HEAD"),
        ("/oauth2/v3/authorize", "GET, HEAD"),
        ("/oauth/authorize/decision", "POST"),
        ("/account/apps", "GET, HEAD"),
        ("/account/apps/revoke", "GET, HEAD, POST"),
        ("/account/keys/remove", "GET, HEAD, POST"),
        ("/_ak/app.example", "GET, HEAD, POST"),
    ):
        for method in ("PUT", "PATCH", "DELETE"):
            answer = await app.http.request(method, path)
            assert (answer.status_code, answer.headers["allow"]) == (405, allow), (method, path)
            _is_page(answer)
            assert f"this page takes {allow} only" in answer.text, path
    assert 'href="/account/apps"' in (await app.http.put("/account/apps/revoke")).text
    assert 'href="/login"' in (await app.http.delete("/login")).text


async def test_the_api_keeps_its_json_errors(app: App) -> None:
    for method, path in (
        ("GET", "/oauth/token"),
        ("GET", "/oauth/revoke"),
        ("DELETE", "/api/1/vehicles"),
        ("DELETE", "/docs"),
    ):
        answer = await app.http.request(method, path)
        assert answer.status_code == 405, path
        assert answer.headers["content-type"].startswith("application/json"), path
        assert "allow" in answer.headers, path
