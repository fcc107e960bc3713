"""`/`: what this server is, and where to go from here: the API reference, the discovery
documents, the account pages and, in a sandbox, where its credentials were given (never one)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from voltgate.web.page import security_headers, templates

# The discovery documents a client configures itself from, by the dialect that serves them.
DISCOVERY = (
    ("/.well-known/openid-configuration", "OpenID Provider metadata (OpenID Discovery 1.0)"),
    ("/.well-known/oauth-authorization-server", "OAuth 2.0 Authorization Server metadata"),
    (
        "/oauth2/v3/thirdparty/.well-known/openid-configuration",
        "OpenID Provider metadata at the Tesla Fleet API's path",
    ),
)


class Landing:
    """The page is the same for everyone: rendered once, at start-up."""

    def __init__(
        self,
        environment: str,
        served: Iterable[str],
        credentials_file: Path | None = None,
        *,
        graphiql: bool = False,
    ) -> None:
        paths = set(served)
        self._html = templates.get_template("landing.html").render(
            environment=environment,
            discovery=[(path, what) for path, what in DISCOVERY if path in paths],
            credentials_file=credentials_file,
            graphiql=graphiql,
        )

    def route(self) -> Route:
        return Route("/", self.page, methods=["GET"])

    async def page(self, _request: Request) -> Response:
        return HTMLResponse(self._html, headers=security_headers(form_targets=()))
