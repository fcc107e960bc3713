"""Form URLs opened by GET in headless Chromium on a 390 px phone, as a reload, a bookmark or a
pasted link opens them: /logout shows a page that asks (and signs nobody out), the consent
decision's URL a page that says to start again from the app, the Disconnect form's URL the
account page. Each is a page of the site that fits the phone, never a JSON body."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.live import LiveServer, live_server
from tests.web.phone import PHONE, fits
from voltgate.cli.common import started_runtime
from voltgate.config import Settings

EMAIL = "driver@example.com"
PASSWORD = "correct horse battery staple"


async def _provision(settings: Settings) -> None:
    async with started_runtime(settings) as rt:
        await rt.identity.users.create(EMAIL, PASSWORD)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    asyncio.run(_provision(Settings(data_dir=tmp_path / "data")))
    with live_server(tmp_path / "data", tmp_path / "server.log") as live:
        yield live


def _opened(page: Any, url: str) -> tuple[int, str]:
    """GET `url` as the address bar does: the final status and the page's text."""
    response = page.goto(url)
    assert response is not None, url
    assert response.header_value("content-type").startswith("text/html"), url
    text = page.locator("body").inner_text()
    assert not text.lstrip().startswith("{"), f"{url}: {text[:80]}"
    fits(page)
    return response.status, text


def test_form_urls_opened_on_a_phone_show_pages(server: LiveServer, chromium: Any) -> None:
    base = server.base_url
    context = chromium.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        problems: list[str] = []
        # Every request but the pages' own (the decision's 405 is one): the stylesheet, the icon.
        page.on(
            "response",
            lambda r: (
                problems.append(f"{r.status} {r.url}")
                if r.request.resource_type != "document" and r.status >= 400
                else None
            ),
        )
        page.on("console", lambda m: problems.append(m.text) if "Policy" in m.text else None)
        page.goto(f"{base}/login")
        page.get_by_label("Email").fill(EMAIL)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/account/apps")

        status, text = _opened(page, f"{base}/logout")
        assert status == 200 and "Sign out?" in text and EMAIL in text
        status, text = _opened(page, f"{base}/account/apps")  # the link signed nobody out
        assert status == 200 and "Connected apps" in text

        status, text = _opened(page, f"{base}/oauth/authorize/decision")
        assert status == 405 and "go back to the app and start again" in text

        status, text = _opened(page, f"{base}/account/apps/revoke")
        assert status == 200 and page.url == f"{base}/account/apps"

        page.goto(f"{base}/logout")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{base}/login")
        status, text = _opened(page, f"{base}/logout")  # signed out: the sign-in page
        assert status == 200 and page.url == f"{base}/login"
        assert problems == []  # the CSP blocked nothing, no asset failed to load
    finally:
        context.close()
