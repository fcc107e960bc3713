"""The FlatBuffers frame a vehicle sends over the Fleet Telemetry WebSocket, and the server's ack.

Schema facts (teslamotors/fleet-telemetry, messages/tesla/*): the root table FlatbuffersEnvelope
has the slots txid [ubyte], topic [ubyte], message_type (the union's type byte), message (the
union) and message_id [ubyte], in that order; the union `Message` is NONE = 0,
FlatbuffersStream = 4, FlatbuffersStreamAck = 5. FlatbuffersStream has created_at (uint32, unix
seconds), sender_id, payload, device_type, device_id (all [ubyte]) and delivered_at_epoch_ms
(uint64). FlatbuffersStreamAck has no fields: an ack names its message by the envelope's txid and
topic.

Frames are built with the `flatbuffers` Builder in the same order as the published server, so
they come out byte for byte as it writes them. That includes the ack, whose union member the
published server writes as an empty byte vector instead of an empty table; readers only look at
the envelope, so either is accepted here. Frames are read by hand with every offset checked
against the buffer, so that garbage raises MalformedFrame and nothing else.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import flatbuffers  # type: ignore[import-untyped]

NONE_MESSAGE = 0
STREAM_MESSAGE = 4
STREAM_ACK = 5

_U16 = struct.Struct("<H").unpack_from
_U32 = struct.Struct("<I").unpack_from
_I32 = struct.Struct("<i").unpack_from
_U64 = struct.Struct("<Q").unpack_from
_U32_PACK = struct.Struct("<I").pack

# The ack's fixed parts: a NUL plus padding to 4 bytes after a string of each length mod 4, the
# vtable (14 bytes: its size, the table's size, the five slots' offsets in the table) behind the
# root offset and 2 bytes of padding, and the table (soffset to the vtable, message_id, message,
# 3 bytes of padding and message_type, topic, txid).
_PADDING = (b"\0" * 4, b"\0" * 3, b"\0" * 2, b"\0")
_ACK_VTABLE_AT = 6
_ACK_TABLE_AT = 20
_ACK_STRINGS = _ACK_TABLE_AT + 24
_ACK_HEAD = struct.pack("<IH7H", _ACK_TABLE_AT, 0, 14, 24, 20, 16, 15, 8, 4)
_ACK_TABLE = struct.Struct("<iII3xBII").pack
_EMPTY_STRING = _U32_PACK(0) + _PADDING[0]

# vtable slots, as (slot index): the envelope's and the stream's field order in the schema.
_ENV_TXID, _ENV_TOPIC, _ENV_TYPE, _ENV_MESSAGE, _ENV_MESSAGE_ID = range(5)
_ST_CREATED, _ST_SENDER, _ST_PAYLOAD, _ST_DEVICE_TYPE, _ST_DEVICE_ID, _ST_DELIVERED = range(6)


class MalformedFrame(ValueError):
    """The bytes are not a FlatbuffersEnvelope (truncated, an offset out of bounds, …)."""


@dataclass(frozen=True, slots=True)
class Stream:
    created_at: int  # uint32 unix seconds, as the schema has it
    sender_id: bytes  # deprecated in the schema: "<device_type>.<device_id>"
    payload: bytes  # the protobuf message of the envelope's topic
    device_type: bytes
    device_id: bytes
    delivered_at_ms: int  # uint64 epoch milliseconds, set by the server on receipt


@dataclass(frozen=True, slots=True)
class Envelope:
    txid: bytes
    topic: bytes
    message_type: int
    message_id: bytes
    stream: Stream | None  # set for STREAM_MESSAGE; None for every other type


class _Table:
    """A bounds-checked view of one table: `field(slot, size)` is the field's absolute position."""

    __slots__ = ("buf", "pos", "size", "vtable", "vtable_size")

    def __init__(self, buf: bytes, pos: int) -> None:
        end = len(buf)
        if pos + 4 > end:
            raise MalformedFrame(f"table at {pos} lies past the end of a {end}-byte frame")
        vtable = pos - _I32(buf, pos)[0]
        if vtable < 0 or vtable + 4 > end:
            raise MalformedFrame(f"vtable of the table at {pos} is out of bounds ({vtable})")
        vtable_size, size = _U16(buf, vtable)[0], _U16(buf, vtable + 2)[0]
        if vtable_size < 4 or vtable_size & 1 or vtable + vtable_size > end:
            raise MalformedFrame(f"vtable at {vtable} has a bad size ({vtable_size})")
        if size < 4 or pos + size > end:
            raise MalformedFrame(f"table at {pos} has a bad size ({size})")
        self.buf, self.pos, self.vtable = buf, pos, vtable
        self.vtable_size, self.size = vtable_size, size

    def field(self, slot: int, width: int) -> int:
        """The position of the field in `slot` (width bytes wide), or 0 when it is absent."""
        entry = 4 + 2 * slot
        if entry >= self.vtable_size:
            return 0
        offset: int = _U16(self.buf, self.vtable + entry)[0]
        if offset == 0:
            return 0
        if offset < 4 or offset + width > self.size:
            raise MalformedFrame(f"field {slot} of the table at {self.pos} lies outside it")
        return self.pos + offset

    def indirect(self, slot: int) -> int:
        """The position an offset field points at, or 0 when the field is absent."""
        at = self.field(slot, 4)
        if not at:
            return 0
        target: int = at + _U32(self.buf, at)[0]
        if target + 4 > len(self.buf):
            raise MalformedFrame(f"field {slot} of the table at {self.pos} points past the end")
        return target

    def vector(self, slot: int) -> bytes:
        at = self.indirect(slot)
        if not at:
            return b""
        start = at + 4
        end = start + _U32(self.buf, at)[0]
        if end > len(self.buf):
            raise MalformedFrame(f"vector in field {slot} of the table at {self.pos} is truncated")
        return self.buf[start:end]

    def u8(self, slot: int) -> int:
        at = self.field(slot, 1)
        return self.buf[at] if at else 0

    def u32(self, slot: int) -> int:
        at = self.field(slot, 4)
        return _U32(self.buf, at)[0] if at else 0

    def u64(self, slot: int) -> int:
        at = self.field(slot, 8)
        return _U64(self.buf, at)[0] if at else 0


def _root(frame: bytes) -> _Table:
    if len(frame) < 12:
        raise MalformedFrame(f"a {len(frame)}-byte frame is too short for an envelope")
    return _Table(frame, _U32(frame, 0)[0])


def decode(frame: bytes) -> Envelope:
    """The envelope in `frame`, with its stream message decoded when it carries one."""
    buf = bytes(frame)
    env = _root(buf)
    message_type = env.u8(_ENV_TYPE)
    stream = None
    if message_type == STREAM_MESSAGE:
        at = env.indirect(_ENV_MESSAGE)
        if not at:
            raise MalformedFrame("a stream envelope without its message")
        body = _Table(buf, at)
        stream = Stream(
            created_at=body.u32(_ST_CREATED),
            sender_id=body.vector(_ST_SENDER),
            payload=body.vector(_ST_PAYLOAD),
            device_type=body.vector(_ST_DEVICE_TYPE),
            device_id=body.vector(_ST_DEVICE_ID),
            delivered_at_ms=body.u64(_ST_DELIVERED),
        )
    return Envelope(
        txid=env.vector(_ENV_TXID),
        topic=env.vector(_ENV_TOPIC),
        message_type=message_type,
        message_id=env.vector(_ENV_MESSAGE_ID),
        stream=stream,
    )


def decode_ack(frame: bytes) -> tuple[bytes, bytes]:
    """(txid, topic) of an ack; MalformedFrame when `frame` is not an ack."""
    buf = bytes(frame)
    env = _root(buf)
    message_type = env.u8(_ENV_TYPE)
    if message_type != STREAM_ACK:
        raise MalformedFrame(f"expected an ack (type {STREAM_ACK}), got type {message_type}")
    return env.vector(_ENV_TXID), env.vector(_ENV_TOPIC)


def _envelope(
    b: flatbuffers.Builder,
    txid: bytes,
    topic: bytes,
    message: int,
    message_id: bytes,
    message_type: int,
) -> bytes:
    txid_at = b.CreateString(txid)
    topic_at = b.CreateString(topic)
    message_id_at = b.CreateString(message_id)
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(_ENV_TXID, txid_at, 0)
    b.PrependUOffsetTRelativeSlot(_ENV_TOPIC, topic_at, 0)
    b.PrependUint8Slot(_ENV_TYPE, message_type, 0)
    b.PrependUOffsetTRelativeSlot(_ENV_MESSAGE, message, 0)
    b.PrependUOffsetTRelativeSlot(_ENV_MESSAGE_ID, message_id_at, 0)
    b.Finish(b.EndObject())
    return bytes(b.Output())


def encode_stream(
    *,
    txid: bytes,
    topic: bytes,
    message_id: bytes,
    created_at: int,
    sender_id: bytes,
    payload: bytes,
    device_type: bytes,
    device_id: bytes,
    delivered_at_ms: int = 0,
) -> bytes:
    """A stream envelope: what a vehicle sends (delivered_at_ms 0) or a server forwards."""
    if not 0 <= created_at < 1 << 32:
        raise ValueError(f"created_at must fit in a uint32 (unix seconds), not {created_at}")
    if not 0 <= delivered_at_ms < 1 << 64:
        raise ValueError(f"delivered_at_ms must fit in a uint64, not {delivered_at_ms}")
    b = flatbuffers.Builder(len(payload) + 160)
    sender_at = b.CreateString(sender_id)
    payload_at = b.CreateString(payload)
    device_type_at = b.CreateString(device_type)
    device_id_at = b.CreateString(device_id)
    b.StartObject(6)
    b.PrependUOffsetTRelativeSlot(_ST_SENDER, sender_at, 0)
    b.PrependUint32Slot(_ST_CREATED, created_at, 0)
    b.PrependUOffsetTRelativeSlot(_ST_PAYLOAD, payload_at, 0)
    b.PrependUOffsetTRelativeSlot(_ST_DEVICE_TYPE, device_type_at, 0)
    b.PrependUOffsetTRelativeSlot(_ST_DEVICE_ID, device_id_at, 0)
    b.PrependUint64Slot(_ST_DELIVERED, delivered_at_ms, 0)
    return _envelope(b, txid, topic, b.EndObject(), message_id, STREAM_MESSAGE)


def _string(data: bytes) -> bytes:
    """A byte vector as the Builder's CreateString lays it out: length, bytes, NUL, padding."""
    return _U32_PACK(len(data)) + data + _PADDING[len(data) & 3]


def encode_ack(*, txid: bytes, topic: bytes, message_id: bytes = b"") -> bytes:
    """The ack of the message (txid, topic), byte for byte as the published server writes it.

    Its layout is fixed but for the three strings, so it is packed directly (2 µs, where the
    Builder takes 15): root offset, 2 bytes of padding, the vtable, the 24-byte table, then
    message_id, topic, txid and the empty union member, each 4-aligned.
    """
    mid, top, tx = _string(message_id), _string(topic), _string(txid)
    at_topic = _ACK_STRINGS + len(mid)
    at_txid = at_topic + len(top)
    at_empty = at_txid + len(tx)
    table = _ACK_TABLE(
        _ACK_TABLE_AT - _ACK_VTABLE_AT,
        _ACK_STRINGS - (_ACK_TABLE_AT + 4),
        at_empty - (_ACK_TABLE_AT + 8),
        STREAM_ACK,
        at_topic - (_ACK_TABLE_AT + 16),
        at_txid - (_ACK_TABLE_AT + 20),
    )
    return b"".join((_ACK_HEAD, table, mid, top, tx, _EMPTY_STRING))
