"""One client connection of the proxy's HTTP/1.1 server (`server.py`): h11 parses what it
sends (RFC 9112), its requests go to the ASGI app one at a time, in order.

The limits it keeps (`Limits`): the request head's size (431; h11 checks a head still coming,
`_head_size` one that came whole), `header_timeout` from accept and after each answer until a
request's head is whole and between pieces of a body, and the body: the app reads it itself (the
proxy's own 1 MiB check answers first, as documented); one byte past `max_body` is handed on,
then the body reads as a disconnect and is answered 413 if the app did not answer. A malformed
request is a 400 and the connection closes.
"""

from __future__ import annotations

import asyncio
import http
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol, cast
from urllib.parse import unquote

import h11

log = logging.getLogger("voltgate.proxy.server")

Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
App = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Any]

_READ_HIGH = 65_536  # bytes buffered from a socket before it is paused
_ASGI = {"version": "3.0", "spec_version": "2.3"}
_REASONS = {s.value: s.phrase.encode() for s in http.HTTPStatus}
_DISCONNECT: Message = {"type": "http.disconnect"}
_MALFORMED = "the request is not HTTP/1.1 as sent"


@dataclass(frozen=True, slots=True)
class Limits:
    max_connections: int = 1_024  # held at once, idle ones included
    max_head: int = 16_384  # request line and headers
    max_body: int = 1_048_576
    header_timeout: float = 10.0  # seconds
    shutdown_grace: float = 10.0  # seconds for requests in flight after SIGINT/SIGTERM
    backlog: int = 1_024


class Host(Protocol):
    """What a connection needs of its server."""

    app: App
    limits: Limits
    stopping: bool

    def track(self, task: asyncio.Task[None]) -> None: ...

    def released(self, connection: Connection) -> None: ...


class Connection(asyncio.Protocol):
    """One client connection: bytes in through `data_received`, requests handled in order by
    one task (`_run`)."""

    def __init__(self, server: Host) -> None:
        self._server = server
        self._limits = server.limits
        self._loop = asyncio.get_running_loop()
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=server.limits.max_head)
        self._transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._eof = False  # no more bytes will come
        self._lost = False  # nor can any be sent
        self._reading_paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._released = False
        self.awaiting_head = True  # between requests: shutdown closes such connections
        self._scope_base: dict[str, Any] = {}
        # The request being answered.
        self._started = False
        self._finished = False
        self._body_done = False
        self._body_size = 0
        # The body's fault (413, 400), answered if the app did not answer.
        self._refusal: tuple[int, str] | None = None
        self._head_only = False
        self._pending: h11.Data | None = None
        self._status = 0
        self._headers: list[tuple[bytes, bytes]] | None = None  # until written

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        tls = transport.get_extra_info("sslcontext") is not None
        self._scope_base = {
            "type": "http",
            "asgi": _ASGI,
            "http_version": "1.1",
            "scheme": "https" if tls else "http",
            "root_path": "",
            "server": _address(transport.get_extra_info("sockname")),
            "client": _address(transport.get_extra_info("peername")),
        }
        self._server.track(self._loop.create_task(self._run()))

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        self.awaiting_head = False
        if len(self._buffer) > _READ_HIGH and not self._reading_paused and self._transport:
            self._reading_paused = True
            self._transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool | None:
        self._eof = True
        self._wake()
        return True  # a half-closed client still gets its answer

    def connection_lost(self, exc: Exception | None) -> None:
        self._eof = self._lost = True
        self._wake()
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        self.release()

    def pause_writing(self) -> None:
        self._writable = self._loop.create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        self._writable = None

    def release(self) -> None:
        """Give back its place among `max_connections` (once)."""
        if not self._released:
            self._released = True
            self._server.released(self)

    def abort(self) -> None:
        if self._transport is not None:
            self._transport.abort()

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def _arm(self) -> None:
        self._timer = self._loop.call_later(self._limits.header_timeout, self.abort)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def _read(self) -> bytes:
        while not self._buffer and not self._eof:
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        data = bytes(self._buffer)
        self._buffer.clear()
        if self._reading_paused and self._transport is not None:
            self._reading_paused = False
            self._transport.resume_reading()
        return data

    async def _next_event(self) -> Any:
        h = self._h11
        while True:
            event = h.next_event()
            if event is not h11.NEED_DATA:
                return event
            h.receive_data(await self._read())

    async def _write(self, data: bytes) -> None:
        if self._transport is None or self._transport.is_closing():
            return
        self._transport.write(data)
        if self._writable is not None:
            await self._writable

    async def _run(self) -> None:
        try:
            while await self._cycle():
                pass
        except Exception:  # the server's own fault: log it, drop this connection only
            log.exception("proxy connection failed")
        finally:
            self._disarm()
            if self._transport is not None:
                self._transport.close()

    async def _cycle(self) -> bool:
        """One request and its answer; whether the connection goes on."""
        h = self._h11
        self.awaiting_head = not h.trailing_data[0] and not self._buffer
        self._arm()
        try:
            event = await self._next_event()
        except h11.RemoteProtocolError as exc:
            if not self._lost:  # not a timeout: a malformed request (or one cut short)
                status = exc.error_status_hint
                text = "the request's head is too large" if status == 431 else _MALFORMED
                await self._refuse(status, text)
            return False
        finally:
            self._disarm()
            self.awaiting_head = False
        if not isinstance(event, h11.Request):
            return False  # the client closed between requests
        if _head_size(event) > self._limits.max_head:  # h11 checks only a head still coming
            await self._refuse(431, "the request's head is too large")
            return False
        if not event.target.startswith(b"/"):
            await self._refuse(400, "the request's target is not a path")
            return False
        await self._answer(event)
        if not self._finished:
            return False
        if h.their_state is h11.SEND_BODY and not await self._discard():
            return False
        if h.our_state is not h11.DONE or h.their_state is not h11.DONE:
            return False
        h.start_next_cycle()
        return not self._server.stopping

    async def _answer(self, request: h11.Request) -> None:
        self._started = self._finished = self._body_done = False
        self._refusal = None
        self._body_size = 0
        self._pending = None
        self._head_only = request.method == b"HEAD"
        raw_path, _, query = request.target.partition(b"?")
        scope = dict(self._scope_base)
        scope["method"] = request.method.decode("ascii")
        path = raw_path.decode("ascii")  # h11 takes visible ASCII only
        scope["path"] = unquote(path) if "%" in path else path
        scope["raw_path"] = raw_path
        scope["query_string"] = query
        scope["headers"] = list(request.headers)
        try:
            await self._server.app(scope, self._receive, self._send)
        except Exception:
            log.exception("the proxy's app raised on %s", scope["path"])
            if not self._started:
                await self._refuse(500, "Internal Server Error")
            return
        if not self._started:
            await self._refuse(*(self._refusal or (500, "Internal Server Error")))

    async def _receive(self) -> Message:
        h = self._h11
        if self._finished or self._lost or self._refusal:
            return _DISCONNECT
        if self._body_done:  # nothing more to read: wait for the answer or a hang-up
            while not (self._finished or self._lost):
                self._waiter = self._loop.create_future()
                try:
                    await self._waiter
                finally:
                    self._waiter = None
            return _DISCONNECT
        if h.they_are_waiting_for_100_continue:
            await self._write(h.send(h11.InformationalResponse(status_code=100, headers=[])))
        event: Any = self._pending
        self._pending = None
        if event is None:
            try:  # usually the body came with the head: no wait, no timer
                event = h.next_event()
            except h11.RemoteProtocolError:
                event = h11.NEED_DATA  # met again below, with the same answer
        if event is h11.NEED_DATA:
            self._arm()
            try:
                event = await self._next_event()
            except h11.RemoteProtocolError:
                self._refusal = (400, "the request's body is not HTTP/1.1 as sent")
                return _DISCONNECT
            finally:
                self._disarm()
        if isinstance(event, h11.EndOfMessage):
            self._body_done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        if not isinstance(event, h11.Data):
            return _DISCONNECT
        room = self._limits.max_body - self._body_size
        self._body_size += len(event.data)
        if self._body_size > self._limits.max_body:
            # One byte past the cap is the app's to refuse (the proxy's own check, same size);
            # the next receive is a disconnect, answered 413 if the app does not answer.
            self._refusal = (413, f"the body is over {self._limits.max_body} bytes")
            return {
                "type": "http.request",
                "body": bytes(event.data[: room + 1]),
                "more_body": True,
            }
        # The body's last piece and its end usually come together: one message, not two.
        try:
            after = h.next_event()
        except h11.RemoteProtocolError:
            after = None  # the next receive meets it again
        if isinstance(after, h11.EndOfMessage):
            self._body_done = True
        elif isinstance(after, h11.Data):
            self._pending = after
        return {"type": "http.request", "body": bytes(event.data), "more_body": not self._body_done}

    async def _send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self._started:
                raise RuntimeError("http.response.start sent twice")
            self._started = True
            self._status = message["status"]
            self._headers = list(message.get("headers", ()))
            return
        if kind != "http.response.body" or not self._started or self._finished:
            raise RuntimeError(f"unexpected ASGI message {kind!r}")
        h = self._h11
        out = []
        if self._headers is not None:
            headers = self._headers
            if self._server.stopping:
                headers.append((b"connection", b"close"))
            out.append(
                h.send(
                    h11.Response(
                        status_code=self._status,
                        headers=headers,
                        reason=_REASONS.get(self._status, b""),
                    )
                )
            )
            self._headers = None
        body = message.get("body", b"")
        if body and not self._head_only:
            out.append(h.send(h11.Data(data=body)))
        if not message.get("more_body", False):
            out.append(h.send(h11.EndOfMessage()))
            self._finished = True
            self._wake()
        await self._write(b"".join(x for x in out if x))

    async def _refuse(self, status: int, text: str) -> None:
        """A plain-text answer from the server itself; the connection closes after it."""
        h = self._h11
        if h.our_state not in (h11.IDLE, h11.SEND_RESPONSE) or self._lost:
            return
        body = text.encode()
        headers = [
            (b"content-type", b"text/plain; charset=utf-8"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        try:
            head = h.send(
                h11.Response(status_code=status, headers=headers, reason=_REASONS.get(status, b""))
            )
            data = h.send(h11.Data(data=body)) if not self._head_only else b""
            end = h.send(h11.EndOfMessage())
        except h11.LocalProtocolError:
            return
        self._started = self._finished = True
        await self._write(b"".join(x for x in (head, data, end) if x))

    async def _discard(self) -> bool:
        """Read what is left of a body the app did not read, up to the cap, to keep the
        connection; whether it was all read."""
        h = self._h11
        while h.their_state is h11.SEND_BODY:
            if self._body_size > self._limits.max_body:
                return False
            self._arm()
            try:
                event = await self._next_event()
            except h11.RemoteProtocolError:
                return False
            finally:
                self._disarm()
            if isinstance(event, h11.Data):
                self._body_size += len(event.data)
            elif not isinstance(event, h11.EndOfMessage):
                return False
        return True


def _head_size(request: h11.Request) -> int:
    """The request head's size as sent, give or take optional whitespace."""
    line = len(request.method) + len(request.target) + 11
    return line + sum(len(name) + len(value) + 4 for name, value in request.headers) + 2


def _address(value: Any) -> tuple[str, int] | None:
    ok = isinstance(value, tuple) and len(value) >= 2
    return (str(value[0]), int(value[1])) if ok else None
