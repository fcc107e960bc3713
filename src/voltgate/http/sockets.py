"""WebSocket routes: the handshake through the route's own checks, then the socket handed to
its handler.

A WebSocket route is a GET registered with `RouteTable.websocket`. Its handshake passes the
same guard (the token from `Authorization: Bearer …` or, since browsers cannot set headers on
a WebSocket, from `?token=`), rate limit and path and query checks as a request; the handler
then does its own (a device not the caller's …) and accepts. Anything refused before the
socket is accepted is answered as an HTTP error in the dialect's error body, status and
headers (ASGI's WebSocket Denial Response, which granian offers; a server without it turns the
refusal into a bare 403). A plain GET on the path is 426 Upgrade Required.
"""

from __future__ import annotations

from collections.abc import Mapping
from time import perf_counter
from typing import TYPE_CHECKING, Any

from starlette.types import Receive, Scope, Send

from voltgate.errors import ServerError, UpgradeRequired, VoltgateError
from voltgate.http.request import RawRequest
from voltgate.http.routing import NO_STORE, Call, RawResponse, error
from voltgate.http.validation import query_values
from voltgate.observability import access_log, error_log, request_id

if TYPE_CHECKING:
    from voltgate.http.dispatch import Endpoint

_DENIAL = "websocket.http.response"
POLICY = 1008  # RFC 6455 §7.4.1
INTERNAL = 1011


class Socket:
    """The server side of one WebSocket, as its handler uses it."""

    __slots__ = ("_receive", "_send", "accepted", "close_code", "closed")

    def __init__(self, receive: Receive, send: Send) -> None:
        self._receive = receive
        self._send = send
        self.accepted = False
        self.closed = False  # a close was sent or the client went
        self.close_code: int | None = None

    async def accept(self) -> None:
        await self._send({"type": "websocket.accept"})
        self.accepted = True

    async def send_text(self, text: str) -> None:
        await self._send({"type": "websocket.send", "text": text})

    async def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        self.close_code = code
        await self._send({"type": "websocket.close", "code": code, "reason": reason})

    async def closed_by_peer(self) -> None:
        """Returns when the client closes or the connection drops; what it sends is ignored."""
        while True:
            message = await self._receive()
            if message["type"] == "websocket.disconnect":
                self.closed = True
                self.close_code = message.get("code")
                return


async def upgrade_required(_call: Call[Any, Any, Any]) -> None:
    """The HTTP side of a WebSocket route."""
    raise UpgradeRequired("this is a WebSocket: open it with an Upgrade: websocket handshake")


def _authorization(request: RawRequest) -> str | None:
    """The Authorization header, else `?token=` as a bearer credential."""
    found = request.header(b"authorization")
    if found is not None:
        return found
    token = query_values(request.query_string).get("token")
    return None if token is None else f"Bearer {token}"


async def serve(
    endpoint: Endpoint, scope: Scope, receive: Receive, send: Send, params: Mapping[str, str]
) -> None:
    """One WebSocket on `endpoint`'s route, from its handshake to its end."""
    rid = request_id(scope)
    started, status = perf_counter(), 101
    if (await receive())["type"] != "websocket.connect":
        return
    socket = Socket(receive, send)
    call: Call[Any, Any, Any] = Call(RawRequest(scope, receive, params))
    handler = endpoint.op.socket
    assert handler is not None
    try:
        await endpoint.admit(call, _authorization(call.request))
        await handler(call, socket)
    except VoltgateError as exc:
        status = exc.status_code
        await _refuse(scope, send, socket, error(exc, endpoint.errors, [*call.headers, *NO_STORE]))
    except Exception:
        status = 500
        error_log.exception("unhandled_error", request_id=rid, path=scope["path"])
        crash = ServerError("internal error; quote the request id to support")
        await _refuse(scope, send, socket, error(crash, endpoint.errors, NO_STORE), INTERNAL)
    finally:
        access_log.write(
            {
                "event": "websocket",
                "method": "GET",
                "path": scope["path"],
                "status": status,
                "close": socket.close_code,
                "ms": round((perf_counter() - started) * 1000, 2),
                "request_id": rid,
                "address": (scope.get("client") or ("", 0))[0],
            }
        )


async def _refuse(
    scope: Scope, send: Send, socket: Socket, answer: RawResponse, code: int = POLICY
) -> None:
    """Before the socket is accepted, an HTTP answer (or a bare 403); after, a close."""
    try:
        if socket.accepted:
            await socket.close(code, "")
        elif _DENIAL in scope.get("extensions", {}):
            headers = [(b"content-length", str(len(answer.body)).encode()), *answer.headers]
            start = {"type": "websocket.http.response.start", "status": answer.status}
            await send({**start, "headers": headers})
            await send({"type": "websocket.http.response.body", "body": answer.body})
        else:
            await socket.close(POLICY, "")
    except OSError:  # the client went meanwhile
        return
