"""Glue between the HTTP servers and the protocol core: requests in, rendered errors out.

Hot routes are raw ASGI handlers on the fast path (`fastpath.py`); the rest are FastAPI routes
whose errors are rendered by the handlers installed here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from voltgate.errors import (
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    Renderer,
    ServerError,
    ValidationFailed,
    VoltgateError,
    challenge_headers,
    resource_body,
)
from voltgate.http import fastpath
from voltgate.http.body import parse_params
from voltgate.http.fastpath import RawRequest, RawResponse
from voltgate.http.responses import error_response, json_response
from voltgate.identity.guard import Principal
from voltgate.identity.requests import OAuthRequest
from voltgate.runtime import Runtime

RENDER_KEY = "voltgate.render"
EXTRA_HEADERS_KEY = "voltgate.response_headers"
Action = Callable[[Runtime, OAuthRequest], Awaitable[Any]]
Shape = Callable[[Any], Any]


def runtime(request: Request | RawRequest) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def request_id(request: Request) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


async def oauth_request(request: RawRequest, rt: Runtime, *, allow_json: bool) -> OAuthRequest:
    body = await request.body(rt.settings.max_body_bytes)
    params = parse_params(body, request.header(b"content-type"), allow_json=allow_json)
    return OAuthRequest(
        params=params,
        authorization=request.header(b"authorization"),
        address=request.address,
        request_id=request.request_id,
    )


def oauth_endpoint(
    action: Action,
    *,
    shape: Shape | None = None,
    allow_json: bool = True,
) -> fastpath.Handler:
    """A fast-path handler for an OAuth endpoint; errors are rendered by the route's renderer."""

    async def endpoint(request: RawRequest) -> RawResponse:
        rt = runtime(request)
        result = await action(rt, await oauth_request(request, rt, allow_json=allow_json))
        if result is None:
            return RawResponse(200, b"", list(fastpath.NO_STORE))
        return fastpath.json(shape(result) if shape else result, 200, fastpath.NO_STORE)

    return endpoint


async def authenticate(request: RawRequest) -> Principal:
    """The bearer guard for fast-path handlers."""
    return await runtime(request).identity.guard.authenticate(request.header(b"authorization"))


def set_renderer(render: Renderer) -> Callable[[Request], Awaitable[None]]:
    """A router dependency that picks how errors on that router's routes are rendered.

    Async on purpose: FastAPI runs a sync dependency in its thread pool, a thread hop per
    request that cost protected reads about a third of their throughput."""

    async def dependency(request: Request) -> None:
        request.scope[RENDER_KEY] = render

    return dependency


def bearer(
    *scopes: str, any_of: bool = False, kinds: tuple[str, ...] = ()
) -> Callable[[Request], Awaitable[Principal]]:
    """The bearer guard as a FastAPI dependency; the token's kind is checked before its scopes."""

    async def dependency(request: Request) -> Principal:
        principal = await runtime(request).identity.guard.authenticate(
            request.headers.get("authorization")
        )
        return admit(principal, scopes, any_of=any_of, kinds=kinds)

    return dependency


def admit(
    principal: Principal, scopes: tuple[str, ...], *, any_of: bool, kinds: tuple[str, ...]
) -> Principal:
    """The route's kind check (403 naming the kinds), then its scopes (403 naming them)."""
    if kinds:
        principal.require_kind(*kinds)
    if scopes:
        if any_of:
            principal.require_any(*scopes)
        else:
            principal.require(*scopes)
    return principal


def render_error(request: Request, exc: VoltgateError) -> Response:
    render: Renderer = request.scope.get(RENDER_KEY, resource_body)
    # Headers a route's dependencies want on every response, errors included (rate limits).
    extra: dict[str, str] = request.scope.get(EXTRA_HEADERS_KEY, {})
    return error_response(exc, render, {**extra, **challenge_headers(exc)})


def install_error_handlers(app: FastAPI) -> None:
    async def on_voltgate(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, VoltgateError)
        return render_error(request, exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        loc = first.get("loc", ())
        where = ".".join(str(p) for p in loc if p != "body") or ".".join(str(p) for p in loc)
        message = f"{where}: {first.get('msg', 'invalid')}" if where else "invalid request"
        if first.get("type") == "json_invalid":
            message = "the body is not valid JSON"
        return render_error(request, ValidationFailed(message[:300]))

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        mapped: VoltgateError
        if exc.status_code == 404:
            mapped = NotFound("no such resource")
        elif exc.status_code == 405:
            mapped = MethodNotAllowed("method not allowed on this path")
        else:
            mapped = InvalidRequest(str(exc.detail)[:300])
        response = render_error(request, mapped)
        if exc.status_code not in (404, 405):
            response.status_code = exc.status_code
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def on_unexpected(request: Request, exc: Exception) -> Response:
        # Logged with its trace by RequestContext; the client sees only the request id.
        failure = ServerError("internal error; quote the request id to support")
        body = {**resource_body(failure), "request_id": request_id(request)}
        return json_response(body, status=500)

    app.add_exception_handler(VoltgateError, on_voltgate)
    app.add_exception_handler(Exception, on_unexpected)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)


# The operator guards every operator route uses: `read` lists, `write` controls (Tellus).
_OPERATOR = ("operator",)
operator_reader = bearer("read", kinds=_OPERATOR)
operator_writer = bearer("write", kinds=_OPERATOR)
