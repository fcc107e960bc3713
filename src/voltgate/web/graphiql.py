"""GraphiQL at `/graphiql`: an in-browser IDE for the GraphQL API, served with no network.

GraphiQL, React and ReactDOM are vendored in `static/graphiql/` (versions and checksums in its
VERSIONS.md) and served from `/graphiql/assets/`; the page's own start-up script posts each
operation to the GraphQL endpoint with the headers typed in GraphiQL's headers editor. The CSP
allows scripts from this server only: no inline script, no eval.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from voltgate.web.assets import CSS, JS, OWN, Asset, Assets
from voltgate.web.page import templates

PATH = "/graphiql"
ASSETS = "/graphiql/assets"
ENDPOINT = "/graphql"
_VENDORED = OWN / "graphiql"
# In load order: GraphiQL's UMD bundle reads React and ReactDOM from window.
SCRIPTS = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "graphiql-init.js",
)
STYLESHEETS = ("graphiql.min.css", "graphiql-page.css")
_FILES = {
    "react.production.min.js": Asset(_VENDORED / "react.production.min.js", JS),
    "react-dom.production.min.js": Asset(_VENDORED / "react-dom.production.min.js", JS),
    "graphiql.min.js": Asset(_VENDORED / "graphiql.min.js", JS),
    "graphiql.min.css": Asset(_VENDORED / "graphiql.min.css", CSS),
    "graphiql-init.js": Asset(OWN / "graphiql-init.js", JS),
    "graphiql-page.css": Asset(OWN / "graphiql-page.css", CSS),
}
# Measured in Chromium: GraphiQL's fonts are data: URIs in its stylesheet, and its dialogs insert
# a <style> at run time (a scroll lock sized to the scrollbar, so no hash fits): scripts stay
# this server's only.
_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src data:; connect-src 'self'; form-action 'none'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


class GraphiQL:
    """The page and its assets; `endpoint` is the path the page posts operations to.

    The page links each asset by its digest, so it is rendered on its first request (reading
    the files then, off the event loop), not at start-up.
    """

    def __init__(self, title: str, endpoint: str = ENDPOINT) -> None:
        self._title = title
        self._endpoint = endpoint
        self._assets = Assets(ASSETS, _FILES)
        self._html: str | None = None

    def routes(self) -> list[BaseRoute]:
        return [Route(PATH, self.page, methods=["GET"]), self._assets.route()]

    async def page(self, _request: Request) -> Response:
        if self._html is None:
            self._html = await asyncio.to_thread(self._render)
        return HTMLResponse(self._html, headers=_PAGE_HEADERS)

    def _render(self) -> str:
        return templates.get_template("graphiql.html").render(
            title=self._title,
            endpoint=self._endpoint,
            stylesheets=[self._assets.url(name) for name in STYLESHEETS],
            scripts=[self._assets.url(name) for name in SCRIPTS],
        )
