"""The developer portal in process: registering an app shows its secret once, rotation keeps
the old secret for the overlap only, a production app is refused until approved, forms refuse
a missing CSRF token, and one developer can neither see nor change another's app."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from html import unescape

import httpx
import pytest

from tests.conftest import App, Backend, make_settings
from tests.fixtures.keyhost import key_host
from tests.web.support import PASSWORD, REDIRECT, Flow, forms
from voltgate.app import create_app
from voltgate.clock import FrozenClock

DEVELOPER = "dev@example.com"
OTHER = "other-dev@example.com"
DRIVER = "driver@example.com"
SCOPES = ("openid", "offline_access", "vehicle_device_data")


async def _sign_in(app: App, email: str) -> None:
    app.http.cookies.clear()
    page = await app.http.get("/login")
    form = next(f for f in forms(page.text) if f.action == "/login")
    answer = await app.http.post(
        "/login", data={**form.fields, "email": email, "password": PASSWORD}
    )
    assert answer.status_code == 303, answer.text


def _csrf(html: str) -> str:
    return next(f for f in forms(html) if "csrf" in f.fields).fields["csrf"]


def _code(html: str, element: str) -> str:
    found = re.search(rf'<code id="{element}">([^<]+)</code>', html)
    assert found is not None, html
    return unescape(found.group(1))


async def _register(
    app: App, *, stage: str = "sandbox", name: str = "Charge Planner"
) -> tuple[str, str]:
    new = await app.http.get("/developer/apps/new")
    assert new.status_code == 200
    answer = await app.http.post(
        "/developer/apps",
        data={
            "csrf": _csrf(new.text),
            "name": name,
            "kind": "third_party",
            "stage": stage,
            **{f"scope.{s}": "1" for s in SCOPES},
            "redirect_uris": REDIRECT,
            "allowed_origins": "https://app.example",
        },
    )
    assert answer.status_code == 201, answer.text
    return _code(answer.text, "client-id"), _code(answer.text, "secret")


async def _revoke_status(app: App, client_id: str, secret: str) -> httpx.Response:
    """Client authentication alone: revoking an unknown token is 200 once the client is
    authenticated (RFC 7009 §2.2), 401 when it is not."""
    return await app.http.post(
        "/oauth/revoke", data={"token": "not-a-token"}, auth=(client_id, secret)
    )


async def test_the_secret_is_shown_once_and_the_app_works_with_it(app: App) -> None:
    users = app.rt.identity.users
    await users.create(DEVELOPER, PASSWORD)
    await users.create(DRIVER, PASSWORD)
    await _sign_in(app, DEVELOPER)
    client_id, secret = await _register(app)
    assert secret.startswith("vgcs_")
    page = await app.http.get(f"/developer/apps/{client_id}")
    assert page.status_code == 200
    assert client_id in page.text and secret not in page.text and "Live" in page.text
    home = await app.http.get("/developer")
    assert "Charge Planner" in home.text and secret not in home.text

    await _sign_in(app, DRIVER)
    flow = Flow(app.http, client_id, scope=" ".join(SCOPES))
    code = await flow.code(DRIVER)
    tokens = await app.http.post(
        "/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": flow.verifier,
        },
        auth=(client_id, secret),
    )
    assert tokens.status_code == 200, tokens.text
    # A portal app acts for users only: no client credentials of its own.
    own = await app.http.post(
        "/oauth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert own.status_code == 400 and own.json()["error"] == "unauthorized_client"

    await _sign_in(app, DEVELOPER)
    usage = await app.http.get(f"/developer/apps/{client_id}")
    totals = dict(re.findall(r'data-total="([^"]+)">(\d+)<', usage.text))
    assert totals == {"Requests": "2", "Tokens issued": "1", "Rate-limit hits": "0", "Errors": "1"}


async def test_rotation_keeps_the_old_secret_for_the_overlap_only(app: App) -> None:
    await app.rt.identity.users.create(DEVELOPER, PASSWORD)
    await _sign_in(app, DEVELOPER)
    client_id, old = await _register(app)
    page = await app.http.get(f"/developer/apps/{client_id}")
    rotated = await app.http.post(
        f"/developer/apps/{client_id}/rotate", data={"csrf": _csrf(page.text), "overlap": "3600"}
    )
    assert rotated.status_code == 200
    new = _code(rotated.text, "secret")
    assert new != old
    assert (await _revoke_status(app, client_id, old)).status_code == 200
    assert (await _revoke_status(app, client_id, new)).status_code == 200
    app.clock.advance(3_601)
    assert (await _revoke_status(app, client_id, old)).status_code == 401
    assert (await _revoke_status(app, client_id, new)).status_code == 200


async def test_a_production_app_is_refused_until_an_admin_approves_it(app: App) -> None:
    await app.rt.identity.users.create(DEVELOPER, PASSWORD)
    await _sign_in(app, DEVELOPER)
    client_id, secret = await _register(app, stage="production")
    page = await app.http.get(f"/developer/apps/{client_id}")
    assert "Waiting for approval" in page.text
    for path in ("/oauth/token", "/oauth2/v3/token", "/o/token"):
        refused = await app.http.post(
            path,
            data={"grant_type": "refresh_token", "refresh_token": "x"},
            auth=(client_id, secret),
        )
        assert refused.status_code == 400, (path, refused.text)
        assert refused.json()["error"] == "unauthorized_client"
        assert "waiting for an administrator's approval" in refused.json()["error_description"]
    consent = await Flow(app.http, client_id, scope="openid").start()
    assert consent.status_code == 400 and "waiting for an administrator" in consent.text

    await app.rt.developer_apps.approve(client_id)
    assert (await _revoke_status(app, client_id, secret)).status_code == 200
    page = await app.http.get(f"/developer/apps/{client_id}")
    assert "Waiting for approval" not in page.text


async def test_forms_without_the_csrf_token_are_refused(app: App) -> None:
    await app.rt.identity.users.create(DEVELOPER, PASSWORD)
    await _sign_in(app, DEVELOPER)
    forged = await app.http.post(
        "/developer/apps",
        data={
            "name": "Forged",
            "kind": "third_party",
            "stage": "sandbox",
            "scope.openid": "1",
            "redirect_uris": REDIRECT,
        },
    )
    assert forged.status_code == 403
    assert "Forged" not in (await app.http.get("/developer")).text
    client_id, old = await _register(app)
    for action in ("rotate", "webhooks", "origins", "domain"):
        refused = await app.http.post(
            f"/developer/apps/{client_id}/{action}",
            data={"csrf": "forged", "overlap": "0", "url": "https://x.example/h", "origins": ""},
        )
        assert refused.status_code == 403, action
    assert (await _revoke_status(app, client_id, old)).status_code == 200


async def test_another_developer_can_neither_see_nor_change_the_app(app: App) -> None:
    users = app.rt.identity.users
    await users.create(DEVELOPER, PASSWORD)
    await users.create(OTHER, PASSWORD)
    await _sign_in(app, DEVELOPER)
    client_id, secret = await _register(app)
    await _sign_in(app, OTHER)
    home = await app.http.get("/developer")
    assert home.status_code == 200 and client_id not in home.text
    assert (await app.http.get(f"/developer/apps/{client_id}")).status_code == 404
    csrf = _csrf(home.text)
    for action, data in (
        ("rotate", {"overlap": "0"}),
        ("webhooks", {"url": "https://evil.example/hook"}),
        ("origins", {"origins": "https://evil.example"}),
    ):
        answer = await app.http.post(
            f"/developer/apps/{client_id}/{action}", data={"csrf": csrf, **data}
        )
        assert answer.status_code == 404, action
    assert (await _revoke_status(app, client_id, secret)).status_code == 200
    assert app.rt.alerting.webhooks.endpoints(client_id) == []


async def test_portal_pages_ask_for_a_sign_in_first(app: App) -> None:
    for path in ("/developer", "/developer/apps/new", "/developer/apps/vgc_x"):
        answer = await app.http.get(path)
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login?return_to=%2Fdeveloper")


async def test_the_public_key_domain_is_registered_from_the_portal(app: App) -> None:
    users = app.rt.identity.users
    await users.create(DEVELOPER, PASSWORD)
    await users.create(OTHER, PASSWORD)
    await _sign_in(app, DEVELOPER)
    client_id, _ = await _register(app)
    with key_host() as host:
        key = host.serve_key()
        page = await app.http.get(f"/developer/apps/{client_id}")
        answer = await app.http.post(
            f"/developer/apps/{client_id}/domain",
            data={"csrf": _csrf(page.text), "domain": host.domain},
        )
        assert answer.status_code == 303, answer.text
        assert (await app.rt.identity.partners.public_key(host.domain)) == key.point
        page = await app.http.get(f"/developer/apps/{client_id}")
        assert f"<code>{host.domain}</code>" in page.text

        # Another developer's app cannot take the domain: the page says why.
        await _sign_in(app, OTHER)
        other_id, _ = await _register(app, name="Copycat")
        page = await app.http.get(f"/developer/apps/{other_id}")
        taken = await app.http.post(
            f"/developer/apps/{other_id}/domain",
            data={"csrf": _csrf(page.text), "domain": host.domain},
        )
    assert taken.status_code == 400
    assert "registered by another app" in taken.text
    assert (await app.rt.identity.partners.by_domain(host.domain)).client_id == client_id  # type: ignore[union-attr]


@pytest.fixture
async def limited(backend: Backend) -> AsyncIterator[App]:
    """The app with a token-endpoint limit of 2 requests per client and minute."""
    clock = FrozenClock()
    application = create_app(make_settings(backend, token_rate_per_client=2), clock=clock)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield App(http, application.state.runtime, clock, application)


async def test_rate_limit_hits_and_errors_are_charted_apart(limited: App) -> None:
    app = limited
    await app.rt.identity.users.create(DEVELOPER, PASSWORD)
    await _sign_in(app, DEVELOPER)
    client_id, secret = await _register(app)
    statuses = []
    for _ in range(3):
        answer = await app.http.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": "not-one"},
            auth=(client_id, secret),
        )
        statuses.append(answer.status_code)
    assert statuses == [400, 400, 429]
    page = await app.http.get(f"/developer/apps/{client_id}?range=day")
    totals = dict(re.findall(r'data-total="([^"]+)">(\d+)<', page.text))
    assert totals == {"Requests": "3", "Tokens issued": "0", "Rate-limit hits": "1", "Errors": "2"}
