"""REST vehicle commands as protocol payloads and back: every command voltgate runs has its
published protobuf action, decodes to the name and body voltgate's command layer takes, and
anything else is refused with a clear error."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.vehicle_command import BODIES, SCHEDULE, VCSEC
from voltgate.sdk.vehicle_command import (
    COMMANDS,
    CommandBodyError,
    Domain,
    PayloadError,
    UnsupportedCommand,
    decode,
    encode,
)
from voltgate.sdk.vehicle_command.schema import Action, UnsignedMessage
from voltgate.vehicles import catalog
from voltgate.vehicles.schedules import days_mask

# The published numbers: (oneof member, field number) of each command's message.
PUBLISHED = {
    "door_lock": ("RKEAction", 2, 1),
    "door_unlock": ("RKEAction", 2, 0),
    "remote_start_drive": ("RKEAction", 2, 20),
    "wake_up": ("RKEAction", 2, 30),
    "honk_horn": ("vehicleControlHonkHornAction", 27, None),
    "flash_lights": ("vehicleControlFlashLightsAction", 26, None),
    "auto_conditioning_start": ("hvacAutoAction", 10, None),
    "auto_conditioning_stop": ("hvacAutoAction", 10, None),
    "set_temps": ("hvacTemperatureAdjustmentAction", 14, None),
    "set_preconditioning_max": ("hvacSetPreconditioningMaxAction", 12, None),
    "charge_start": ("chargingStartStopAction", 6, None),
    "charge_stop": ("chargingStartStopAction", 6, None),
    "set_charge_limit": ("chargingSetLimitAction", 5, None),
    "set_charging_amps": ("setChargingAmpsAction", 43, None),
    "set_scheduled_charging": ("scheduledChargingAction", 41, None),
    "charge_port_door_open": ("chargePortDoorOpen", 62, None),
    "charge_port_door_close": ("chargePortDoorClose", 61, None),
    "add_charge_schedule": ("addChargeScheduleAction", 97, None),
    "remove_charge_schedule": ("removeChargeScheduleAction", 98, None),
}


def test_every_command_voltgate_runs_is_mapped() -> None:
    assert set(catalog.COMMANDS) | {"wake_up"} == set(COMMANDS) == set(BODIES)


@pytest.mark.parametrize("name", sorted(BODIES))
def test_each_command_round_trips_to_the_same_name_and_body(name: str) -> None:
    domain, payload = encode(name, BODIES[name])
    assert domain == (Domain.VEHICLE_SECURITY if name in VCSEC else Domain.INFOTAINMENT)
    assert decode(domain, payload) == (name, BODIES[name])


@pytest.mark.parametrize("name", sorted(BODIES))
def test_each_command_uses_the_published_field(name: str) -> None:
    member, number, value = PUBLISHED[name]
    domain, payload = encode(name, BODIES[name])
    if domain == Domain.VEHICLE_SECURITY:
        message = UnsignedMessage.FromString(payload)
        field = message.DESCRIPTOR.fields_by_name[member]
        assert (field.number, message.RKEAction) == (number, value)
        return
    vehicle_action = Action.FromString(payload).vehicleAction
    assert vehicle_action.WhichOneof("vehicle_action_msg") == member
    assert vehicle_action.DESCRIPTOR.fields_by_name[member].number == number
    assert payload[:1] == b"\x12"  # Action.vehicleAction is field 2


@pytest.mark.parametrize("name", sorted(catalog.COMMANDS))
def test_decoded_bodies_are_accepted_by_the_command_layer(name: str) -> None:
    decoded_name, body = decode(*encode(name, BODIES[name]))
    command = catalog.find(decoded_name)
    assert command.parse(body) == command.parse(BODIES[name])


def test_the_exact_bytes_of_simple_actions() -> None:
    assert encode("door_lock")[1] == bytes.fromhex("1001")
    assert encode("door_unlock")[1] == bytes.fromhex("1000")  # the unlock value 0 is sent
    assert encode("charge_start")[1] == bytes.fromhex("120432021200")
    assert encode("set_charge_limit", {"percent": 80})[1] == bytes.fromhex("12042a020850")


def test_bodies_in_other_forms_decode_to_their_canonical_form() -> None:
    schedule = {**SCHEDULE, "days_of_week": "sun, THURS,sat", "start_time": 1380}
    schedule.pop("id")
    schedule.pop("one_time")
    name, body = decode(*encode("add_charge_schedule", schedule))
    assert name == "add_charge_schedule"
    assert body["days_of_week"] == "Sunday,Thursday,Saturday"
    assert "id" not in body  # no id: the vehicle numbers it, as REST without an id does
    assert body["one_time"] is False
    assert days_mask(body["days_of_week"]) == days_mask("sun,thurs,sat")
    off = {"enable": False}
    assert decode(*encode("set_scheduled_charging", off)) == ("set_scheduled_charging", off)
    assert decode(*encode("set_preconditioning_max", {"on": False}))[1] == {
        "on": False,
        "manual_override": False,
    }
    everyday = {**SCHEDULE, "days_of_week": "All", "start_enabled": False, "start_time": None}
    body = decode(*encode("add_charge_schedule", everyday))[1]
    assert body["days_of_week"].count(",") == 6 and "start_time" not in body


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("set_charge_limit", {}, "percent is required"),
        ("set_charge_limit", {"percent": "80"}, "must be a number"),
        ("set_charge_limit", {"percent": True}, "must be a number"),
        ("set_charge_limit", {"percent": 2**31}, "int32 range"),
        ("set_charge_limit", {"percent": 80.5}, "whole number"),
        ("set_charge_limit", {"percent": 80, "extra": 1}, "unknown field 'extra'"),
        ("set_temps", {"driver_temp": float("nan"), "passenger_temp": 20}, "finite"),
        ("set_preconditioning_max", {"on": 1}, "true or false"),
        ("remove_charge_schedule", {"id": -1}, "uint64 range"),
        ("add_charge_schedule", {**SCHEDULE, "days_of_week": "Funday"}, "unknown day"),
        ("door_lock", {"now": True}, "unknown field"),
    ],
)
def test_bodies_that_cannot_be_encoded_are_refused(
    name: str, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(CommandBodyError, match=message):
        encode(name, body)


def test_unknown_command_names_are_refused() -> None:
    with pytest.raises(UnsupportedCommand, match="'open_trunk'"):
        encode("open_trunk", {})


def test_actions_voltgate_does_not_map_decode_to_a_clear_error() -> None:
    get_vehicle_data = bytes.fromhex("12020a00")  # VehicleAction.getVehicleData (field 1)
    with pytest.raises(UnsupportedCommand, match=r"field 1\)"):
        decode(Domain.INFOTAINMENT, get_vehicle_data)
    max_range = Action()
    max_range.vehicleAction.chargingStartStopAction.start_max_range.SetInParent()
    with pytest.raises(UnsupportedCommand, match="start_max_range"):
        decode(Domain.INFOTAINMENT, max_range.SerializeToString())
    whitelist_info = bytes.fromhex("0a020805")  # VCSEC InformationRequest (field 1)
    with pytest.raises(UnsupportedCommand, match=r"field 1\)"):
        decode(Domain.VEHICLE_SECURITY, whitelist_info)
    with pytest.raises(UnsupportedCommand, match="RKE action 29"):
        decode(Domain.VEHICLE_SECURITY, UnsignedMessage(RKEAction=29).SerializeToString())
    with pytest.raises(UnsupportedCommand, match="domain 0"):
        decode(Domain.BROADCAST, b"")
    with pytest.raises(UnsupportedCommand):
        decode(Domain.INFOTAINMENT, b"")  # an empty Action


def test_payloads_that_do_not_parse_are_decoding_errors() -> None:
    with pytest.raises(PayloadError, match=r"CarServer\.Action"):
        decode(Domain.INFOTAINMENT, b"\x12\xff\x01")
    schedule = Action()
    schedule.vehicleAction.addChargeScheduleAction.days_of_week = 0
    schedule.vehicleAction.addChargeScheduleAction.enabled = True
    with pytest.raises(PayloadError, match="mask 0"):
        decode(Domain.INFOTAINMENT, schedule.SerializeToString())
