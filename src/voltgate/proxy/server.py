"""The proxy's HTTP/1.1 server: one asyncio loop (uvloop in `voltgate proxy`), one listening
socket, TLS from the stdlib `ssl` module, each connection a `connection.Connection` driving the
proxy's ASGI app (`ProxyApp`).

Why its own: a command through the proxy on granian (one worker, single-threaded runtime) spent
~500 us of CPU, mostly thread hand-offs, against ~240 us on a one-thread asyncio server with the
same app (bench/results/2026-12-07-vehicle-commands.md). Connections past `max_connections`
wait in the listen queue; SIGINT or SIGTERM stops it cleanly (`Server.shutdown`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import ssl
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from voltgate.proxy.connection import App, Connection, Limits

__all__ = ["App", "Limits", "Server", "listen", "serve", "tls_context"]

log = logging.getLogger("voltgate.proxy.server")

Lifespan = Callable[[], AbstractAsyncContextManager[Any]]


def tls_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["http/1.1"])
    return context


class Server:
    """Accepts connections on one listening socket while fewer than `max_connections` are held
    (the rest wait in the listen queue), each served by a `Connection`."""

    def __init__(
        self, app: App, listener: socket.socket, limits: Limits, tls: ssl.SSLContext | None
    ) -> None:
        self.app = app
        self.limits = limits
        self.stopping = False
        self._listener = listener
        self._tls = tls
        self._slots = asyncio.Semaphore(limits.max_connections)
        self._connections: set[Connection] = set()
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
        connection = Connection(self)
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

    def released(self, connection: Connection) -> None:
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
