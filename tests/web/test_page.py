"""What every page shares: bounded form reads (413 before the body is read whole, 415 unless
form-encoded), a 405 naming the allowed methods, and a JSON 404 past every page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import App, Backend, make_settings
from voltgate.app import VoltgateApp, create_app

FORMS = ("/login", "/logout", "/oauth/authorize/decision", "/account/apps/revoke")


@pytest.fixture
async def application(backend: Backend) -> AsyncIterator[VoltgateApp]:
    app = create_app(make_settings(backend))
    async with app.router.lifespan_context(app):
        yield app


async def _post(
    app: VoltgateApp, path: str, chunks: list[bytes], headers: list[tuple[bytes, bytes]]
) -> tuple[int, int]:
    """POST `chunks` as raw ASGI; returns the status and how many chunks the app read."""
    sent: list[dict[str, Any]] = []
    read = 0

    async def receive() -> dict[str, Any]:
        nonlocal read
        read += 1
        if read > len(chunks):
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": chunks[read - 1], "more_body": read < len(chunks)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"content-type", b"application/x-www-form-urlencoded"), *headers],
        "client": ("127.0.0.1", 40000),
        "server": ("t", 80),
    }
    await app(scope, receive, send)
    return sent[0]["status"], read


async def test_a_form_over_16_kib_is_413_before_it_is_read(application: VoltgateApp) -> None:
    chunks = [b"a=" + b"x" * 4094] * 64  # 256 KiB, never all needed
    for path in FORMS:
        declared = [(b"content-length", str(4096 * 64).encode())]
        assert await _post(application, path, chunks, declared) == (413, 0), path
        status, read = await _post(application, path, chunks, [])  # chunked: no length
        assert (status, read) == (413, 5), path


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


async def test_a_pages_wrong_method_is_405_with_allow(app: App) -> None:
    for path, allow in (
        ("/login", {"GET", "HEAD", "POST"}),
        ("/oauth/authorize", {"GET", "HEAD"}),
        ("/o/authorize/", {"GET", "HEAD"}),
        ("/oauth2/v3/authorize", {"GET", "HEAD"}),
        ("/logout", {"POST"}),
        ("/docs", {"GET", "HEAD"}),
        ("/", {"GET", "HEAD"}),
    ):
        method = "DELETE" if "GET" in allow else "GET"
        response = await app.http.request(method, path)
        assert response.status_code == 405, path
        assert response.json()["code"] == 1001
        assert set(response.headers["allow"].split(", ")) == allow, path


async def test_past_every_page_a_json_404(app: App) -> None:
    for path in ("/nowhere", "/login/", "/o/authorize", "/docs/", "/assets/other.css"):
        response = await app.http.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == 3001
