"""Signed commands (`POST /api/1/vehicles/{vin}/signed_command`): a `RoutableMessage` of Tesla's
vehicle command protocol, carried to the vehicle, which checks it and answers in kind.

Fleet API only carries the message; the vehicle decides. So the decision is made on the
vehicle's stored state, inside the vehicle's change queue: the verifier is restored from the
vehicle's `command_protocol` (epochs, clocks, counters per key and domain), the command it
accepts runs on the vehicle as of now, and the new counters are written with the command's
effect in one compare-and-set. A message replayed, or raced against itself on another instance,
finds its counter taken. A refusal of the message (unknown key, wrong epoch, expired, tampered …)
is a reply carrying the protocol's fault, not an HTTP error: HTTP 200 does not mean the command
ran.

What Fleet API itself checks, before the vehicle: the vehicle is the user's and speaks the
protocol (422 otherwise), the message parses (400), and the token may send the command the
message carries (403): an HMAC-authenticated command travels in plaintext, so its OAuth scope is
enforced on it. Commands encrypted end to end (AES-GCM, the BLE path) cannot be read here and
are refused (400).

The vehicles' own keys are derived from the master key (one per VIN and domain), so a vehicle
keeps them across restarts without a stored secret.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

from voltgate.errors import InvalidRequest
from voltgate.identity.secrets import derive
from voltgate.sdk.vehicle_command import Domain, UnsupportedCommand, VehicleCommandError, decode
from voltgate.sdk.vehicle_command.authentication import SessionKeys
from voltgate.sdk.vehicle_command.keys import PrivateKey, public_bytes
from voltgate.sdk.vehicle_command.schema import RoutableMessage
from voltgate.vehiclecmd import VehicleVerifier, VerifierState, derive_vehicle_key
from voltgate.vehicles.catalog import COMMANDS
from voltgate.vehicles.store import Vehicle

DOMAINS = (Domain.VEHICLE_SECURITY, Domain.INFOTAINMENT)
_KEY_PURPOSE = "voltgate vehicle command keys"
_HELD_VEHICLES = 4_096  # vehicles whose keys are kept derived
_HELD_SESSION_KEYS = 65_536
_HELD_STATES = 4_096  # vehicles whose protocol state is kept decoded


class HeldKey(Protocol):
    """A client key a vehicle holds, and the role its owner gave it."""

    @property
    def public_key(self) -> bytes: ...  # the 65-byte point

    @property
    def role(self) -> str: ...  # owner, driver, fleet_manager, vehicle_monitor, charging_manager


class PairedKeys(Protocol):
    """The client keys paired with each vehicle (the owners' choices on the pairing page)."""

    async def keys_for(self, vin: str) -> Sequence[HeldKey]: ...


class _NoKeys:
    async def keys_for(self, vin: str) -> Sequence[HeldKey]:
        return ()


NO_KEYS: PairedKeys = _NoKeys()
# What each role may send (Tesla's key roles): a charging manager charging commands only, a
# vehicle monitor none; the others every command.
_CHARGING_ONLY = frozenset(
    name for name, c in COMMANDS.items() if "vehicle_charging_cmds" in c.scopes
)
ROLE_COMMANDS: dict[str, frozenset[str]] = {
    "owner": frozenset(COMMANDS),
    "driver": frozenset(COMMANDS),
    "fleet_manager": frozenset(COMMANDS),
    "charging_manager": _CHARGING_ONLY,
    "vehicle_monitor": frozenset(),
}


def may_run(keys: Sequence[HeldKey], public_key: bytes, command: str) -> bool:
    """Whether the role of the key that signed a command lets it run the command."""
    roles = [k.role for k in keys if k.public_key == public_key]
    return any(command in ROLE_COMMANDS.get(role, frozenset()) for role in roles)


class VehicleKeys:
    """Each vehicle's private key per domain, derived from the master key and kept for the
    vehicles used most recently (deriving one costs a scalar multiplication)."""

    def __init__(self, master_key: bytes) -> None:
        self._seed = derive(master_key, _KEY_PURPOSE)
        self._held: OrderedDict[str, Mapping[Domain, PrivateKey]] = OrderedDict()
        self._points: dict[str, Mapping[Domain, bytes]] = {}  # the public keys of `_held`
        self._shared: dict[tuple[bytes, bytes], SessionKeys] = {}  # see `shared`

    def shared(self) -> dict[tuple[bytes, bytes], SessionKeys]:
        """The session keys K (and their HMAC subkeys) computed so far, by (vehicle key, client
        key): kept across messages, as a car keeps them, so a command costs no ECDH; bounded.
        K depends on the two keys alone: a key unpaired is refused before K is looked at."""
        if len(self._shared) > _HELD_SESSION_KEYS:
            self._shared.clear()
        return self._shared

    def of(self, vin: str) -> Mapping[Domain, PrivateKey]:
        keys = self._held.get(vin)
        if keys is None:
            keys = {domain: derive_vehicle_key(self._seed, vin, domain) for domain in DOMAINS}
            self._held[vin] = keys
            self._points[vin] = {domain: public_bytes(key) for domain, key in keys.items()}
            if len(self._held) > _HELD_VEHICLES:
                gone, _ = self._held.popitem(last=False)
                del self._points[gone]
        else:
            self._held.move_to_end(vin)
        return keys

    def points(self, vin: str) -> Mapping[Domain, bytes]:
        """The public keys of `of(vin)`, kept with them."""
        self.of(vin)
        return self._points[vin]


class KnownStates:
    """Vehicles' protocol states as decoded from the `command_protocol` they were stored as (or
    encoded to), keyed by that exact text: a command restores the state it finds stored without
    decoding JSON, and the key can only ever name what the text says (a write that did not
    commit leaves the stored text, and so the state found, as they were); bounded."""

    def __init__(self) -> None:
        self._held: OrderedDict[tuple[str, str], VerifierState] = OrderedDict()

    def state(self, vin: str, text: str) -> VerifierState | None:
        if not text:
            return None
        state = self._held.get((vin, text))
        if state is None:
            state = VerifierState.from_dict(orjson.loads(text))
            self.keep(vin, text, state)
        return state

    def keep(self, vin: str, text: str, state: VerifierState) -> None:
        self._held[(vin, text)] = state
        if len(self._held) > _HELD_STATES:
            self._held.popitem(last=False)


@dataclass(frozen=True, slots=True)
class Carried:
    """What Fleet API reads off a message before the vehicle sees it: the command it carries,
    when it carries one in plaintext."""

    command: str | None
    message: Any  # the RoutableMessage parsed, for the vehicle to read (not to change)


def inspect(message: bytes) -> Carried:
    """400 for a message that does not parse or is encrypted end to end; the plaintext
    command's name otherwise (None for a handshake, or a payload the vehicle will refuse)."""
    try:
        routed = RoutableMessage.FromString(message)
    except (DecodeError, TypeError, ValueError):
        raise InvalidRequest("routable_message is not a RoutableMessage") from None
    if routed.WhichOneof("payload") != "protobuf_message_as_bytes":
        return Carried(None, routed)
    signature = routed.signature_data
    if signature.WhichOneof("sig_type") == "AES_GCM_Personalized_data":
        raise InvalidRequest(
            "an end-to-end encrypted command cannot go through Fleet API, which must read the "
            "command to check the token's scopes: authenticate it with HMAC"
        )
    target = routed.to_destination
    domain = target.domain if target.WhichOneof("sub_destination") == "domain" else None
    if domain not in DOMAINS:
        return Carried(None, routed)
    try:
        name, _ = decode(Domain(domain), bytes(routed.protobuf_message_as_bytes))
    except (UnsupportedCommand, VehicleCommandError):
        return Carried(None, routed)  # the vehicle answers it with its fault
    return Carried(name, routed)


class _At:
    """The verifier's clock: the time the change is decided at."""

    def __init__(self, now: float) -> None:
        self._now = now

    def now(self) -> float:
        return self._now


def verifier(
    vehicle: Vehicle,
    now: float,
    keys: VehicleKeys,
    paired: frozenset[bytes],
    states: KnownStates | None = None,
) -> VehicleVerifier:
    """The vehicle's side of the protocol as stored with it, at `now`."""
    text = vehicle.command_protocol
    if states is not None:
        state = states.state(vehicle.vin, text)
    else:
        state = VerifierState.from_dict(orjson.loads(text)) if text else None
    return VehicleVerifier(
        vehicle.vin,
        keys.of(vehicle.vin),
        paired,
        clock=_At(now),
        state=state,
        shared=keys.shared(),
        public_keys=keys.points(vehicle.vin),
    )


def stored(verifier: VehicleVerifier, states: KnownStates | None = None) -> str:
    """The verifier's state as the vehicle's `command_protocol` column holds it."""
    state = verifier.snapshot()
    text = orjson.dumps(state.as_dict(), option=orjson.OPT_SORT_KEYS).decode()
    if states is not None:
        states.keep(verifier.vin, text, state)
    return text
