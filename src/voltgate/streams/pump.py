"""One stream's life once its route has checked the caller: a consumer of its keys, held
against its token (`sessions`), the socket accepted once the source knows where to start, and
frames moved from the consumer's buffer to the socket by a sender task of its own until the
consumer ends (too slow, token revoked or expired, server stopping) or the client goes.

The sender is the only code that waits on the socket; the publisher only appends to the
buffer. A consumer that ends while its sender is stuck on a socket that stopped reading has
the sender cancelled and gets its close frame within `CLOSE_WAIT` seconds, else the
connection is dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Collection
from typing import Protocol

from voltgate.identity.tokens import AccessClaims
from voltgate.streams.hub import NORMAL, Close, Consumer, Hub
from voltgate.streams.sessions import Sessions

CLOSE_WAIT = 1.0  # seconds a close frame gets to go out
READY_WAIT = 5.0  # seconds the handshake waits for the source's starting point
CLIENT_CLOSED = Close(NORMAL, "the client closed the stream")


class Outlet(Protocol):
    """The socket, as a stream uses it (`http.sockets.Socket`)."""

    async def accept(self) -> None: ...

    async def send_text(self, text: str) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...

    async def closed_by_peer(self) -> None:
        """Returns when the client closes or the connection drops (what it sends is read and
        ignored)."""


class Feed(Protocol):
    """A hub's source (`tailer.Tailer`)."""

    async def ready(self) -> None: ...


class NoFeed:
    """A hub fed only by direct `publish` calls."""

    async def ready(self) -> None:
        return None


async def stream(
    outlet: Outlet,
    claims: AccessClaims,
    keys: Collection[str],
    hub: Hub,
    feed: Feed,
    sessions: Sessions,
) -> Close:
    """Accept the socket and stream the frames of `keys` until it ends; how it ended. Raises
    (before accepting) when the token has its most streams open."""
    sessions.room(claims)
    consumer = hub.subscribe(keys)
    sessions.add(claims, consumer)
    try:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(READY_WAIT):
                await feed.ready()
        await outlet.accept()
        return await pump(consumer, outlet)
    finally:
        sessions.remove(claims, consumer)
        consumer.end(*CLIENT_CLOSED)


async def pump(consumer: Consumer, outlet: Outlet) -> Close:
    """Send the consumer's frames until it ends or the client goes; how the stream closed."""
    sender = asyncio.create_task(_send(consumer, outlet))
    peer = asyncio.create_task(outlet.closed_by_peer())
    try:
        await asyncio.wait((sender, peer, consumer.closed), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (sender, peer):
            task.cancel()
        await asyncio.wait((sender, peer))
        for task in (sender, peer):  # a send to a connection gone: seen here, not logged
            if not task.cancelled():
                task.exception()
    if not consumer.closed.done():  # the client closed or the connection dropped
        consumer.end(*CLIENT_CLOSED)
        return consumer.closed.result()
    close = consumer.closed.result()
    with contextlib.suppress(Exception):
        async with asyncio.timeout(CLOSE_WAIT):
            await outlet.close(close.code, close.reason)
    return close


async def _send(consumer: Consumer, outlet: Outlet) -> None:
    while (frame := await consumer.next()) is not None:
        await outlet.send_text(frame)
