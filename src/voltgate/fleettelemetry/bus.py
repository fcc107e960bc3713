"""The scale path's bus: each message a vehicle sends is stored in a NATS JetStream stream before
the listener acknowledges it; writers (`writer.py`) move it into the database.

Subjects are `<prefix>.<topic>.<VIN>` (topic `V`, `alerts` or `errors`), the body is the payload
as the vehicle sent it, and one header, `Voltgate-Message`, carries the rest of the `Message`
(creation and receipt times, txid in hex, topic, VIN: one header to read, not five). One
durable stream holds them, created or updated at start:
- file storage;
- work-queue retention: a message leaves the stream when a writer acknowledges it after its
  commit, so what the stream holds is what the writers have still to write;
- `max_bytes` with discard-new: a full stream refuses a publish, the vehicle gets no
  acknowledgement and resends later (discarding old messages would lose acknowledged ones);
- `max_age`: a message no writer took within it is dropped (writers stopped that long lose it);
- `duplicate_window`: a resend within it is dropped by its `Nats-Msg-Id` (vin/txid/created_at)
  and its PubAck says so; a later resend is dropped by the database's own dedupe.

Connectivity records do not ride the bus: they go straight to the database (a vehicle's online
state and a restarted listener's clean-up read them there, and one per connection is no load).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence

import orjson
import structlog
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api
from nats.js.errors import BadRequestError

from voltgate.config import Settings
from voltgate.fleettelemetry.ingest.store import Connectivity, IngestStore, Message, Numbers

log = structlog.get_logger("voltgate.fleettelemetry")

MSG_ID = "Nats-Msg-Id"
MESSAGE = "Voltgate-Message"  # "<created_at> <received_at> <txid hex> <topic> <vin>"
# The five headers listeners wrote before (a stream may still hold such messages).
VIN = "Voltgate-Vin"
TOPIC = "Voltgate-Topic"
TXID = "Voltgate-Txid"  # hex: a txid is any bytes, a header is text
CREATED_AT = "Voltgate-Created-At"
RECEIVED_AT = "Voltgate-Received-At"
_NOT_A_TOKEN = re.compile(r"[^A-Za-z0-9_-]")
_FIRST_CONNECT = 10.0  # seconds
_STREAM_IN_USE = 10058  # "stream name already in use with a different configuration"


class MalformedMessage(ValueError):
    """A message on the stream without the headers a writer needs."""


def headers(message: Message) -> dict[str, str]:
    # repr() of a float reads back to the same float: the database's dedupe key matches.
    created_at = repr(message.created_at)
    txid = message.txid.hex()
    vin = message.vin
    return {
        MSG_ID: f"{vin}/{txid}/{created_at}",
        MESSAGE: f"{created_at} {message.received_at!r} {txid} {message.topic} {vin}",
    }


def message_of(msg: Msg) -> Message:
    """The `Message` a stream message carries."""
    found = msg.headers
    if not found:
        raise MalformedMessage("no headers")
    described = found.get(MESSAGE)
    if described is None:
        return _five_headers(found, msg.data)
    try:
        created_at, received_at, txid, topic, vin = described.split(" ", 4)
        return Message(
            vin, topic, bytes.fromhex(txid), float(created_at), float(received_at), msg.data
        )
    except ValueError as exc:
        raise MalformedMessage(f"bad {MESSAGE} header: {exc!r}") from None


def _five_headers(found: dict[str, str], data: bytes) -> Message:
    try:
        return Message(
            found[VIN],
            found[TOPIC],
            bytes.fromhex(found[TXID]),
            float(found[CREATED_AT]),
            float(found[RECEIVED_AT]),
            data,
        )
    except (KeyError, ValueError) as exc:
        raise MalformedMessage(f"bad headers: {exc!r}") from None


async def _reconnected() -> None:
    log.info("nats_reconnected")


async def _error(exc: Exception) -> None:
    log.warning("nats_error", error=repr(exc))


class Bus:
    """A connection to NATS and the telemetry stream as the settings name it."""

    def __init__(self, nc: Client, settings: Settings) -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream()
        self.stream = settings.nats_stream
        self.prefix = settings.nats_subject_prefix
        self.consumer = settings.nats_consumer
        self.closing = False
        self._settings = settings

    @classmethod
    async def connect(cls, settings: Settings) -> Bus:
        url = settings.nats_url
        if not url:
            raise RuntimeError("VOLTGATE_NATS_URL is not set")
        bus = cls(Client(), settings)
        try:
            # Once connected, reconnect for ever; the first connection gets a deadline, so
            # that a wrong URL stops the process with a clear message.
            async with asyncio.timeout(_FIRST_CONNECT):
                await bus.nc.connect(
                    url,
                    name="voltgate-telemetry",
                    connect_timeout=2,
                    reconnect_time_wait=1,
                    allow_reconnect=True,
                    max_reconnect_attempts=-1,
                    error_cb=_error,
                    disconnected_cb=bus._disconnected,
                    reconnected_cb=_reconnected,
                )
        except Exception as exc:  # nats-py raises several kinds; all mean "not there"
            await bus.close()
            raise RuntimeError(f"NATS at {url} is not reachable: {exc!r}") from exc
        return bus

    async def _disconnected(self) -> None:
        if not self.closing:
            log.warning("nats_disconnected", stream=self.stream)

    def subject(self, topic: str, vin: str) -> str:
        """`<prefix>.<topic>.<VIN>`; a character a subject token cannot hold becomes `_` (the
        VIN header keeps the real one)."""
        if not (vin.isascii() and vin.isalnum()):
            vin = _NOT_A_TOKEN.sub("_", vin) or "_"
        if not (topic.isascii() and topic.isalnum()):
            topic = _NOT_A_TOKEN.sub("_", topic) or "_"
        return f"{self.prefix}.{topic}.{vin}"

    def stream_config(self) -> api.StreamConfig:
        s = self._settings
        return api.StreamConfig(
            name=self.stream,
            description="voltgate: Fleet Telemetry messages on their way to the database",
            subjects=[f"{self.prefix}.>"],
            retention=api.RetentionPolicy.WORK_QUEUE,
            discard=api.DiscardPolicy.NEW,
            max_age=s.nats_max_age,
            max_bytes=s.nats_max_bytes,
            duplicate_window=s.nats_duplicate_window,
            storage=api.StorageType.FILE,
        )

    async def ensure_stream(self) -> None:
        """The stream, created, or updated to the settings' limits when it differs."""
        config = self.stream_config()
        try:
            await self.js.add_stream(config)
        except BadRequestError as exc:
            if exc.err_code != _STREAM_IN_USE:
                raise
            await self.js.update_stream(config)
            log.info("nats_stream_updated", stream=self.stream)

    def consumer_config(self) -> api.ConsumerConfig:
        s = self._settings
        return api.ConsumerConfig(
            durable_name=self.consumer,
            description="voltgate telemetry writers",
            deliver_policy=api.DeliverPolicy.ALL,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=s.nats_ack_wait,
            max_deliver=-1,
            max_ack_pending=s.nats_max_ack_pending,
        )

    async def subscribe(self) -> JetStreamContext.PullSubscription:
        """The writers' durable pull consumer (created, or updated to the settings), bound."""
        await self.js.add_consumer(self.stream, self.consumer_config())
        return await self.js.pull_subscribe_bind(durable=self.consumer, stream=self.stream)

    async def lag(self) -> int:
        """Messages the writers have not acknowledged yet: not delivered plus delivered."""
        info = await self.js.consumer_info(self.stream, self.consumer)
        return (info.num_pending or 0) + (info.num_ack_pending or 0)

    async def delete_stream(self) -> None:
        await self.js.delete_stream(self.stream)

    async def close(self) -> None:
        self.closing = True
        if not self.nc.is_closed:
            await self.nc.close()


class StreamRefused(Exception):
    """JetStream did not store a message (the stream full, or no stream on the subject)."""


class PubAcks:
    """Publishes to the stream and their PubAcks, many in flight on one connection: each goes
    out with a reply subject of its own under one subscribed inbox, and its future holds
    whether the stream took it as a duplicate. (nats-py's `publish_async` never completes a
    publish the stream refused: its reply handler raises instead.)"""

    def __init__(self, nc: Client) -> None:
        self._nc = nc
        self._inbox = ""
        self._waiting: dict[str, asyncio.Future[bool]] = {}
        self._next = 0

    async def start(self) -> None:
        self._inbox = self._nc.new_inbox() + "."
        await self._nc.subscribe(self._inbox + "*", cb=self._reply)

    async def publish(
        self, subject: str, payload: bytes, headers: dict[str, str]
    ) -> tuple[str, asyncio.Future[bool]]:
        self._next += 1
        token = str(self._next)
        future = asyncio.get_running_loop().create_future()
        self._waiting[token] = future
        await self._nc.publish(subject, payload, reply=self._inbox + token, headers=headers)
        return token, future

    def forget(self, tokens: Sequence[str]) -> None:
        """No longer waits for these (their batch gave up)."""
        for token in tokens:
            future = self._waiting.pop(token, None)
            if future is not None:
                future.cancel()

    async def _reply(self, msg: Msg) -> None:
        future = self._waiting.pop(msg.subject[len(self._inbox) :], None)
        if future is None or future.done():
            return
        try:
            answer = orjson.loads(msg.data) if msg.data else {}
        except orjson.JSONDecodeError:
            answer = {}
        if type(answer) is not dict or not answer:
            status = (msg.headers or {}).get("Status", "no answer")
            future.set_exception(StreamRefused(f"no stream took the message ({status})"))
        elif "error" in answer:
            error = answer["error"]
            reason = error.get("description", error) if type(error) is dict else error
            future.set_exception(StreamRefused(str(reason)))
        else:
            future.set_result(bool(answer.get("duplicate")))


class JetStreamStore:
    """The ingest's store on the scale path: `append` returns once JetStream stored every
    message of the batch (published at once, then every PubAck awaited); the rest goes to the
    database store."""

    def __init__(self, bus: Bus, database: IngestStore, timeout: float) -> None:
        self._bus = bus
        self._acks = PubAcks(bus.nc)
        self._database = database
        self._timeout = timeout

    async def start(self) -> None:
        await self._acks.start()

    async def append(self, messages: Sequence[Message], numbers: Sequence[Numbers]) -> list[bool]:
        """Whether each message was new to the stream (False: a resend within the duplicate
        window). Raises, and nothing of the batch counts as stored, when any publish fails or
        the PubAcks take longer than the timeout: vehicles resend, and what did reach the
        stream is dropped then as a duplicate."""
        bus, acks = self._bus, self._acks
        tokens: list[str] = []
        futures: list[asyncio.Future[bool]] = []
        try:
            async with asyncio.timeout(self._timeout):
                for message in messages:
                    subject = bus.subject(message.topic, message.vin)
                    token, future = await acks.publish(subject, message.payload, headers(message))
                    tokens.append(token)
                    futures.append(future)
                duplicates = await asyncio.gather(*futures)
        except BaseException:
            acks.forget(tokens)
            raise
        return [not duplicate for duplicate in duplicates]

    async def connectivity(self, record: Connectivity) -> None:
        await self._database.connectivity(record)

    async def connectivity_since(self, after_id: int) -> list[tuple[int, Connectivity]]:
        return await self._database.connectivity_since(after_id)

    async def still_connected(self, ingest: str) -> list[Connectivity]:
        return await self._database.still_connected(ingest)

    async def prepare(self, now: float) -> None:
        await self._database.prepare(now)
