"""The vehicle-facing listener: Fleet Telemetry's WebSocket over TLS with client certificates.

A vehicle proves who it is with a certificate issued by voltgate's telemetry CA (the TLS
handshake refuses any other: `ca.server_context`); its CN is its VIN (`ca.vin_of`). A VIN with
no telemetry configuration is refused with 403 before the WebSocket opens. Each connection is
recorded when it opens and when it closes (`vehicle_connectivity`), so the API can tell an
online vehicle from one asleep (it closed its socket cleanly, code 1000 or 1001) or offline
(the socket dropped); a listener that restarts after a crash first closes the records of the
connections it held. Frames over 1,000,000 bytes close the socket (1009).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
import uuid
import weakref
from collections.abc import Callable, Sequence
from functools import partial
from http import HTTPStatus
from typing import Any, Protocol

import orjson
import structlog
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed, ConnectionClosedError
from websockets.http11 import Request, Response

from voltgate.fleettelemetry import ca
from voltgate.fleettelemetry.ingest.batcher import Batcher
from voltgate.fleettelemetry.ingest.connection import RateLimit, Refused, VehicleSocket
from voltgate.fleettelemetry.ingest.store import Connectivity, IngestStore

log = structlog.get_logger("voltgate.fleettelemetry")
MAX_MESSAGE = 1_000_000  # bytes, as Fleet Telemetry's own server refuses beyond
CONNECTED, DISCONNECTED = "CONNECTED", "DISCONNECTED"
# How often configurations written elsewhere are looked for and changed ones pushed; every
# connected vehicle's is compared every `_SWEEP` pushes (an `exp` passing is no write).
PUSH_INTERVAL = 0.5
_SWEEP = 60


class Configs(Protocol):
    """The vehicles' telemetry configurations, as the listener needs them."""

    async def allowed(self, vin: str) -> bool:
        """Whether the vehicle has a configuration (the listener's allow-list)."""

    async def current(self, vin: str) -> tuple[str, dict[str, Any]] | None:
        """The configuration the vehicle should run: (version, `{"fields": …, …}`)."""

    async def applied(self, vin: str, version: str) -> None:
        """The vehicle said it runs this version."""

    def changed(self) -> set[str]:
        """The vehicles whose configurations changed since the last call."""

    async def catch_up(self) -> None:
        """Takes in configurations written by other processes."""


async def _send_all(ws: ServerConnection, frames: Sequence[bytes]) -> None:
    """Binary frames in one write to the socket: one TLS record and one system call for all,
    where `ws.send` makes one of each per frame. (websockets' `send_context` is what its own
    `send` writes in: it checks the state, writes what the protocol queued, waits on flow
    control; the frames queued are joined first.)"""
    if len(frames) == 1:
        await ws.send(frames[0])
        return
    async with ws.send_context():
        protocol = ws.protocol
        for frame in frames:
            protocol.send_binary(frame)
        queued = protocol.writes
        if all(queued):  # no end of stream among them (b""): that one stays apart
            queued[:] = [b"".join(queued)]


class Limits:
    __slots__ = ("in_flight", "rate_interval", "rate_messages")

    def __init__(self, rate_messages: int, rate_interval: float, in_flight: int) -> None:
        self.rate_messages = rate_messages
        self.rate_interval = rate_interval
        self.in_flight = in_flight


class Listener:
    def __init__(
        self,
        store: IngestStore,
        batcher: Batcher,
        context: ssl.SSLContext,
        configs: Configs,
        limits: Limits,
        instance: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._batcher = batcher
        self._context = context
        self._configs = configs
        self._pusher: asyncio.Task[None] | None = None
        self._limits = limits
        self.instance = instance
        self._clock = clock
        # Admitted connections' VINs until their handler takes them (weak: a handshake that
        # fails after admission never reaches the handler).
        self._vins: weakref.WeakKeyDictionary[ServerConnection, str] = weakref.WeakKeyDictionary()
        self._server: Server | None = None
        self._stopping = False
        self.sockets: dict[str, VehicleSocket] = {}  # by connection id

    async def start(self, host: str, port: int) -> int:
        """Closes the records of connections this instance held (a crash left them open),
        then listens: the port bound."""
        now = self._clock()
        await self._store.prepare(now)
        for held in await self._store.still_connected(self.instance):
            await self._store.connectivity(
                held._replace(status=DISCONNECTED, at=now, reason="ingest_restarted")
            )
        self._server = await serve(
            self._handle,
            host,
            port,
            ssl=self._context,
            process_request=self._admit,
            max_size=MAX_MESSAGE,
            compression=None,
            server_header=None,
        )
        self._pusher = asyncio.get_running_loop().create_task(self._push_changes())
        sockets = self._server.sockets
        return int(sockets[0].getsockname()[1]) if sockets else port

    async def _admit(self, connection: ServerConnection, _request: Request) -> Response | None:
        der = connection.transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
        try:
            vin = ca.vin_of(der)
        except ValueError:
            return connection.respond(HTTPStatus.FORBIDDEN, "the certificate names no VIN\n")
        if not await self._configs.allowed(vin):
            return connection.respond(
                HTTPStatus.FORBIDDEN, "this vehicle has no telemetry configuration\n"
            )
        self._vins[connection] = vin
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        vin = self._vins.pop(ws)
        connection_id = str(uuid.uuid4())
        opened = Connectivity(
            vin, connection_id, CONNECTED, self._clock(), None, None, self.instance
        )
        await self._store.connectivity(opened)
        limits = self._limits
        socket = VehicleSocket(
            vin,
            self._batcher,
            RateLimit(limits.rate_messages, limits.rate_interval),
            limits.in_flight,
            ws.send,
            partial(_send_all, ws),
            self._clock,
        )
        self.sockets[connection_id] = socket
        sender = asyncio.get_running_loop().create_task(socket.send_acks())
        reason = "asleep"
        try:
            await self._push(socket)
            async for data in ws:
                if type(data) is str:
                    await self._said(vin, data)
                    continue
                socket.frame(data)  # type: ignore[arg-type]
                if socket.waiting >= limits.in_flight:
                    await socket.room()
        except Refused as refused:
            reason = "refused"
            log.info("telemetry_refused", vin=vin, code=refused.code, reason=refused.reason)
            await ws.close(refused.code, refused.reason)
        except ConnectionClosedError:
            reason = "dropped"
        except ConnectionClosed:
            pass
        finally:
            socket.closed = True
            sender.cancel()
            del self.sockets[connection_id]
            if self._stopping:
                reason = "ingest_stopped"
            elif reason == "asleep" and ws.close_code not in (1000, 1001):
                reason = "dropped"  # closed without the vehicle's goodbye
            await self._store.connectivity(
                opened._replace(status=DISCONNECTED, at=self._clock(), reason=reason)
            )

    async def _push(self, socket: VehicleSocket) -> None:
        """Sends the vehicle its configuration when it differs from what was sent."""
        current = await self._configs.current(socket.vin)
        if current is None or socket.pushed == current[0]:
            return
        socket.pushed = current[0]
        frame = {"type": "config", "version": current[0], **current[1]}
        await socket.send(orjson.dumps(frame).decode())

    async def _push_changes(self) -> None:
        turn = 0
        while True:
            await asyncio.sleep(PUSH_INTERVAL)
            turn += 1
            try:
                await self._configs.catch_up()
            except Exception:  # the database is away: next time
                log.warning("telemetry_config_catch_up_failed", exc_info=True)
            changed = self._configs.changed()
            for socket in list(self.sockets.values()):
                if socket.closed or (turn % _SWEEP and socket.vin not in changed):
                    continue
                with contextlib.suppress(ConnectionClosed):
                    await self._push(socket)

    async def _said(self, vin: str, text: str) -> None:
        """A text frame: the vehicle saying which configuration it runs; anything else is
        ignored."""
        try:
            frame = orjson.loads(text)
        except orjson.JSONDecodeError:
            return
        if type(frame) is dict and frame.get("type") == "config_applied":
            version = frame.get("version")
            if type(version) is str and len(version) <= 200:
                await self._configs.applied(vin, version)

    async def stop(self) -> None:
        """Closes every socket (1001), records why, and writes what waits."""
        self._stopping = True
        if self._pusher is not None:
            self._pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._pusher
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        await self._batcher.close()
