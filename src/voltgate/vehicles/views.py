"""The shapes of the vehicles API's views (built by `schemas.py`), exact so that the OpenAPI
document describes what is sent: Tesla Fleet API field names, miles, kW, percent, and
millisecond `timestamp`s."""

from __future__ import annotations

from typing import Literal, NotRequired

from typing_extensions import TypedDict


class VehicleSummary(TypedDict):
    """A vehicle as `/api/1/vehicles` lists it, asleep or not."""

    id: int
    vehicle_id: int
    id_s: str
    vin: str
    display_name: str
    color: None
    access_type: Literal["OWNER"]
    tokens: None
    state: Literal["online", "asleep", "offline"]
    in_service: bool
    calendar_enabled: bool
    api_version: int
    backseat_token: None
    backseat_token_updated_at: None
    command_signing: Literal["off", "allowed", "required"]  # signed commands: see signed_command


class ChargeState(TypedDict):
    battery_level: int
    usable_battery_level: int
    battery_range: float
    est_battery_range: float
    ideal_battery_range: float
    charge_limit_soc: int
    charge_limit_soc_min: int
    charge_limit_soc_max: int
    charge_limit_soc_std: int
    charging_state: str  # Charging | Complete | Stopped | Disconnected
    charge_energy_added: float
    charge_miles_added_rated: float
    charge_rate: float
    charger_power: int
    charger_voltage: int
    charger_actual_current: int
    charger_phases: int | None
    charge_current_request: int
    charge_current_request_max: int
    charge_amps: int
    minutes_to_full_charge: int
    time_to_full_charge: float
    charge_port_door_open: bool
    charge_port_latch: Literal["Engaged", "Disengaged"]
    conn_charge_cable: str
    scheduled_charging_mode: Literal["StartAt", "Off"]
    scheduled_charging_pending: bool
    scheduled_charging_start_time_app: int | None
    timestamp: int


class ClimateState(TypedDict):
    inside_temp: float
    outside_temp: float
    driver_temp_setting: float
    passenger_temp_setting: float
    min_avail_temp: float
    max_avail_temp: float
    is_climate_on: bool
    is_auto_conditioning_on: bool
    is_preconditioning: bool
    defrost_mode: int  # 0 off, 2 max defrost
    is_front_defroster_on: bool
    is_rear_defroster_on: bool
    fan_status: int
    timestamp: int


class DriveState(TypedDict):
    """Where the vehicle is (latitude … gps_as_of) only with `vehicle_location`, and with
    `endpoints` only when it names `location_data`."""

    power: int
    shift_state: None
    speed: None
    timestamp: int
    latitude: NotRequired[float]
    longitude: NotRequired[float]
    heading: NotRequired[int]
    native_latitude: NotRequired[float]
    native_longitude: NotRequired[float]
    native_location_supported: NotRequired[int]
    native_type: NotRequired[str]
    gps_as_of: NotRequired[int]


class GuiSettings(TypedDict):
    gui_distance_units: str
    gui_temperature_units: str
    gui_charge_rate_units: str
    gui_range_display: str
    gui_24_hour_time: bool
    timestamp: int


class VehicleConfig(TypedDict):
    car_type: str
    exterior_color: str
    charge_port_type: str
    timestamp: int


class VehicleState(TypedDict):
    api_version: int
    car_version: str
    locked: bool
    odometer: float
    remote_start: bool  # driving allowed without a key for two minutes after remote_start_drive
    remote_start_enabled: bool
    remote_start_supported: bool
    sentry_mode: bool
    is_user_present: bool
    vehicle_name: str
    timestamp: int


class ChargeScheduleView(TypedDict):
    """One charge schedule: days as a bitmask (1 Sunday … 64 Saturday, 127 every day), times in
    minutes after midnight."""

    id: int
    name: str
    days_of_week: int
    start_enabled: bool
    start_time: int
    end_enabled: bool
    end_time: int
    one_time: bool
    enabled: bool
    latitude: NotRequired[float]  # where it applies: only with `vehicle_location`
    longitude: NotRequired[float]


class ChargeScheduleData(TypedDict):
    charge_schedules: list[ChargeScheduleView]
    max_num_charge_schedules: int
    next_schedule: bool
    timestamp: int


class Sections(TypedDict, total=False):
    """`vehicle_data`'s sections: all, or those `endpoints` asks for."""

    charge_state: ChargeState
    climate_state: ClimateState
    drive_state: DriveState
    gui_settings: GuiSettings
    vehicle_config: VehicleConfig
    vehicle_state: VehicleState
    charge_schedule_data: ChargeScheduleData  # only when `endpoints` names it


class VehicleData(VehicleSummary, Sections):
    """`vehicle_data`: the summary and the sections asked for."""


class SessionFee(TypedDict):
    sessionFeeId: int
    feeType: str
    pricingType: str
    currencyCode: str | None
    rateBase: float
    usageBase: float  # kWh for the CHARGING fee
    totalBase: float
    totalDue: float
    netDue: float
    uom: str
    isPaid: bool
    status: str


class Invoice(TypedDict):
    """Tesla lists a session's invoice files; home charging has none."""

    fileName: str
    contentId: str
    invoiceType: str


class ChargingHistoryEntry(TypedDict):
    """One `dx/charging/history` entry."""

    sessionId: int
    vin: str
    siteLocationName: str
    chargeStartDateTime: str
    chargeStopDateTime: str | None
    unlatchDateTime: str | None
    countryCode: str | None
    billingType: str
    fees: list[SessionFee]
    invoices: list[Invoice]
    energyAddedKwh: float
    startBatteryLevel: float
    endBatteryLevel: float | None
    stopReason: str | None
