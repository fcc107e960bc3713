"""A simulated vehicle's side of the vehicle command protocol (teslamotors/vehicle-command's
protocol.md): it answers session info requests and verifies signed commands.

Each domain (VCSEC, infotainment) has its own P-256 key, its own epoch (16 random bytes per
boot) and its own clock (seconds since the epoch began). A command is checked in the published
verifier's order: a paired key, the domain, the epoch, the expiry (and not too far ahead), then
the tag over the metadata (signature type, domain, VIN, epoch, expiry, counter, flags) and the
payload, in constant time, then the counter: infotainment accepts each counter once within a
window of 32, VCSEC only counters above every one it accepted. A counter is per client key
and domain and never rolls back within an epoch. HMAC-SHA256 commands (what Fleet API forwards)
and AES-GCM ones (what the published client sends over BLE) are both verified; replies are
plaintext, as from vehicles that predate response encryption.

`receive(bytes)` gives an `Answered` handshake, a `Refused` message carrying the protocol's
fault (with the vehicle's signed session info for faults a client recovers from, as vehicles
send it), or an `Accepted` command decoded to voltgate's REST name and body; the caller runs
it and calls `accepted.respond(result, reason)` for the reply. Not thread-safe: one vehicle's
messages are handled one at a time (the caller holds its per-VIN lock).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable, Mapping, MutableMapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

from voltgate.clock import Clock, SystemClock
from voltgate.sdk.vehicle_command import authentication, metadata, results
from voltgate.sdk.vehicle_command.actions import decode
from voltgate.sdk.vehicle_command.authentication import SessionKeys
from voltgate.sdk.vehicle_command.codes import (
    RESYNC_FAULTS,
    Domain,
    MessageFault,
    SignatureType,
)
from voltgate.sdk.vehicle_command.errors import InvalidKey, VehicleCommandError
from voltgate.sdk.vehicle_command.keys import PrivateKey, public_bytes, session_key
from voltgate.sdk.vehicle_command.schema import RoutableMessage, SessionInfo
from voltgate.vehiclecmd import replies
from voltgate.vehiclecmd.counters import Counter, in_order, sliding
from voltgate.vehiclecmd.state import DomainState, VerifierState

EPOCH_LENGTH = 16
MAX_UUID = 16
MAX_TTL = 300.0  # a command expiring further ahead than this is refused (TIME_TO_LIVE_TOO_LONG)
OUT_OF_ORDER_TTL = 30  # a counter below the highest must expire within this (as published)
_EPOCH_SECONDS = 1 << 30  # an epoch's clock past this starts a new epoch

Paired = Callable[[bytes], bool] | AbstractSet[bytes]


@dataclass(frozen=True, slots=True)
class Answered:
    """A session info request from a paired key, answered with signed session info."""

    domain: Domain
    public_key: bytes
    response: bytes


@dataclass(frozen=True, slots=True)
class Refused:
    """A message the vehicle refused at the protocol layer; `response` says so to the client."""

    fault: MessageFault
    detail: str
    response: bytes


@dataclass(frozen=True, slots=True)
class Accepted:
    """An authenticated command: its domain, the client key that signed it, the REST command
    it is (`name`, `body`) and whether it came encrypted (AES-GCM) rather than HMAC-signed."""

    domain: Domain
    public_key: bytes
    name: str
    body: dict[str, Any]
    encrypted: bool
    payload: bytes
    _request: Any = field(repr=False)

    def respond(self, result: bool, reason: str = "") -> bytes:
        """The reply carrying the command's answer (`result: false` with a reason is a refusal
        of the command itself, not of the message)."""
        answer = results.payload(self.domain, result, reason)
        return bytes(
            replies.with_payload(replies.to(self._request, self.domain), answer).SerializeToString()
        )

    def refuse(self, fault: MessageFault) -> bytes:
        """A protocol-layer refusal of this command, e.g. INSUFFICIENT_PRIVILEGES for a role."""
        reply = replies.with_fault(replies.to(self._request, self.domain), fault)
        return bytes(reply.SerializeToString())


Exchange = Answered | Refused | Accepted


class _Refusal(Exception):
    def __init__(self, fault: MessageFault, detail: str, key: bytes | None = None) -> None:
        super().__init__(detail)
        self.fault = fault
        self.detail = detail
        self.key = key  # a paired key: the refusal carries session info for it


class _Domain:
    """One domain's key and session state; `kept` is the stored state it was restored from,
    handed back as is by `state()` while nothing changed (a command touches one domain)."""

    def __init__(self, key: PrivateKey, public: bytes, state: DomainState) -> None:
        self.key = key
        self.public = public
        self.epoch = state.epoch
        self.started_at = state.started_at
        self.counters: dict[bytes, Counter] = dict(state.counters)
        self.kept: DomainState | None = state

    def state(self) -> DomainState:
        if self.kept is None:
            self.kept = DomainState(self.epoch, self.started_at, dict(self.counters))
        return self.kept


def derive_vehicle_key(seed: bytes, vin: str, domain: Domain) -> PrivateKey:
    """A stable P-256 key for a simulated vehicle's domain, from a secret seed, so a vehicle keeps
    its keys across restarts without storing them."""
    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    digest = hmac.new(seed, f"voltgate vehicle key\0{vin}\0{int(domain)}".encode(), hashlib.sha512)
    scalar = int.from_bytes(digest.digest(), "big") % (order - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP256R1())


class VehicleVerifier:
    """One simulated vehicle's protocol endpoint.

    `vehicle_keys` holds the private key of each domain the vehicle has; `paired` says whether
    a client public key (65-byte point) is paired with this vehicle, asked again for every
    message, so a key removed by the owner is refused from its next command on."""

    def __init__(
        self,
        vin: str,
        vehicle_keys: Mapping[Domain, PrivateKey],
        paired: Paired,
        *,
        clock: Clock | None = None,
        state: VerifierState | None = None,
        max_ttl: float = MAX_TTL,
        randbytes: Callable[[int], bytes] = os.urandom,
        shared: MutableMapping[tuple[bytes, bytes], SessionKeys] | None = None,
        public_keys: Mapping[Domain, bytes] | None = None,
    ) -> None:
        if not 0 < len(vin.encode()) <= 255:
            raise ValueError("the VIN must be 1 to 255 bytes")
        self.vin = vin
        self._paired = paired.__contains__ if isinstance(paired, AbstractSet) else paired
        self._clock = clock or SystemClock()
        self._random = randbytes
        self._max_ttl = max_ttl
        kept = state.domains if state is not None else {}
        # (vehicle domain key, client key) → K and its subkeys, kept by the caller across
        # messages: one ECDH and one subkey derivation per client key, not one per message.
        self._known: MutableMapping[tuple[bytes, bytes], SessionKeys] = (
            {} if shared is None else shared
        )
        # `public_keys`: the points of `vehicle_keys`, when the caller keeps them (one costs
        # ~10 µs to serialise, per domain and message).
        publics = public_keys or {}
        # Each domain's keys and stored state; its working state (`_domain`) is made when a
        # message reaches it, so a command costs the restoring of one domain, not of all.
        self._stored: dict[Domain, tuple[PrivateKey, bytes, DomainState]] = {
            Domain(domain): (
                key,
                publics.get(domain) or public_bytes(key),
                kept.get(Domain(domain)) or self._new_epoch(),
            )
            for domain, key in vehicle_keys.items()
        }
        self._domains: dict[Domain, _Domain] = {}

    def public_key(self, domain: Domain) -> bytes:
        return self._stored[domain][1]

    def snapshot(self) -> VerifierState:
        return VerifierState(
            {
                domain: d.state() if (d := self._domains.get(domain)) else state
                for domain, (_, _, state) in self._stored.items()
            }
        )

    def reboot(self) -> None:
        """A new epoch in every domain (counters start again), as when the vehicle restarts."""
        for domain in self._stored:
            self._restart(self._domain(domain))

    def _domain(self, domain: Domain) -> _Domain:
        d = self._domains.get(domain)
        if d is None:
            d = self._domains[domain] = _Domain(*self._stored[domain])
        return d

    def _restart(self, d: _Domain) -> None:
        fresh = self._new_epoch()
        d.epoch, d.started_at, d.counters, d.kept = fresh.epoch, fresh.started_at, {}, None

    def receive(self, data: bytes) -> Exchange:
        try:
            request = RoutableMessage.FromString(bytes(data))
        except (DecodeError, TypeError, ValueError):
            empty = RoutableMessage()
            return self._refused(
                empty,
                Domain.BROADCAST,
                _Refusal(MessageFault.DECODING, "the message does not parse"),
            )
        return self.receive_parsed(request)

    def receive_parsed(self, request: Any) -> Exchange:
        """`receive` for a RoutableMessage the caller has parsed already (and keeps unchanged)."""
        target = request.to_destination
        domain = target.domain if target.WhichOneof("sub_destination") == "domain" else None
        if domain not in self._stored:
            refusal = _Refusal(MessageFault.INVALID_DOMAINS, "no such domain on this vehicle")
            return self._refused(request, domain or Domain.BROADCAST, refusal)
        domain = Domain(domain)
        try:
            if len(request.uuid) > MAX_UUID:
                raise _Refusal(MessageFault.BAD_PARAMETER, "the uuid is over 16 bytes")
            kind = request.WhichOneof("payload")
            if kind == "session_info_request":
                key = bytes(request.session_info_request.public_key)
                self._shared(domain, key)
                reply = self._with_session_info(replies.to(request, domain), domain, key, request)
                return Answered(domain, key, bytes(reply.SerializeToString()))
            if kind != "protobuf_message_as_bytes":
                raise _Refusal(MessageFault.BAD_PARAMETER, "the message carries no command")
            key, plaintext, encrypted = self._authenticate(request, domain)
            try:
                name, body = decode(domain, plaintext)
            except VehicleCommandError as exc:
                raise _Refusal(exc.fault, str(exc)) from None
        except _Refusal as refusal:
            return self._refused(request, domain, refusal)
        return Accepted(domain, key, name, body, encrypted, plaintext, request)

    def _authenticate(self, request: Any, domain: Domain) -> tuple[bytes, bytes, bool]:
        """The signer's key and the command's plaintext, or a _Refusal."""
        if not request.HasField("signature_data"):
            raise _Refusal(MessageFault.BAD_PARAMETER, "the command is not signed")
        signature = request.signature_data
        if signature.signer_identity.WhichOneof("identity_type") != "public_key":
            raise _Refusal(MessageFault.INVALID_KEY_HANDLE, "the signer is not named by its key")
        key = bytes(signature.signer_identity.public_key)
        shared = self._shared(domain, key)
        method = signature.WhichOneof("sig_type")
        if method not in ("HMAC_Personalized_data", "AES_GCM_Personalized_data"):
            raise _Refusal(MessageFault.BAD_PARAMETER, "no command authentication", key)
        data = getattr(signature, method)
        d = self._domain(domain)
        now = self._timestamp(d)
        if data.epoch and data.epoch != d.epoch:
            raise _Refusal(MessageFault.INCORRECT_EPOCH, "the session is from another epoch", key)
        if data.expires_at < now:
            raise _Refusal(MessageFault.TIME_EXPIRED, "the command expired", key)
        if data.expires_at - now > self._max_ttl:
            raise _Refusal(MessageFault.TIME_TO_LIVE_TOO_LONG, "it expires too late", key)
        current = d.counters.get(key, Counter())
        if data.counter == 0:
            raise _Refusal(MessageFault.INVALID_TOKEN_OR_COUNTER, "counter 0 is never valid", key)
        late = data.counter < current.highest and data.expires_at - now > OUT_OF_ORDER_TTL
        if domain == Domain.INFOTAINMENT and late:
            raise _Refusal(MessageFault.TIME_TO_LIVE_TOO_LONG, "out of order, expiring late", key)
        encrypted = method == "AES_GCM_Personalized_data"
        kind = SignatureType.AES_GCM_PERSONALIZED if encrypted else SignatureType.HMAC_PERSONALIZED
        covered = metadata.command(
            kind, domain, self.vin, d.epoch, data.expires_at, data.counter, request.flags
        )
        payload = bytes(request.protobuf_message_as_bytes)
        if encrypted:
            if len(data.nonce) != authentication.NONCE_LENGTH:
                raise _Refusal(MessageFault.IV_INCORRECT_LENGTH, "the nonce is not 12 bytes", key)
            opened = authentication.gcm_decrypt(
                shared.shared, data.nonce, payload, data.tag, covered
            )
            if opened is None:
                raise _Refusal(MessageFault.INVALID_SIGNATURE, "the AES-GCM tag is wrong", key)
            payload = opened
        elif not authentication.same(
            authentication.tag(shared.command, covered, payload), bytes(data.tag)
        ):
            raise _Refusal(MessageFault.INVALID_SIGNATURE, "the HMAC tag is wrong", key)
        rule = in_order if domain == Domain.VEHICLE_SECURITY else sliding
        updated = rule(current, data.counter)
        if updated is None:
            raise _Refusal(MessageFault.INVALID_TOKEN_OR_COUNTER, "the counter was used", key)
        d.counters[key] = updated
        d.kept = None
        return key, payload, encrypted

    def _shared(self, domain: Domain, key: bytes) -> SessionKeys:
        """K and its subkeys for a paired client key (UNKNOWN_KEY_ID for any other): asked of
        `paired` before the kept keys are looked at, so a key removed is refused at once."""
        if not self._paired(key):
            raise _Refusal(MessageFault.UNKNOWN_KEY_ID, "the key is not paired with this vehicle")
        vehicle_key, public, _ = self._stored[domain]
        shared = self._known.get((public, key))
        if shared is None:
            try:
                shared = SessionKeys.of(session_key(vehicle_key, key))
            except InvalidKey as exc:
                raise _Refusal(MessageFault.BAD_PARAMETER, str(exc)) from None
            self._known[(public, key)] = shared
        return shared

    def _with_session_info(self, reply: Any, domain: Domain, key: bytes, request: Any) -> Any:
        d = self._domain(domain)
        now = self._timestamp(d)
        info = SessionInfo(
            counter=d.counters.get(key, Counter()).highest,
            publicKey=d.public,
            epoch=d.epoch,
            clock_time=now,
        )
        encoded = bytes(info.SerializeToString())
        covered = metadata.session_info(self.vin, bytes(request.uuid))
        tag = authentication.tag(self._shared(domain, key).session_info, covered, encoded)
        return replies.with_session_info(reply, encoded, tag)

    def _refused(self, request: Any, domain: Domain | int, refusal: _Refusal) -> Refused:
        reply = replies.with_fault(replies.to(request, domain), refusal.fault)
        if refusal.key is not None and refusal.fault in RESYNC_FAULTS:
            reply = self._with_session_info(reply, Domain(domain), refusal.key, request)
        return Refused(refusal.fault, refusal.detail, bytes(reply.SerializeToString()))

    def _timestamp(self, d: _Domain) -> int:
        """The domain's clock; a clock gone backwards or past an epoch's span starts a new
        epoch, as the published verifier does."""
        elapsed = self._clock.now() - d.started_at
        if elapsed < 0 or elapsed >= _EPOCH_SECONDS:
            self._restart(d)
            elapsed = 0
        return int(elapsed)

    def _new_epoch(self) -> DomainState:
        return DomainState(self._random(EPOCH_LENGTH), self._clock.now())
