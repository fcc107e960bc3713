"""What every page shares: bounded form reads (413 before the body is read whole, 415 unless
form-encoded), a JSON 405 naming the allowed methods where no page answers it, and a JSON 404
past every page."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import App, Backend, make_settings
from tests.fixtures.bodies import StreamedPost
from voltgate.app import VoltgateApp, create_app

FORMS = ("/login", "/logout", "/oauth/authorize/decision", "/account/apps/revoke")


@pytest.fixture
async def application(backend: Backend) -> AsyncIterator[VoltgateApp]:
    app = create_app(make_settings(backend))
    async with app.router.lifespan_context(app):
        yield app


async def test_a_form_over_16_kib_is_413_before_it_is_read(application: VoltgateApp) -> None:
    size = 64 * 4096  # 256 KiB in 4 KiB messages, never all needed
    for path in FORMS:
        declared = await StreamedPost(path, size, declared=True, chunk=4096).to(application)
        assert (declared.status, declared.pulled) == (413, 0), path
        streamed = await StreamedPost(path, size, declared=False, chunk=4096).to(application)
        assert (streamed.status, streamed.pulled) == (413, 5), path


async def test_a_form_just_under_the_limit_is_read(app: App) -> None:
    await app.http.get("/login")
    body = b"email=a%40b.c&password=x&csrf=x" + b"".join(
        b"&p%d=" % i + b"x" * 4000 for i in range(4)
    )
    body += b"&q=" + b"x" * (16_384 - len(body) - 3)
    response = await app.http.post(
        "/login", content=body, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert len(body) == 16_384 and response.status_code == 403  # judged: a bad CSRF token


async def test_a_form_that_is_not_form_encoded_is_415(app: App) -> None:
    for path in FORMS:
        response = await app.http.post(path, json={"email": "x"})
        assert response.status_code == 415, path
        assert response.json()["error"] == "invalid_request"


async def test_a_wrong_method_outside_the_browser_pages_is_a_json_405_with_allow(app: App) -> None:
    # The sign-in, consent and account pages answer it in HTML (test_methods).
    for path, allow in (("/docs", {"GET", "HEAD"}), ("/", {"GET", "HEAD"})):
        response = await app.http.request("DELETE", path)
        assert response.status_code == 405, path
        assert response.json()["code"] == 1001
        assert set(response.headers["allow"].split(", ")) == allow, path


async def test_past_every_page_a_json_404(app: App) -> None:
    # (ev.energy's authorize answers with and without its slash, as its guide writes both.)
    for path in ("/nowhere", "/login/", "/oauth/authorize/", "/docs/", "/assets/other.css"):
        response = await app.http.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == 3001
