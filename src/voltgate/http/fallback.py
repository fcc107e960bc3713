"""What answers outside the route table, in the resource error format: an error a page raises
(a form too large, the wrong method on a page's path) and the 404 for a path nobody serves."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocketClose

from voltgate.errors import (
    RESOURCE_ERRORS,
    InvalidRequest,
    MethodNotAllowed,
    NotFound,
    VoltgateError,
    challenge_headers,
)
from voltgate.http.responses import error_response
from voltgate.http.routing import NO_STORE, error


async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
    """The end of the chain: a JSON 404 (a WebSocket is closed)."""
    if scope["type"] == "websocket":
        await WebSocketClose()(scope, receive, send)
        return
    response = error(NotFound("no such resource"), RESOURCE_ERRORS, NO_STORE)
    await response.send(send, head=scope["method"] == "HEAD")


async def on_error(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, VoltgateError)
    return error_response(exc, RESOURCE_ERRORS.render, challenge_headers(exc))


async def on_http(_request: Request, exc: Exception) -> Response:
    """Starlette's own refusals on a page's path: a wrong method (405 with Allow), …"""
    assert isinstance(exc, HTTPException)
    mapped: VoltgateError
    if exc.status_code == 404:
        mapped = NotFound("no such resource")
    elif exc.status_code == 405:
        mapped = MethodNotAllowed("method not allowed on this path")
    else:
        mapped = InvalidRequest(str(exc.detail)[:300])
    response = error_response(mapped, RESOURCE_ERRORS.render, dict(exc.headers or {}))
    response.status_code = exc.status_code
    return response


HANDLERS = {VoltgateError: on_error, HTTPException: on_http}
