"""Tesla Fleet API error bodies: `{"response": null, "error", "error_description", "code"}`
(the numeric code is voltgate's, shared by every dialect: 2003 scope, 3001 not found …)."""

from __future__ import annotations

from typing import Any

from voltgate.errors import ErrorFormat, VoltgateError


def tesla_body(exc: VoltgateError) -> dict[str, Any]:
    return {
        "response": None,
        "error": exc.error,
        "error_description": exc.description,
        "code": exc.code,
    }


TESLA_ERRORS = ErrorFormat(
    "TeslaError",
    tesla_body,
    {
        "type": "object",
        "required": ["response", "error", "error_description", "code"],
        "properties": {
            "response": {"type": "null"},
            "error": {"type": "string"},
            "error_description": {"type": "string"},
            "code": {"type": "integer"},
        },
    },
)
