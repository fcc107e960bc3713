"""Facts of the published Fleet Telemetry vehicle_data.proto (teslamotors/fleet-telemetry), as
tables: the members of `Value`'s oneof (the `Field` enum's names and numbers are in
`field_numbers.py`).

Every enum a Value member carries is numbered 0, 1, 2, … in the published file and its value
names share a prefix ("DetailedChargeState" + "Charging"), so each is listed as its prefix and
its names' endings in number order. protos.py builds the descriptors from these tables.
"""

from __future__ import annotations

# Value's members of enum type: (member, number, enum, value-name prefix, value-name endings).
ENUM_MEMBERS: tuple[tuple[str, int, str, str, str], ...] = (
    (
        "charging_value",
        8,
        "ChargingState",
        "ChargeState",
        "Unknown Disconnected NoPower Starting Charging Complete Stopped",
    ),
    ("shift_state_value", 9, "ShiftState", "ShiftState", "Unknown Invalid P R N D SNA"),
    (
        "lane_assist_level_value",
        11,
        "LaneAssistLevel",
        "LaneAssistLevel",
        "Unknown None Warning Assist",
    ),
    (
        "scheduled_charging_mode_value",
        12,
        "ScheduledChargingModeValue",
        "ScheduledChargingMode",
        "Unknown Off StartAt DepartBy",
    ),
    (
        "sentry_mode_state_value",
        13,
        "SentryModeState",
        "SentryModeState",
        "Unknown Off Idle Armed Aware Panic Quiet",
    ),
    (
        "speed_assist_level_value",
        14,
        "SpeedAssistLevel",
        "SpeedAssistLevel",
        "Unknown None Display Chime",
    ),
    (
        "bms_state_value",
        15,
        "BMSStateValue",
        "BMSState",
        "Unknown Standby Drive Support Charge FEIM ClearFault Fault Weld Test SNA",
    ),
    (
        "buckle_status_value",
        16,
        "BuckleStatus",
        "BuckleStatus",
        "Unknown Unlatched Latched Faulted",
    ),
    (
        "car_type_value",
        17,
        "CarTypeValue",
        "CarType",
        "Unknown ModelS ModelX Model3 ModelY SemiTruck Cybertruck",
    ),
    ("charge_port_value", 18, "ChargePortValue", "ChargePort", "Unknown US EU GB CCS"),
    (
        "charge_port_latch_value",
        19,
        "ChargePortLatchValue",
        "ChargePortLatch",
        "Unknown SNA Disengaged Engaged Blocking",
    ),
    (
        "drive_inverter_state_value",
        22,
        "DriveInverterState",
        "DriveInverterState",
        "Unknown Unavailable Standby Fault Abort Enable",
    ),
    ("hvil_status_value", 23, "HvilStatus", "HvilStatus", "Unknown Fault OK"),
    ("window_state_value", 24, "WindowState", "WindowState", "Unknown Closed PartiallyOpen Opened"),
    (
        "seat_fold_position_value",
        25,
        "SeatFoldPosition",
        "SeatFoldPosition",
        "Unknown SNA Faulted NotConfigured Folded Unfolded",
    ),
    (
        "tractor_air_status_value",
        26,
        "TractorAirStatus",
        "TractorAirStatus",
        "Unknown NotAvailable Error Charged BuildingPressureIntermediate "
        "ExhaustingPressureIntermediate Exhausted",
    ),
    ("follow_distance_value", 27, "FollowDistance", "FollowDistance", "Unknown 1 2 3 4 5 6 7"),
    (
        "forward_collision_sensitivity_value",
        28,
        "ForwardCollisionSensitivity",
        "ForwardCollisionSensitivity",
        "Unknown Off Late Average Early",
    ),
    (
        "guest_mode_mobile_access_value",
        29,
        "GuestModeMobileAccess",
        "GuestModeMobileAccess",
        "Unknown Init NotAuthenticated Authenticated AbortedDriving AbortedUsingRemoteStart "
        "AbortedUsingBLEKeys AbortedValetMode AbortedGuestModeOff AbortedDriveAuthTimeExceeded "
        "AbortedNoDataReceived RequestingFromMothership RequestingFromAuthD AbortedFetchFailed "
        "AbortedBadDataReceived ShowingQRCode SwipedAway DismissedQRCodeExpired "
        "SucceededPairedNewBLEKey",
    ),
    (
        "trailer_air_status_value",
        30,
        "TrailerAirStatus",
        "TrailerAirStatus",
        "Unknown SNA Invalid BobtailMode Charged BuildingPressureIntermediate "
        "ExhaustingPressureIntermediate Exhausted",
    ),
    (
        "detailed_charge_state_value",
        32,
        "DetailedChargeStateValue",
        "DetailedChargeState",
        "Unknown Disconnected NoPower Starting Charging Complete Stopped",
    ),
    ("hvac_auto_mode_value", 33, "HvacAutoModeState", "HvacAutoModeState", "Unknown On Override"),
    (
        "cabin_overheat_protection_mode_value",
        34,
        "CabinOverheatProtectionModeState",
        "CabinOverheatProtectionModeState",
        "Unknown Off On FanOnly",
    ),
    (
        "cabin_overheat_protection_temperature_limit_value",
        35,
        "ClimateOverheatProtectionTempLimit",
        "ClimateOverheatProtectionTempLimit",
        "Unknown High Medium Low",
    ),
    (
        "defrost_mode_value",
        36,
        "DefrostModeState",
        "DefrostModeState",
        "Unknown Off Normal Max AutoDefog",
    ),
    (
        "climate_keeper_mode_value",
        37,
        "ClimateKeeperModeState",
        "ClimateKeeperModeState",
        "Unknown Off On Dog Party",
    ),
    (
        "hvac_power_value",
        38,
        "HvacPowerState",
        "HvacPowerState",
        "Unknown Off On Precondition OverheatProtect",
    ),
    (
        "fast_charger_value",
        40,
        "FastCharger",
        "FastCharger",
        "Unknown Supercharger CHAdeMO GB ACSingleWireCAN Combo MCSingleWireCAN Other SNA",
    ),
    ("cable_type_value", 41, "CableType", "CableType", "Unknown IEC SAE GB_AC GB_DC SNA"),
    (
        "tonneau_tent_mode_value",
        42,
        "TonneauTentModeState",
        "TonneauTentModeState",
        "Unknown Inactive Moving Failed Active",
    ),
    (
        "tonneau_position_value",
        43,
        "TonneauPositionState",
        "TonneauPositionState",
        "Unknown Invalid Closed PartiallyOpen FullyOpen",
    ),
    (
        "powershare_type_value",
        44,
        "PowershareTypeStatus",
        "PowershareTypeStatus",
        "Unknown None Load Home",
    ),
    (
        "powershare_state_value",
        45,
        "PowershareState",
        "PowershareState",
        "Unknown Inactive Handshaking Init Enabled EnabledReconnectingSoon Stopped",
    ),
    (
        "powershare_stop_reason_value",
        46,
        "PowershareStopReasonStatus",
        "PowershareStopReasonStatus",
        "Unknown None SOCTooLow Retry Fault User Reconnecting Authentication",
    ),
    (
        "display_state_value",
        47,
        "DisplayState",
        "DisplayState",
        "Unknown Off Dim Accessory On Driving Charging Lock Sentry Dog Entertainment",
    ),
    ("distance_unit_value", 48, "DistanceUnit", "DistanceUnit", "Unknown Miles Kilometers"),
    (
        "temperature_unit_value",
        49,
        "TemperatureUnit",
        "TemperatureUnit",
        "Unknown Fahrenheit Celsius",
    ),
    ("pressure_unit_value", 50, "PressureUnit", "PressureUnit", "Unknown Psi Bar"),
    (
        "charge_unit_preference_value",
        51,
        "ChargeUnitPreference",
        "ChargeUnit",
        "Unknown Distance Percent",
    ),
    (
        "turn_signal_state_value",
        52,
        "TurnSignalState",
        "TurnSignalState",
        "Unknown Off Left Right Both",
    ),
    ("media_status_value", 53, "MediaStatus", "MediaStatus", "Unknown Stopped Playing Paused"),
    (
        "sunroof_installed_state_value",
        54,
        "SunroofInstalledState",
        "SunroofInstalledState",
        "Unknown NotInstalled Gen1Installed Gen2Installed",
    ),
)

# Value's members of scalar type: (member, number, protobuf scalar type).
SCALAR_MEMBERS: tuple[tuple[str, int, str], ...] = (
    ("string_value", 1, "string"),
    ("int_value", 2, "int32"),
    ("long_value", 3, "int64"),
    ("float_value", 4, "float"),
    ("double_value", 5, "double"),
    ("boolean_value", 6, "bool"),
    ("invalid", 10, "bool"),
)

# Value's members of message type: (member, number, message).
MESSAGE_MEMBERS: tuple[tuple[str, int, str], ...] = (
    ("location_value", 7, "LocationValue"),
    ("door_value", 21, "Doors"),
    ("time_value", 31, "Time"),
    ("tire_location_value", 39, "TireLocation"),
)


def _flags(names: str) -> tuple[tuple[str, int, str], ...]:
    """Bool fields numbered 1, 2, … in the order named."""
    return tuple((name, number, "bool") for number, name in enumerate(names.split(), start=1))


# The messages those members carry: (message, ((field, number, scalar type), …)).
VALUE_MESSAGES: tuple[tuple[str, tuple[tuple[str, int, str], ...]], ...] = (
    ("LocationValue", (("latitude", 1, "double"), ("longitude", 2, "double"))),
    ("Doors", _flags("DriverFront DriverRear PassengerFront PassengerRear TrunkFront TrunkRear")),
    ("Time", (("hour", 1, "int32"), ("minute", 2, "int32"), ("second", 3, "int32"))),
    (
        "TireLocation",
        _flags(
            "front_left front_right rear_left rear_right semi_middle_axle_left_2 "
            "semi_middle_axle_right_2 semi_rear_axle_left semi_rear_axle_right "
            "semi_rear_axle_left_2 semi_rear_axle_right_2"
        ),
    ),
)

# The Value member a vehicle with `prefer_typed` uses for the fields voltgate's simulated vehicles
# send, after the type column of Tesla's "Available Data" page (real → double, integer → int,
# the enum it names, ChargeState as a string: the ChargingState enum is "deprecated and not
# used" in the published file). payload() falls back on the Python type for other fields.
TYPED_FIELDS: dict[str, str] = {
    field: member
    for member, fields in (
        (
            "double_value",
            "Soc BatteryLevel ACChargingPower ACChargingEnergyIn DCChargingPower "
            "DCChargingEnergyIn ChargeAmps ChargerVoltage VehicleSpeed Odometer InsideTemp "
            "OutsideTemp EnergyRemaining EstBatteryRange IdealBatteryRange RatedRange PackVoltage "
            "PackCurrent TimeToFullCharge LifetimeEnergyUsed",
        ),
        ("int_value", "ChargeLimitSoc ChargeCurrentRequest ChargeCurrentRequestMax ChargerPhases"),
        (
            "boolean_value",
            "PreconditioningEnabled FastChargerPresent ChargePortDoorOpen Locked "
            "ScheduledChargingPending ChargeEnableRequest BatteryHeaterOn",
        ),
        ("string_value", "ChargeState VehicleName Version"),
        ("location_value", "Location OriginLocation DestinationLocation"),
        ("detailed_charge_state_value", "DetailedChargeState"),
        ("shift_state_value", "Gear"),
        ("sentry_mode_state_value", "SentryMode"),
        ("scheduled_charging_mode_value", "ScheduledChargingMode"),
        ("bms_state_value", "BMSState"),
        ("car_type_value", "CarType"),
        ("fast_charger_value", "FastChargerType"),
        ("cable_type_value", "ChargingCableType"),
        ("charge_port_latch_value", "ChargePortLatch"),
        ("hvac_power_value", "HvacPower"),
    )
    for field in fields.split()
}
