"""A vehicle's protocol state survives a restart of the process that simulates it: the snapshot
goes through JSON and the vehicle goes on with the same epoch and counters."""

from __future__ import annotations

import json
from typing import Any

from tests.fixtures.vehicle_command import Car
from voltgate.sdk.vehicle_command import Domain, MessageFault, generate_private_key
from voltgate.vehiclecmd import (
    Accepted,
    Refused,
    VehicleVerifier,
    VerifierState,
    derive_vehicle_key,
)


def test_a_restored_vehicle_keeps_its_epoch_and_counters() -> None:
    car = Car()
    app = car.pair(generate_private_key())
    session = car.session(app, Domain.INFOTAINMENT)
    sent = session.command("charge_start")
    assert isinstance(car.verifier.receive(sent), Accepted)
    stored = json.dumps(car.verifier.snapshot().as_dict())
    car.clock.advance(1)
    restarted = VehicleVerifier(
        car.vin,
        car.keys,
        car.paired,
        clock=car.clock,
        state=VerifierState.from_dict(json.loads(stored)),
    )
    assert restarted.snapshot() == car.verifier.snapshot()
    replay = restarted.receive(sent)
    assert isinstance(replay, Refused) and replay.fault == MessageFault.INVALID_TOKEN_OR_COUNTER
    assert isinstance(restarted.receive(session.command("charge_stop")), Accepted)


def test_a_new_vehicle_starts_a_random_epoch_per_domain() -> None:
    state = Car().verifier.snapshot()
    epochs = {d.epoch for d in state.domains.values()}
    assert len(epochs) == 2 and all(len(e) == 16 for e in epochs)
    assert state.domains.keys() == {Domain.VEHICLE_SECURITY, Domain.INFOTAINMENT}


def test_vehicle_keys_derived_from_a_seed_are_stable_and_distinct() -> None:
    seed = b"s" * 32
    first = derive_vehicle_key(seed, "5YJ30123456789ABC", Domain.INFOTAINMENT)
    again = derive_vehicle_key(seed, "5YJ30123456789ABC", Domain.INFOTAINMENT)
    assert first.private_numbers() == again.private_numbers()
    others = {
        derive_vehicle_key(seed, "5YJ30123456789ABC", Domain.VEHICLE_SECURITY).private_numbers(),
        derive_vehicle_key(seed, "5YJ3E1EA7KF000001", Domain.INFOTAINMENT).private_numbers(),
        derive_vehicle_key(b"t" * 32, "5YJ30123456789ABC", Domain.INFOTAINMENT).private_numbers(),
    }
    assert first.private_numbers() not in others and len(others) == 3


def _rebuilt(car: Car, state: VerifierState, shared: dict[Any, Any]) -> VehicleVerifier:
    """The vehicle as a server restores it for each message: from the stored state, with the
    session keys kept across messages."""
    return VehicleVerifier(
        car.vin, car.keys, car.paired, clock=car.clock, state=state, shared=shared
    )


def test_kept_session_keys_do_not_let_a_removed_key_through() -> None:
    car, shared = Car(), {}
    app = car.pair(generate_private_key())
    session = car.session(app, Domain.INFOTAINMENT)
    first = _rebuilt(car, car.verifier.snapshot(), shared)
    assert isinstance(first.receive(session.command("charge_start")), Accepted)
    assert shared  # K is kept for the next message
    car.paired.clear()  # the owner removes the key
    refusal = _rebuilt(car, first.snapshot(), shared).receive(session.command("charge_stop"))
    assert isinstance(refusal, Refused) and refusal.fault == MessageFault.UNKNOWN_KEY_ID


def test_a_state_written_by_another_instance_is_the_one_that_counts() -> None:
    car, shared = Car(), {}
    app = car.pair(generate_private_key())
    session = car.session(app, Domain.INFOTAINMENT)
    stored = car.verifier.snapshot()
    sent = session.command("charge_start")
    elsewhere = _rebuilt(car, stored, {})  # another process, its own keys kept
    assert isinstance(elsewhere.receive(sent), Accepted)
    written = VerifierState.from_dict(json.loads(json.dumps(elsewhere.snapshot().as_dict())))
    here = _rebuilt(car, written, shared)
    replay = here.receive(sent)
    assert isinstance(replay, Refused) and replay.fault == MessageFault.INVALID_TOKEN_OR_COUNTER
    # A domain no message reached is written back as it was restored.
    assert (
        here.snapshot().domains[Domain.VEHICLE_SECURITY] == stored.domains[Domain.VEHICLE_SECURITY]
    )


def test_a_reboot_changes_the_epoch_of_domains_no_message_reached() -> None:
    car, shared = Car(), {}
    app = car.pair(generate_private_key())
    session = car.session(app, Domain.INFOTAINMENT)
    before = car.verifier.snapshot()
    rebooted = _rebuilt(car, before, shared)
    rebooted.reboot()
    after = rebooted.snapshot()
    for domain in (Domain.VEHICLE_SECURITY, Domain.INFOTAINMENT):
        assert after.domains[domain].epoch != before.domains[domain].epoch
        assert not after.domains[domain].counters
    refusal = _rebuilt(car, after, shared).receive(session.command("charge_start"))
    assert isinstance(refusal, Refused) and refusal.fault == MessageFault.INCORRECT_EPOCH
    assert session.read(refusal.response).resync
    accepted = _rebuilt(car, after, shared).receive(session.command("charge_start"))
    assert isinstance(accepted, Accepted)
