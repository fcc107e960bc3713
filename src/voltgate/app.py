"""`create_app(settings)`: the ASGI application with the core routes and every enabled dialect."""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.types import ASGIApp, Receive, Scope, Send

from voltgate import __version__
from voltgate.clock import Clock
from voltgate.config import Environment, Settings
from voltgate.dialects import DIALECTS, LEGACY
from voltgate.http.adapter import install_error_handlers
from voltgate.http.limits import ApiRateLimiter
from voltgate.http.openapi import document
from voltgate.http.routing import Binding, Router, RouteTable
from voltgate.observability import RequestContext, access_log, configure_logging
from voltgate.runtime import Runtime
from voltgate.web import pages, sandbox


class VoltgateApp(FastAPI):
    """FastAPI, with the correlation context and the fast path in front of all of it.

    HTTP requests enter `entry` (RequestContext → Router) before FastAPI's own middleware
    stack; requests the router does not serve continue into FastAPI unchanged.
    """

    entry: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.entry is not None:
            scope["app"] = self
            await self.entry(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def framework(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    dialects: list[str] | None = None,
    drain_on_signals: bool = False,
) -> FastAPI:
    runtime = Runtime(settings, clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        if drain_on_signals:
            _drain_on_signals(runtime)
        try:
            yield
        finally:
            await runtime.stop()
            access_log.flush()

    app = VoltgateApp(
        title="voltgate",
        version=__version__,
        description="EV-charging and energy platform API: one OAuth2/OIDC core, several dialects.",
        lifespan=lifespan,
        redirect_slashes=False,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    pages.install(app, runtime)
    if settings.environment is Environment.SANDBOX:
        app.include_router(sandbox.router)
    table = RouteTable()
    for name in dialects or list(DIALECTS):
        DIALECTS[name](table, runtime)
        LEGACY[name](app)
    binding = Binding(
        auth=runtime.identity.guard,
        signatures=runtime.identity.signatures,
        limiter=ApiRateLimiter(
            runtime.coordinator, runtime.clock, settings.api_rate_limit, settings.api_rate_window
        ),
        max_body=settings.max_body_bytes,
    )
    app.entry = RequestContext(Router(table, binding, app.framework))
    app.openapi = lambda: _openapi(app, table)  # type: ignore[method-assign]
    return app


def from_environment() -> FastAPI:
    """The server worker's factory: settings read once from VOLTGATE_* in the worker process."""
    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings, drain_on_signals=True)


def _drain_on_signals(runtime: Runtime) -> None:
    """On SIGTERM/SIGINT, end the long-polls at once: the server waits for open requests
    before it stops, and a charger's long-poll may have 60 s to go.

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
            if callable(previous):
                previous(number, frame)

        signal.signal(signum, handler)


def _openapi(app: FastAPI, table: RouteTable) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, routes=app.routes, description=app.description
    )
    ours = document(
        table.operations, title=app.title, version=app.version, description=app.description
    )
    schema["paths"].update(ours["paths"])
    schema.setdefault("components", {}).setdefault("schemas", {}).update(
        ours["components"]["schemas"]
    )
    schema["components"]["securitySchemes"] = ours["components"]["securitySchemes"]
    app.openapi_schema = schema
    return schema
