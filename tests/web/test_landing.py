"""`/`: what this server is and where to go, the same headers as every page, and in a sandbox
where its credentials were given (never one of them)."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import httpx

from tests.conftest import App, Backend, make_settings
from voltgate.app import create_app
from voltgate.config import Environment, Settings

LINKS = (
    "/docs",
    "/redoc",
    "/openapi.json",
    "/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server",
    "/oauth2/v3/thirdparty/.well-known/openid-configuration",
    "/graphiql",
)


async def test_the_landing_page_links_the_docs_and_the_discovery_documents(app: App) -> None:
    page = await app.http.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    hrefs = re.findall(r'href="([^"]+)"', page.text)
    assert all(link in hrefs for link in LINKS)
    for link in LINKS:
        assert (await app.http.get(link)).status_code == 200, link
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
    assert (await app.http.head("/")).status_code == 200


async def test_a_sandbox_says_where_its_credentials_are_without_a_secret(
    backend: Backend, tmp_path: Path
) -> None:
    credentials = tmp_path / "credentials.json"
    settings = make_settings(backend, credentials_file=str(credentials))
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        created = await application.state.runtime.identity.admin.create(
            name="an operator", kind="operator", scopes="read"
        )
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            page = (await http.get("/")).text
    assert "voltgate sandbox" in page and str(credentials) in page
    assert created.secret is not None and created.secret not in page
    assert created.client.id not in page
    assert not re.search(r"vg[a-z]{1,4}_test_", page)


async def test_production_has_no_sandbox_hint(tmp_path: Path) -> None:
    key = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    settings = Settings(data_dir=tmp_path, environment=Environment.PRODUCTION, master_key=key)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            page = await http.get("/")
    assert page.status_code == 200 and "/docs" in page.text
    assert "sandbox" not in page.text.lower()


async def test_without_the_graphql_dialect_there_is_no_graphiql(backend: Backend) -> None:
    application = create_app(make_settings(backend), dialects=["canonical", "tellus"])
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            page = (await http.get("/")).text
            assert (await http.get("/graphiql")).status_code == 404
    assert "/graphiql" not in page
