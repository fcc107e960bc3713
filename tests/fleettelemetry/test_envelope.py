"""The FlatBuffers envelope: frames round-trip, sit in the published schema's vtable slots, acks
come out as the published server writes them, and garbage raises MalformedFrame and nothing else."""

from __future__ import annotations

import contextlib
import random

import flatbuffers  # type: ignore[import-untyped]
import pytest
from flatbuffers.table import Table  # type: ignore[import-untyped]

from voltgate.fleettelemetry import envelope
from voltgate.fleettelemetry.envelope import (
    STREAM_ACK,
    STREAM_MESSAGE,
    Envelope,
    MalformedFrame,
    Stream,
    decode,
    decode_ack,
    encode_ack,
    encode_stream,
)

VIN = "5YJ3E1EA7KF000001"
FIELDS = {
    "txid": b"tx-0001",
    "topic": b"V",
    "message_id": b"msg-42",
    "created_at": 1_700_000_123,
    "sender_id": f"vehicle_device.{VIN}".encode(),
    "payload": bytes(range(256)) * 3,
    "device_type": b"vehicle_device",
    "device_id": VIN.encode(),
    "delivered_at_ms": 1_700_000_123_456,
}


def _frame() -> bytes:
    return encode_stream(**FIELDS)  # type: ignore[arg-type]


def test_a_stream_frame_round_trips() -> None:
    assert decode(_frame()) == Envelope(
        txid=b"tx-0001",
        topic=b"V",
        message_type=STREAM_MESSAGE,
        message_id=b"msg-42",
        stream=Stream(
            created_at=1_700_000_123,
            sender_id=f"vehicle_device.{VIN}".encode(),
            payload=bytes(range(256)) * 3,
            device_type=b"vehicle_device",
            device_id=VIN.encode(),
            delivered_at_ms=1_700_000_123_456,
        ),
    )


def test_empty_and_zero_fields_round_trip() -> None:
    frame = encode_stream(
        txid=b"",
        topic=b"",
        message_id=b"",
        created_at=0,
        sender_id=b"",
        payload=b"",
        device_type=b"",
        device_id=b"",
        delivered_at_ms=0,
    )
    got = decode(frame)
    assert got.stream == Stream(0, b"", b"", b"", b"", 0)
    assert (got.txid, got.topic, got.message_id, got.message_type) == (b"", b"", b"", 4)


def test_the_union_type_numbers_are_the_published_ones() -> None:
    assert (STREAM_MESSAGE, STREAM_ACK) == (4, 5)


def test_fields_sit_in_the_published_vtable_slots() -> None:
    """Read with the flatbuffers library's generic Table at the vtable offsets the published
    generated code uses (envelope: txid 4, topic 6, message_type 8, message 10, message_id 12;
    stream: created_at 4, sender_id 6, payload 8, device_type 10, device_id 12, delivered 14)."""
    buf = bytearray(_frame())
    root = flatbuffers.encode.Get(flatbuffers.packer.uoffset, buf, 0)
    env = Table(buf, root)

    def vector(table: Table, slot: int) -> bytes:
        start = table.Vector(table.Offset(slot))
        return bytes(table.Bytes[start : start + table.VectorLen(table.Offset(slot))])

    assert vector(env, 4) == b"tx-0001"
    assert vector(env, 6) == b"V"
    assert env.Get(flatbuffers.number_types.Uint8Flags, env.Offset(8) + env.Pos) == 4
    assert vector(env, 12) == b"msg-42"
    body = Table(buf, 0)
    env.Union(body, env.Offset(10))
    created = body.Get(flatbuffers.number_types.Uint32Flags, body.Offset(4) + body.Pos)
    assert created == 1_700_000_123
    assert vector(body, 6) == f"vehicle_device.{VIN}".encode()
    assert vector(body, 8) == bytes(range(256)) * 3
    assert vector(body, 10) == b"vehicle_device"
    assert vector(body, 12) == VIN.encode()
    delivered = body.Get(flatbuffers.number_types.Uint64Flags, body.Offset(14) + body.Pos)
    assert delivered == 1_700_000_123_456


def _reference_ack(txid: bytes, topic: bytes, message_id: bytes) -> bytes:
    """The published server's ack, built with the Builder call for call as it does: an empty byte
    string as the union member first, then txid, topic and message_id, then the five slots."""
    b = flatbuffers.Builder(0)
    empty = b.CreateString(b"")
    at = [b.CreateString(x) for x in (txid, topic, message_id)]
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, at[0], 0)
    b.PrependUOffsetTRelativeSlot(1, at[1], 0)
    b.PrependUint8Slot(2, 5, 0)
    b.PrependUOffsetTRelativeSlot(3, empty, 0)
    b.PrependUOffsetTRelativeSlot(4, at[2], 0)
    b.Finish(b.EndObject())
    return bytes(b.Output())


def _reference_stream(
    txid: bytes,
    topic: bytes,
    message_id: bytes,
    created_at: int,
    sender_id: bytes,
    payload: bytes,
    device_type: bytes,
    device_id: bytes,
    delivered_at_ms: int,
) -> bytes:
    """The published server's stream frame: the Builder called as its FlatbuffersStreamToBytes
    and FlatbuffersEnvelopeToBytes do (CreateByteString is CreateString's NUL-ended layout)."""
    b = flatbuffers.Builder(0)
    at = [b.CreateString(x) for x in (sender_id, payload, device_type, device_id)]
    b.StartObject(6)
    b.PrependUOffsetTRelativeSlot(1, at[0], 0)
    b.PrependUint32Slot(0, created_at, 0)
    b.PrependUOffsetTRelativeSlot(2, at[1], 0)
    b.PrependUOffsetTRelativeSlot(3, at[2], 0)
    b.PrependUOffsetTRelativeSlot(4, at[3], 0)
    b.PrependUint64Slot(5, delivered_at_ms, 0)
    stream = b.EndObject()
    env = [b.CreateString(x) for x in (txid, topic, message_id)]
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, env[0], 0)
    b.PrependUOffsetTRelativeSlot(1, env[1], 0)
    b.PrependUint8Slot(2, 4, 0)
    b.PrependUOffsetTRelativeSlot(3, stream, 0)
    b.PrependUOffsetTRelativeSlot(4, env[2], 0)
    b.Finish(b.EndObject())
    return bytes(b.Output())


def test_a_stream_frame_is_byte_for_byte_the_published_servers() -> None:
    rng = random.Random(4)
    for n in range(400):
        fields = {
            "txid": rng.randbytes(rng.randrange(0, 40)),
            "topic": rng.choice([b"V", b"alerts", b"errors", b"connectivity", b""]),
            "message_id": rng.randbytes(rng.randrange(0, 9)),
            "created_at": rng.choice([0, 1, rng.randrange(1 << 32)]),
            "sender_id": rng.randbytes(rng.randrange(0, 40)),
            "payload": rng.randbytes(rng.randrange(0, 300)),
            "device_type": rng.choice([b"vehicle_device", b""]),
            "device_id": rng.randbytes(rng.randrange(0, 20)),
            "delivered_at_ms": rng.choice([0, 1, rng.randrange(1 << 64)]),
        }
        frame = encode_stream(**fields)  # type: ignore[arg-type]
        assert frame == _reference_stream(**fields), (n, fields)  # type: ignore[arg-type]
        assert decode(frame).stream == Stream(
            fields["created_at"],
            fields["sender_id"],
            fields["payload"],  # type: ignore[arg-type]
            fields["device_type"],
            fields["device_id"],
            fields["delivered_at_ms"],  # type: ignore[arg-type]
        )


def test_an_ack_is_byte_for_byte_the_published_servers() -> None:
    rng = random.Random(16)
    for _ in range(300):
        parts = [rng.randbytes(rng.randrange(0, 41)) for _ in range(3)]
        assert encode_ack(txid=parts[0], topic=parts[1], message_id=parts[2]) == _reference_ack(
            *parts
        )


def test_a_hand_checked_ack() -> None:
    frame = encode_ack(txid=b"tx", topic=b"V", message_id=b"")
    assert frame.hex(" ", 4) == (
        "14000000 00000e00 18001400 10000f00 08000400"  # root 20, pad, vtable (14, 24, slots)
        " 0e000000 14000000 28000000 00000005 10000000 14000000"  # table at 20
        " 00000000 00000000"  # message_id "" at 44
        " 01000000 56000000"  # topic "V" at 52
        " 02000000 74780000"  # txid "tx" at 60
        " 00000000 00000000"  # the empty union member at 68
    )


def test_decode_ack_reads_txid_and_topic() -> None:
    frame = encode_ack(txid=b"tx-0001", topic=b"alerts", message_id=b"m")
    assert decode_ack(frame) == (b"tx-0001", b"alerts")
    got = decode(frame)
    assert (got.message_type, got.stream, got.message_id) == (STREAM_ACK, None, b"m")


def test_decode_ack_accepts_an_ack_whose_member_is_an_empty_table() -> None:
    b = flatbuffers.Builder(0)
    b.StartObject(0)
    member = b.EndObject()
    txid, topic = b.CreateString(b"t1"), b.CreateString(b"V")
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, txid, 0)
    b.PrependUOffsetTRelativeSlot(1, topic, 0)
    b.PrependUint8Slot(2, 5, 0)
    b.PrependUOffsetTRelativeSlot(3, member, 0)
    b.Finish(b.EndObject())
    assert decode_ack(bytes(b.Output())) == (b"t1", b"V")


def test_decode_ack_refuses_a_stream_frame() -> None:
    with pytest.raises(MalformedFrame, match="expected an ack"):
        decode_ack(_frame())


def test_a_stream_type_without_its_message_is_malformed() -> None:
    b = flatbuffers.Builder(0)
    txid = b.CreateString(b"t")
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(0, txid, 0)
    b.PrependUint8Slot(2, 4, 0)
    b.Finish(b.EndObject())
    with pytest.raises(MalformedFrame, match="without its message"):
        decode(bytes(b.Output()))


def test_other_message_types_decode_without_a_stream() -> None:
    b = flatbuffers.Builder(0)
    topic = b.CreateString(b"V")
    b.StartObject(5)
    b.PrependUOffsetTRelativeSlot(1, topic, 0)
    b.PrependUint8Slot(2, 9, 0)
    b.Finish(b.EndObject())
    assert decode(bytes(b.Output())) == Envelope(b"", b"V", 9, b"", None)


def test_out_of_range_numbers_are_refused_on_encode() -> None:
    with pytest.raises(ValueError, match="uint32"):
        encode_stream(**{**FIELDS, "created_at": 1 << 32})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="uint64"):
        encode_stream(**{**FIELDS, "delivered_at_ms": -1})  # type: ignore[arg-type]


def _only_malformed(frame: bytes) -> None:
    with contextlib.suppress(MalformedFrame):
        decode(frame)
    with contextlib.suppress(MalformedFrame):
        decode_ack(frame)


def test_every_truncation_is_malformed_unless_it_only_cut_padding() -> None:
    for frame in (_frame(), encode_ack(txid=b"tx", topic=b"V", message_id=b"m")):
        whole = decode(frame)
        for n in range(len(frame)):
            try:
                got = decode(frame[:n])
            except MalformedFrame:
                continue
            # The last string's NUL terminator and padding are not part of its data.
            assert got == whole and frame[n:].strip(b"\0") == b"", n


def test_random_bytes_and_mutations_raise_only_malformed_frame() -> None:
    rng = random.Random(1616)
    frames = [
        encode_stream(**{**FIELDS, "payload": b"\x08\x01"}),  # type: ignore[arg-type]
        encode_ack(txid=b"tx", topic=b"V", message_id=b"m"),
    ]
    for _ in range(3000):
        _only_malformed(rng.randbytes(rng.randrange(0, 64)))
    for _ in range(6000):
        mutated = bytearray(rng.choice(frames))
        for _ in range(rng.randrange(1, 4)):
            mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        _only_malformed(bytes(mutated))


def test_huge_offsets_do_not_allocate_or_wrap() -> None:
    frame = bytearray(_frame())
    frame[0:4] = (0xFFFFFFF0).to_bytes(4, "little")
    with pytest.raises(MalformedFrame, match="past the end"):
        decode(bytes(frame))
    assert envelope.decode(bytes(_frame())).stream is not None
