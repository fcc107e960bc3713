"""numbers() reads a payload's numeric signals exactly as the parsed message holds them, for
every shape of valid payload (layouts learnt or not), and refuses what signals() refuses."""

from __future__ import annotations

import random
import struct

import pytest

from voltgate.fleettelemetry import protos, readings
from voltgate.fleettelemetry.readings import numbers

VIN = "5YJ3E1EA7KF000001"


def _expected(data: bytes) -> readings.Numbers:
    """The numbers as the parsed message has them: int, long, float and double members."""
    message = protos.Payload()
    message.ParseFromString(data)
    found = []
    for datum in message.data:
        member = datum.value.WhichOneof("value")
        if member in ("int_value", "long_value", "float_value", "double_value"):
            name = protos.FIELD_NAME.get(datum.key) or f"Field{datum.key}"
            found.append((name, getattr(datum.value, member)))
    return (tuple(n for n, _ in found), tuple(v for _, v in found))


def _varint(number: int) -> bytes:
    number &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte = number & 0x7F
        number >>= 7
        if number:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _field(number: int, kind: int, body: bytes) -> bytes:
    return _varint(number << 3 | kind) + (_varint(len(body)) if kind == 2 else b"") + body


def _member(rng: random.Random, choice: int) -> bytes:
    """One Value member of kind `choice`, with a value of any size."""
    if choice == 0:
        return _field(5, 1, struct.pack("<d", rng.uniform(-1e6, 1e6)))
    if choice == 1:
        return _field(4, 5, struct.pack("<f", rng.uniform(-1e3, 1e3)))
    if choice == 2:
        return _field(2, 0, _varint(rng.choice([0, 1, 80, 127, 128, 300, -1, -(2**31), 2**31 - 1])))
    if choice == 3:
        return _field(3, 0, _varint(rng.choice([0, 5, 127, 128, 2**40, -(2**63), -7])))
    if choice == 4:
        return _field(6, 0, _varint(rng.randrange(2)))
    if choice == 5:
        return _field(1, 2, b"x" * rng.choice([0, 3, 127, 200]))
    if choice == 6:
        location = _field(1, 1, struct.pack("<d", 48.1)) + _field(2, 1, struct.pack("<d", 11.5))
        return _field(7, 2, location)
    if choice == 7:  # an enum member, numbers past the published names included
        return _field(rng.choice([8, 9, 17, 40]), 0, _varint(rng.choice([0, 3, 127, 128, 500])))
    if choice == 8:
        return _field(10, 0, b"\x01")  # invalid
    return _field(21, 2, _field(1, 0, b"\x01"))  # Doors


Template = list[tuple[int, int, int]]  # Datums: (key, member kind, odd shape)


def _template(rng: random.Random, clean: bool) -> Template:
    """Datums of the shape vehicles send (`clean`), or with odd ones among them: no key, keys
    past the published ones, two members, unknown fields, …"""
    keys = [2, 8, 38, 42, 158, 184, 259] + ([] if clean else [0, 260, 4000])
    odd = 1000 if clean else 40
    return [(rng.choice(keys), rng.randrange(10), rng.randrange(odd)) for _ in range(30)]


def _datum(rng: random.Random, key: int, choice: int, odd: int) -> bytes:
    value = b"" if odd == 0 else _member(rng, choice)
    if odd == 1:
        value += _member(rng, rng.randrange(10))  # two members: the last one counts
    if odd == 2:
        value += _field(99, 0, b"\x05")  # an unknown field in the Value
    body = (_field(1, 0, _varint(key)) if key or odd == 3 else b"") + _field(2, 2, value)
    if odd == 4:
        body = _field(2, 2, value) + _field(1, 0, _varint(key))  # value before key
    if odd == 5:
        body += _field(1, 0, _varint(8))  # the key twice: the last one counts
    return _field(1, 2, body)


def _payload(rng: random.Random, datums: list[bytes], steady: bool) -> bytes:
    """The Datums with a time and the VIN: after them (`steady`, as a vehicle sends them), or
    anywhere among them, with is_resend and an unknown field now and then."""
    parts = list(datums)
    stamp = _field(1, 0, _varint(1_765_000_000)) + _field(
        2, 0, _varint(rng.randrange(2**28, 2**29))
    )
    extras = [_field(2, 2, stamp), _field(3, 2, VIN.encode())]
    if steady:
        return b"".join(parts + extras)
    if rng.randrange(4) == 0:
        extras.append(_field(4, 0, b"\x01"))
    if rng.randrange(8) == 0:
        extras.append(_field(77, 2, b"unknown"))
    for extra in extras:
        parts.insert(rng.randrange(len(parts) + 1), extra)
    return b"".join(parts)


def test_random_payloads_read_as_the_parsed_message_holds_them() -> None:
    rng = random.Random(20261207)
    # Vehicles sending the same fields in the same members with new values, mostly.
    templates = [_template(rng, n % 2 == 0)[: rng.randrange(31)] for n in range(40)]
    for _ in range(4000):
        n = rng.randrange(len(templates))
        data = _payload(rng, [_datum(rng, *datum) for datum in templates[n]], n % 2 == 0)
        vin, _at, found = numbers(data)
        assert vin == VIN
        assert found == _expected(data), data.hex(" ")


def test_a_vehicle_s_payloads_read_the_same_once_their_layout_is_learnt() -> None:
    items: list[tuple[str, object]] = [
        ("Soc", 55.5),
        ("ChargeLimitSoc", 80),
        ("Gear", "P"),
        ("Locked", True),
        ("Location", (48.1, 11.5)),
    ]
    first = numbers(protos.payload(VIN, 1_765_000_000.5, items))[2]
    assert first == (("Soc", "ChargeLimitSoc"), (55.5, 80))
    later = [("Soc", 56.0), ("ChargeLimitSoc", 127), ("Gear", "D"), ("Locked", False)]
    assert numbers(protos.payload(VIN, 1_765_000_000.5, [*later, items[4]]))[2] == (
        ("Soc", "ChargeLimitSoc"),
        (56.0, 127),
    )
    # A limit of 128 takes two bytes; 7 bytes shorter elsewhere keeps the length the same.
    other = [("Soc", 56.0), ("ChargeLimitSoc", 128), ("Gear", "D"), ("Locked", False)]
    data = protos.payload(VIN, 1_765_000_000.5, [*other, items[4]])
    assert numbers(data)[2] == (("Soc", "ChargeLimitSoc"), (56.0, 128))


@pytest.mark.parametrize("data", [b"\xff", b"\x0a\x05\x08", b"\x1a\x02\xff\xfe"])
def test_garbage_is_refused_as_signals_refuses_it(data: bytes) -> None:
    with pytest.raises(protos.MalformedPayload):
        protos.signals(data)
    with pytest.raises(protos.MalformedPayload):
        numbers(data)
