"""The developer portal in headless Chromium against a live server, as a developer uses it:
from the landing page they sign in, register an app and copy its client id and secret; a driver
connects the app with those credentials (authorization code + PKCE, refresh, API calls); the
app's page then charts that traffic. A production app registered the same way is refused until
`voltgate apps approve`. A reload after a form repeats nothing and shows a secret no more. Every
portal page, the sandbox's callback and the connected-apps page fit a 390 px screen without
breaking a word."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from tests.fixtures.live import LiveServer, free_port, live_server
from tests.web.phone import PHONE, fits
from tests.web.support import query
from voltgate.cli.common import started_runtime
from voltgate.config import Settings
from voltgate.identity import pkce
from voltgate.vehicles.seed import seed_vehicles

DEVELOPER = "dev@example.com"
DRIVER = "driver@example.com"
PASSWORD = "correct horse battery staple"
SCOPES = ("openid", "offline_access", "vehicle_device_data")
VERIFIER = "chromium-portal-" + "v" * 40


@dataclass(frozen=True)
class Portal:
    server: LiveServer
    redirect_uri: str


async def _provision(settings: Settings) -> None:
    async with started_runtime(settings) as rt:
        await rt.identity.users.create(DEVELOPER, PASSWORD)
        driver = await rt.identity.users.create(DRIVER, PASSWORD)
        await seed_vehicles(rt.owner.vehicles, rt.identity.users, driver.id)


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[Portal]:
    asyncio.run(_provision(Settings(data_dir=tmp_path / "data")))
    redirect_uri = f"http://127.0.0.1:{free_port()}/callback"
    with live_server(
        tmp_path / "data", tmp_path / "server.log", usage_flush_interval="0.2"
    ) as server:
        yield Portal(server, redirect_uri)


def _eventually(check: Callable[[], bool], what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not in {timeout} s: {what}")
        time.sleep(0.1)


def _sign_in(page: Any, email: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def _register(page: Any, portal: Portal, name: str, stage: str, *more_uris: str) -> tuple[str, str]:
    """Fill in the registration form; the client id and secret, copied from the page."""
    page.goto(f"{portal.server.base_url}/developer/apps/new")
    page.get_by_label("App name").fill(name)
    page.get_by_role("radio", name="Web or server app: keeps a client secret").check()
    page.get_by_role("radio", name=re.compile(f"^{stage.capitalize()}:")).check()
    for scope in SCOPES:
        page.locator(f'input[name="scope.{scope}"]').check()
    page.get_by_label("Redirect URIs").fill("\n".join((portal.redirect_uri, *more_uris)))
    page.get_by_label("Allowed origins").fill("http://127.0.0.1:3000")
    page.get_by_role("button", name="Register").click()
    page.get_by_role("heading", name="Your app's credentials").wait_for()
    return page.locator("#client-id").inner_text(), page.locator("#secret").inner_text()


def _connect(chromium: Any, portal: Portal, client_id: str) -> str:
    """The driver allows the app in a browser of their own: the code the app receives."""
    landed: list[str] = []
    context = chromium.new_context()
    try:
        page = context.new_page()

        def catch(route: Any) -> None:
            landed.append(route.request.url)
            route.fulfill(body="ok")

        page.route(f"{portal.redirect_uri}**", catch)
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": portal.redirect_uri,
            "scope": " ".join(SCOPES),
            "state": "portal",
            "code_challenge": pkce.s256(VERIFIER),
            "code_challenge_method": "S256",
        }
        page.goto(f"{portal.server.base_url}/oauth2/v3/authorize?{urlencode(params)}")
        _sign_in(page, DRIVER)
        page.get_by_role("heading", name="Authorize Charge Planner?").wait_for()
        page.get_by_role("button", name="Allow").click()
        page.wait_for_url(f"{portal.redirect_uri}**")
    finally:
        context.close()
    return query(landed[-1])["code"]


def _use_the_app(portal: Portal, client_id: str, secret: str, code: str) -> None:
    """What the app does with the copied credentials: 2 tokens, 4 API calls (one a 404)."""
    base = portal.server.base_url
    with httpx.Client(base_url=base, timeout=10) as http:
        tokens = http.post(
            "/oauth2/v3/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": portal.redirect_uri,
                "code_verifier": VERIFIER,
            },
            auth=(client_id, secret),
        )
        assert tokens.status_code == 200, tokens.text
        refreshed = http.post(
            "/oauth2/v3/token",
            data={"grant_type": "refresh_token", "refresh_token": tokens.json()["refresh_token"]},
            auth=(client_id, secret),
        )
        assert refreshed.status_code == 200, refreshed.text
        bearer = {"Authorization": f"Bearer {refreshed.json()['access_token']}"}
        for _ in range(3):
            vehicles = http.get("/api/1/vehicles", headers=bearer)
            assert vehicles.status_code == 200, vehicles.text
            assert vehicles.json()["count"] == 3
        missing = http.get("/api/1/vehicles/1/vehicle_data", headers=bearer)
        assert missing.status_code == 404, missing.text


def _totals(page: Any) -> dict[str, str]:
    return {
        str(node.get_attribute("data-total")): node.inner_text()
        for node in page.locator("[data-total]").all()
    }


def _problem(problems: list[str], message: Any) -> None:
    """A console message (a failed request for /favicon.ico would be one)."""
    problems.append(f"{message.text} ({message.location})")


def test_an_app_registered_in_chromium_works_and_its_usage_is_charted(
    portal: Portal, chromium: Any, tmp_path: Path
) -> None:
    base = portal.server.base_url
    problems: list[str] = []
    context = chromium.new_context()
    try:
        page = context.new_page()
        page.on("console", lambda message: _problem(problems, message))
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.goto(base)
        page.get_by_role("link", name="Developer portal").click()
        _sign_in(page, DEVELOPER)
        page.get_by_role("heading", name="Developer portal").wait_for()
        page.get_by_role("link", name="Register an app").click()
        client_id, secret = _register(page, portal, "Charge Planner", "sandbox")
        assert secret.startswith("vgcs_")

        _use_the_app(portal, client_id, secret, _connect(chromium, portal, client_id))

        page.get_by_role("link", name="Go to the app").click()
        page.get_by_role("heading", name="Charge Planner").wait_for()
        assert secret not in page.content()  # shown once
        expected = {"Requests": "6", "Tokens issued": "2", "Rate-limit hits": "0", "Errors": "1"}

        def charted() -> bool:
            page.reload()
            return _totals(page) == expected

        _eventually(charted, f"the charts show {expected}, they show {_totals(page)}")
        assert page.locator("svg.chart rect.bar.requests").count() >= 1
        assert page.locator("svg.chart rect.bar.tokens").count() >= 1
        page.locator("#usage").screenshot(path=str(tmp_path / "usage.png"))
        assert (tmp_path / "usage.png").stat().st_size > 1_000
        page.get_by_role("link", name="Show the last 24 hours").click()
        assert _totals(page) == expected
        icon = page.evaluate(
            """() => new Promise((done) => {
                 const img = new Image();
                 img.onload = () => done([img.naturalWidth, img.naturalHeight]);
                 img.onerror = () => done(null);
                 img.src = "/favicon.ico";
               })"""
        )
        assert icon == [32, 32]
    finally:
        context.close()
    assert problems == [], problems


def test_a_production_app_works_once_approved_and_the_pages_fit_a_phone(
    portal: Portal, chromium: Any
) -> None:
    base = portal.server.base_url
    context = chromium.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        fits(page, f"{base}/")
        fits(page, f"{base}/developer")  # the sign-in page
        _sign_in(page, DEVELOPER)
        page.get_by_role("heading", name="Developer portal").wait_for()
        client_id, secret = _register(page, portal, "Charge Planner", "production")
        fits(page)  # the credentials page
        assert page.get_by_role("status").inner_text().startswith("This production app")

        def token_status() -> httpx.Response:
            return httpx.post(
                f"{base}/oauth2/v3/token",
                data={"grant_type": "refresh_token", "refresh_token": "not-one"},
                auth=(client_id, secret),
                timeout=10,
            )

        refused = token_status()
        assert refused.status_code == 400
        assert refused.json()["error"] == "unauthorized_client"
        assert "waiting for an administrator's approval" in refused.json()["error_description"]
        pending = portal.server.cli_json("apps", "list", "--pending")
        assert [app["client_id"] for app in pending["apps"]] == [client_id]  # type: ignore[union-attr]
        portal.server.cli("apps", "approve", client_id)
        # Approved: the client authenticates, and the made-up refresh token is what is refused.
        _eventually(lambda: token_status().json()["error"] == "invalid_grant", "the approval heard")

        for path in ("/developer", "/developer/apps/new", f"/developer/apps/{client_id}"):
            fits(page, base + path)
        fits(page, f"{base}/developer/apps/{client_id}?range=day")
        page.get_by_label("The current secret stops working").select_option("3600")
        page.get_by_role("button", name="Rotate the secret").click()
        page.get_by_role("heading", name="New client secret").wait_for()
        fits(page)

        code = _connect(chromium, portal, client_id)
        _use_the_app(portal, client_id, page.locator("#secret").inner_text(), code)
        context.clear_cookies()
        page.goto(f"{base}/account/apps")
        _sign_in(page, DRIVER)
        page.get_by_role("heading", name="Connected apps").wait_for()
        assert page.get_by_role("button", name="Disconnect Charge Planner").is_visible()
        fits(page)
    finally:
        context.close()


def _authenticates(portal: Portal, client_id: str, secret: str) -> bool:
    """Revoking an unknown token is 200 for an authenticated client (RFC 7009 §2.2), else 401."""
    answer = httpx.post(
        f"{portal.server.base_url}/oauth/revoke",
        data={"token": "not-a-token"},
        auth=(client_id, secret),
        timeout=10,
    )
    return answer.status_code == 200


def test_a_reload_repeats_no_form_and_shows_a_secret_no_more(portal: Portal, chromium: Any) -> None:
    base = portal.server.base_url
    callback = f"{base}/sandbox/callback"
    context = chromium.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(f"{base}/developer")
        _sign_in(page, DEVELOPER)
        client_id, old = _register(page, portal, "Charge Planner", "sandbox", callback)
        assert "reveal=" in page.url and old not in page.url
        page.reload()
        page.get_by_role("heading", name="Secret already shown").wait_for()
        assert page.locator("#secret").count() == 0 and old not in page.content()
        assert page.locator("#shown-once").is_visible()
        fits(page)
        page.goto(f"{base}/developer/apps")  # the registration form's URL: the portal's home
        assert page.url == f"{base}/developer"
        assert page.get_by_role("link", name="Charge Planner").count() == 1  # registered once

        page.goto(f"{base}/developer/apps/{client_id}")
        page.get_by_label("The current secret stops working").select_option("3600")
        page.get_by_role("button", name="Rotate the secret").click()
        page.get_by_role("heading", name="New client secret").wait_for()
        new = page.locator("#secret").inner_text()
        page.reload()
        page.get_by_role("heading", name="Secret already shown").wait_for()
        assert new not in page.content()
        page.get_by_role("link", name="Go to the app").click()
        assert page.locator("#secrets + table tbody tr").count() == 2  # rotated once
        assert _authenticates(portal, client_id, old) and _authenticates(portal, client_id, new)
        page.goto(f"{base}/developer/apps/{client_id}/rotate")  # the form's URL: its section
        assert page.url == f"{base}/developer/apps/{client_id}#secrets"

        hook = "http://127.0.0.1:9/hooks/" + "voltgate-charge-planner-deliveries-" * 4
        page.get_by_label("Webhook URL").fill(hook)
        page.get_by_role("button", name="Add webhook").click()
        page.get_by_role("heading", name="Webhook signing secret").wait_for()
        assert page.locator("#webhook-url").inner_text() == hook
        fits(page)
        fits(page, f"{base}/developer/apps/vgc_none")  # the portal's 404 page
        assert page.get_by_role("link", name="Back to the developer portal").is_visible()

        # The driver allows the app with the sandbox's own callback page as its redirect URI.
        context.clear_cookies()
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": callback,
            "scope": " ".join(SCOPES),
            "state": "portal",
            "code_challenge": pkce.s256(VERIFIER),
            "code_challenge_method": "S256",
        }
        page.goto(f"{base}/oauth/authorize?{urlencode(params)}")
        _sign_in(page, DRIVER)
        page.get_by_role("button", name="Allow").click()
        page.wait_for_url(f"{callback}**")
        fits(page)
        assert f'curl -s -u "{client_id}:$CLIENT_SECRET"' in page.locator("pre").inner_text()
        code = query(page.url)["code"]
    finally:
        context.close()
    tokens = httpx.post(
        f"{base}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": callback,
            "code_verifier": VERIFIER,
        },
        auth=(client_id, new),
        timeout=10,
    )
    assert tokens.status_code == 200, tokens.text  # the page looked the code up, not spent it
    log = portal.server.log_path.read_text()
    assert "reveal=" in log or "/secret" in log  # the pages were logged, the secrets were not
    assert old not in log and new not in log
