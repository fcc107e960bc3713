"""What a telemetry config may name: the published Fleet Telemetry `Field` names (the enum of
`vehicle_data.proto` as teslamotors/fleet-telemetry publishes it, without `Unknown` and the
`Deprecated_*` placeholders) and the alert audiences (`vehicle_alert.proto`'s `Audience`).

The one place the config routes read them from: once `fleettelemetry.protos` holds the
`Field` enum, `FIELD_NAMES` can be derived from it instead of this list.
"""

from __future__ import annotations

FIELD_NAMES = frozenset(
    """
    DriveRail ChargeState BmsFullchargecomplete VehicleSpeed Odometer PackVoltage PackCurrent
    Soc DCDCEnable Gear IsolationResistance PedalPosition BrakePedal DiStateR DiHeatsinkTR
    DiAxleSpeedR DiTorquemotor DiStatorTempR DiVBatR DiMotorCurrentR Location GpsState
    GpsHeading NumBrickVoltageMax BrickVoltageMax NumBrickVoltageMin BrickVoltageMin
    NumModuleTempMax ModuleTempMax NumModuleTempMin ModuleTempMin RatedRange Hvil
    DCChargingEnergyIn DCChargingPower ACChargingEnergyIn ACChargingPower ChargeLimitSoc
    FastChargerPresent EstBatteryRange IdealBatteryRange BatteryLevel TimeToFullCharge
    ScheduledChargingStartTime ScheduledChargingPending ScheduledDepartureTime
    PreconditioningEnabled ScheduledChargingMode ChargeAmps ChargeEnableRequest ChargerPhases
    ChargePortColdWeatherMode ChargeCurrentRequest ChargeCurrentRequestMax BatteryHeaterOn
    NotEnoughPowerToHeat SuperchargerSessionTripPlanner DoorState Locked FdWindow FpWindow
    RdWindow RpWindow VehicleName SentryMode SpeedLimitMode CurrentLimitMph Version
    TpmsPressureFl TpmsPressureFr TpmsPressureRl TpmsPressureRr SemitruckTpmsPressureRe1L0
    SemitruckTpmsPressureRe1L1 SemitruckTpmsPressureRe1R0 SemitruckTpmsPressureRe1R1
    SemitruckTpmsPressureRe2L0 SemitruckTpmsPressureRe2L1 SemitruckTpmsPressureRe2R0
    SemitruckTpmsPressureRe2R1 TpmsLastSeenPressureTimeFl TpmsLastSeenPressureTimeFr
    TpmsLastSeenPressureTimeRl TpmsLastSeenPressureTimeRr InsideTemp OutsideTemp SeatHeaterLeft
    SeatHeaterRight SeatHeaterRearLeft SeatHeaterRearRight SeatHeaterRearCenter
    AutoSeatClimateLeft AutoSeatClimateRight DriverSeatBelt PassengerSeatBelt
    DriverSeatOccupied SemitruckPassengerSeatFoldPosition LateralAcceleration
    LongitudinalAcceleration CruiseSetSpeed LifetimeEnergyUsed LifetimeEnergyUsedDrive
    SemitruckTractorParkBrakeStatus SemitruckTrailerParkBrakeStatus BrakePedalPos
    RouteLastUpdated RouteLine MilesToArrival MinutesToArrival OriginLocation
    DestinationLocation CarType Trim ExteriorColor RoofColor ChargePort ChargePortLatch
    Experimental_1 Experimental_2 Experimental_3 Experimental_4 GuestModeEnabled
    PinToDriveEnabled PairedPhoneKeyAndKeyFobQty CruiseFollowDistance AutomaticBlindSpotCamera
    BlindSpotCollisionWarningChime SpeedLimitWarning ForwardCollisionWarning
    LaneDepartureAvoidance EmergencyLaneDepartureAvoidance AutomaticEmergencyBrakingOff
    LifetimeEnergyGainedRegen DiStateF DiStateREL DiStateRER DiHeatsinkTF DiHeatsinkTREL
    DiHeatsinkTRER DiAxleSpeedF DiAxleSpeedREL DiAxleSpeedRER DiSlaveTorqueCmd DiTorqueActualR
    DiTorqueActualF DiTorqueActualREL DiTorqueActualRER DiStatorTempF DiStatorTempREL
    DiStatorTempRER DiVBatF DiVBatREL DiVBatRER DiMotorCurrentF DiMotorCurrentREL
    DiMotorCurrentRER EnergyRemaining ServiceMode BMSState GuestModeMobileAccessState
    DestinationName DiInverterTR DiInverterTF DiInverterTREL DiInverterTRER Experimental_5
    Experimental_6 Experimental_7 Experimental_8 Experimental_9 Experimental_10 Experimental_11
    Experimental_12 Experimental_13 Experimental_14 Experimental_15 DetailedChargeState
    CabinOverheatProtectionMode CabinOverheatProtectionTemperatureLimit CenterDisplay
    ChargePortDoorOpen ChargerVoltage ChargingCableType ClimateKeeperMode
    DefrostForPreconditioning DefrostMode EfficiencyPackage EstimatedHoursToChargeTermination
    EuropeVehicle ExpectedEnergyPercentAtTripArrival FastChargerType HomelinkDeviceCount
    HomelinkNearby HvacACEnabled HvacAutoMode HvacFanSpeed HvacFanStatus
    HvacLeftTemperatureRequest HvacPower HvacRightTemperatureRequest HvacSteeringWheelHeatAuto
    HvacSteeringWheelHeatLevel OffroadLightbarPresent PowershareHoursLeft
    PowershareInstantaneousPowerKW PowershareStatus PowershareStopReason PowershareType
    RearDisplayHvacEnabled RearSeatHeaters RemoteStartEnabled RightHandDrive
    RouteTrafficMinutesDelay SoftwareUpdateDownloadPercentComplete
    SoftwareUpdateExpectedDurationMinutes SoftwareUpdateInstallationPercentComplete
    SoftwareUpdateScheduledStartTime SoftwareUpdateVersion TonneauOpenPercent TonneauPosition
    TonneauTentMode TpmsHardWarnings TpmsSoftWarnings ValetModeEnabled WheelType
    WiperHeatEnabled LocatedAtHome LocatedAtWork LocatedAtFavorite SettingDistanceUnit
    SettingTemperatureUnit Setting24HourTime SettingTirePressureUnit SettingChargeUnit
    ClimateSeatCoolingFrontLeft ClimateSeatCoolingFrontRight LightsHazardsActive
    LightsTurnSignal LightsHighBeams MediaPlaybackStatus MediaPlaybackSource MediaAudioVolume
    MediaNowPlayingDuration MediaNowPlayingElapsed MediaNowPlayingArtist MediaNowPlayingTitle
    MediaNowPlayingAlbum MediaNowPlayingStation MediaAudioVolumeIncrement MediaAudioVolumeMax
    SunroofInstalled SeatVentEnabled RearDefrostEnabled ChargeRateMilePerHour MilesSinceReset
    SelfDrivingMilesSinceReset
    """.split()  # noqa: SIM905 - a word list reads better than 260 quoted names
)
# Alert audiences a config may ask for; Tesla recommends "service" alone.
ALERT_TYPES = frozenset({"customer", "service", "service_fix"})
