"""Glue between Starlette/FastAPI and the protocol core: requests in, rendered errors out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from voltgate.errors import (
    Forbidden,
    InsufficientScope,
    InvalidRequest,
    InvalidToken,
    MethodNotAllowed,
    NotFound,
    Renderer,
    ValidationFailed,
    VoltgateError,
    bearer_challenge,
    resource_body,
)
from voltgate.http.body import parse_params, read_limited
from voltgate.http.responses import NO_STORE, error_response, json_response
from voltgate.identity.guard import Principal
from voltgate.identity.requests import OAuthRequest
from voltgate.runtime import Runtime

RENDER_KEY = "voltgate.render"
Action = Callable[[Runtime, OAuthRequest], Awaitable[Any]]
Shape = Callable[[Any], Any]


def runtime(request: Request) -> Runtime:
    rt: Runtime = request.app.state.runtime
    return rt


def request_id(request: Request) -> str | None:
    value = request.scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else None


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


async def oauth_request(request: Request, rt: Runtime, *, allow_json: bool = True) -> OAuthRequest:
    body = await read_limited(request, rt.settings.max_body_bytes)
    params = parse_params(body, request.headers.get("content-type"), allow_json=allow_json)
    return OAuthRequest(
        params=params,
        authorization=request.headers.get("authorization"),
        address=_address(request),
        request_id=request_id(request),
    )


def oauth_endpoint(
    action: Action,
    render: Renderer,
    *,
    shape: Shape | None = None,
    allow_json: bool = True,
    empty_status: int = 200,
) -> Callable[[Request], Awaitable[Response]]:
    """A plain Starlette endpoint (no FastAPI dependency machinery on the hot path)."""

    async def endpoint(request: Request) -> Response:
        rt = runtime(request)
        try:
            result = await action(rt, await oauth_request(request, rt, allow_json=allow_json))
        except VoltgateError as exc:
            return error_response(exc, render, NO_STORE)
        if result is None:
            return Response(status_code=empty_status, headers=NO_STORE)
        return json_response(shape(result) if shape else result, headers=NO_STORE)

    return endpoint


def set_renderer(render: Renderer) -> Callable[[Request], None]:
    """A router dependency that picks how errors on that router's routes are rendered."""

    def dependency(request: Request) -> None:
        request.scope[RENDER_KEY] = render

    return dependency


def bearer(*scopes: str, any_of: bool = False) -> Callable[[Request], Awaitable[Principal]]:
    async def dependency(request: Request) -> Principal:
        principal = await runtime(request).guard.authenticate(request.headers.get("authorization"))
        if scopes:
            if any_of:
                principal.require_any(*scopes)
            else:
                principal.require(*scopes)
        request.scope["voltgate.principal"] = principal
        return principal

    return dependency


def render_error(request: Request, exc: VoltgateError) -> Response:
    render: Renderer = request.scope.get(RENDER_KEY, resource_body)
    headers: dict[str, str] = {}
    if isinstance(exc, InvalidToken | InsufficientScope | Forbidden):
        headers["WWW-Authenticate"] = bearer_challenge(exc)
    return error_response(exc, render, headers)


def install_error_handlers(app: FastAPI) -> None:
    async def on_voltgate(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, VoltgateError)
        return render_error(request, exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        message = f"{where}: {first.get('msg', 'invalid')}" if where else "invalid request"
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

    app.add_exception_handler(VoltgateError, on_voltgate)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
