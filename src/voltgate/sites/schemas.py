"""Request bodies and response views of the sites API (every dialect shows the same fields)."""

from __future__ import annotations

import zoneinfo
from functools import cache
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from typing_extensions import TypedDict

from voltgate.sites.store import Site

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Address = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


@cache
def _zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def is_timezone(name: str) -> bool:
    """An IANA time zone name this machine's tz database knows (`Europe/Berlin`, `UTC`)."""
    if _zones():
        return name in _zones()
    try:  # no zone list (a minimal image): ask zoneinfo for the one zone
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


class SiteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a typo (`time_zone`) is refused, not ignored

    name: Name
    address: Address | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    timezone: str = Field(default="UTC", max_length=64)
    grid_limit_kw: float | None = Field(default=None, gt=0, le=100_000)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if not is_timezone(value):
            raise ValueError("must be an IANA time zone name such as Europe/Berlin")
        return value

    @model_validator(mode="after")
    def _position_whole(self) -> SiteCreate:
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude go together")
        return self


class SiteView(TypedDict):
    id: str
    name: str
    address: str | None
    latitude: float | None
    longitude: float | None
    timezone: str
    grid_limit_kw: float | None
    created_at: int


def site_view(site: Site) -> SiteView:
    return {
        "id": site.id,
        "name": site.name,
        "address": site.address,
        "latitude": site.latitude,
        "longitude": site.longitude,
        "timezone": site.timezone,
        "grid_limit_kw": site.grid_limit_kw,
        "created_at": int(site.created_at),
    }
