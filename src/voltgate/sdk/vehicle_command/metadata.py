"""Metadata serialization (protocol.md, "Metadata serialization"): each item is
tag || length || value, items in ascending tag order, then one 0xFF byte. A value is at most
255 bytes; integers are 4-byte big-endian. The encoding is injective, so a tag over it binds
every item."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from voltgate.sdk.vehicle_command.codes import Domain, SignatureType, Tag

_MAX_VALUE = 255


def uint32(value: int) -> bytes:
    if not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"{value} does not fit a 32-bit unsigned metadata value")
    return value.to_bytes(4, "big")


def serialize(items: Iterable[tuple[Tag, bytes]]) -> bytes:
    """The TLV string of `items`, sorted by tag and ended by 0xFF; a repeated tag, the END tag
    or a value over 255 bytes is a ValueError."""
    out = bytearray()
    last = -1
    for tag, value in sorted(items, key=lambda item: int(item[0])):
        if tag == last:
            raise ValueError(f"metadata tag {tag.name} is given twice")
        if tag == Tag.END:
            raise ValueError("the END tag closes the metadata; it is not an item")
        if len(value) > _MAX_VALUE:
            raise ValueError(f"metadata {tag.name} is {len(value)} bytes; at most 255 fit")
        out += bytes((tag, len(value))) + value
        last = tag
    out.append(Tag.END)
    return bytes(out)


def command(
    signature_type: SignatureType,
    domain: Domain,
    vin: str,
    epoch: bytes,
    expires_at: int,
    counter: int,
    flags: int,
) -> bytes:
    """The metadata a command's tag covers; flags are an item only when some bit is set, as the
    published implementation does for compatibility with earlier vehicles. Written out in tag
    order (what `serialize` makes of these items), as every signed message and check needs it."""
    out = _command_prefix(signature_type, domain, vin, epoch) + b"".join(
        (bytes((Tag.EXPIRES_AT, 4)), uint32(expires_at), bytes((Tag.COUNTER, 4)), uint32(counter))
    )
    if flags:
        out += bytes((Tag.FLAGS, 4)) + uint32(flags)
    return out + bytes((Tag.END,))


# The items before the expiry are the same for every command of a session: made once per
# (type, domain, VIN, epoch) a process sees lately, not once per message.
@functools.lru_cache(maxsize=4096)
def _command_prefix(signature_type: SignatureType, domain: Domain, vin: str, epoch: bytes) -> bytes:
    personalization = vin.encode()
    if len(personalization) > _MAX_VALUE or len(epoch) > _MAX_VALUE:
        raise ValueError("a metadata value is over 255 bytes")
    return b"".join(
        (
            bytes((Tag.SIGNATURE_TYPE, 1, signature_type, Tag.DOMAIN, 1, domain)),
            bytes((Tag.PERSONALIZATION, len(personalization))),
            personalization,
            bytes((Tag.EPOCH, len(epoch))),
            epoch,
        )
    )


def session_info(vin: str, challenge: bytes) -> bytes:
    """The metadata a session info tag covers: type HMAC, the VIN and the request's uuid (left
    out when the request had none, as the published implementation leaves out an unset value)."""
    items = [
        (Tag.SIGNATURE_TYPE, bytes((SignatureType.HMAC,))),
        (Tag.PERSONALIZATION, vin.encode()),
    ]
    if challenge:
        items.append((Tag.CHALLENGE, challenge))
    return serialize(items)
