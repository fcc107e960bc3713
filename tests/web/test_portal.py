"""The developer portal in process: registering an app shows its secret once (post, redirect,
get: a reload shows it no more and registers nothing), rotation keeps the old secret for the
overlap only, a production app is refused until approved, forms refuse a missing CSRF token, a
form's URL opened in the browser leads to its page, and one developer can neither see nor change
another's app."""

from __future__ import annotations

import re
import struct
from collections.abc import AsyncIterator
from html import unescape

import httpx
import pytest
import sqlalchemy as sa

from tests.conftest import App, Backend, make_settings
from tests.fixtures.keyhost import key_host
from tests.web.support import PASSWORD, REDIRECT, Flow, forms
from voltgate.app import create_app
from voltgate.clock import FrozenClock
from voltgate.db.schema import portal_reveals

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
    shown = await _follow(app, answer)
    return _code(shown.text, "client-id"), _code(shown.text, "secret")


async def _follow(app: App, answer: httpx.Response) -> httpx.Response:
    """A form's 303 followed as a browser does: the page showing the new secret."""
    assert answer.status_code == 303, answer.text
    location = answer.headers["location"]
    assert re.fullmatch(r"/developer/apps/[A-Za-z0-9_]+/secret\?reveal=[A-Za-z0-9_-]+", location)
    shown = await app.http.get(location)
    assert shown.status_code == 200, shown.text
    return shown


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
    shown = await _follow(app, rotated)
    new = _code(shown.text, "secret")
    assert new != old
    assert "stops working in 1 h" in shown.text
    reloaded = await app.http.get(rotated.headers["location"])
    assert new not in reloaded.text and 'id="shown-once"' in reloaded.text
    app_page = await app.http.get(f"/developer/apps/{client_id}")
    assert app_page.text.count('<tr><td data-label="Secret">') == 2  # rotated once, not twice
    assert (await _revoke_status(app, client_id, old)).status_code == 200
    assert (await _revoke_status(app, client_id, new)).status_code == 200
    app.clock.advance(3_601)
    assert (await _revoke_status(app, client_id, old)).status_code == 401
    assert (await _revoke_status(app, client_id, new)).status_code == 200


async def _reveal_rows(app: App) -> list[tuple[str, ...]]:
    async with app.rt.db.connect() as conn:
        rows = await conn.execute(sa.select(portal_reveals))
        return [tuple(str(v) for v in row) for row in rows]


async def test_a_new_secret_is_shown_on_one_get_only_and_a_reload_registers_nothing(
    app: App,
) -> None:
    await app.rt.identity.users.create(DEVELOPER, PASSWORD)
    await _sign_in(app, DEVELOPER)
    new = await app.http.get("/developer/apps/new")
    answer = await app.http.post(
        "/developer/apps",
        data={
            "csrf": _csrf(new.text),
            "name": "Charge Planner",
            "kind": "third_party",
            "stage": "sandbox",
            "scope.openid": "1",
            "redirect_uris": REDIRECT,
        },
    )
    held = await _reveal_rows(app)  # between the POST and its GET: the secret waits, sealed
    assert (await app.http.head(answer.headers["location"])).status_code == 200
    assert await _reveal_rows(app) == held  # a HEAD shows nothing, so it takes nothing
    shown = await _follow(app, answer)
    secret = _code(shown.text, "secret")
    assert len(held) == 1 and all(secret not in column for column in held[0])
    assert secret not in answer.headers["location"]
    assert await _reveal_rows(app) == []  # taken by that one GET

    for again in (answer.headers["location"], answer.headers["location"] + "x"):
        reloaded = await app.http.get(again)
        assert reloaded.status_code == 200
        assert secret not in reloaded.text and 'id="shown-once"' in reloaded.text
        assert "Secret already shown" in reloaded.text
    home = await app.http.get("/developer")
    assert home.text.count('data-label="App"') == 1  # one app: nothing registered twice

    # A webhook's signing secret goes the same way, shown with the URL it signs for.
    client_id = _code(shown.text, "client-id")
    page = await app.http.get(f"/developer/apps/{client_id}")
    added = await app.http.post(
        f"/developer/apps/{client_id}/webhooks",
        data={"csrf": _csrf(page.text), "url": "https://hooks.example/voltgate"},
    )
    hook = await _follow(app, added)
    signing = _code(hook.text, "secret")
    assert signing.startswith("vgwhs_") and _code(hook.text, "webhook-url").startswith("https://")
    assert signing not in (await app.http.get(added.headers["location"])).text
    assert len(app.rt.alerting.webhooks.endpoints(client_id)) == 1


async def test_a_new_secret_is_not_shown_to_another_session(app: App) -> None:
    await app.rt.identity.users.create(DEVELOPER, PASSWORD)
    await _sign_in(app, DEVELOPER)
    client_id, _ = await _register(app)
    page = await app.http.get(f"/developer/apps/{client_id}")
    rotated = await app.http.post(
        f"/developer/apps/{client_id}/rotate", data={"csrf": _csrf(page.text), "overlap": "0"}
    )
    await _sign_in(app, DEVELOPER)  # the same developer in another browser: a new session
    elsewhere = await app.http.get(rotated.headers["location"])
    assert elsewhere.status_code == 200 and 'id="secret"' not in elsewhere.text
    assert len(await _reveal_rows(app)) == 1  # still there for the browser that rotated


async def test_a_forms_url_opened_in_the_browser_leads_to_its_page(app: App) -> None:
    await app.rt.identity.users.create(DEVELOPER, PASSWORD)
    await _sign_in(app, DEVELOPER)
    client_id, _ = await _register(app)
    answers = {
        "/developer/apps": "/developer",
        f"/developer/apps/{client_id}/rotate": f"/developer/apps/{client_id}#secrets",
        f"/developer/apps/{client_id}/webhooks": f"/developer/apps/{client_id}#webhooks",
        f"/developer/apps/{client_id}/webhooks-delete": f"/developer/apps/{client_id}#webhooks",
        f"/developer/apps/{client_id}/origins": f"/developer/apps/{client_id}#origins",
        f"/developer/apps/{client_id}/domain": f"/developer/apps/{client_id}#domain",
    }
    for path, page in answers.items():
        answer = await app.http.get(path)
        assert (answer.status_code, answer.headers["location"]) == (303, page), path
    for method, path, status in (
        ("GET", f"/developer/apps/{client_id}/nonsense", 404),
        ("POST", f"/developer/apps/{client_id}/nonsense", 403),  # no CSRF token
        ("PUT", "/developer/apps", 405),
        ("DELETE", f"/developer/apps/{client_id}", 405),
        ("POST", "/developer", 405),
    ):
        answer = await app.http.request(method, path)
        assert answer.status_code == status, (method, path)
        assert answer.headers["content-type"].startswith("text/html"), (method, path)
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
        assert 'href="/developer"' in answer.text
    assert (await app.http.put("/developer/apps")).headers["allow"] == "GET, HEAD, POST"


async def test_the_favicon_is_a_small_cached_icon(app: App) -> None:
    answer = await app.http.get("/favicon.ico")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "image/vnd.microsoft.icon"
    assert answer.headers["cache-control"] == "public, max-age=86400"
    assert answer.headers["x-content-type-options"] == "nosniff"
    reserved, kind, count, width, height = struct.unpack_from("<HHHBB", answer.content)
    assert (reserved, kind, count, width, height) == (0, 1, 1, 32, 32)
    assert len(answer.content) < 5_000


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


async def _post_new(app: App, **fields: str) -> httpx.Response:
    new = await app.http.get("/developer/apps/new")
    data = {"csrf": _csrf(new.text), "name": "Planner", "kind": "third_party",
            "stage": "sandbox", "scope.openid": "1", "redirect_uris": REDIRECT,
            **fields}  # fmt: skip
    return await app.http.post("/developer/apps", data={k: v for k, v in data.items() if v})


async def test_every_field_error_is_reported_at_once_and_nothing_is_created(app: App) -> None:
    developer = await app.rt.identity.users.create(DEVELOPER, PASSWORD)
    await _sign_in(app, DEVELOPER)
    answer = await _post_new(
        app,
        stage="production",
        redirect_uris="http://app.example/callback",  # plain http, not loopback: production no
        allowed_origins="ftp://app.example",
        domain="https://x.example/",  # a URL, not a domain
        **{"scope.openid": ""},  # no scope chosen
    )
    assert answer.status_code == 400, answer.text
    shown = re.search(r'<div class="error" role="alert" id="problems">(.+?)</div>', answer.text)
    assert shown is not None, answer.text
    problems = re.findall(r"<li>(.+?)</li>", unescape(shown.group(1)))
    assert len(problems) == 4, problems
    assert "choose one or more of the scopes" in problems[0]
    assert "a production app's redirect URIs are https" in problems[1]
    assert "allowed origin 'ftp://app.example'" in problems[2]
    assert problems[3].startswith("public-key domain: domain must be a host name")
    assert await app.rt.developer_apps.mine(developer.id) == []  # nothing registered


async def test_redirect_uris_a_sandbox_and_a_production_app_accept(app: App) -> None:
    await app.rt.identity.users.create(DEVELOPER, PASSWORD)
    await _sign_in(app, DEVELOPER)
    lan = "http://devbox.example:3000/callback"  # a test box on the LAN: sandbox only
    assert (await _post_new(app, redirect_uris=lan)).status_code == 303
    native = "http://127.0.0.1:8765/callback\nhttps://app.example/cb\ncom.example.app:/cb"
    assert (await _post_new(app, stage="production", redirect_uris=native)).status_code == 303
    refused = await _post_new(app, stage="production", redirect_uris=lan)
    assert refused.status_code == 400 and "are https" in refused.text


async def test_the_app_summary_lists_its_allowed_origins(app: App) -> None:
    await app.rt.identity.users.create(DEVELOPER, PASSWORD)
    await _sign_in(app, DEVELOPER)
    client_id, _ = await _register(app)
    page = await app.http.get(f"/developer/apps/{client_id}")
    assert '<dd id="summary-origins"><code>https://app.example</code><br></dd>' in page.text


async def test_the_sign_in_page_says_where_accounts_come_from(app: App) -> None:
    page = await app.http.get("/login?return_to=%2Fdeveloper")  # a sandbox
    hint = re.search(r'<p class="note" id="accounts">(.+?)</p>', page.text)
    assert hint is not None and "driver@sandbox.voltgate.test" in hint.group(1)
    assert "the users it printed" in hint.group(1)


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
