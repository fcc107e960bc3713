"""Errors as be.ENERGISED's clients read them: `errors[].extensions.code`, never a stack trace.

A domain error keeps its description; anything else is logged (its type and path, never the
document's variables, which may hold passwords) and answered as an internal error.
"""

from __future__ import annotations

from typing import Any

import structlog
from graphql import GraphQLError

from voltgate.errors import (
    Conflict,
    ContractRequired,
    ErrorFormat,
    Forbidden,
    InsufficientScope,
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    InvalidToken,
    MethodNotAllowed,
    NotFound,
    NotStored,
    PaymentMethodRequired,
    RateLimited,
    UserInactive,
    VoltgateError,
)

log = structlog.get_logger("voltgate.beenergised")

# Most specific first: the first class an error is an instance of names its code.
_CODES: tuple[tuple[type[VoltgateError], str], ...] = (
    (ContractRequired, "CONTRACT_REQUIRED"),
    (PaymentMethodRequired, "PAYMENT_METHOD_REQUIRED"),
    (UserInactive, "USER_INACTIVE"),
    (InvalidToken, "UNAUTHENTICATED"),
    (InvalidClient, "UNAUTHENTICATED"),
    (InvalidGrant, "UNAUTHENTICATED"),
    (InsufficientScope, "FORBIDDEN"),
    (Forbidden, "FORBIDDEN"),
    (NotFound, "NOT_FOUND"),
    (Conflict, "CONFLICT"),
    (RateLimited, "RATE_LIMITED"),
    (NotStored, "SERVICE_UNAVAILABLE"),
    (MethodNotAllowed, "METHOD_NOT_ALLOWED"),
    (InvalidRequest, "BAD_USER_INPUT"),
)


def code_of(exc: VoltgateError) -> str:
    for kind, code in _CODES:
        if isinstance(exc, kind):
            return code
    return "INTERNAL_SERVER_ERROR"


def problem(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code}}


def of(exc: VoltgateError) -> dict[str, Any]:
    """A domain error as an entry of `errors` (a rate limit says when to retry)."""
    body = problem(exc.description, code_of(exc))
    if isinstance(exc, RateLimited):
        body["extensions"]["retryAfter"] = exc.retry_after
    return body


def formatted(error: GraphQLError) -> dict[str, Any]:
    """One entry of a response's `errors`."""
    original = error.original_error
    if isinstance(original, VoltgateError):
        body = of(original)
    elif original is None or isinstance(original, GraphQLError):
        # The request's own mistake graphql-core found: a variable missing or of the wrong type.
        body = problem(error.message, "BAD_USER_INPUT")
    else:
        log.error(
            "resolver_failed",
            error=type(original).__name__,
            path=".".join(str(p) for p in error.path or ()),
        )
        body = problem("internal error", "INTERNAL_SERVER_ERROR")
    if error.locations:
        body["locations"] = [{"line": at.line, "column": at.column} for at in error.locations]
    if error.path:
        body["path"] = list(error.path)
    return body


def _render(exc: VoltgateError) -> dict[str, Any]:
    return {"errors": [of(exc)]}


# Errors the router answers before the document is read (413, 415, 405 …), GraphQL-shaped.
GRAPHQL_ERRORS = ErrorFormat(
    "GraphQLErrors",
    _render,
    {
        "type": "object",
        "required": ["errors"],
        "properties": {"errors": {"type": "array", "items": {"type": "object"}}},
    },
)
