"""The proxy's HTTP/1.1 server: one asyncio loop (uvloop), h11 parsing each connection (RFC 9112),
TLS from the stdlib `ssl` module, driving the proxy's ASGI app (`ProxyApp`) one request at a time
per connection.

Why its own: a command through the proxy on granian (one worker, single-threaded runtime) spent
~500 us of CPU, mostly thread hand-offs, against ~240 us on a one-thread asyncio server with
the same app (bench/results/2026-12-07-vehicle-commands.md).

Limits (`Limits`): connections held at once (past it, new ones wait in the listen queue), the
request head's size (431), `header_timeout` from accept and after each answer until a request's
head is whole (closes idle keep-alive and slow sockets) and between pieces of a body, and a
body ceiling: the app reads the body itself (the proxy's own 1 MiB check answers first, as
documented); a body passing `max_body` reads as a disconnect and is answered 413 if the app
has not answered. A malformed request is a 400 and the connection is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import logging
import signal
import socket
import ssl
from collections.abc import Awaitable, Callable, MutableMapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import unquote

import h11

log = logging.getLogger("voltgate.proxy.server")

Message = MutableMapping[str, Any]
Scope = MutableMapping[str, Any]
App = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Any]
Lifespan = Callable[[], AbstractAsyncContextManager[Any]]

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


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["http/1.1"])
    return context


class _Connection(asyncio.Protocol):
    """One client connection: bytes in through `data_received`, requests handled in order by
    one task (`_run`)."""

    def __init__(self, server: Server) -> None:
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

    # asyncio.Protocol

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

    # plumbing

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

    # requests

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
        scope["path"] = unquote(raw_path.decode("ascii"))
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
    if isinstance(value, tuple) and len(value) >= 2:
        return str(value[0]), int(value[1])
    return None


class Server:
    """Accepts connections on one listening socket while fewer than `max_connections` are held
    (the rest wait in the listen queue), each served by a `_Connection`."""

    def __init__(
        self, app: App, listener: socket.socket, limits: Limits, tls: ssl.SSLContext | None
    ) -> None:
        self.app = app
        self.limits = limits
        self.stopping = False
        self._listener = listener
        self._tls = tls
        self._slots = asyncio.Semaphore(limits.max_connections)
        self._connections: set[_Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()  # handshakes and connections' requests

    async def accept(self) -> None:
        """Accept until cancelled."""
        loop = asyncio.get_running_loop()
        self._listener.setblocking(False)
        while True:
            await self._slots.acquire()
            try:
                sock, _ = await loop.sock_accept(self._listener)
            except OSError as exc:  # out of files, or a connection reset before accept
                self._slots.release()
                log.warning("proxy accept failed: %s", exc)
                await asyncio.sleep(0.05)
                continue
            except BaseException:
                self._slots.release()
                raise
            self.track(loop.create_task(self._open(sock)))

    def track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _open(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        connection = _Connection(self)
        self._connections.add(connection)
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            await loop.connect_accepted_socket(
                lambda: connection,
                sock,
                ssl=self._tls,
                ssl_handshake_timeout=self.limits.header_timeout if self._tls else None,
            )
        except BaseException as exc:  # a failed TLS handshake, a reset, or shutdown
            with contextlib.suppress(OSError):
                sock.close()
            connection.release()
            if not isinstance(exc, Exception):
                raise

    def released(self, connection: _Connection) -> None:
        self._connections.discard(connection)
        self._slots.release()

    async def shutdown(self) -> None:
        """Stop taking requests: close the connections waiting for one, let those answering
        finish (with `Connection: close`) for up to `shutdown_grace`, then drop the rest."""
        self.stopping = True
        self._listener.close()
        for connection in list(self._connections):
            if connection.awaiting_head:
                connection.abort()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=self.limits.shutdown_grace)
        for connection in list(self._connections):
            connection.abort()
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks))


def listen(host: str, port: int, backlog: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return socket.create_server((host, port), family=family, backlog=backlog)


async def serve(
    app: App,
    listener: socket.socket,
    *,
    lifespan: Lifespan | None = None,
    tls: ssl.SSLContext | None = None,
    limits: Limits = Limits(),
    stop: asyncio.Event | None = None,
) -> None:
    """Serve `app` on `listener` until `stop` is set (SIGINT or SIGTERM when not given), inside
    `lifespan` (the app's startup and shutdown)."""
    loop = asyncio.get_running_loop()
    own_signals = stop is None
    stop = stop or asyncio.Event()
    if own_signals:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
    try:
        async with contextlib.AsyncExitStack() as stack:
            if lifespan is not None:
                await stack.enter_async_context(lifespan())
            server = Server(app, listener, limits, tls)
            accepting = loop.create_task(server.accept())
            try:
                await stop.wait()
            finally:
                accepting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await accepting
                await server.shutdown()
    finally:
        listener.close()
        if own_signals:
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(signum)
