"""The telemetry config body, Tesla's shape, validated strictly: JSON integers where Tesla has
integers, unknown members refused, every name and number checked before anything is stored.

`exp` must also lie in the future when the config is stored; that needs the clock, so the
service checks it (`service.TelemetryConfigs.configure`).
"""

from __future__ import annotations

import re

from cryptography import x509
from pydantic import BaseModel, ConfigDict, Field, field_validator

from voltgate.fleettelemetry.configs.fields import ALERT_TYPES, FIELD_NAMES
from voltgate.fleettelemetry.configs.store import FieldConfig, TelemetryConfig
from voltgate.sdk.vehicle_command.jws import MAX_TOKEN_LENGTH

MAX_VINS = 100  # vehicles one request may configure
MAX_INTERVAL = 86_400  # a day: the longest interval_seconds / resend_interval_seconds
MAX_DELTA = 1e9
MAX_CA_BYTES = 32_768  # a CA chain of a few certificates; bodies stop at 64 KiB
LATEST_EXP = 4_102_444_800  # 2100-01-01: a config may not outlive the century
VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_STRICT = ConfigDict(extra="forbid", strict=True)


def host_name(value: str) -> str:
    """A DNS host name (RFC 1123 labels; an IPv4 address is one too), without a final dot."""
    if len(value) > 253 or not all(_LABEL.match(label) for label in value.split(".")):
        raise ValueError("must be a host name: letters, digits and '-' in labels split by '.'")
    return value


def pem_certificates(value: str) -> str:
    """One or more PEM certificates (the CA chain the vehicle verifies the server with)."""
    try:
        x509.load_pem_x509_certificates(value.encode())
    except ValueError:
        raise ValueError("must be one or more PEM certificates") from None
    return value


class FieldSpec(BaseModel):
    model_config = _STRICT

    interval_seconds: int = Field(ge=1, le=MAX_INTERVAL)
    minimum_delta: float | None = Field(default=None, ge=0, le=MAX_DELTA, allow_inf_nan=False)
    resend_interval_seconds: int | None = Field(default=None, ge=1, le=MAX_INTERVAL)


class ConfigBody(BaseModel):
    model_config = _STRICT

    hostname: str = Field(min_length=1, max_length=253)
    port: int = Field(default=443, ge=1, le=65_535)
    ca: str | None = Field(default=None, min_length=1, max_length=MAX_CA_BYTES)
    fields: dict[str, FieldSpec] = Field(min_length=1, max_length=len(FIELD_NAMES))
    alert_types: list[str] | None = Field(default=None, max_length=len(ALERT_TYPES))
    exp: int | None = Field(default=None, ge=1, le=LATEST_EXP, description="Unix seconds")
    prefer_typed: bool | None = None

    @field_validator("hostname")
    @classmethod
    def _hostname(cls, value: str) -> str:
        return host_name(value)

    @field_validator("ca")
    @classmethod
    def _ca(cls, value: str | None) -> str | None:
        return None if value is None else pem_certificates(value)

    @field_validator("fields")
    @classmethod
    def _fields(cls, value: dict[str, FieldSpec]) -> dict[str, FieldSpec]:
        unknown = sorted(name for name in value if name not in FIELD_NAMES)
        if unknown:
            raise ValueError(
                f"{unknown[0][:64]!r} is not a Fleet Telemetry field (names as in "
                "vehicle_data.proto's Field, e.g. Soc, BatteryLevel, Location)"
            )
        return value

    @field_validator("alert_types")
    @classmethod
    def _alert_types(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        unknown = [kind for kind in value if kind not in ALERT_TYPES]
        if unknown:
            known = ", ".join(sorted(ALERT_TYPES))
            raise ValueError(f"{unknown[0][:64]!r} is not an alert type; they are: {known}")
        if len(set(value)) != len(value):
            raise ValueError("names an alert type twice")
        return value

    def telemetry_config(self) -> TelemetryConfig:
        return TelemetryConfig(
            hostname=self.hostname,
            port=self.port,
            fields={
                name: FieldConfig(
                    spec.interval_seconds, spec.minimum_delta, spec.resend_interval_seconds
                )
                for name, spec in self.fields.items()
            },
            ca=self.ca,
            alert_types=None if self.alert_types is None else tuple(self.alert_types),
            exp=self.exp,
            prefer_typed=self.prefer_typed,
        )


def vin_list(value: list[str]) -> list[str]:
    """VINs in upper case, each once, in the order given."""
    vins = [vin.upper() for vin in value]
    bad = [vin for vin in vins if not VIN.match(vin)]
    if bad:
        raise ValueError(f"{bad[0][:32]!r} is not a VIN (17 letters and digits, no I, O, Q)")
    return list(dict.fromkeys(vins))


class ConfigRequest(BaseModel):
    """`POST /api/1/vehicles/fleet_telemetry_config`."""

    model_config = _STRICT

    vins: list[str] = Field(min_length=1, max_length=MAX_VINS)
    config: ConfigBody

    @field_validator("vins")
    @classmethod
    def _vins(cls, value: list[str]) -> list[str]:
        return vin_list(value)


class SignedConfigRequest(BaseModel):
    """`POST /api/1/vehicles/fleet_telemetry_config_jws`: the config as the claims of a JWS
    (`Tesla.SS256`, audience `com.tesla.fleet.TelemetryClient`)."""

    model_config = _STRICT

    vins: list[str] = Field(min_length=1, max_length=MAX_VINS)
    token: str = Field(min_length=1, max_length=MAX_TOKEN_LENGTH)

    @field_validator("vins")
    @classmethod
    def _vins(cls, value: list[str]) -> list[str]:
        return vin_list(value)
