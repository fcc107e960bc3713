"""One exception per RFC error code, carrying the seed platforms' numeric code, and the renderers.

RFC 6749 §5.2 (token endpoint), RFC 6750 §3.1 (protected resources), RFC 7009 §2.2.1.
Tellus numeric codes: 1001/1002 → 400, 2001/2002 → 401, 2003 → 403, 3001 → 404, 4001 → 409,
5001 → 429, 9001 → 500.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

Body = dict[str, Any]


class VoltgateError(Exception):
    error: ClassVar[str] = "server_error"
    status_code: ClassVar[int] = 500
    code: ClassVar[int] = 9001

    def __init__(self, description: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.description = description
        self.headers: dict[str, str] = dict(headers or {})


class InvalidRequest(VoltgateError):
    error = "invalid_request"
    status_code = 400
    code = 1001


class PayloadTooLarge(InvalidRequest):
    status_code = 413


class UnsupportedMediaType(InvalidRequest):
    status_code = 415


class ValidationFailed(InvalidRequest):
    code = 1002


class InvalidClient(VoltgateError):
    error = "invalid_client"
    status_code = 401
    code = 2001


class InvalidGrant(VoltgateError):
    error = "invalid_grant"
    status_code = 400
    code = 1002


class UnauthorizedClient(VoltgateError):
    error = "unauthorized_client"
    status_code = 400
    code = 1002


class UnsupportedGrantType(VoltgateError):
    error = "unsupported_grant_type"
    status_code = 400
    code = 1002


class InvalidScope(VoltgateError):
    error = "invalid_scope"
    status_code = 400
    code = 1002


class UnsupportedTokenType(VoltgateError):
    error = "unsupported_token_type"
    status_code = 400
    code = 1002


class InvalidToken(VoltgateError):
    """RFC 6750 §3.1 invalid_token: missing, malformed, bad signature, revoked, wrong audience."""

    error = "invalid_token"
    status_code = 401
    code = 2001


class ExpiredToken(InvalidToken):
    code = 2002


class InsufficientScope(VoltgateError):
    error = "insufficient_scope"
    status_code = 403
    code = 2003

    def __init__(self, description: str, scope: str) -> None:
        super().__init__(description)
        self.scope = scope


class Forbidden(VoltgateError):
    error = "access_denied"
    status_code = 403
    code = 2003


class ContractRequired(Forbidden):
    """Charging needs a valid contract for the station (be.ENERGISED's precondition)."""

    error = "contract_required"


class PaymentMethodRequired(Forbidden):
    """Charging needs a payment method (be.ENERGISED's precondition)."""

    error = "payment_method_required"


class UserInactive(Forbidden):
    """The user's account is not active: it may not charge (be.ENERGISED's precondition)."""

    error = "user_inactive"


class NotFound(VoltgateError):
    error = "not_found"
    status_code = 404
    code = 3001


class MethodNotAllowed(VoltgateError):
    error = "invalid_request"
    status_code = 405
    code = 1001


class UpgradeRequired(InvalidRequest):
    """A WebSocket's path asked for without the handshake (RFC 9110 §15.5.22)."""

    status_code = 426

    def __init__(self, description: str) -> None:
        super().__init__(description, {"Upgrade": "websocket"})


class Conflict(VoltgateError):
    error = "conflict"
    status_code = 409
    code = 4001


class RateLimited(VoltgateError):
    error = "rate_limited"
    status_code = 429
    code = 5001

    def __init__(self, description: str, retry_after: int) -> None:
        super().__init__(description, {"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class ServerError(VoltgateError):
    pass


class NotStored(VoltgateError):
    """A write could not be committed (the database refused or is unreachable): nothing of
    the request is stored; the client retries it."""

    error = "temporarily_unavailable"
    status_code = 503
    code = 5002

    def __init__(self, description: str, retry_after: int = 1) -> None:
        super().__init__(description, {"Retry-After": str(retry_after)})


class Unavailable(VoltgateError):
    """The device is asleep or offline (Tesla: 408); no Tellus code, so one in the 4xxx
    family of "the resource's state refuses this"."""

    error = "vehicle_unavailable"
    status_code = 408
    code = 4002


class CommandProtocolRequired(Forbidden):
    """The vehicle takes only commands signed with a key paired to it (Tesla's vehicle command
    protocol); Fleet API answers an unsigned one 403."""

    error = "command_protocol_required"


class CommandProtocolUnsupported(VoltgateError):
    """A signed command for a vehicle that does not speak the protocol (Tesla: 422)."""

    error = "command_protocol_unsupported"
    status_code = 422
    code = 4003


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def bearer_challenge(exc: VoltgateError | None, realm: str = "voltgate") -> str:
    """RFC 6750 §3 WWW-Authenticate value; no error attributes when no token was sent."""
    parts = [f'realm="{realm}"']
    if exc is not None and not isinstance(exc, MissingToken):
        parts.append(f'error="{exc.error}"')
        parts.append(f'error_description="{_quote(exc.description)}"')
        if isinstance(exc, InsufficientScope):
            parts.append(f'scope="{_quote(exc.scope)}"')
    return "Bearer " + ", ".join(parts)


class MissingToken(InvalidToken):
    """RFC 6750 §3.1: a request without credentials gets a challenge with no error code."""


def challenge_headers(exc: VoltgateError) -> dict[str, str]:
    """Protected-resource errors carry a Bearer challenge (RFC 6750 §3)."""
    if isinstance(exc, InvalidToken | InsufficientScope | Forbidden):
        return {"WWW-Authenticate": bearer_challenge(exc)}
    return {}


# Renderers: the body shape differs per dialect; the status and headers never do.
def rfc_body(exc: VoltgateError) -> Body:
    return {"error": exc.error, "error_description": exc.description}


def resource_body(exc: VoltgateError) -> Body:
    return {
        "error": exc.error,
        "error_description": exc.description,
        "code": exc.code,
        "message": exc.description,
    }


def tellus_body(exc: VoltgateError) -> Body:
    return {"code": exc.code, "message": exc.description, "data": None, "error": exc.error}


Renderer = Callable[[VoltgateError], Body]


class ErrorFormat:
    """A dialect's error body: how it is rendered and its JSON schema (for the OpenAPI
    document). The status and headers of an error never depend on the format."""

    __slots__ = ("name", "render", "schema")

    def __init__(self, name: str, render: Renderer, schema: dict[str, Any]) -> None:
        self.name = name
        self.render = render
        self.schema = schema


_TEXT = {"type": "string"}
_CODE = {"type": "integer"}
RFC_ERRORS = ErrorFormat(
    "OAuthError",
    rfc_body,
    {
        "type": "object",
        "required": ["error", "error_description"],
        "properties": {"error": _TEXT, "error_description": _TEXT},
    },
)
RESOURCE_ERRORS = ErrorFormat(
    "Error",
    resource_body,
    {
        "type": "object",
        "required": ["error", "error_description", "code", "message"],
        "properties": {
            "error": _TEXT,
            "error_description": _TEXT,
            "code": _CODE,
            "message": _TEXT,
            "request_id": _TEXT,
        },
    },
)
TELLUS_ERRORS = ErrorFormat(
    "TellusError",
    tellus_body,
    {
        "type": "object",
        "required": ["code", "message", "data", "error"],
        "properties": {"code": _CODE, "message": _TEXT, "data": {"type": "null"}, "error": _TEXT},
    },
)
