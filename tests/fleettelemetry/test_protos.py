"""The protobuf messages put the published field numbers on the wire; signals() turns a payload
into (Field name, Python value) pairs and refuses garbage with MalformedPayload only; payload()
builds what a vehicle with `prefer_typed` sends."""

from __future__ import annotations

import contextlib
import random

import pytest

from voltgate.fleettelemetry import protos
from voltgate.fleettelemetry.protos import MalformedPayload, payload, signals

VIN = "5YJ3E1EA7KF000001"


def test_a_datum_keyed_soc_carries_8_on_the_wire() -> None:
    assert protos.Datum(key=protos.FIELD_NUMBER["Soc"]).SerializeToString() == b"\x08\x08"


def test_a_hand_assembled_payload() -> None:
    message = protos.Payload(vin="X", is_resend=True)
    datum = message.data.add(key=8)
    datum.value.double_value = 55.5
    message.created_at.seconds = 1_700_000_000
    assert message.SerializeToString().hex(" ") == (
        "0a 0d"  # data (1, length-delimited), 13 bytes
        " 08 08"  # key (1, varint) = Soc
        " 12 09 29 00 00 00 00 00 c0 4b 40"  # value (2): double_value (5, fixed64) 55.5
        " 12 06 08 80 e2 cf aa 06"  # created_at (2): seconds (1) 1,700,000,000
        " 1a 01 58"  # vin (3) "X"
        " 20 01"  # is_resend (4) true
    )


def test_the_field_table_is_complete_and_numbered_as_published() -> None:
    numbers = protos.FIELD_NUMBER
    assert len(numbers) == 260
    assert sorted(numbers.values()) == list(range(260))
    published = {
        "Unknown": 0,
        "ChargeState": 2,
        "VehicleSpeed": 4,
        "Odometer": 5,
        "Soc": 8,
        "Gear": 10,
        "Location": 21,
        "ACChargingPower": 37,
        "ChargeLimitSoc": 38,
        "EstBatteryRange": 40,
        "BatteryLevel": 42,
        "PreconditioningEnabled": 47,
        "ChargeAmps": 49,
        "InsideTemp": 85,
        "OutsideTemp": 86,
        "EnergyRemaining": 158,
        "DetailedChargeState": 179,
        "ChargerVoltage": 184,
        "SelfDrivingMilesSinceReset": 259,
    }
    assert {name: numbers[name] for name in published} == published
    assert protos.FIELD_NAME[49] == "ChargeAmps"


def test_value_members_have_the_published_numbers() -> None:
    fields = {f.name: f.number for f in protos.Value.DESCRIPTOR.oneofs_by_name["value"].fields}
    assert len(fields) == 53 and 20 not in fields.values()
    assert {
        k: fields[k]
        for k in (
            "string_value",
            "int_value",
            "long_value",
            "float_value",
            "double_value",
            "boolean_value",
            "location_value",
            "charging_value",
            "shift_state_value",
            "invalid",
            "door_value",
            "time_value",
            "detailed_charge_state_value",
            "sunroof_installed_state_value",
        )
    } == {
        "string_value": 1,
        "int_value": 2,
        "long_value": 3,
        "float_value": 4,
        "double_value": 5,
        "boolean_value": 6,
        "location_value": 7,
        "charging_value": 8,
        "shift_state_value": 9,
        "invalid": 10,
        "door_value": 21,
        "time_value": 31,
        "detailed_charge_state_value": 32,
        "sunroof_installed_state_value": 54,
    }


def test_enums_carry_the_published_numbers() -> None:
    value = protos.Value.DESCRIPTOR
    detailed = value.fields_by_name["detailed_charge_state_value"].enum_type
    assert detailed.values_by_name["DetailedChargeStateCharging"].number == 4
    shift = value.fields_by_name["shift_state_value"].enum_type
    assert [v.name for v in shift.values] == [
        "ShiftStateUnknown",
        "ShiftStateInvalid",
        "ShiftStateP",
        "ShiftStateR",
        "ShiftStateN",
        "ShiftStateD",
        "ShiftStateSNA",
    ]
    cable = value.fields_by_name["cable_type_value"].enum_type
    assert cable.values_by_name["CableTypeGB_DC"].number == 4


def test_signals_round_trip_through_payload() -> None:
    items: list[tuple[str, object]] = [
        ("Soc", 55.5),
        ("ChargeLimitSoc", 80),
        ("ChargeAmps", 16),
        ("ACChargingPower", 11.2),
        ("ChargeState", "Charging"),
        ("DetailedChargeState", "Charging"),
        ("Gear", "P"),
        ("Location", (52.37, 4.89)),
        ("PreconditioningEnabled", True),
        ("Odometer", 12_345.6),
        ("SentryMode", "SentryModeStateArmed"),
        ("VehicleName", "Sparky"),
        ("InsideTemp", None),
        ("TpmsHardWarnings", 3),
    ]
    vin, at, got = signals(payload(VIN, 1_700_000_000.25, items, is_resend=True))
    assert (vin, at) == (VIN, 1_700_000_000.25)
    assert got == [
        ("Soc", 55.5),
        ("ChargeLimitSoc", 80),
        ("ChargeAmps", 16.0),
        ("ACChargingPower", 11.2),
        ("ChargeState", "Charging"),
        ("DetailedChargeState", "DetailedChargeStateCharging"),
        ("Gear", "ShiftStateP"),
        ("Location", (52.37, 4.89)),
        ("PreconditioningEnabled", True),
        ("Odometer", 12_345.6),
        ("SentryMode", "SentryModeStateArmed"),
        ("VehicleName", "Sparky"),
        ("InsideTemp", None),
        ("TpmsHardWarnings", 3.0),
    ]
    message = protos.Payload.FromString(payload(VIN, 1.0, items))
    members = [d.value.WhichOneof("value") for d in message.data]
    assert members[:4] == ["double_value", "int_value", "double_value", "double_value"]
    assert members[4:8] == [
        "string_value",
        "detailed_charge_state_value",
        "shift_state_value",
        "location_value",
    ]


def test_signals_reads_the_other_value_kinds() -> None:
    message = protos.Payload(vin=VIN)
    kinds = [
        ("int_value", 7),
        ("long_value", 1 << 40),
        ("float_value", 0.5),
        ("boolean_value", False),
        ("string_value", "37.4 N"),
    ]
    for kind, raw in kinds:
        setattr(message.data.add(key=1).value, kind, raw)
    message.data.add(key=58).value.door_value.DriverFront = True
    message.data[-1].value.door_value.TrunkRear = True
    time_value = message.data.add(key=46).value.time_value
    time_value.hour, time_value.minute, time_value.second = 7, 5, 0
    message.data.add(key=300).value.invalid = True
    message.data.add(key=8)  # no member set at all
    message.data.add(key=179).value.detailed_charge_state_value = 42  # newer than the file
    _, at, got = signals(message.SerializeToString())
    assert at == 0.0
    assert [value for _, value in got] == [
        7,
        1 << 40,
        0.5,
        False,
        "37.4 N",
        "DriverFront,TrunkRear",
        "07:05:00",
        None,
        None,
        42,
    ]
    assert [name for name, _ in got][-4:] == [
        "ScheduledDepartureTime",
        "Field300",
        "Soc",
        "DetailedChargeState",
    ]


def test_a_location_sent_as_text_is_read_as_coordinates() -> None:
    text = payload(VIN, 0.0, [("Location", "(37.412374 N, 122.145867 W)")])
    assert signals(text)[2] == [("Location", (37.412374, -122.145867))]
    southern = payload(VIN, 0.0, [("VehicleName", "x"), ("Location", " (33.9 S,18.4 E) ")])
    assert signals(southern)[2][1] == ("Location", (-33.9, 18.4))
    odd = payload(VIN, 0.0, [("Location", "somewhere"), ("OriginLocation", "(1.0 N, 2.0 E)")])
    assert signals(odd)[2] == [("Location", "somewhere"), ("OriginLocation", "(1.0 N, 2.0 E)")]


def test_payload_refuses_what_it_cannot_encode() -> None:
    with pytest.raises(ValueError, match="not a Fleet Telemetry field"):
        payload(VIN, 0.0, [("StateOfCharge", 1.0)])
    with pytest.raises(ValueError, match="Gear: 'Q' is not one of"):
        payload(VIN, 0.0, [("Gear", "Q")])
    with pytest.raises(ValueError, match="Location"):
        payload(VIN, 0.0, [("Location", 5)])
    with pytest.raises(ValueError, match="Soc"):
        payload(VIN, 0.0, [("Soc", [55])])
    legacy = protos.Payload.FromString(payload(VIN, 0.0, [("Soc", "55.5")]))
    assert legacy.data[0].value.string_value == "55.5"


def test_signals_on_garbage_raises_malformed_payload() -> None:
    # a bad tag, a truncated datum, a vin that is not UTF-8, a length past the end
    for junk in (b"\xff\xff\xff", b"\x0a\x05\x08", b"\x1a\x02\xc3\x28", b"\x0a\xff\xff\x0f"):
        with pytest.raises(MalformedPayload):
            signals(junk)
    with pytest.raises(MalformedPayload):
        signals("not bytes")  # type: ignore[arg-type]


def test_truncations_and_random_bytes_raise_only_malformed_payload() -> None:
    good = payload(VIN, 1.5, [("Soc", 1.0), ("Location", (1.0, 2.0)), ("Gear", "D")])
    rng = random.Random(16)
    candidates = [good[:n] for n in range(len(good))]
    candidates += [rng.randbytes(rng.randrange(1, 80)) for _ in range(3000)]
    for _ in range(3000):
        mutated = bytearray(good)
        mutated[rng.randrange(len(mutated))] = rng.randrange(256)
        candidates.append(bytes(mutated))
    for data in candidates:
        with contextlib.suppress(MalformedPayload):
            signals(data)


def test_alerts_errors_and_connectivity_use_the_published_numbers() -> None:
    alert = protos.VehicleAlert(name="ChargePortFault", audiences=[1, 2])
    alert.started_at.seconds = 5
    alerts = protos.VehicleAlerts(alerts=[alert], vin="V")
    assert alerts.SerializeToString().hex(" ") == (
        "0a 19 0a 0f" + " " + b"ChargePortFault".hex(" ") + " 12 02 01 02 1a 02 08 05 1a 01 56"
    )
    error = protos.VehicleError(name="n", body="b")
    error.tags["k"] = "v"
    errors = protos.VehicleErrors(errors=[error])
    assert protos.VehicleErrors.FromString(errors.SerializeToString()).errors[0].tags == {"k": "v"}
    assert error.SerializeToString().hex(" ") == "12 01 6e 1a 06 0a 01 6b 12 01 76 22 01 62"
    event = protos.VehicleConnectivity(
        vin="V", connection_id="c", status=protos.DISCONNECTED, network_interface="wifi"
    )
    assert event.SerializeToString().hex(" ") == "0a 01 56 12 01 63 18 02 2a 04 77 69 66 69"
    assert (protos.CONNECTED, protos.DISCONNECTED) == (1, 2)
