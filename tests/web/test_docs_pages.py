"""`/docs`, `/redoc` and `/` render in headless Chromium with no network but this server's:
every request to anywhere else is refused and recorded, and so is anything the page's CSP
blocked, so a page that needs a CDN fails here. A screenshot of each is kept in the test's
temporary directory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.live import LiveServer, live_server

CREDENTIALS = "/srv/voltgate/sandbox-credentials.json"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A sandbox on the embedded default whose start wrote its credentials to a file (the
    pages read nothing else from the database, so one server for the three)."""
    folder = tmp_path_factory.mktemp("docs-pages")
    with live_server(folder / "data", folder / "server.log", credentials_file=CREDENTIALS) as live:
        yield live


@dataclass
class Offline:
    """One page in a fresh context where only the live server answers."""

    base_url: str
    outside: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)
    served: list[str] = field(default_factory=list)

    def allow(self, url: str) -> bool:
        return url == self.base_url or url.startswith(self.base_url + "/")

    def route(self, route: Any) -> None:
        url = route.request.url
        if self.allow(url):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort("internetdisconnected")

    def console(self, message: Any) -> None:
        if "Content Security Policy" in message.text:
            self.blocked.append(message.text)


def _render(
    chromium: Any, live: LiveServer, path: str, shot: Path, ready: Callable[[Any], None]
) -> tuple[Any, Offline]:
    offline = Offline(live.base_url)
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    context.route("**/*", offline.route)
    page = context.new_page()
    page.on("console", offline.console)
    page.on("response", lambda response: offline.served.append(response.url))
    response = page.goto(live.base_url + path)
    assert response is not None and response.status == 200
    ready(page)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(shot), full_page=False)
    return context, offline


def _check(offline: Offline, shot: Path) -> None:
    assert offline.outside == [], f"requests left the machine: {offline.outside}"
    assert offline.blocked == [], f"the CSP blocked loads: {offline.blocked}"
    assert offline.served and all(offline.allow(url) for url in offline.served), offline.served
    assert shot.stat().st_size > 10_000  # a picture of a page, not a blank one


def test_swagger_ui_lists_the_operations_with_no_network(
    sandbox: LiveServer, chromium: Any, tmp_path: Path
) -> None:
    shot = tmp_path / "docs.png"

    def ready(page: Any) -> None:
        page.locator(".opblock-summary-path", has_text="/v1/me").first.wait_for()

    context, offline = _render(chromium, sandbox, "/docs", shot, ready)
    try:
        page = context.pages[0]
        assert page.locator("h2.title", has_text="voltgate").is_visible()
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert "/v1/me" in paths and "/oauth/token" in paths
        assert any(p.startswith("/v1/operator/") for p in paths)
    finally:
        context.close()
    _check(offline, shot)
    assert f"{sandbox.base_url}/openapi.json" in offline.served
    assert f"{sandbox.base_url}/docs/assets/swagger-ui-bundle.js" in offline.served


def test_redoc_shows_the_api_title_and_its_operations_with_no_network(
    sandbox: LiveServer, chromium: Any, tmp_path: Path
) -> None:
    shot = tmp_path / "redoc.png"

    def ready(page: Any) -> None:
        page.get_by_role("heading", name="voltgate (0.1.0)").wait_for()

    context, offline = _render(chromium, sandbox, "/redoc", shot, ready)
    try:
        page = context.pages[0]
        assert page.get_by_role("link", name="Download").is_visible()
        operation = page.get_by_role("heading", name="The operator's sites, by cursor")
        assert operation.first.is_visible()
        assert page.get_by_placeholder("Search...").is_visible()
    finally:
        context.close()
    _check(offline, shot)
    assert f"{sandbox.base_url}/docs/assets/redoc.standalone.js" in offline.served
    assert f"{sandbox.base_url}/docs/assets/redoc-logo.svg" in offline.served


def test_the_landing_page_links_the_docs_and_discovery_and_says_where_the_credentials_are(
    sandbox: LiveServer, chromium: Any, tmp_path: Path
) -> None:
    shot = tmp_path / "landing.png"

    def ready(page: Any) -> None:
        page.get_by_role("heading", name="API reference").wait_for()

    context, offline = _render(chromium, sandbox, "/", shot, ready)
    try:
        page = context.pages[0]
        for name, href in (
            ("Swagger UI", "/docs"),
            ("ReDoc", "/redoc"),
            ("/openapi.json", "/openapi.json"),
            ("/.well-known/openid-configuration", "/.well-known/openid-configuration"),
            ("/.well-known/oauth-authorization-server", "/.well-known/oauth-authorization-server"),
            (
                "/oauth2/v3/thirdparty/.well-known/openid-configuration",
                "/oauth2/v3/thirdparty/.well-known/openid-configuration",
            ),
        ):
            link = page.get_by_role("link", name=name, exact=True)
            assert link.get_attribute("href") == href, name
        note = page.get_by_role("note").inner_text()
        assert "voltgate sandbox" in note and CREDENTIALS in note
        page.get_by_role("link", name="ReDoc", exact=True).click()
        page.get_by_role("heading", name="voltgate (0.1.0)").wait_for()
    finally:
        context.close()
    _check(offline, shot)
