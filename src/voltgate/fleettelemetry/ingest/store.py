"""The ingest's records and the storage interface it owns (`repository.py` implements it for
SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol

# A decoded signal: `Signal(vin, field name, at, value)`, the shape the alert rules watch.
from voltgate.alerts.signals import Signal
from voltgate.fleettelemetry import protos
from voltgate.fleettelemetry.readings import NO_NUMBERS, Numbers

__all__ = [
    "NO_NUMBERS",
    "Committed",
    "Connectivity",
    "IngestStore",
    "Message",
    "Numbers",
    "Signal",
    "Value",
    "signals_of",
]

# A decoded signal's value: numbers, text, flags, a location (latitude, longitude), or None
# where the vehicle sent "invalid".
Value = float | int | str | bool | tuple[float, float] | None


class Message(NamedTuple):
    """One message as a vehicle sent it; a tuple in the column order of `vehicle_messages`."""

    vin: str
    topic: str  # "V" (signals), "alerts", "errors", "connectivity"
    txid: bytes
    created_at: float  # the vehicle's time for it (a resend keeps it)
    received_at: float
    payload: bytes  # protobuf, as sent


# What the store needs of a message's signals is its numbers (`readings.Numbers`: the rollups
# count nothing else), all of the message's time and vehicle (`Message.created_at`, `.vin`);
# other topics have none (NO_NUMBERS). Every signal is in the stored payload (`signals_of`).


def signals_of(message: Message, fields: frozenset[str] | None = None) -> list[Signal]:
    """A stored `V` message's signals (only those of `fields`, when given) as the alert rules
    take them, each of the message's vehicle and time; none for other topics."""
    if message.topic != "V":
        return []
    vin, at = message.vin, message.created_at
    _vin, _at, items = protos.signals(message.payload)
    if fields is None:
        return [Signal(vin, name, at, value) for name, value in items]
    return [Signal(vin, name, at, value) for name, value in items if name in fields]


# Told of the messages a batch stored (resends of stored messages left out), once committed.
Committed = Callable[[Sequence[Message]], None]


class Connectivity(NamedTuple):
    """A vehicle's connection opened or closed; a tuple in `vehicle_connectivity`'s order."""

    vin: str
    connection_id: str
    status: str  # CONNECTED | DISCONNECTED
    at: float
    network_interface: str | None
    reason: str | None  # why it closed: "asleep" (the vehicle said goodbye), "dropped", …
    ingest: str  # the listener instance that held the connection


class IngestStore(Protocol):
    async def append(self, messages: Sequence[Message], numbers: Sequence[Numbers]) -> list[bool]:
        """Store the messages not stored before (a resend meets its original by vin, txid and
        creation time) and merge the numeric signals of those into the 1-minute rollups, in
        one transaction: for each message whether it was new. `numbers[i]` are message i's."""

    async def connectivity(self, record: Connectivity) -> None:
        """Store a connectivity record, committed before this returns."""

    async def connectivity_since(self, after_id: int) -> list[tuple[int, Connectivity]]:
        """The records after this id, oldest first: the last vehicle's record for the vehicles
        that have one when `after_id` is below every id (a first read)."""

    async def still_connected(self, ingest: str) -> list[Connectivity]:
        """The connections `ingest` holds according to the records (after a crash: none)."""

    async def prepare(self, now: float) -> None:
        """What storage needs before the ingest takes messages (PostgreSQL: the day
        partitions around `now`)."""
