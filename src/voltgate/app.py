"""`create_app(settings)`: the ASGI application with the core routes and every enabled dialect."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from voltgate import __version__
from voltgate.api import admin, health, me
from voltgate.clock import Clock
from voltgate.config import Settings
from voltgate.dialects import DIALECTS
from voltgate.http.adapter import install_error_handlers
from voltgate.observability import RequestContext
from voltgate.runtime import Runtime


def create_app(
    settings: Settings, *, clock: Clock | None = None, dialects: list[str] | None = None
) -> FastAPI:
    runtime = Runtime(settings, clock)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title="voltgate",
        version=__version__,
        description="EV-charging and energy platform API: one OAuth2/OIDC core, several dialects.",
        lifespan=lifespan,
        redirect_slashes=False,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(me.router)
    app.include_router(admin.router)
    for name in dialects or list(DIALECTS):
        DIALECTS[name](app)
    app.add_middleware(RequestContext)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, routes=app.routes, description=app.description
    )
    # The OAuth endpoints are plain Starlette routes (no Form() on the hot path): describe them.
    token_body = {
        "content": {
            "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
            "application/json": {"schema": {"type": "object"}},
        }
    }
    for path, summary in (
        ("/oauth/token", "Token endpoint (RFC 6749 §3.2)"),
        ("/oauth/revoke", "Token revocation (RFC 7009)"),
        ("/oauth/introspect", "Token introspection (RFC 7662)"),
        ("/v1/operator/oauth/token", "Tellus token endpoint (JSON, envelope)"),
        ("/o/token", "ev.energy token endpoint"),
        ("/o/revoke_token/", "ev.energy revocation"),
    ):
        schema["paths"][path] = {
            "post": {
                "summary": summary,
                "requestBody": token_body,
                "responses": {"200": {"description": "OK"}},
                "tags": ["oauth"],
            }
        }
    for path, summary in (
        ("/.well-known/oauth-authorization-server", "Authorization server metadata (RFC 8414)"),
        ("/.well-known/jwks.json", "Signing keys (RFC 7517)"),
    ):
        schema["paths"][path] = {
            "get": {
                "summary": summary,
                "tags": ["oauth"],
                "responses": {"200": {"description": "OK"}},
            }
        }
    app.openapi_schema = schema
    return schema
