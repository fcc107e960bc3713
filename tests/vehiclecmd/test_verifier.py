"""A simulated vehicle verifying signed commands from the SDK's client: every mapped command
goes through, and each attack is refused with the protocol's fault."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.vehicle_command import BODIES, VCSEC, Car
from voltgate.sdk.vehicle_command import (
    Domain,
    Flag,
    MessageFault,
    Session,
    domain_of,
    generate_private_key,
    public_bytes,
)
from voltgate.sdk.vehicle_command.schema import RoutableMessage
from voltgate.vehiclecmd import Accepted, Answered, Refused

INFO = Domain.INFOTAINMENT


def deliver(car: Car, message: bytes) -> bytes:
    """The vehicle's reply; an accepted command is answered as run."""
    exchange = car.verifier.receive(message)
    return exchange.respond(True) if isinstance(exchange, Accepted) else exchange.response


def refused(car: Car, message: bytes) -> Refused:
    exchange = car.verifier.receive(message)
    assert isinstance(exchange, Refused), exchange
    return exchange


def tampered(message: bytes, change: Any) -> bytes:
    parsed = RoutableMessage.FromString(message)
    change(parsed)
    return bytes(parsed.SerializeToString())


@pytest.fixture
def car() -> Car:
    return Car()


@pytest.fixture
def app(car: Car) -> Any:
    return car.pair(generate_private_key())


@pytest.mark.parametrize("name", sorted(BODIES))
def test_every_command_round_trips_through_sign_and_verify(car: Car, app: Any, name: str) -> None:
    session = car.session(app, domain_of(name))
    exchange = car.verifier.receive(session.command(name, BODIES[name]))
    assert isinstance(exchange, Accepted)
    assert (exchange.name, exchange.body) == (name, BODIES[name])
    assert exchange.domain == (Domain.VEHICLE_SECURITY if name in VCSEC else INFO)
    assert exchange.public_key == public_bytes(app) and not exchange.encrypted
    reply = session.read(exchange.respond(True))
    assert (reply.fault, reply.result, reply.reason) == (MessageFault.NONE, True, "")


@pytest.mark.parametrize("domain", [Domain.VEHICLE_SECURITY, INFO])
def test_a_command_the_vehicle_refuses_reports_the_reason(
    car: Car, app: Any, domain: Domain
) -> None:
    session = car.session(app, domain)
    name = "door_lock" if domain == Domain.VEHICLE_SECURITY else "charge_start"
    exchange = car.verifier.receive(session.command(name))
    assert isinstance(exchange, Accepted)
    reply = session.read(exchange.respond(False, "disconnected"))
    expected = "unknown" if domain == Domain.VEHICLE_SECURITY else "disconnected"
    assert (reply.fault, reply.result, reply.reason) == (MessageFault.NONE, False, expected)


def test_the_handshake_answers_with_the_vehicle_session(car: Car, app: Any) -> None:
    session = Session(app, car.vin, INFO, now=car.clock.now)
    exchange = car.verifier.receive(session.session_info_request())
    assert isinstance(exchange, Answered)
    reply = session.read(exchange.response)
    assert reply.fault == MessageFault.NONE and reply.resynced and reply.result is None
    assert session.state is not None
    assert session.state.vehicle_public_key == car.verifier.public_key(INFO)
    assert session.state.counter == 0


def test_a_replayed_command_is_refused(car: Car, app: Any) -> None:
    session = car.session(app, INFO)
    message = session.command("charge_start")
    assert isinstance(car.verifier.receive(message), Accepted)
    assert refused(car, message).fault == MessageFault.INVALID_TOKEN_OR_COUNTER


def test_infotainment_takes_counters_out_of_order_within_the_window(car: Car, app: Any) -> None:
    session = car.session(app, INFO)
    first, second = session.command("honk_horn"), session.command("flash_lights")
    assert isinstance(car.verifier.receive(second), Accepted)
    assert isinstance(car.verifier.receive(first), Accepted)
    assert refused(car, first).fault == MessageFault.INVALID_TOKEN_OR_COUNTER


def test_a_counter_below_the_window_is_refused(car: Car, app: Any) -> None:
    session = car.session(app, INFO)
    held_back = session.command("honk_horn")
    within = session.command("honk_horn")
    for _ in range(31):
        assert isinstance(car.verifier.receive(session.command("flash_lights")), Accepted)
    assert isinstance(car.verifier.receive(within), Accepted)  # 31 below the highest
    assert isinstance(car.verifier.receive(session.command("flash_lights")), Accepted)
    assert refused(car, held_back).fault == MessageFault.INVALID_TOKEN_OR_COUNTER  # 33 below


def test_vcsec_takes_counters_only_in_order(car: Car, app: Any) -> None:
    session = car.session(app, Domain.VEHICLE_SECURITY)
    first, second = session.command("door_lock"), session.command("door_unlock")
    assert isinstance(car.verifier.receive(second), Accepted)
    assert refused(car, first).fault == MessageFault.INVALID_TOKEN_OR_COUNTER


def test_a_command_for_another_vehicle_is_refused(car: Car, app: Any) -> None:
    other = Car("5YJ3E1EA7KF000001", clock=car.clock)
    other.pair(app)
    for_other = other.session(app, INFO).command("charge_start")
    assert refused(car, for_other).fault == MessageFault.INCORRECT_EPOCH  # its session, not ours
    # Same key, epoch and counter as a valid session here, only the VIN it was signed for differs.
    state = car.session(app, INFO).state
    mislabelled = Session(app, other.vin, INFO, state=state, now=car.clock.now)
    assert refused(car, mislabelled.command("charge_start")).fault == MessageFault.INVALID_SIGNATURE


def test_a_command_moved_to_another_domain_is_refused(car: Car, app: Any) -> None:
    session = car.session(app, INFO)
    car.session(app, Domain.VEHICLE_SECURITY)
    message = session.command("charge_start")

    def to_vcsec(m: Any) -> None:
        m.to_destination.domain = Domain.VEHICLE_SECURITY

    assert refused(car, tampered(message, to_vcsec)).fault == MessageFault.INCORRECT_EPOCH

    def to_vcsec_without_epoch(m: Any) -> None:  # the epoch field is optional on the wire
        to_vcsec(m)
        m.signature_data.HMAC_Personalized_data.ClearField("epoch")

    moved = tampered(message, to_vcsec_without_epoch)
    assert refused(car, moved).fault == MessageFault.INVALID_SIGNATURE

    def to_broadcast(m: Any) -> None:
        m.to_destination.domain = Domain.BROADCAST

    assert refused(car, tampered(message, to_broadcast)).fault == MessageFault.INVALID_DOMAINS
    assert isinstance(car.verifier.receive(message), Accepted)  # the original still goes through


def test_an_expired_command_is_refused_and_the_client_resyncs(car: Car, app: Any) -> None:
    session = car.session(app, INFO)
    message = session.command("charge_start", expires_in=5)
    car.clock.advance(6)
    refusal = refused(car, message)
    assert refusal.fault == MessageFault.TIME_EXPIRED
    reply = session.read(refusal.response)
    assert reply.fault == MessageFault.TIME_EXPIRED and reply.resync
    assert isinstance(car.verifier.receive(session.command("charge_start")), Accepted)


def test_a_command_expiring_too_far_ahead_is_refused(car: Car, app: Any) -> None:
    session = car.session(app, INFO)
    far = session.command("charge_start", expires_in=301)
    assert refused(car, far).fault == MessageFault.TIME_TO_LIVE_TOO_LONG
    assert isinstance(
        car.verifier.receive(session.command("charge_start", expires_in=60)), Accepted
    )


def test_a_late_counter_must_expire_soon(car: Car, app: Any) -> None:
    session = car.session(app, INFO)
    held_back = session.command("honk_horn", expires_in=60)
    assert isinstance(car.verifier.receive(session.command("honk_horn")), Accepted)
    assert refused(car, held_back).fault == MessageFault.TIME_TO_LIVE_TOO_LONG


def test_a_tampered_payload_is_refused(car: Car, app: Any) -> None:
    session = car.session(app, INFO)
    message = session.command("set_charge_limit", {"percent": 80})

    def raise_limit(m: Any) -> None:
        m.protobuf_message_as_bytes = bytes.fromhex("12042a020864")  # percent 100

    assert refused(car, tampered(message, raise_limit)).fault == MessageFault.INVALID_SIGNATURE


@pytest.mark.parametrize(
    "change",
    [
        lambda m: setattr(
            m.signature_data.HMAC_Personalized_data,
            "expires_at",
            m.signature_data.HMAC_Personalized_data.expires_at + 60,
        ),
        lambda m: setattr(
            m.signature_data.HMAC_Personalized_data,
            "counter",
            m.signature_data.HMAC_Personalized_data.counter + 1,
        ),
        lambda m: setattr(m, "flags", 1 << Flag.ENCRYPT_RESPONSE),
        lambda m: setattr(m.signature_data.HMAC_Personalized_data, "tag", bytes(32)),
    ],
    ids=["expires_at", "counter", "flags", "tag"],
)
def test_tampered_metadata_is_refused(car: Car, app: Any, change: Any) -> None:
    session = car.session(app, INFO)
    message = session.command("charge_start")
    refusal = refused(car, tampered(message, change))
    assert refusal.fault == MessageFault.INVALID_SIGNATURE
    assert isinstance(car.verifier.receive(message), Accepted)  # the refusal used no counter


def test_a_key_never_paired_is_refused(car: Car, app: Any) -> None:
    stranger = generate_private_key()
    session = Session(stranger, car.vin, INFO, now=car.clock.now)
    refusal = refused(car, session.session_info_request())
    assert refusal.fault == MessageFault.UNKNOWN_KEY_ID
    reply = session.read(refusal.response)
    assert reply.fault == MessageFault.UNKNOWN_KEY_ID and not session.ready
    # A stranger reusing a paired app's session state signs with the wrong key.
    state = car.session(app, INFO).state
    forged = Session(stranger, car.vin, INFO, state=state, now=car.clock.now)
    assert refused(car, forged.command("charge_start")).fault == MessageFault.UNKNOWN_KEY_ID


def test_a_key_removed_after_its_session_is_refused(car: Car, app: Any) -> None:
    session = car.session(app, INFO)
    assert isinstance(car.verifier.receive(session.command("charge_start")), Accepted)
    car.paired.discard(public_bytes(app))
    refusal = refused(car, session.command("charge_stop"))
    assert refusal.fault == MessageFault.UNKNOWN_KEY_ID
    reply = session.read(refusal.response)
    assert reply.fault == MessageFault.UNKNOWN_KEY_ID and not reply.resync
    assert refused(car, session.session_info_request()).fault == MessageFault.UNKNOWN_KEY_ID


def test_a_session_from_before_a_reboot_is_refused_then_resynced(car: Car, app: Any) -> None:
    session = car.session(app, INFO)
    before = session.command("charge_start")
    old_epoch = session.state.epoch if session.state else b""
    car.verifier.reboot()
    refusal = refused(car, session.command("charge_stop"))
    assert refusal.fault == MessageFault.INCORRECT_EPOCH
    reply = session.read(refusal.response)
    assert reply.resync and session.state is not None and session.state.epoch != old_epoch
    assert session.state.counter == 0  # a new epoch starts its counters again
    assert isinstance(car.verifier.receive(session.command("charge_stop")), Accepted)
    assert refused(car, before).fault == MessageFault.INCORRECT_EPOCH


def test_each_fault_a_client_recovers_from_carries_session_info(car: Car, app: Any) -> None:
    session = car.session(app, INFO)
    message = session.command("charge_start")
    assert isinstance(car.verifier.receive(message), Accepted)
    replay = RoutableMessage.FromString(refused(car, message).response)
    assert replay.WhichOneof("payload") == "session_info"
    assert replay.signature_data.session_info_tag.tag
    assert replay.request_uuid == RoutableMessage.FromString(message).uuid
    car.paired.clear()
    unknown = RoutableMessage.FromString(refused(car, session.command("charge_start")).response)
    assert unknown.WhichOneof("payload") is None  # nothing for a key the vehicle does not know
    assert unknown.signedMessageStatus.signed_message_fault == MessageFault.UNKNOWN_KEY_ID


def test_malformed_messages_are_refused_with_their_fault(car: Car, app: Any) -> None:
    assert refused(car, b"\xff\xff\xff").fault == MessageFault.DECODING
    session = car.session(app, INFO)
    message = session.command("charge_start")
    unsigned = tampered(message, lambda m: m.ClearField("signature_data"))
    assert refused(car, unsigned).fault == MessageFault.BAD_PARAMETER
    zero = tampered(
        message, lambda m: setattr(m.signature_data.HMAC_Personalized_data, "counter", 0)
    )
    assert refused(car, zero).fault == MessageFault.INVALID_TOKEN_OR_COUNTER
    long_uuid = tampered(message, lambda m: setattr(m, "uuid", bytes(17)))
    assert refused(car, long_uuid).fault == MessageFault.BAD_PARAMETER
    handle = tampered(message, lambda m: setattr(m.signature_data.signer_identity, "handle", 1))
    assert refused(car, handle).fault == MessageFault.INVALID_KEY_HANDLE
    no_payload = tampered(message, lambda m: m.ClearField("protobuf_message_as_bytes"))
    assert refused(car, no_payload).fault == MessageFault.BAD_PARAMETER


def test_an_authenticated_unsupported_action_is_an_invalid_command(car: Car, app: Any) -> None:
    session = car.session(app, INFO)
    get_vehicle_data = bytes.fromhex("12020a00")
    refusal = refused(car, session.sign(get_vehicle_data))
    assert refusal.fault == MessageFault.INVALID_COMMAND
    assert "field 1" in refusal.detail


def test_the_caller_may_refuse_an_accepted_command(car: Car, app: Any) -> None:
    session = car.session(app, INFO)
    exchange = car.verifier.receive(session.command("charge_start"))
    assert isinstance(exchange, Accepted)
    reply = session.read(exchange.refuse(MessageFault.INSUFFICIENT_PRIVILEGES))
    assert reply.fault == MessageFault.INSUFFICIENT_PRIVILEGES and reply.result is None


def test_commands_asking_for_encrypted_replies_are_answered_in_plaintext(
    car: Car, app: Any
) -> None:
    session = car.session(app, INFO)
    flags = 1 << Flag.ENCRYPT_RESPONSE  # what the published client always sets
    exchange = car.verifier.receive(session.command("charge_start", flags=flags))
    assert isinstance(exchange, Accepted)
    assert session.read(exchange.respond(True)).result is True


def test_counters_are_kept_per_key_and_domain(car: Car, app: Any) -> None:
    other_app = car.pair(generate_private_key())
    mine, theirs = car.session(app, INFO), car.session(other_app, INFO)
    for _ in range(3):
        assert isinstance(car.verifier.receive(mine.command("honk_horn")), Accepted)
    assert isinstance(car.verifier.receive(theirs.command("honk_horn")), Accepted)
    vcsec = car.session(app, Domain.VEHICLE_SECURITY)
    assert vcsec.state is not None and vcsec.state.counter == 0
    again = car.session(app, INFO)
    assert again.state is not None and again.state.counter == 3
