"""GraphiQL at `/graphiql` is served by voltgate itself: the page, under a CSP that allows only
this server and no inline script, and its vendored scripts and styles from `/graphiql/assets/`,
each linked by its digest and cached for a year; an operator can switch it off."""

from __future__ import annotations

import gzip
import hashlib
import re
from importlib.resources import files

import httpx
import pytest

from tests.conftest import App, Backend, make_settings
from voltgate.app import create_app
from voltgate.config import Settings

STATIC = files("voltgate.web") / "static"
VENDORED = {
    "react.production.min.js": "d949f1c3687aedadcedac85261865f29b17cd273997e7f6b2bfc53b2f9d4c4dd",
    "react-dom.production.min.js": (
        "35f4f974f4b2bcd44da73963347f8952e341f83909e4498227d4e26b98f66f0d"
    ),
    "graphiql.min.js": "22faab94067b695e5f7959619fbe686ebcc8955002a0c97d986bcbba4ad4bc2c",
    "graphiql.min.css": "b1868247f8e0502cd869e581f5f3cb55b334862e7f51b1d6cbace11059b9adc2",
}


def _linked(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


async def test_the_page_loads_only_this_servers_assets_under_a_strict_csp(app: App) -> None:
    page = await app.http.get("/graphiql")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    # Scripts from this server only: no inline script, no eval, no other origin anywhere.
    assert directives["script-src"] == "'self'" and directives["default-src"] == "'none'"
    assert directives["connect-src"] == "'self'" and directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == "'none'" and "http" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "<script>" not in page.text and " on" not in page.text.split("<body>")[1]
    assert 'data-endpoint="/graphql"' in page.text
    linked = _linked(page.text)
    assert [link.split("?")[0].rsplit("/", 1)[1] for link in linked] == [
        "graphiql.min.css",
        "graphiql-page.css",
        "react.production.min.js",
        "react-dom.production.min.js",
        "graphiql.min.js",
        "graphiql-init.js",
    ]
    assert all(link.startswith("/graphiql/assets/") for link in linked)


async def test_assets_have_their_media_type_and_a_years_caching_by_digest(app: App) -> None:
    page = await app.http.get("/graphiql")
    for link in _linked(page.text):
        asset = await app.http.get(link)
        name = link.split("?")[0].rsplit("/", 1)[1]
        media = "text/css" if name.endswith(".css") else "text/javascript"
        assert asset.status_code == 200, link
        assert asset.headers["content-type"] == f"{media}; charset=utf-8", link
        assert asset.headers["cache-control"] == "public, max-age=31536000, immutable", link
        assert asset.headers["x-content-type-options"] == "nosniff", link
        assert not re.search(rb"//[\w.-]*(cdn|unpkg|jsdelivr)", asset.content), link
        digest = hashlib.sha256(asset.content).hexdigest()
        assert link.endswith(f"?v={digest[:16]}"), link
        if name in VENDORED:  # byte for byte the file its package ships (VERSIONS.md)
            assert digest == VENDORED[name], name
    # Without its digest a link is kept a day; with another file's, it is no link at all.
    plain = await app.http.get("/graphiql/assets/graphiql-init.js")
    assert plain.status_code == 200 and plain.headers["cache-control"] == "public, max-age=86400"
    stale = await app.http.get("/graphiql/assets/graphiql-init.js?v=0123456789abcdef")
    assert stale.status_code == 404 and stale.json()["code"] == 3001


async def test_the_bundle_is_sent_gzipped_to_whoever_accepts_it(app: App) -> None:
    bundle = (STATIC / "graphiql" / "graphiql.min.js").read_bytes()
    path = "/graphiql/assets/graphiql.min.js"
    for accept, encoded in (
        ("gzip, deflate, br", True),
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", True),
        ("*", True),
        ("identity", False),
        ("gzip;q=0, *", False),
        ("", False),
    ):
        async with app.http.stream("GET", path, headers={"accept-encoding": accept}) as raw:
            wire = b"".join([chunk async for chunk in raw.aiter_raw()])
        assert raw.headers["vary"] == "Accept-Encoding", accept
        assert raw.headers.get("content-encoding") == ("gzip" if encoded else None), accept
        assert (gzip.decompress(wire) if encoded else wire) == bundle, accept
        if encoded:
            assert len(wire) < len(bundle) // 4, accept


async def test_only_the_bundled_assets_are_served(app: App) -> None:
    for name in ("LICENSE.graphiql", "VERSIONS.md", "graphiql.min.js.map", "..%2Fdocs.py"):
        missing = await app.http.get(f"/graphiql/assets/{name}")
        assert missing.status_code == 404 and missing.json()["code"] == 3001, name


async def test_an_operator_can_switch_graphiql_off(backend: Backend) -> None:
    application = create_app(make_settings(backend, graphiql=False))
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            for path in ("/graphiql", "/graphiql/assets/graphiql.min.js"):
                answer = await http.get(path)
                assert answer.status_code == 404 and answer.json()["code"] == 3001, path
            assert (await http.get("/docs")).status_code == 200


@pytest.mark.parametrize(("value", "served"), [("false", False), ("0", False), ("true", True)])
def test_voltgate_graphiql_is_the_switch(
    monkeypatch: pytest.MonkeyPatch, value: str, served: bool
) -> None:
    monkeypatch.setenv("VOLTGATE_GRAPHIQL", value)
    assert Settings().graphiql is served
