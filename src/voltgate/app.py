"""`create_app(settings)`: the ASGI application with the core routes and every enabled dialect.

A request goes to the Router (every API route on the route table, each reading at most its
body cap; correlation id, access line and no 500 trace inline) or, on no API route, through
RequestContext (the same, as middleware) to the pages (this app's own Starlette routes:
authorize, sign-in, consent, connected apps, docs, GraphiQL, the landing page; bodies capped at a
form's size) → a JSON 404.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

from starlette.applications import Starlette
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from voltgate import __version__
from voltgate.clock import Clock
from voltgate.config import Environment, Settings
from voltgate.dialects import DIALECTS, tesla
from voltgate.dialects.beenergised import PATHS as GRAPHQL_PATHS
from voltgate.http import fallback
from voltgate.http.dispatch import Binding, Router
from voltgate.http.kept import Kept
from voltgate.http.limits import ApiRateLimiter
from voltgate.http.openapi import document
from voltgate.http.request import BodyCap
from voltgate.http.routing import RouteTable
from voltgate.identity.profiles import EVENERGY, TESLA, Profile
from voltgate.observability import RequestContext, access_log, configure_logging
from voltgate.runtime import Runtime
from voltgate.web.docs import Docs
from voltgate.web.graphiql import GraphiQL
from voltgate.web.landing import Landing
from voltgate.web.page import FORM_MAX
from voltgate.web.pages import Pages
from voltgate.web.sandbox import SandboxCallback

TITLE = "voltgate"
DESCRIPTION = "EV-charging and energy platform API: one OAuth2/OIDC core, several dialects."
# The authorization endpoint at the dialects' own paths, with their rules (voltgate's
# `/oauth/authorize` always, under its own). ev.energy's guide writes it with and without the
# trailing slash.
AUTHORIZE_PATHS: dict[str, dict[str, Profile]] = {
    "evenergy": {"/o/authorize/": EVENERGY, "/o/authorize": EVENERGY},
    "tesla": {tesla.PATHS.authorization: TESLA},
}


class VoltgateApp(Starlette):
    """Starlette whose own routes are the pages; HTTP and WebSocket requests enter `entry`
    (Router → RequestContext → the pages), only the lifespan takes Starlette's stack."""

    entry: ASGIApp
    docs: Docs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self
        await self.entry(scope, receive, send)

    def openapi(self) -> dict[str, Any]:
        return self.docs.document()


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    dialects: list[str] | None = None,
    drain_on_signals: bool = False,
) -> VoltgateApp:
    runtime = Runtime(settings, clock)
    names = dialects or list(DIALECTS)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        if drain_on_signals:
            _drain_on_signals(runtime)
        try:
            yield
        finally:
            await runtime.stop()
            access_log.flush()

    table = RouteTable()
    kept = Kept()  # the router's kept answers and the handlers' own, in one budget
    for name in names:
        DIALECTS[name](table.scope(dialect=name), runtime, kept)

    def openapi() -> dict[str, Any]:
        return document(table.operations, title=TITLE, version=__version__, description=DESCRIPTION)

    docs = Docs(openapi, TITLE)
    app = VoltgateApp(routes=_pages(runtime, names, table, docs), lifespan=lifespan)
    app.state.runtime = runtime
    app.docs = docs
    app.router.redirect_slashes = False
    app.router.default = fallback.not_found
    # No page reads more than a form: the cap holds whatever a page uses to read its body.
    pages = ExceptionMiddleware(BodyCap(app.router, FORM_MAX), handlers=fallback.HANDLERS)
    binding = Binding(
        auth=runtime.identity.guard,
        signatures=runtime.identity.signatures,
        limiter=ApiRateLimiter(
            runtime.coordinator, runtime.clock, settings.api_rate_limit, settings.api_rate_window
        ),
        max_body=settings.max_body_bytes,
        clock=runtime.clock,
        kept=kept,
        requests=runtime.metrics.requests,
        usage=runtime.identity.usage,
    )
    app.entry = Router(table, binding, RequestContext(pages))
    return app


def _pages(runtime: Runtime, names: list[str], table: RouteTable, docs: Docs) -> list[BaseRoute]:
    """The pages, each bound to the services it uses."""
    settings, identity = runtime.settings, runtime.identity
    environment = settings.environment.value
    pages = Pages(
        clients=identity.clients,
        users=identity.users,
        consents=identity.consents,
        delegation=identity.delegation,
        partners=identity.partners,
        keys=runtime.owner.keys,
        crypto=runtime.crypto,
        clock=runtime.clock,
        issuer=settings.issuer,
        environment=environment,
        authorize_paths={
            path: profile
            for name in names
            for path, profile in AUTHORIZE_PATHS.get(name, {}).items()
        },
        developer_apps=runtime.developer_apps,
        usage=runtime.usage,
        reveals=runtime.reveals,
        webhooks=runtime.alerting.webhooks,
    )
    served = {op.path for op in table.operations if op.method == "GET"}
    # GraphiQL where there is a GraphQL API to explore (the be.ENERGISED dialect is mounted).
    graphiql = settings.graphiql and GRAPHQL_PATHS[0] in served
    landing = Landing(environment, served, settings.credentials_file, graphiql=graphiql)
    routes = [landing.route(), *pages.routes(), *docs.routes()]
    if graphiql:
        routes += GraphiQL(TITLE, endpoint=GRAPHQL_PATHS[0]).routes()
    if settings.environment is Environment.SANDBOX:
        callback = SandboxCallback(
            identity.delegation_store, runtime.crypto.hasher, settings.issuer, environment
        )
        routes.append(callback.route())
    return routes


def from_environment() -> VoltgateApp:
    """The server worker's factory: settings read once from VOLTGATE_* in the worker process."""
    settings = Settings()
    configure_logging(
        settings.log_level, file=settings.log_file, console_level=settings.console_log_level
    )
    return create_app(settings, drain_on_signals=True)


def _drain_on_signals(runtime: Runtime) -> None:
    """On SIGTERM/SIGINT, end the long-polls and close the live streams at once: the server
    waits for open requests before it stops, and a charger's long-poll may have 60 s to go.

    The server's own handling stays: its loop learns of the signal through the wakeup fd,
    and the Python-level handler found here is still called.
    """
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set signal handlers; the server's own remain
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)

        def handler(number: int, frame: FrameType | None, previous: Any = previous) -> None:
            loop.call_soon_threadsafe(runtime.fleet.commands.drain)
            loop.call_soon_threadsafe(runtime.streams.drain)
            if callable(previous):
                previous(number, frame)

        signal.signal(signum, handler)
