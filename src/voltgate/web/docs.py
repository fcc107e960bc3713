"""The API's documentation, served with no network: the OpenAPI document at `/openapi.json`,
Swagger UI at `/docs` and ReDoc at `/redoc`, their scripts and styles served from the pinned
`openapi-ui-bundles` package under `/docs/assets/` (no CDN), under a CSP that allows only this
server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from openapi_ui_bundles import redoc, swagger_ui
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from voltgate.web.assets import CSS, JS, OWN, SVG, Asset, Assets
from voltgate.web.page import templates

OPENAPI_PATH = "/openapi.json"
SWAGGER_PATH = "/docs"
REDOC_PATH = "/redoc"
ASSETS = "/docs/assets"
# What the pages may load: scripts, styles, images, fonts and data from this server only.
# Measured in Chromium: ReDoc inserts its styles at run time (styled-components), draws icons
# as data: SVGs and runs its search in a blob: worker; none of that reaches the network.
_DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; worker-src 'self' blob:; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": _DOCS_CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
# ReDoc's menu shows its logo from a CDN: the same file, from this server.
_REDOC_LOGO = (b"https://cdn.redoc.ly/redoc/logo-mini.svg", ASSETS.encode() + b"/redoc-logo.svg")
_FILES = {
    "swagger-ui.css": Asset(swagger_ui.static_path / "swagger-ui.css", CSS),
    "swagger-ui-bundle.js": Asset(swagger_ui.static_path / "swagger-ui-bundle.js", JS),
    "swagger-init.js": Asset(OWN / "swagger-init.js", JS),
    "redoc.standalone.js": Asset(redoc.static_path / "redoc.standalone.js", JS, _REDOC_LOGO),
    "redoc-logo.svg": Asset(redoc.static_path / "logo-mini.svg", SVG),
}

Document = Callable[[], dict[str, Any]]


class Docs:
    """`document` builds the OpenAPI document; it runs once, on the first request for it."""

    def __init__(self, document: Document, title: str) -> None:
        self._build = document
        self._document: dict[str, Any] | None = None
        self._json: bytes | None = None
        self._assets = Assets(ASSETS, _FILES)
        context = {"title": title, "assets": ASSETS}
        self._swagger = templates.get_template("docs_swagger.html").render(context)
        self._redoc = templates.get_template("docs_redoc.html").render(context)

    def document(self) -> dict[str, Any]:
        if self._document is None:
            self._document = self._build()
        return self._document

    def routes(self) -> list[BaseRoute]:
        return [
            Route(OPENAPI_PATH, self.openapi, methods=["GET"]),
            Route(SWAGGER_PATH, self.swagger, methods=["GET"]),
            Route(REDOC_PATH, self.redoc, methods=["GET"]),
            self._assets.route(),
        ]

    async def openapi(self, _request: Request) -> Response:
        if self._json is None:
            self._json = orjson.dumps(self.document())
        return Response(self._json, media_type="application/json")

    async def swagger(self, _request: Request) -> Response:
        return HTMLResponse(self._swagger, headers=_PAGE_HEADERS)

    async def redoc(self, _request: Request) -> Response:
        return HTMLResponse(self._redoc, headers=_PAGE_HEADERS)
