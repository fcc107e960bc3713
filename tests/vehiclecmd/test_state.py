"""A vehicle's protocol state survives a restart of the process that simulates it: the snapshot
goes through JSON and the vehicle goes on with the same epoch and counters."""

from __future__ import annotations

import json

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
