"""Request bodies and response views of the devices API (Tellus field names: `sn`, …)."""

from __future__ import annotations

from collections.abc import Container
from typing import Annotated, Literal, NotRequired, get_args

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator
from typing_extensions import TypedDict

from voltgate.devices.store import MAX_CONNECTORS, Device, Enrollment
from voltgate.errors import ValidationFailed

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Serial = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][\w.:/-]*$"
    ),
]
Mac = Annotated[
    str,
    StringConstraints(strip_whitespace=True, pattern=r"^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$"),
]
ConnectorType = Literal["Type1", "Type2", "CCS1", "CCS2", "CHAdeMO", "GBT", "NACS"]
CONNECTOR_TYPES = frozenset(get_args(ConnectorType))
MAX_CONNECTOR_KW = 1_000.0
# The largest valid registration is ~4 KiB even with every character \u-escaped: twice that.
MAX_REGISTRATION_BODY = 8_192
MAX_USES = 100_000
MAX_ENROLLMENT_LIFETIME = 365 * 86_400


def check_named(number: int, held: Container[int], learns: bool, where: str) -> None:
    """A connector a charger's report names: one it has or, when it learns its connectors
    (registered without any), any number 1..16. ValidationFailed otherwise."""
    if number in held:
        return
    if not learns:
        raise ValidationFailed(f"{where}: this charger has no connector {number}")
    if not 1 <= number <= MAX_CONNECTORS:
        raise ValidationFailed(f"{where}: connector numbers are 1 to {MAX_CONNECTORS}")


class ConnectorSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: ConnectorType
    max_power_kw: float = Field(gt=0, le=MAX_CONNECTOR_KW)


class DeviceRegistration(BaseModel):
    """`POST /v1/device/register`: what a charger says about itself on first connection."""

    model_config = ConfigDict(extra="forbid")

    sn: Serial
    model: Text
    manufacturer: Text
    firmware_version: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)
    ]
    mac: Mac | None = None
    # Numbered 1..n in the order given; left out, the charger learns them from its reports.
    connectors: list[ConnectorSpec] = Field(default_factory=list, max_length=MAX_CONNECTORS)

    @field_validator("mac")
    @classmethod
    def _canonical_mac(cls, value: str | None) -> str | None:
        return None if value is None else value.upper().replace("-", ":")


class EnrollmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site_id: str | None = Field(default=None, max_length=64)
    uses: int = Field(default=1, ge=1, le=MAX_USES)
    expires_in: int = Field(
        default=7 * 86_400, ge=60, le=MAX_ENROLLMENT_LIFETIME, description="seconds"
    )


class ConnectorView(TypedDict):
    number: int
    type: str | None  # null: learned from reports that have not said yet
    max_power_kw: float | None


class DeviceView(TypedDict):
    id: str
    site_id: str | None
    sn: str
    model: str
    manufacturer: str
    firmware_version: str
    mac: str | None
    connectors: list[ConnectorView]
    learns_connectors: bool
    online: bool
    last_seen_at: int | None
    created_at: int


class EnrollmentView(TypedDict):
    enrollment_token: NotRequired[str]  # shown once, when it is issued
    enrollment_id: str
    operator_id: str
    site_id: str | None
    uses: int
    uses_left: int
    created_at: int
    expires_at: int


def device_view(device: Device, now: float) -> DeviceView:
    return {
        "id": device.id,
        "site_id": device.site_id,
        "sn": device.serial,
        "model": device.model,
        "manufacturer": device.manufacturer,
        "firmware_version": device.firmware_version,
        "mac": device.mac,
        "connectors": [
            {"number": c.number, "type": c.type, "max_power_kw": c.max_power_kw}
            for c in device.connectors
        ],
        "learns_connectors": device.learns_connectors,
        "online": device.online_at(now),
        "last_seen_at": None if device.last_seen_at is None else int(device.last_seen_at),
        "created_at": int(device.created_at),
    }


def enrollment_view(enrollment: Enrollment, token: str | None = None) -> EnrollmentView:
    view: EnrollmentView = {
        "enrollment_id": enrollment.id,
        "operator_id": enrollment.operator_id,
        "site_id": enrollment.site_id,
        "uses": enrollment.uses,
        "uses_left": enrollment.uses_left,
        "created_at": int(enrollment.created_at),
        "expires_at": int(enrollment.expires_at),
    }
    if token is None:
        return view
    return {"enrollment_token": token, **view}
