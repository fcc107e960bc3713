"""A user's vehicles: found by id or VIN among the user's own (another user's is 404, exactly
like a missing one), read with their present computed from the clock, woken, commanded.

Every change is a compare-and-set on the vehicle's version: instances reading and commanding
the same vehicle settle each finished charge once and never lose a command's effect. Within a
process, changes to one vehicle queue and are written together (`queue.py`), so only another
instance's change makes one decided again.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from voltgate.clock import Clock
from voltgate.errors import (
    CommandProtocolRequired,
    CommandProtocolUnsupported,
    NotFound,
    Unavailable,
    ValidationFailed,
)
from voltgate.readmodel import Versions
from voltgate.sdk.vehicle_command import MessageFault
from voltgate.vehiclecmd import Accepted
from voltgate.vehicles import signed
from voltgate.vehicles.catalog import COMMANDS
from voltgate.vehicles.charging import start_charging
from voltgate.vehicles.commands import Command, Outcome
from voltgate.vehicles.physics import Policy, Present, present, rebase, settle
from voltgate.vehicles.queue import Change, ChangeQueue
from voltgate.vehicles.signed import NO_KEYS, PairedKeys, VehicleKeys
from voltgate.vehicles.store import ChargingSession, Links, Transition, Vehicle, VehicleStore

UNAVAILABLE = "vehicle unavailable: vehicle is offline or asleep"
OFFLINE = "vehicle unavailable: vehicle is offline"
_DEPRECATION = (
    "https://developer.tesla.com/docs/fleet-api/announcements"
    "#2023-10-09-rest-api-vehicle-commands-endpoint-deprecation-warning"
)
# Fleet API's words for an unsigned command to a vehicle that requires signed ones.
PROTOCOL_REQUIRED = (
    "Tesla Vehicle Command Protocol required, please refer to the documentation here: "
    + _DEPRECATION
)
PROTOCOL_UNSUPPORTED = (
    "vehicle does not support the Tesla Vehicle Command Protocol, please refer to the"
    f" documentation here: {_DEPRECATION}"
)
_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_ID = re.compile(r"^[1-9][0-9]{0,17}$")
_ATTEMPTS = 5


class Vehicles:
    def __init__(
        self,
        store: VehicleStore,
        clock: Clock,
        policy: Policy,
        links: Links | None = None,
        *,
        keys: VehicleKeys,
    ) -> None:
        self._store = store
        self._keys = keys
        self._states = signed.KnownStates()
        self._paired: PairedKeys = NO_KEYS  # until the keys area is built (pair_with)
        self.clock = clock
        self.policy = policy
        self._links = links
        self._queue = ChangeQueue(store, clock, _ATTEMPTS)

    @property
    def versions(self) -> Versions:
        """Per user: what kept answers about a user's vehicles (and their finished charging
        sessions, written only with a change to the vehicle) are made from."""
        return self._store.versions

    async def owner_of(self, vin: str) -> str | None:
        """The user whose vehicle this VIN is, if any (from memory)."""
        vehicle = await self._store.by_vin(vin) if _VIN.match(vin) else None
        return None if vehicle is None else vehicle.user_id

    async def owned(self, user_id: str) -> list[tuple[Vehicle, Present]]:
        return [await self._settled(v) for v in await self._store.of_user(user_id)]

    async def get(self, user_id: str, ref: str) -> tuple[Vehicle, Present]:
        return await self._settled(await self._find(user_id, ref))

    async def data(self, user_id: str, ref: str) -> tuple[Vehicle, Present]:
        """The vehicle's data; 408 while it is asleep, as the car answers."""
        vehicle, seen = await self.get(user_id, ref)
        if not seen.reachable:
            raise Unavailable(OFFLINE if seen.state == "offline" else UNAVAILABLE)
        return vehicle, seen

    async def wake_up(self, user_id: str, ref: str) -> tuple[Vehicle, Present]:
        """Asleep: online `wake_seconds` from now (answered at once, still asleep). Online:
        kept awake another `sleep_after`."""

        def wake(vehicle: Vehicle, now: float) -> tuple[Transition | None, Outcome | None]:
            seen = present(vehicle, now, self.policy)
            if not seen.online and vehicle.awake_from > now:
                return None, None  # already waking up
            base, ends = rebase(vehicle, now, self.policy)
            ready = now if seen.online else now + self.policy.wake_seconds
            after = replace(
                base, awake_from=ready, last_active_at=ready, version=vehicle.version + 1
            )
            return Transition(vehicle, after, ends), None

        found = await self._find(user_id, ref)
        link = self._link(found)
        if link == "offline":  # unreachable: nothing to wake it with
            return found, replace(present(found, self.clock.now(), self.policy), link=link)
        vehicle, _ = await self._change(found, wake)
        return vehicle, replace(present(vehicle, self.clock.now(), self.policy), link=link)

    async def command(
        self, user_id: str, ref: str, command: Command[Any], raw: dict[str, Any]
    ) -> tuple[bool, str]:
        """A body out of range is refused before the vehicle's state is looked at; an asleep
        vehicle is 408; nothing is changed by either (`catalog.find` names the command)."""
        vehicle = await self._find(user_id, ref)
        if vehicle.command_signing == "required":  # before its body: nothing is looked at
            raise CommandProtocolRequired(PROTOCOL_REQUIRED)
        body = command.parse(raw)
        if command.check is not None:
            command.check(vehicle, body)

        def run(current: Vehicle, now: float) -> tuple[Transition | None, Outcome | None]:
            self._reachable(current, now)
            return self._carry_out(current, now, command, body)

        # A command always writes (or is refused): straight to the vehicle's queue.
        _, outcome = await self._queue.change(vehicle.id, run)
        assert outcome is not None
        return outcome.result, outcome.reason

    async def signed_command(
        self, user_id: str, ref: str, message: bytes, may_send: Callable[[str], None]
    ) -> bytes:
        """The vehicle's reply to a message of the vehicle command protocol (`signed.py`):
        `may_send(name)` raises when the token may not send the command it carries."""
        vehicle = await self._find(user_id, ref)
        if vehicle.command_signing == "off":
            raise CommandProtocolUnsupported(PROTOCOL_UNSUPPORTED)
        carried = signed.inspect(message)
        if carried.command is not None:
            may_send(carried.command)
        held = await self._paired.keys_for(vehicle.vin)
        paired = frozenset(k.public_key for k in held)
        reply: list[bytes] = []

        def run(current: Vehicle, now: float) -> tuple[Transition | None, Outcome | None]:
            self._reachable(current, now)
            verifier = signed.verifier(current, now, self._keys, paired, self._states)
            exchange = verifier.receive_parsed(carried.message)
            protocol = signed.stored(verifier, self._states)
            if not isinstance(exchange, Accepted):  # a handshake, or the message refused
                reply[:] = [exchange.response]
                if protocol == current.command_protocol:
                    return None, None
                return self._protocol_kept(current, protocol), None
            if not signed.may_run(held, exchange.public_key, exchange.name):
                reply[:] = [exchange.refuse(MessageFault.INSUFFICIENT_PRIVILEGES)]
                return self._protocol_kept(current, protocol), None
            command = COMMANDS[exchange.name]
            try:
                body = command.parse(exchange.body)
                if command.check is not None:
                    command.check(current, body)
            except ValidationFailed as refused:  # the car refuses it; the counter is spent
                reply[:] = [exchange.respond(False, refused.description)]
                return self._protocol_kept(current, protocol), None
            change, outcome = self._carry_out(current, now, command, body, protocol)
            reply[:] = [exchange.respond(outcome.result, outcome.reason)]
            return change, outcome

        await self._queue.change(vehicle.id, run)
        return reply[0]

    def pair_with(self, paired: PairedKeys) -> None:
        """Where the keys paired with vehicles are kept (an area built after this one)."""
        self._paired = paired

    async def paired_keys(self, vin: str) -> frozenset[bytes]:
        """The client public keys (65-byte points) the vehicle's owner paired with it."""
        return frozenset(k.public_key for k in await self._paired.keys_for(vin))

    async def reboot(self, vehicle_id: int) -> Vehicle:
        """The vehicle restarts: a new epoch in each domain, so every session must be made
        again (its counters start over)."""
        vehicle = await self._store.get(vehicle_id)
        if vehicle is None:
            raise NotFound(f"no vehicle {vehicle_id}")

        def restart(current: Vehicle, now: float) -> tuple[Transition | None, Outcome | None]:
            verifier = signed.verifier(current, now, self._keys, frozenset(), self._states)
            verifier.reboot()
            return self._protocol_kept(current, signed.stored(verifier, self._states)), None

        return (await self._queue.change(vehicle.id, restart))[0]

    def _reachable(self, vehicle: Vehicle, now: float) -> None:
        if self._link(vehicle) == "offline":  # 408 without trying to wake it
            raise Unavailable(OFFLINE)
        if not present(vehicle, now, self.policy).online:
            raise Unavailable(UNAVAILABLE)

    @staticmethod
    def _protocol_kept(current: Vehicle, protocol: str) -> Transition:
        """Only the vehicle's protocol state changed (a handshake, a refusal, a spent counter)."""
        return Transition(
            current, replace(current, command_protocol=protocol, version=current.version + 1)
        )

    def _carry_out(
        self,
        current: Vehicle,
        now: float,
        command: Command[Any],
        body: Any,
        protocol: str | None = None,
    ) -> tuple[Transition, Outcome]:
        """`protocol`: the vehicle's protocol state after a signed command, written with it."""
        base, ends = rebase(current, now, self.policy)
        outcome = command.run(base, body, now)
        changed: dict[str, Any] = {"last_active_at": now, "version": current.version + 1}
        if protocol is not None:
            changed["command_protocol"] = protocol
        touched = replace(outcome.vehicle, **changed)
        # A limit set below the level completes a charge at once.
        after, completed = rebase(touched, now, self.policy)
        return Transition(current, after, ends + outcome.ends + completed, outcome.start), outcome

    async def handle(
        self,
        user_id: str | None,
        ref: str,
        act: Callable[[Vehicle, float, Policy], Transition | None],
    ) -> tuple[Vehicle, Present]:
        """The sandbox's hand on a vehicle (`sandbox.controls`): `act` decided in the vehicle's
        change queue, like a command but not refused asleep (a cable plugged in wakes the car).
        `user_id` None: any vehicle (an admin's hand), else one of that user's."""
        found = await self._find(user_id, ref)

        def run(current: Vehicle, now: float) -> tuple[Transition | None, Outcome | None]:
            return act(current, now, self.policy), None

        vehicle, _ = await self._queue.change(found.id, run)
        return vehicle, present(vehicle, self.clock.now(), self.policy)

    async def history(
        self, user_id: str, vin: str | None, page_no: int, page_size: int, newest_first: bool
    ) -> tuple[list[ChargingSession], int]:
        """The user's finished charging sessions (charges that completed since the last look
        are settled first, against the stored vehicles: another instance's change may not have
        reached this one's copy yet)."""
        owned = [await self._settled(v) for v in await self._store.reread(user_id)]
        vehicle_id = None
        if vin is not None:
            match = [v for v, _ in owned if v.vin == vin.upper()]
            if not match:
                raise NotFound(f"no vehicle with VIN {vin[:32]!r}")
            vehicle_id = match[0].id
        return await self._store.sessions(
            user_id, vehicle_id, page_no * page_size, page_size, newest_first
        )

    async def add_history(self, sessions: Sequence[ChargingSession]) -> None:
        """Store finished charging sessions of the past (a seeded history), oldest first; each
        must be of a stored vehicle of its user, and have ended."""
        now = self.clock.now()
        for session in sessions:
            vehicle = await self._store.get(session.vehicle_id)
            if vehicle is None or vehicle.user_id != session.user_id or vehicle.vin != session.vin:
                raise NotFound(f"no vehicle {session.vehicle_id} of this user")
            if session.ended_at is None or session.ended_at > now:
                raise ValidationFailed("a history holds finished sessions of the past only")
        await self._store.add_sessions(sessions)

    async def add(self, batch: list[Vehicle]) -> bool:
        """Store new vehicles (seeding); False when a VIN or a seed slot is taken."""
        return await self._store.add_all(batch)

    async def of_user(self, user_id: str) -> list[Vehicle]:
        return await self._store.of_user(user_id)

    async def reread(self, user_id: str) -> list[Vehicle]:
        """The user's vehicles as stored now (seeding decides on these)."""
        return await self._store.reread(user_id)

    async def start_charging(self, vehicle: Vehicle) -> Vehicle:
        """Plug-and-charge for seeding: the vehicle starts charging now, awake or not."""

        def start(current: Vehicle, now: float) -> tuple[Transition | None, Outcome | None]:
            outcome = start_charging(rebase(current, now, self.policy)[0], now)
            after = replace(outcome.vehicle, last_active_at=now, version=current.version + 1)
            return Transition(current, after, outcome.ends, outcome.start), outcome

        return (await self._change(vehicle, start))[0]

    async def _find(self, user_id: str | None, ref: str) -> Vehicle:
        """One of the user's vehicles by id or VIN (`user_id` None: anyone's)."""
        vehicle = None
        if _ID.match(ref) and int(ref) < 2**63:
            vehicle = await self._store.get(int(ref))
        elif _VIN.match(ref.upper()):
            vehicle = await self._store.by_vin(ref.upper())
        if vehicle is None or (user_id is not None and vehicle.user_id != user_id):
            raise NotFound(f"no vehicle {ref[:32]!r}")
        return vehicle

    async def _settled(self, vehicle: Vehicle) -> tuple[Vehicle, Present]:
        """The vehicle with a charge that finished since it was stored recorded as finished."""

        def finish(current: Vehicle, now: float) -> tuple[Transition | None, Outcome | None]:
            return settle(current, now, self.policy), None

        settled, _ = await self._change(vehicle, finish)
        seen = present(settled, self.clock.now(), self.policy)
        link = self._link(settled)
        return settled, seen if link is None else replace(seen, link=link)

    def _link(self, vehicle: Vehicle) -> str | None:
        return None if self._links is None else self._links.link(vehicle.vin)

    async def _change(self, vehicle: Vehicle, make: Change) -> tuple[Vehicle, Outcome | None]:
        change, outcome = make(vehicle, self.clock.now())
        if change is None:  # nothing to write (a read with nothing to settle): no waiting
            return vehicle, outcome
        return await self._queue.change(vehicle.id, make)
