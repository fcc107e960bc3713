"""The docs are served by voltgate itself: the OpenAPI document, Swagger UI and ReDoc whose
scripts and styles come from `/docs/assets/`, under a CSP that allows only this server."""

from __future__ import annotations

import re

import pytest

from tests.conftest import App

PAGES = ("/docs", "/redoc")


@pytest.mark.parametrize("path", PAGES)
async def test_a_docs_page_loads_only_this_servers_assets(app: App, path: str) -> None:
    page = await app.http.get(path)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self';" in csp
    assert "connect-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "http" not in csp  # no origin but this one
    assert page.headers["x-frame-options"] == "DENY"
    sources = re.findall(r'(?:src|href|spec-url)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") and not s.startswith("//") for s in sources)
    for source in sources:
        asset = await app.http.get(source)
        assert asset.status_code == 200, source
        assert b"cdn." not in asset.content, source


async def test_assets_have_their_media_type_and_are_cached(app: App) -> None:
    for name, media in (
        ("swagger-ui-bundle.js", "text/javascript"),
        ("swagger-init.js", "text/javascript"),
        ("swagger-ui.css", "text/css"),
        ("redoc.standalone.js", "text/javascript"),
        ("redoc-logo.svg", "image/svg+xml"),
    ):
        asset = await app.http.get(f"/docs/assets/{name}")
        assert asset.status_code == 200, name
        assert asset.headers["content-type"].startswith(media), name
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert "max-age" in asset.headers["cache-control"]


async def test_only_the_bundled_assets_are_served(app: App) -> None:
    for name in ("index.html", "..%2F..%2Fconfig.py", "LICENSE", "swagger-ui.css.map"):
        missing = await app.http.get(f"/docs/assets/{name}")
        assert missing.status_code == 404 and missing.json()["code"] == 3001, name


async def test_the_openapi_document_is_the_route_tables(app: App) -> None:
    response = await app.http.get("/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    spec = response.json()
    assert spec["openapi"].startswith("3.1") and spec["info"]["title"] == "voltgate"
    me = spec["paths"]["/v1/me"]["get"]
    assert {"200", "401", "403", "405"} <= set(me["responses"])
    # The pages and the docs themselves are not API operations.
    assert not {"/", "/docs", "/redoc", "/login", "/oauth/authorize"} & set(spec["paths"])
