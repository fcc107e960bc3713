"""The client session: it accepts only session info bound to a request it sent recently, from
the same vehicle key, not older than what it has, with a correct HMAC; it keeps the counter
and the vehicle's clock; and a Signer keeps one app key's sessions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.vehicle_command import Car
from voltgate.sdk.vehicle_command import (
    Domain,
    NoSession,
    ResponseError,
    Session,
    SessionInfoRejected,
    Signer,
    UnsupportedCommand,
    authentication,
    generate_private_key,
    metadata,
    session_key,
)
from voltgate.sdk.vehicle_command.schema import RoutableMessage, SessionInfo
from voltgate.vehiclecmd import Accepted

INFO = Domain.INFOTAINMENT


@pytest.fixture
def car() -> Car:
    return Car()


@pytest.fixture
def app(car: Car) -> Any:
    return car.pair(generate_private_key())


def _fresh(car: Car, app: Any) -> Session:
    return Session(app, car.vin, INFO, now=car.clock.now)


def _changed(reply: bytes, change: Any) -> bytes:
    message = RoutableMessage.FromString(reply)
    change(message)
    return bytes(message.SerializeToString())


def test_signing_needs_session_info_first(car: Car, app: Any) -> None:
    with pytest.raises(NoSession):
        _fresh(car, app).command("charge_start")


def test_session_info_with_a_tampered_tag_is_refused(car: Car, app: Any) -> None:
    session = _fresh(car, app)
    answer = car.verifier.receive(session.session_info_request()).response

    def flip(m: Any) -> None:
        m.signature_data.session_info_tag.tag = bytes(32)

    with pytest.raises(SessionInfoRejected, match="HMAC"):
        session.read(_changed(answer, flip))
    assert not session.ready


def test_session_info_with_tampered_fields_is_refused(car: Car, app: Any) -> None:
    session = _fresh(car, app)
    answer = car.verifier.receive(session.session_info_request()).response

    def raised_counter(m: Any) -> None:  # a MITM pushing the client past counters it will use
        info = SessionInfo.FromString(m.session_info)
        info.counter += 1000
        m.session_info = info.SerializeToString()

    with pytest.raises(SessionInfoRejected, match="HMAC"):
        session.read(_changed(answer, raised_counter))
    assert not session.ready


def test_session_info_for_another_request_uuid_is_refused(car: Car, app: Any) -> None:
    session = _fresh(car, app)
    first = car.verifier.receive(session.session_info_request()).response
    second_request = session.session_info_request()
    second = car.verifier.receive(second_request).response
    # The first answer presented as the second's: the HMAC binds the first request's uuid.
    relabelled = _changed(
        first, lambda m: setattr(m, "request_uuid", RoutableMessage.FromString(second).request_uuid)
    )
    with pytest.raises(SessionInfoRejected, match="HMAC"):
        session.read(relabelled)
    session.read(first)
    assert session.ready
    with pytest.raises(ResponseError, match="no request"):
        session.read(first)  # an answer is read once


def test_session_info_arriving_too_late_is_refused(car: Car, app: Any) -> None:
    session = _fresh(car, app)
    answer = car.verifier.receive(session.session_info_request()).response
    car.clock.advance(31)
    with pytest.raises((SessionInfoRejected, ResponseError)):
        session.read(answer)
    assert not session.ready


def test_session_info_older_than_the_sessions_is_refused(car: Car, app: Any) -> None:
    session = _fresh(car, app)
    early = car.verifier.receive(session.session_info_request()).response
    car.clock.advance(10)
    late = car.verifier.receive(session.session_info_request()).response
    session.read(late)
    with pytest.raises(SessionInfoRejected, match="older"):
        session.read(early)
    assert session.state is not None and session.state.clock_time >= 10


def test_session_info_from_another_vehicle_key_is_refused(car: Car, app: Any) -> None:
    session = car.session(app, INFO)
    impostor = Car(car.vin, clock=car.clock)
    impostor.pair(app)
    answer = impostor.verifier.receive(session.session_info_request()).response
    with pytest.raises(SessionInfoRejected, match="another vehicle key"):
        session.read(answer)


def test_replies_for_other_sessions_are_refused(car: Car, app: Any) -> None:
    session = car.session(app, INFO)
    other = car.session(app, INFO)
    answer = car.verifier.receive(other.command("honk_horn"))
    assert isinstance(answer, Accepted)
    with pytest.raises(ResponseError, match="another session"):
        session.read(answer.respond(True))
    with pytest.raises(ResponseError, match="parse"):
        session.read(b"\xff\xff")


def test_the_counter_never_rolls_back_within_an_epoch(car: Car, app: Any) -> None:
    session = car.session(app, INFO)
    for _ in range(5):
        session.command("honk_horn")  # signed, never delivered: the vehicle still says 0
    session.read(car.verifier.receive(session.session_info_request()).response)
    assert session.state is not None and session.state.counter == 5
    assert isinstance(car.verifier.receive(session.command("honk_horn")), Accepted)


def test_expiry_is_set_on_the_vehicles_clock(car: Car, app: Any) -> None:
    car.clock.advance(1000)  # the vehicle's clock reads 1000 s into its epoch
    session = car.session(app, INFO)
    message = RoutableMessage.FromString(session.command("honk_horn", expires_in=7))
    assert message.signature_data.HMAC_Personalized_data.expires_at == 1007
    car.clock.advance(3)
    message = RoutableMessage.FromString(session.command("honk_horn", expires_in=7))
    assert message.signature_data.HMAC_Personalized_data.expires_at == 1010


def test_a_command_for_the_other_domain_is_refused(car: Car, app: Any) -> None:
    with pytest.raises(UnsupportedCommand, match="VEHICLE_SECURITY"):
        car.session(app, INFO).command("door_lock")


def test_a_cached_session_resumes_without_a_handshake(car: Car, app: Any) -> None:
    session = car.session(app, INFO)
    assert isinstance(car.verifier.receive(session.command("honk_horn")), Accepted)
    resumed = Session(app, car.vin, INFO, state=session.state, now=car.clock.now)
    assert isinstance(car.verifier.receive(resumed.command("honk_horn")), Accepted)


def test_a_signer_keeps_a_session_per_vehicle_and_domain(car: Car, app: Any) -> None:
    signer = Signer(app, now=car.clock.now)
    for domain in (INFO, Domain.VEHICLE_SECURITY):
        session = signer.session(car.vin, domain)
        session.read(car.verifier.receive(session.session_info_request()).response)
    session, message = signer.command(car.vin, "door_lock")
    assert session.domain == Domain.VEHICLE_SECURITY
    assert isinstance(car.verifier.receive(message), Accepted)
    restored = Signer(app, now=car.clock.now)
    restored.restore(signer.export())
    _, again = restored.command(car.vin, "charge_start")
    assert isinstance(car.verifier.receive(again), Accepted)
    signed = restored.sign(car.vin, INFO, bytes.fromhex("120452020801"), expires_in=10)
    accepted = car.verifier.receive(signed)
    assert isinstance(accepted, Accepted) and accepted.name == "auto_conditioning_start"
    with pytest.raises(NoSession):
        restored.command("5YJ3E1EA7KF000001", "charge_start")


def test_a_vcsec_reply_without_request_uuid_answers_the_latest_request(car: Car, app: Any) -> None:
    # protocol.md: VCSEC typically leaves request_uuid out; its tag then covers no challenge.
    session = Session(app, car.vin, Domain.VEHICLE_SECURITY, now=car.clock.now)
    answer = RoutableMessage.FromString(
        car.verifier.receive(session.session_info_request()).response
    )
    answer.ClearField("request_uuid")
    k = session_key(car.keys[Domain.VEHICLE_SECURITY], session.public_key)
    answer.signature_data.session_info_tag.tag = authentication.session_info_tag(
        k, metadata.session_info(car.vin, b""), answer.session_info
    )
    reply = session.read(answer.SerializeToString())
    assert reply.resynced and session.ready
    exchange = car.verifier.receive(session.command("door_lock"))
    assert isinstance(exchange, Accepted)
    done = RoutableMessage.FromString(exchange.respond(True))
    done.ClearField("request_uuid")
    assert session.read(done.SerializeToString()).result is True
    with pytest.raises(ResponseError, match="no request"):
        session.read(done.SerializeToString())
