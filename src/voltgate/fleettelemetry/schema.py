"""Facts of the published Fleet Telemetry vehicle_data.proto (teslamotors/fleet-telemetry), as
tables: the `Field` enum's names and numbers, and the members of `Value`'s oneof.

Every enum a Value member carries is numbered 0, 1, 2, … in the published file and its value
names share a prefix ("DetailedChargeState" + "Charging"), so each is listed as its prefix and
its names' endings in number order. protos.py builds the descriptors from these tables.
"""

from __future__ import annotations

FIELD_NUMBERS: tuple[tuple[str, int], ...] = (
    ("Unknown", 0), ("DriveRail", 1), ("ChargeState", 2), ("BmsFullchargecomplete", 3),
    ("VehicleSpeed", 4), ("Odometer", 5), ("PackVoltage", 6), ("PackCurrent", 7), ("Soc", 8),
    ("DCDCEnable", 9), ("Gear", 10), ("IsolationResistance", 11), ("PedalPosition", 12),
    ("BrakePedal", 13), ("DiStateR", 14), ("DiHeatsinkTR", 15), ("DiAxleSpeedR", 16),
    ("DiTorquemotor", 17), ("DiStatorTempR", 18), ("DiVBatR", 19), ("DiMotorCurrentR", 20),
    ("Location", 21), ("GpsState", 22), ("GpsHeading", 23), ("NumBrickVoltageMax", 24),
    ("BrickVoltageMax", 25), ("NumBrickVoltageMin", 26), ("BrickVoltageMin", 27),
    ("NumModuleTempMax", 28), ("ModuleTempMax", 29), ("NumModuleTempMin", 30),
    ("ModuleTempMin", 31), ("RatedRange", 32), ("Hvil", 33), ("DCChargingEnergyIn", 34),
    ("DCChargingPower", 35), ("ACChargingEnergyIn", 36), ("ACChargingPower", 37),
    ("ChargeLimitSoc", 38), ("FastChargerPresent", 39), ("EstBatteryRange", 40),
    ("IdealBatteryRange", 41), ("BatteryLevel", 42), ("TimeToFullCharge", 43),
    ("ScheduledChargingStartTime", 44), ("ScheduledChargingPending", 45),
    ("ScheduledDepartureTime", 46), ("PreconditioningEnabled", 47), ("ScheduledChargingMode", 48),
    ("ChargeAmps", 49), ("ChargeEnableRequest", 50), ("ChargerPhases", 51),
    ("ChargePortColdWeatherMode", 52), ("ChargeCurrentRequest", 53),
    ("ChargeCurrentRequestMax", 54), ("BatteryHeaterOn", 55), ("NotEnoughPowerToHeat", 56),
    ("SuperchargerSessionTripPlanner", 57), ("DoorState", 58), ("Locked", 59), ("FdWindow", 60),
    ("FpWindow", 61), ("RdWindow", 62), ("RpWindow", 63), ("VehicleName", 64), ("SentryMode", 65),
    ("SpeedLimitMode", 66), ("CurrentLimitMph", 67), ("Version", 68), ("TpmsPressureFl", 69),
    ("TpmsPressureFr", 70), ("TpmsPressureRl", 71), ("TpmsPressureRr", 72),
    ("SemitruckTpmsPressureRe1L0", 73), ("SemitruckTpmsPressureRe1L1", 74),
    ("SemitruckTpmsPressureRe1R0", 75), ("SemitruckTpmsPressureRe1R1", 76),
    ("SemitruckTpmsPressureRe2L0", 77), ("SemitruckTpmsPressureRe2L1", 78),
    ("SemitruckTpmsPressureRe2R0", 79), ("SemitruckTpmsPressureRe2R1", 80),
    ("TpmsLastSeenPressureTimeFl", 81), ("TpmsLastSeenPressureTimeFr", 82),
    ("TpmsLastSeenPressureTimeRl", 83), ("TpmsLastSeenPressureTimeRr", 84), ("InsideTemp", 85),
    ("OutsideTemp", 86), ("SeatHeaterLeft", 87), ("SeatHeaterRight", 88),
    ("SeatHeaterRearLeft", 89), ("SeatHeaterRearRight", 90), ("SeatHeaterRearCenter", 91),
    ("AutoSeatClimateLeft", 92), ("AutoSeatClimateRight", 93), ("DriverSeatBelt", 94),
    ("PassengerSeatBelt", 95), ("DriverSeatOccupied", 96),
    ("SemitruckPassengerSeatFoldPosition", 97), ("LateralAcceleration", 98),
    ("LongitudinalAcceleration", 99), ("Deprecated_2", 100), ("CruiseSetSpeed", 101),
    ("LifetimeEnergyUsed", 102), ("LifetimeEnergyUsedDrive", 103),
    ("SemitruckTractorParkBrakeStatus", 104), ("SemitruckTrailerParkBrakeStatus", 105),
    ("BrakePedalPos", 106), ("RouteLastUpdated", 107), ("RouteLine", 108), ("MilesToArrival", 109),
    ("MinutesToArrival", 110), ("OriginLocation", 111), ("DestinationLocation", 112),
    ("CarType", 113), ("Trim", 114), ("ExteriorColor", 115), ("RoofColor", 116),
    ("ChargePort", 117), ("ChargePortLatch", 118), ("Experimental_1", 119), ("Experimental_2", 120),
    ("Experimental_3", 121), ("Experimental_4", 122), ("GuestModeEnabled", 123),
    ("PinToDriveEnabled", 124), ("PairedPhoneKeyAndKeyFobQty", 125), ("CruiseFollowDistance", 126),
    ("AutomaticBlindSpotCamera", 127), ("BlindSpotCollisionWarningChime", 128),
    ("SpeedLimitWarning", 129), ("ForwardCollisionWarning", 130), ("LaneDepartureAvoidance", 131),
    ("EmergencyLaneDepartureAvoidance", 132), ("AutomaticEmergencyBrakingOff", 133),
    ("LifetimeEnergyGainedRegen", 134), ("DiStateF", 135), ("DiStateREL", 136), ("DiStateRER", 137),
    ("DiHeatsinkTF", 138), ("DiHeatsinkTREL", 139), ("DiHeatsinkTRER", 140), ("DiAxleSpeedF", 141),
    ("DiAxleSpeedREL", 142), ("DiAxleSpeedRER", 143), ("DiSlaveTorqueCmd", 144),
    ("DiTorqueActualR", 145), ("DiTorqueActualF", 146), ("DiTorqueActualREL", 147),
    ("DiTorqueActualRER", 148), ("DiStatorTempF", 149), ("DiStatorTempREL", 150),
    ("DiStatorTempRER", 151), ("DiVBatF", 152), ("DiVBatREL", 153), ("DiVBatRER", 154),
    ("DiMotorCurrentF", 155), ("DiMotorCurrentREL", 156), ("DiMotorCurrentRER", 157),
    ("EnergyRemaining", 158), ("ServiceMode", 159), ("BMSState", 160),
    ("GuestModeMobileAccessState", 161), ("Deprecated_1", 162), ("DestinationName", 163),
    ("DiInverterTR", 164), ("DiInverterTF", 165), ("DiInverterTREL", 166), ("DiInverterTRER", 167),
    ("Experimental_5", 168), ("Experimental_6", 169), ("Experimental_7", 170),
    ("Experimental_8", 171), ("Experimental_9", 172), ("Experimental_10", 173),
    ("Experimental_11", 174), ("Experimental_12", 175), ("Experimental_13", 176),
    ("Experimental_14", 177), ("Experimental_15", 178), ("DetailedChargeState", 179),
    ("CabinOverheatProtectionMode", 180), ("CabinOverheatProtectionTemperatureLimit", 181),
    ("CenterDisplay", 182), ("ChargePortDoorOpen", 183), ("ChargerVoltage", 184),
    ("ChargingCableType", 185), ("ClimateKeeperMode", 186), ("DefrostForPreconditioning", 187),
    ("DefrostMode", 188), ("EfficiencyPackage", 189), ("EstimatedHoursToChargeTermination", 190),
    ("EuropeVehicle", 191), ("ExpectedEnergyPercentAtTripArrival", 192), ("FastChargerType", 193),
    ("HomelinkDeviceCount", 194), ("HomelinkNearby", 195), ("HvacACEnabled", 196),
    ("HvacAutoMode", 197), ("HvacFanSpeed", 198), ("HvacFanStatus", 199),
    ("HvacLeftTemperatureRequest", 200), ("HvacPower", 201), ("HvacRightTemperatureRequest", 202),
    ("HvacSteeringWheelHeatAuto", 203), ("HvacSteeringWheelHeatLevel", 204),
    ("OffroadLightbarPresent", 205), ("PowershareHoursLeft", 206),
    ("PowershareInstantaneousPowerKW", 207), ("PowershareStatus", 208),
    ("PowershareStopReason", 209), ("PowershareType", 210), ("RearDisplayHvacEnabled", 211),
    ("RearSeatHeaters", 212), ("RemoteStartEnabled", 213), ("RightHandDrive", 214),
    ("RouteTrafficMinutesDelay", 215), ("SoftwareUpdateDownloadPercentComplete", 216),
    ("SoftwareUpdateExpectedDurationMinutes", 217),
    ("SoftwareUpdateInstallationPercentComplete", 218), ("SoftwareUpdateScheduledStartTime", 219),
    ("SoftwareUpdateVersion", 220), ("TonneauOpenPercent", 221), ("TonneauPosition", 222),
    ("TonneauTentMode", 223), ("TpmsHardWarnings", 224), ("TpmsSoftWarnings", 225),
    ("ValetModeEnabled", 226), ("WheelType", 227), ("WiperHeatEnabled", 228),
    ("LocatedAtHome", 229), ("LocatedAtWork", 230), ("LocatedAtFavorite", 231),
    ("SettingDistanceUnit", 232), ("SettingTemperatureUnit", 233), ("Setting24HourTime", 234),
    ("SettingTirePressureUnit", 235), ("SettingChargeUnit", 236),
    ("ClimateSeatCoolingFrontLeft", 237), ("ClimateSeatCoolingFrontRight", 238),
    ("LightsHazardsActive", 239), ("LightsTurnSignal", 240), ("LightsHighBeams", 241),
    ("MediaPlaybackStatus", 242), ("MediaPlaybackSource", 243), ("MediaAudioVolume", 244),
    ("MediaNowPlayingDuration", 245), ("MediaNowPlayingElapsed", 246),
    ("MediaNowPlayingArtist", 247), ("MediaNowPlayingTitle", 248), ("MediaNowPlayingAlbum", 249),
    ("MediaNowPlayingStation", 250), ("MediaAudioVolumeIncrement", 251),
    ("MediaAudioVolumeMax", 252), ("SunroofInstalled", 253), ("SeatVentEnabled", 254),
    ("RearDefrostEnabled", 255), ("ChargeRateMilePerHour", 256), ("Deprecated_3", 257),
    ("MilesSinceReset", 258), ("SelfDrivingMilesSinceReset", 259),
)

# Value's members of enum type: (member, number, enum, value-name prefix, value-name endings).
ENUM_MEMBERS: tuple[tuple[str, int, str, str, str], ...] = (
    ("charging_value", 8, "ChargingState", "ChargeState",
        "Unknown Disconnected NoPower Starting Charging Complete Stopped",
    ),
    ("shift_state_value", 9, "ShiftState", "ShiftState", "Unknown Invalid P R N D SNA"),
    ("lane_assist_level_value", 11, "LaneAssistLevel", "LaneAssistLevel",
        "Unknown None Warning Assist",
    ),
    ("scheduled_charging_mode_value", 12, "ScheduledChargingModeValue", "ScheduledChargingMode",
        "Unknown Off StartAt DepartBy",
    ),
    ("sentry_mode_state_value", 13, "SentryModeState", "SentryModeState",
        "Unknown Off Idle Armed Aware Panic Quiet",
    ),
    ("speed_assist_level_value", 14, "SpeedAssistLevel", "SpeedAssistLevel",
        "Unknown None Display Chime",
    ),
    ("bms_state_value", 15, "BMSStateValue", "BMSState",
        "Unknown Standby Drive Support Charge FEIM ClearFault Fault Weld Test SNA",
    ),
    ("buckle_status_value", 16, "BuckleStatus", "BuckleStatus",
        "Unknown Unlatched Latched Faulted",
    ),
    ("car_type_value", 17, "CarTypeValue", "CarType",
        "Unknown ModelS ModelX Model3 ModelY SemiTruck Cybertruck",
    ),
    ("charge_port_value", 18, "ChargePortValue", "ChargePort", "Unknown US EU GB CCS"),
    ("charge_port_latch_value", 19, "ChargePortLatchValue", "ChargePortLatch",
        "Unknown SNA Disengaged Engaged Blocking",
    ),
    ("drive_inverter_state_value", 22, "DriveInverterState", "DriveInverterState",
        "Unknown Unavailable Standby Fault Abort Enable",
    ),
    ("hvil_status_value", 23, "HvilStatus", "HvilStatus", "Unknown Fault OK"),
    ("window_state_value", 24, "WindowState", "WindowState", "Unknown Closed PartiallyOpen Opened"),
    ("seat_fold_position_value", 25, "SeatFoldPosition", "SeatFoldPosition",
        "Unknown SNA Faulted NotConfigured Folded Unfolded",
    ),
    ("tractor_air_status_value", 26, "TractorAirStatus", "TractorAirStatus",
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
    ("guest_mode_mobile_access_value", 29, "GuestModeMobileAccess", "GuestModeMobileAccess",
        "Unknown Init NotAuthenticated Authenticated AbortedDriving AbortedUsingRemoteStart "
        "AbortedUsingBLEKeys AbortedValetMode AbortedGuestModeOff AbortedDriveAuthTimeExceeded "
        "AbortedNoDataReceived RequestingFromMothership RequestingFromAuthD AbortedFetchFailed "
        "AbortedBadDataReceived ShowingQRCode SwipedAway DismissedQRCodeExpired "
        "SucceededPairedNewBLEKey",
    ),
    ("trailer_air_status_value", 30, "TrailerAirStatus", "TrailerAirStatus",
        "Unknown SNA Invalid BobtailMode Charged BuildingPressureIntermediate "
        "ExhaustingPressureIntermediate Exhausted",
    ),
    ("detailed_charge_state_value", 32, "DetailedChargeStateValue", "DetailedChargeState",
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
    ("defrost_mode_value", 36, "DefrostModeState", "DefrostModeState",
        "Unknown Off Normal Max AutoDefog",
    ),
    ("climate_keeper_mode_value", 37, "ClimateKeeperModeState", "ClimateKeeperModeState",
        "Unknown Off On Dog Party",
    ),
    ("hvac_power_value", 38, "HvacPowerState", "HvacPowerState",
        "Unknown Off On Precondition OverheatProtect",
    ),
    ("fast_charger_value", 40, "FastCharger", "FastCharger",
        "Unknown Supercharger CHAdeMO GB ACSingleWireCAN Combo MCSingleWireCAN Other SNA",
    ),
    ("cable_type_value", 41, "CableType", "CableType", "Unknown IEC SAE GB_AC GB_DC SNA"),
    ("tonneau_tent_mode_value", 42, "TonneauTentModeState", "TonneauTentModeState",
        "Unknown Inactive Moving Failed Active",
    ),
    ("tonneau_position_value", 43, "TonneauPositionState", "TonneauPositionState",
        "Unknown Invalid Closed PartiallyOpen FullyOpen",
    ),
    ("powershare_type_value", 44, "PowershareTypeStatus", "PowershareTypeStatus",
        "Unknown None Load Home",
    ),
    ("powershare_state_value", 45, "PowershareState", "PowershareState",
        "Unknown Inactive Handshaking Init Enabled EnabledReconnectingSoon Stopped",
    ),
    ("powershare_stop_reason_value", 46, "PowershareStopReasonStatus", "PowershareStopReasonStatus",
        "Unknown None SOCTooLow Retry Fault User Reconnecting Authentication",
    ),
    ("display_state_value", 47, "DisplayState", "DisplayState",
        "Unknown Off Dim Accessory On Driving Charging Lock Sentry Dog Entertainment",
    ),
    ("distance_unit_value", 48, "DistanceUnit", "DistanceUnit", "Unknown Miles Kilometers"),
    ("temperature_unit_value", 49, "TemperatureUnit", "TemperatureUnit",
        "Unknown Fahrenheit Celsius",
    ),
    ("pressure_unit_value", 50, "PressureUnit", "PressureUnit", "Unknown Psi Bar"),
    ("charge_unit_preference_value", 51, "ChargeUnitPreference", "ChargeUnit",
        "Unknown Distance Percent",
    ),
    ("turn_signal_state_value", 52, "TurnSignalState", "TurnSignalState",
        "Unknown Off Left Right Both",
    ),
    ("media_status_value", 53, "MediaStatus", "MediaStatus", "Unknown Stopped Playing Paused"),
    ("sunroof_installed_state_value", 54, "SunroofInstalledState", "SunroofInstalledState",
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
