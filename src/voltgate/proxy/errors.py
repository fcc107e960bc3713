"""The proxy's own errors: a stable `error` code per failure, the HTTP status it answers with
and Fleet API's error body (`{"response": null, "error", "error_description"}`). Errors that
are the caller's (401, 403, 404 from Fleet API) pass through unchanged; these are the ones the
proxy itself decides, listed in docs/vehicle-commands.md."""

from __future__ import annotations

from typing import ClassVar


class ProxyError(Exception):
    error: ClassVar[str] = "proxy_error"
    status: ClassVar[int] = 502

    def __init__(self, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.headers = dict(headers or {})

    def body(self) -> dict[str, object]:
        return {"response": None, "error": self.error, "error_description": self.description}


class InvalidCommand(ProxyError):
    """Unknown command, a body it does not take, or a vehicle named by id instead of VIN."""

    error, status = "invalid_command", 400


class InvalidConfig(ProxyError):
    """A `fleet_telemetry_config` body that is not `{"vins": [...], "config": {...}}` (what
    is in them is Fleet API's to check, once signed)."""

    error, status = "invalid_config", 400


class MissingToken(ProxyError):
    error, status = "missing_token", 401


class KeyNotPaired(ProxyError):
    """The vehicle does not know the proxy's key: the owner must pair it (/_ak/<domain>)."""

    error, status = "key_not_paired", 403


class VehicleAsleep(ProxyError):
    error, status = "vehicle_asleep", 408


class VehicleOffline(ProxyError):
    error, status = "vehicle_offline", 408


class VehicleRejected(ProxyError):
    """The vehicle refused the message at the protocol layer for another reason (the
    description names the fault)."""

    error, status = "vehicle_rejected", 422


class RateLimited(ProxyError):
    """Fleet API's 429, with its Retry-After."""

    error, status = "rate_limited", 429


class UpstreamUnreachable(ProxyError):
    error, status = "upstream_unreachable", 502


class UpstreamError(ProxyError):
    """Fleet API answered 5xx, or something that is not a reply."""

    error, status = "upstream_error", 502


class Timeout(ProxyError):
    """No answer within the proxy's timeout (10 s unless --timeout)."""

    error, status = "timeout", 504


CATALOG: tuple[type[ProxyError], ...] = (
    InvalidCommand,
    InvalidConfig,
    MissingToken,
    KeyNotPaired,
    VehicleAsleep,
    VehicleOffline,
    VehicleRejected,
    RateLimited,
    UpstreamUnreachable,
    UpstreamError,
    Timeout,
)
