"""The application shell: docs, health, correlation ids, JSON errors, no stack traces."""

from __future__ import annotations

import httpx
from starlette.requests import Request
from starlette.responses import Response

from tests.conftest import App, Backend, make_settings
from voltgate.app import create_app


async def test_openapi_and_docs(app: App) -> None:
    spec = (await app.http.get("/openapi.json")).json()
    assert "/v1/me" in spec["paths"]
    assert "/oauth/token" in spec["paths"]
    docs = await app.http.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


async def test_health_and_readiness(app: App) -> None:
    assert (await app.http.get("/healthz")).json() == {"status": "ok"}
    ready = await app.http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "cache": True}


async def test_request_id_is_honoured_or_generated(app: App) -> None:
    echoed = await app.http.get("/healthz", headers={"X-Request-ID": "trace-7"})
    assert echoed.headers["x-request-id"] == "trace-7"
    generated = await app.http.get("/healthz", headers={"X-Request-ID": "<script>"})
    assert generated.headers["x-request-id"] not in ("", "<script>")


async def test_unknown_path_and_method_are_json(app: App) -> None:
    missing = await app.http.get("/nowhere")
    assert missing.status_code == 404 and missing.json()["code"] == 3001
    wrong_method = await app.http.get("/oauth/token")
    assert wrong_method.status_code == 405


async def test_an_unexpected_failure_is_a_json_500_without_a_trace(backend: Backend) -> None:
    application = create_app(make_settings(backend))

    async def boom(_request: Request) -> Response:
        raise RuntimeError("secret internals vgcs_test_abcdefghijklmnopqrstuvwxyz")

    application.add_route("/boom", boom)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            response = await http.get("/boom", headers={"X-Request-ID": "r-500"})
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == 9001 and body["request_id"] == "r-500"
    assert "internals" not in response.text and "Traceback" not in response.text
