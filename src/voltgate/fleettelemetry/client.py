"""A vehicle's side of Fleet Telemetry: one WebSocket over TLS with the vehicle's certificate,
each message numbered by a txid and kept until the server acknowledges it, and resent (marked
`is_resend`, same txid and creation time) when no acknowledgement comes in time.

Used by the sandbox's simulated vehicles, the tests and the bench; it is what a vehicle does,
not what voltgate's server needs.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from voltgate.fleettelemetry import envelope, protos

DEVICE_TYPE = b"vehicle_device"
_MAX_FRAME = 1 << 20  # what the server sends: acknowledgements and short text


@dataclass(slots=True)
class Unacked:
    txid: bytes
    topic: bytes
    created_at: float
    items: list[tuple[str, Any]]
    sent_at: float
    payload: bytes


class VehicleClient:
    def __init__(
        self,
        url: str,
        vin: str,
        context: ssl.SSLContext,
        resend_after: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self.vin = vin
        self._context = context
        self._resend_after = resend_after
        self._clock = clock
        self._ws: ClientConnection | None = None
        self._reader: asyncio.Task[None] | None = None
        self.unacked: dict[bytes, Unacked] = {}
        self.acked = 0
        self.texts: asyncio.Queue[str] = asyncio.Queue()  # what the server said in text frames
        self._all_acked = asyncio.Event()
        self._all_acked.set()

    async def connect(self, open_timeout: float = 10.0) -> None:
        """Opens the socket; raises `websockets.exceptions.InvalidStatus` when refused (403:
        no configuration) and `ssl.SSLError`/`OSError` when the handshake fails."""
        self._ws = await connect(
            self.url,
            ssl=self._context,
            compression=None,
            open_timeout=open_timeout,
            max_size=_MAX_FRAME,
            proxy=None,
        )
        self._reader = asyncio.get_running_loop().create_task(self._read(self._ws))

    @property
    def connected(self) -> bool:
        return self._ws is not None

    async def _read(self, ws: ClientConnection) -> None:
        try:
            async for frame in ws:
                if type(frame) is str:
                    self.texts.put_nowait(frame)
                    continue
                txid, _topic = envelope.decode_ack(frame)  # type: ignore[arg-type]
                if self.unacked.pop(txid, None) is not None:
                    self.acked += 1
                    if not self.unacked:
                        self._all_acked.set()
        except (ConnectionClosed, envelope.MalformedFrame):
            pass

    async def send_signals(
        self, items: list[tuple[str, Any]], created_at: float | None = None
    ) -> bytes:
        """One `V` message of these (field, value) pairs: its txid."""
        at = self._clock() if created_at is None else created_at
        payload = protos.payload(self.vin, at, items)
        return await self._send(b"V", at, items, payload)

    async def send_raw(
        self, topic: bytes, payload: bytes, created_at: float | None = None
    ) -> bytes:
        at = self._clock() if created_at is None else created_at
        return await self._send(topic, at, [], payload)

    async def _send(
        self, topic: bytes, at: float, items: list[tuple[str, Any]], payload: bytes
    ) -> bytes:
        txid = os.urandom(16).hex().encode()
        self.unacked[txid] = Unacked(txid, topic, at, items, self._clock(), payload)
        self._all_acked.clear()
        await self._frame(txid, topic, at, payload)
        return txid

    async def _frame(self, txid: bytes, topic: bytes, at: float, payload: bytes) -> None:
        assert self._ws is not None, "not connected"
        frame = envelope.encode_stream(
            txid=txid,
            topic=topic,
            message_id=txid,
            created_at=int(at),
            sender_id=DEVICE_TYPE + b"." + self.vin.encode(),
            payload=payload,
            device_type=DEVICE_TYPE,
            device_id=self.vin.encode(),
            delivered_at_ms=0,
        )
        await self._ws.send(frame)

    async def resend_due(self) -> int:
        """Sends again what waited longer than `resend_after` for its acknowledgement."""
        now = self._clock()
        due = [u for u in self.unacked.values() if now - u.sent_at >= self._resend_after]
        if due:
            self._all_acked.clear()
        for message in due:
            message.sent_at = now
            payload = message.payload
            if message.topic == b"V":
                payload = protos.payload(self.vin, message.created_at, message.items, True)
            await self._frame(message.txid, message.topic, message.created_at, payload)
        return len(due)

    async def resend_all(self) -> int:
        """After reconnecting: everything not acknowledged, again."""
        for message in self.unacked.values():
            message.sent_at = 0.0
        return await self.resend_due()

    async def acknowledged(self, timeout: float) -> bool:
        """Waits until nothing is unacknowledged: whether that happened within `timeout`."""
        try:
            await asyncio.wait_for(self._all_acked.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def say(self, text: str) -> None:
        assert self._ws is not None, "not connected"
        await self._ws.send(text)

    async def close(self, code: int = 1000, reason: str = "asleep") -> None:
        """Closes the socket: 1000 as a vehicle going to sleep does."""
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close(code, reason)
        if self._reader is not None:
            await self._reader
            self._reader = None

    async def drop(self) -> None:
        """Loses the connection without a closing handshake (the vehicle drove out of range)."""
        ws, self._ws = self._ws, None
        if ws is not None:
            ws.transport.abort()
        if self._reader is not None:
            await self._reader
            self._reader = None
