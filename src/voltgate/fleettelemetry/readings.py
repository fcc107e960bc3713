"""A `V` payload's numeric signals, read straight from its protobuf bytes: what the ingest needs
of every message (the rollups count numbers only), at a quarter of what `protos.signals` costs.

`numbers()` first parses the payload with upb (`protos.Payload`), which refuses malformed bytes
and gives the VIN and time. The numbers are then read from the bytes:
- A vehicle sends the same fields, in the same Value members, message after message, so the
  payload's bytes lie the same way but for the values: the layout of one payload is learnt
  as a `struct` format that splits it into its fixed bytes (tags, keys, lengths) and its
  values. A later payload of the same length is read with one `unpack`; it has that layout
  when its fixed bytes are equal (and its one-byte varints end there), which also means it
  parses to the same Datums with the same members. Else:
- the bytes are walked Datum by Datum, for the shape vehicles send (each Datum its key then
  its value, each Value one member), and the layout learnt; for any other shape (a Datum
  without a key, members repeated, unknown fields, …) the signals are read from the parsed
  message instead. Every way gives the same answer for every valid payload.
A number is a Value's `int_value`, `long_value`, `float_value` or `double_value`; flags, text,
enums, locations and `invalid` are not numbers.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from operator import itemgetter
from typing import Any

from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

from voltgate.fleettelemetry import protos

# A message's numeric signals: Field names and values, in the payload's order (a name may recur).
Numbers = tuple[tuple[str, ...], tuple[float | int, ...]]
NO_NUMBERS: Numbers = ((), ())

# Layouts learnt, by payload length (a few each: the values of a varint member may change a
# length); forgotten all at once when too many lengths were seen.
_LAYOUTS_PER_LENGTH = 4
_LENGTHS = 1024
_NAMES: tuple[str, ...] = tuple(
    protos.FIELD_NAME.get(n) or f"Field{n}" for n in range(max(protos.FIELD_NAME) + 1)
)
_NUMERIC_MEMBERS = {"int_value", "long_value", "float_value", "double_value"}
# Payload's own fields other than `data`: created_at and vin (bytes), is_resend (varint).
_CREATED_AT, _VIN, _IS_RESEND = 0x12, 0x1A, 0x20


class _Shape(Exception):
    """The bytes are valid but not of the shape read by hand: read the parsed message."""


class _Layout:
    """How one payload's bytes lie: `read()` gives the numbers of a payload laid out the same,
    None for any other."""

    __slots__ = ("_expected", "_fixed", "_names", "_unpack", "_values", "_varints")

    def __init__(self, buf: bytes, parts: _Parts) -> None:
        self._unpack = struct.Struct("<" + "".join(parts.formats)).unpack
        self._fixed = _getter(parts.fixed)
        self._varints = _getter(parts.varints) if parts.varints else None
        self._values = _getter(parts.values)
        self._names = tuple(parts.names)
        self._expected = self._fixed(self._unpack(buf))

    def read(self, buf: bytes) -> Numbers | None:
        items = self._unpack(buf)
        if self._fixed(items) != self._expected:
            return None
        if self._varints is not None and max(self._varints(items)) > 0x7F:
            return None  # a varint longer than one byte: it lies differently
        return self._names, self._values(items)


def _getter(indices: list[int]) -> Callable[[tuple[Any, ...]], tuple[Any, ...]]:
    """The items at `indices`, always as a tuple (itemgetter gives one index's item bare)."""
    if len(indices) == 1:
        index = indices[0]
        return lambda items: (items[index],)
    if not indices:
        return lambda items: ()
    return itemgetter(*indices)


class _Parts:
    """A payload's layout as it is walked: struct formats, and which unpacked items are fixed
    bytes, one-byte varints, values; `cacheable` False when a part cannot be laid out so."""

    __slots__ = ("_items", "_run", "cacheable", "fixed", "formats", "names", "values", "varints")

    def __init__(self) -> None:
        self.formats: list[str] = []
        self.fixed: list[int] = []
        self.varints: list[int] = []
        self.values: list[int] = []
        self.names: list[str] = []
        self.cacheable = True
        self._items = 0  # items unpacked so far
        self._run = 0  # fixed bytes not written into `formats` yet

    def fix(self, size: int) -> None:
        self._run += size

    def _flush(self) -> None:
        if self._run:
            self.formats.append(f"{self._run}s")
            self.fixed.append(self._items)
            self._items += 1
            self._run = 0

    def _item(self, fmt: str) -> int:
        self._flush()
        self.formats.append(fmt)
        self._items += 1
        return self._items - 1

    def value(self, fmt: str, name: str) -> None:
        index = self._item(fmt)
        self.values.append(index)
        self.names.append(name)
        if fmt == "B":
            self.varints.append(index)

    def flag(self) -> None:
        self.varints.append(self._item("B"))

    def skip(self, size: int) -> None:
        self._flush()
        self.formats.append(f"{size}x")

    def close(self) -> None:
        self._flush()


def numbers(payload: bytes) -> tuple[str, float, Numbers]:
    """(vin, created_at in unix seconds (0.0 when absent), the numeric signals) of a `V` payload;
    `protos.MalformedPayload` for bytes that are not one."""
    message = protos.Payload()
    data = bytes(payload)
    try:
        message.ParseFromString(data)
    except (DecodeError, TypeError, ValueError) as exc:
        raise protos.MalformedPayload(f"not a vehicle data payload: {exc}") from None
    at = message.created_at
    return message.vin, at.seconds + at.nanos / 1e9, _numbers(data, message)


def _numbers(data: bytes, message: Any) -> Numbers:
    known = _LAYOUTS.get(len(data))
    if known is not None:
        for layout in known:
            found = layout.read(data)
            if found is not None:
                return found
    parts = _Parts()
    try:
        values = _walk(data, parts)
        learnt = _Layout(data, parts) if parts.cacheable else None
    except (_Shape, IndexError, struct.error):
        return _parsed(message)
    if learnt is not None:
        if len(_LAYOUTS) >= _LENGTHS:
            _LAYOUTS.clear()
        same_length = _LAYOUTS.setdefault(len(data), [])
        same_length.insert(0, learnt)
        del same_length[_LAYOUTS_PER_LENGTH:]
    return tuple(parts.names), tuple(values)


_LAYOUTS: dict[int, list[_Layout]] = {}


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """The varint at `pos` and the position after it."""
    value = shift = 0
    while True:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise _Shape


def _walk(buf: bytes, parts: _Parts) -> list[float | int]:
    """The numbers, Datum by Datum, each Value's part laid out in `parts`."""
    values: list[float | int] = []
    pos, end = 0, len(buf)
    while pos < end:
        tag, after = _varint(buf, pos)
        length, start = _varint(buf, after)
        if tag == 0x0A:  # a Datum
            parts.fix(start - pos)
            pos = start + length
            _datum(buf, start, pos, parts, values)
        elif tag in (_CREATED_AT, _VIN):
            parts.fix(start - pos)
            parts.skip(length)
            pos = start + length
        elif tag == _IS_RESEND:  # a varint: the "length" read was its value
            parts.fix(start - pos)
            pos = start
        else:
            raise _Shape
    if pos != end:
        raise _Shape
    parts.close()
    return values


def _datum(buf: bytes, pos: int, stop: int, parts: _Parts, values: list[float | int]) -> None:
    """One Datum: 08 <key> 12 <length> <Value of one member>, nothing else."""
    begin = pos
    if buf[pos] != 0x08:
        raise _Shape
    key, pos = _varint(buf, pos + 1)
    if buf[pos] != 0x12:
        raise _Shape
    length, start = _varint(buf, pos + 1)
    if start + length != stop:
        raise _Shape
    parts.fix(start - begin)
    if not length:
        return  # no member: "invalid" in effect
    member, pos = _varint(buf, start)
    name = _NAMES[key]
    if member == 0x29 and stop - pos == 8:  # double_value
        parts.fix(pos - start)
        parts.value("d", name)
        values.append(struct.unpack_from("<d", buf, pos)[0])
    elif member == 0x25 and stop - pos == 4:  # float_value
        parts.fix(pos - start)
        parts.value("f", name)
        values.append(struct.unpack_from("<f", buf, pos)[0])
    elif member == 0x10 or member == 0x18:  # int_value, long_value
        number, after = _varint(buf, pos)
        if after != stop:
            raise _Shape
        values.append(_signed(number, 32 if member == 0x10 else 64))
        parts.fix(pos - start)
        if after - pos == 1:
            parts.value("B", name)
        else:
            parts.cacheable = False
            parts.names.append(name)
    else:
        _one_member(buf, member, start, pos, stop, parts)


def _signed(number: int, bits: int) -> int:
    """A varint read as the signed integer of `bits` bits that protobuf makes of it."""
    number &= (1 << bits) - 1
    return number - (1 << bits) if number >> (bits - 1) else number


def _one_member(buf: bytes, tag: int, start: int, pos: int, stop: int, parts: _Parts) -> None:
    """A Value holding something other than a number: it must be one member (else a number
    could follow it and win, as the last member set does)."""
    kind = tag & 7
    if kind == 0:
        _number, after = _varint(buf, pos)
        parts.fix(pos - start)
        if after - pos == 1:
            parts.flag()
        else:
            parts.cacheable = False
        pos = after
    elif kind == 2:
        length, after = _varint(buf, pos)
        parts.fix(after - start)
        parts.skip(length)
        pos = after + length
    elif kind == 1 or kind == 5:
        parts.fix(pos - start)
        parts.skip(8 if kind == 1 else 4)
        pos += 8 if kind == 1 else 4
    else:
        raise _Shape
    if pos != stop:
        raise _Shape


def _parsed(message: Any) -> Numbers:
    names: list[str] = []
    values: list[float | int] = []
    for datum in message.data:
        value = datum.value
        member = value.WhichOneof("value")
        if member in _NUMERIC_MEMBERS:
            key: int = datum.key
            names.append(protos.FIELD_NAME.get(key) or f"Field{key}")
            values.append(getattr(value, member))
    return tuple(names), tuple(values)
