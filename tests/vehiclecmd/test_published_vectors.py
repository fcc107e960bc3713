"""The simulated vehicle against teslamotors/vehicle-command's published examples: holding the
published vehicle key, epoch and clock, it answers the published handshake with the published
session info bytes and HMAC tag, and accepts the command the published client encrypted."""

from __future__ import annotations

from typing import Any

from tests.fixtures import vehicle_command as published
from voltgate.clock import FrozenClock
from voltgate.sdk.vehicle_command import Domain, Session, public_bytes
from voltgate.sdk.vehicle_command.schema import RoutableMessage
from voltgate.vehiclecmd import (
    Accepted,
    Answered,
    Counter,
    DomainState,
    VehicleVerifier,
    VerifierState,
)

INFO = Domain.INFOTAINMENT


def _vehicle(clock: FrozenClock) -> VehicleVerifier:
    client = public_bytes(published.client_key())
    booted = DomainState(bytes.fromhex(published.EPOCH), clock.now() - 2650, {client: Counter(6)})
    return VehicleVerifier(
        published.VIN,
        {INFO: published.vehicle_key()},
        {client},
        clock=clock,
        state=VerifierState({INFO: booted}),
    )


def _addressed(uuid: str) -> Any:
    message = RoutableMessage(uuid=bytes.fromhex(uuid))
    message.to_destination.domain = INFO
    message.from_destination.routing_address = bytes.fromhex(published.HANDSHAKE_ADDRESS)
    return message


def test_the_handshake_answer_is_the_published_one() -> None:
    vehicle = _vehicle(FrozenClock(1_700_000_000.0))
    request = _addressed(published.HANDSHAKE_UUID)
    request.session_info_request.public_key = bytes.fromhex(published.CLIENT_PUBLIC_HEX)
    exchange = vehicle.receive(request.SerializeToString())
    assert isinstance(exchange, Answered)
    reply = RoutableMessage.FromString(exchange.response)
    assert reply.session_info.hex() == published.SESSION_INFO
    assert reply.signature_data.session_info_tag.tag.hex() == published.SESSION_INFO_TAG
    assert reply.request_uuid.hex() == published.HANDSHAKE_UUID
    assert reply.to_destination.routing_address.hex() == published.HANDSHAKE_ADDRESS
    assert reply.from_destination.domain == INFO


def test_the_published_encrypted_command_is_accepted() -> None:
    vehicle = _vehicle(FrozenClock(1_700_000_000.0))
    example = published.GCM_COMMAND
    command = _addressed(str(example["uuid"]))
    command.protobuf_message_as_bytes = bytes.fromhex(str(example["ciphertext"]))
    command.signature_data.signer_identity.public_key = bytes.fromhex(published.CLIENT_PUBLIC_HEX)
    gcm = command.signature_data.AES_GCM_Personalized_data
    gcm.epoch = bytes.fromhex(published.EPOCH)
    gcm.nonce = bytes.fromhex(str(example["nonce"]))
    gcm.counter = example["counter"]
    gcm.expires_at = example["expires_at"]
    gcm.tag = bytes.fromhex(str(example["tag"]))
    exchange = vehicle.receive(command.SerializeToString())
    assert isinstance(exchange, Accepted)
    assert (exchange.name, exchange.body, exchange.encrypted) == (
        "auto_conditioning_start",
        {},
        True,
    )
    assert exchange.payload.hex() == published.HVAC_ON_PAYLOAD


def test_the_sdk_client_accepts_the_published_session_info() -> None:
    clock = FrozenClock(1_700_000_000.0)
    vehicle = _vehicle(clock)
    draws = [published.HANDSHAKE_ADDRESS, published.HANDSHAKE_UUID]  # address, then uuid
    uuid = iter(bytes.fromhex(draw) for draw in draws)
    session = Session(
        published.client_key(), published.VIN, INFO, now=clock.now, randbytes=lambda _n: next(uuid)
    )
    session.read(vehicle.receive(session.session_info_request()).response)
    assert session.state is not None
    assert (session.state.counter, session.state.clock_time) == (6, 2650)
    assert session.state.epoch.hex() == published.EPOCH
