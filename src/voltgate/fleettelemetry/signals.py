"""A `V` message's payload as signals: what the listener stores and rolls up, the streams send
and the alert rules watch."""

from __future__ import annotations

from voltgate.fleettelemetry import protos
from voltgate.fleettelemetry.ingest.store import Signal


def decode(payload: bytes) -> list[Signal]:
    """The payload's signals, each stamped with the payload's time; `protos.MalformedPayload`
    for bytes that are not one."""
    vin, at, items = protos.signals(payload)
    return [Signal(vin, name, at, value) for name, value in items]
