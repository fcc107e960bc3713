"""The client side of the vehicle command protocol (protocol.md, "Handshake", "Authorizing
commands", "Recovering from synchronization errors").

A `Session` is one client key's session with one domain of one vehicle. It asks for session
info, accepts only an answer bound to a request it sent recently (the HMAC covers the request
uuid; VCSEC may leave the uuid out of a reply, which then answers the latest request) from the
same vehicle key and not older than one already seen, keeps the vehicle's epoch,
counter and clock offset, and signs payloads with HMAC-SHA256 (the method Fleet API forwards,
so the server can read the plaintext). `read()` takes every reply: one carrying session info
(a handshake answer, or a fault the vehicle attached its session to) updates the session, so a
client resends after `Reply.resync` without a new handshake. A `Signer` keeps one app key's
sessions with many vehicles, as a proxy does.

Replies are read in plaintext; the client does not set FLAG_ENCRYPT_RESPONSE by default and
does not decrypt AES-GCM replies.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from google.protobuf.message import DecodeError  # type: ignore[import-untyped]

from voltgate.sdk.vehicle_command import authentication, metadata, results
from voltgate.sdk.vehicle_command.actions import encode
from voltgate.sdk.vehicle_command.codes import (
    RESYNC_FAULTS,
    Domain,
    MessageFault,
    SessionInfoStatus,
    SignatureType,
)
from voltgate.sdk.vehicle_command.errors import (
    InvalidKey,
    NoSession,
    ResponseError,
    SessionInfoRejected,
    UnsupportedCommand,
)
from voltgate.sdk.vehicle_command.keys import PrivateKey, public_bytes, session_key
from voltgate.sdk.vehicle_command.schema import RoutableMessage, SessionInfo

UUID_LENGTH = 16
ADDRESS_LENGTH = 16
DEFAULT_EXPIRY = 5.0  # seconds, the published client's default without a request deadline
MAX_LATENCY = 30.0  # session info answering a request older than this is discarded
_MAX_PENDING = 256
_COUNTER_MAX = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class SessionState:
    """What a client caches to resume a session without a handshake."""

    vehicle_public_key: bytes
    epoch: bytes
    counter: int  # the last counter used or reported by the vehicle
    clock_time: int  # the vehicle's clock in the last authenticated session info …
    local_time: float  # … and the local time when it was received


@dataclass(frozen=True, slots=True)
class Reply:
    """A vehicle's reply, read. `fault` is the protocol-layer refusal (NONE when the vehicle
    took the message); `result`/`reason` the command's answer when it ran (None for a
    handshake); `resynced` tells that the reply's session info updated the session."""

    domain: Domain
    fault: MessageFault | int
    result: bool | None
    reason: str
    resynced: bool

    @property
    def resync(self) -> bool:
        """Sending the command again may succeed now (the session was refreshed)."""
        return self.resynced and self.fault in RESYNC_FAULTS


class Session:
    def __init__(
        self,
        private_key: PrivateKey,
        vin: str,
        domain: Domain,
        *,
        state: SessionState | None = None,
        now: Callable[[], float] = time.time,
        max_latency: float = MAX_LATENCY,
        randbytes: Callable[[int], bytes] = os.urandom,
    ) -> None:
        if domain not in (Domain.VEHICLE_SECURITY, Domain.INFOTAINMENT):
            raise UnsupportedCommand(f"no session with domain {domain!r}")
        if not 0 < len(vin.encode()) <= 255:
            raise ValueError("the VIN must be 1 to 255 bytes")
        self.vin = vin
        self.domain = domain
        self._key = private_key
        self.public_key = public_bytes(private_key)
        self._now = now
        self._random = randbytes
        self._max_latency = max_latency
        self.address = randbytes(ADDRESS_LENGTH)
        self._pending: dict[bytes, tuple[float, bool]] = {}  # uuid → (sent at, is a command)
        self._state: SessionState | None = None
        self._shared: bytes = b""
        if state is not None:
            self._shared = session_key(private_key, state.vehicle_public_key)
            self._state = state

    @property
    def ready(self) -> bool:
        return self._state is not None

    @property
    def state(self) -> SessionState | None:
        return self._state

    def session_info_request(self) -> bytes:
        """A handshake: `session_info_request{public_key}` to the domain."""
        message = self._message(is_command=False)
        message.session_info_request.public_key = self.public_key
        return bytes(message.SerializeToString())

    def sign(self, payload: bytes, *, expires_in: float = DEFAULT_EXPIRY, flags: int = 0) -> bytes:
        """A RoutableMessage carrying `payload`, authenticated with HMAC-SHA256, that the vehicle
        accepts until `expires_in` seconds from now (on its clock, as last synchronised)."""
        state = self._state
        if state is None:
            raise NoSession(
                "no session info from the vehicle yet: send session_info_request() and read its "
                "reply (a refused one, e.g. UNKNOWN_KEY_ID for a key not paired, makes none)"
            )
        if state.counter >= _COUNTER_MAX:
            raise NoSession("the session's counter is exhausted: request session info again")
        counter = state.counter + 1
        start = state.local_time - state.clock_time  # local time when the vehicle's clock read 0
        expires_at = min(max(int(self._now() + expires_in - start), 0), _COUNTER_MAX)
        authenticated = metadata.command(
            SignatureType.HMAC_PERSONALIZED,
            self.domain,
            self.vin,
            state.epoch,
            expires_at,
            counter,
            flags,
        )
        message = self._message(is_command=True)
        message.protobuf_message_as_bytes = payload
        message.flags = flags
        signature = message.signature_data
        signature.signer_identity.public_key = self.public_key
        hmac_data = signature.HMAC_Personalized_data
        hmac_data.epoch = state.epoch
        hmac_data.counter = counter
        hmac_data.expires_at = expires_at
        hmac_data.tag = authentication.command_tag(self._shared, authenticated, payload)
        self._state = replace(state, counter=counter)
        return bytes(message.SerializeToString())

    def command(
        self,
        name: str,
        body: Mapping[str, Any] | None = None,
        *,
        expires_in: float = DEFAULT_EXPIRY,
        flags: int = 0,
    ) -> bytes:
        """REST command `name` with `body`, encoded and signed (see actions.encode)."""
        domain, payload = encode(name, body)
        if domain != self.domain:
            raise UnsupportedCommand(f"{name} goes to {domain.name}, not to {self.domain.name}")
        return self.sign(payload, expires_in=expires_in, flags=flags)

    def read(self, data: bytes) -> Reply:
        """The vehicle's reply to a message of this session; raises ResponseError for a reply
        that is not one, SessionInfoRejected for session info that must be discarded."""
        try:
            message = RoutableMessage.FromString(bytes(data))
        except (DecodeError, TypeError, ValueError) as exc:
            raise ResponseError(f"the reply does not parse: {exc}") from None
        source = message.from_destination
        if source.WhichOneof("sub_destination") != "domain" or source.domain != self.domain:
            raise ResponseError("the reply is not from this session's domain")
        if message.to_destination.routing_address != self.address:
            raise ResponseError("the reply is addressed to another session")
        uuid = bytes(message.request_uuid)
        if not uuid and self.domain == Domain.VEHICLE_SECURITY and self._pending:
            # VCSEC may leave request_uuid out (protocol.md): the reply is to the latest request
            uuid = next(reversed(self._pending))
        pending = self._pending.pop(uuid, None)
        if pending is None:
            raise ResponseError("the reply answers no request of this session")
        sent_at, is_command = pending
        fault = _fault(message.signedMessageStatus.signed_message_fault)
        resynced = False
        kind = message.WhichOneof("payload")
        if kind == "session_info":
            status = self._accept(message, sent_at)
            if status == SessionInfoStatus.KEY_NOT_ON_WHITELIST and not fault:
                fault = MessageFault.UNKNOWN_KEY_ID
            resynced = status == SessionInfoStatus.OK
        if fault:
            text = fault.description if isinstance(fault, MessageFault) else f"fault {fault}"
            return Reply(self.domain, fault, None, text, resynced)
        if not is_command:
            return Reply(self.domain, fault, None, "", resynced)
        if message.signature_data.HasField("AES_GCM_Response_data"):
            raise ResponseError("the reply is encrypted (AES-GCM); this client reads plaintext")
        result, reason = (True, "")
        if kind == "protobuf_message_as_bytes":
            result, reason = results.read(self.domain, message.protobuf_message_as_bytes)
        return Reply(self.domain, fault, result, reason, resynced)

    def _message(self, *, is_command: bool) -> Any:
        uuid = self._random(UUID_LENGTH)
        now = self._now()
        # Oldest first (sent in order): drop from the front while too old, not a scan per message.
        pending = self._pending
        while pending:
            oldest = next(iter(pending))
            if now - pending[oldest][0] <= self._max_latency:
                break
            del pending[oldest]
        while len(self._pending) >= _MAX_PENDING:
            del self._pending[next(iter(self._pending))]
        self._pending[uuid] = (now, is_command)
        message = RoutableMessage(uuid=uuid)
        message.to_destination.domain = self.domain
        message.from_destination.routing_address = self.address
        return message

    def _accept(self, message: Any, sent_at: float) -> SessionInfoStatus | int:
        """Checks the session info of `message` and updates the session from it."""
        now = self._now()
        if now - sent_at > self._max_latency:
            raise SessionInfoRejected("session info for a request sent too long ago")
        if not message.signature_data.HasField("session_info_tag"):
            raise SessionInfoRejected("session info without its HMAC tag")
        encoded = bytes(message.session_info)
        try:
            info = SessionInfo.FromString(encoded)
            shared = session_key(self._key, bytes(info.publicKey))
        except (DecodeError, TypeError, ValueError, InvalidKey) as exc:
            raise SessionInfoRejected(f"unreadable session info: {exc}") from None
        state = self._state
        if state is not None and info.publicKey != state.vehicle_public_key:
            raise SessionInfoRejected("session info carries another vehicle key")
        expected = authentication.session_info_tag(
            shared, metadata.session_info(self.vin, bytes(message.request_uuid)), encoded
        )
        if not authentication.same(expected, bytes(message.signature_data.session_info_tag.tag)):
            raise SessionInfoRejected("the session info HMAC tag is wrong")
        if info.status != SessionInfoStatus.OK:
            return int(info.status)
        same_epoch = state is not None and info.epoch == state.epoch
        if state is not None and same_epoch and info.clock_time < state.clock_time:
            raise SessionInfoRejected("session info older than the session's")
        counter = info.counter
        if state is not None and same_epoch:
            counter = max(counter, state.counter)  # never roll back within an epoch
        self._shared = shared
        self._state = SessionState(
            bytes(info.publicKey), bytes(info.epoch), counter, info.clock_time, now
        )
        return SessionInfoStatus.OK


def _fault(code: int) -> MessageFault | int:
    return MessageFault(code) if code in MessageFault._value2member_map_ else code


class Signer:
    """One app key's sessions, one per (VIN, domain), created on first use."""

    def __init__(self, private_key: PrivateKey, *, now: Callable[[], float] = time.time) -> None:
        self.private_key = private_key
        self._now = now
        self._sessions: dict[tuple[str, Domain], Session] = {}

    def session(self, vin: str, domain: Domain) -> Session:
        key = (vin, domain)
        if key not in self._sessions:
            self._sessions[key] = Session(self.private_key, vin, domain, now=self._now)
        return self._sessions[key]

    def sign(
        self, vin: str, domain: Domain, payload: bytes, *, expires_in: float = DEFAULT_EXPIRY
    ) -> bytes:
        """`payload` signed for `domain` of vehicle `vin` (NoSession before its handshake)."""
        return self.session(vin, domain).sign(payload, expires_in=expires_in)

    def command(
        self,
        vin: str,
        name: str,
        body: Mapping[str, Any] | None = None,
        *,
        expires_in: float = DEFAULT_EXPIRY,
    ) -> tuple[Session, bytes]:
        """The session command `name` goes to and the signed message (NoSession when that
        session has no session info yet: send `session.session_info_request()` first)."""
        domain, payload = encode(name, body)
        session = self.session(vin, domain)
        return session, session.sign(payload, expires_in=expires_in)

    def export(self) -> dict[tuple[str, Domain], SessionState]:
        return {k: s.state for k, s in self._sessions.items() if s.state is not None}

    def restore(self, states: Mapping[tuple[str, Domain], SessionState]) -> None:
        for (vin, domain), state in states.items():
            self._sessions[(vin, domain)] = Session(
                self.private_key, vin, domain, state=state, now=self._now
            )
