"""be.ENERGISED's lists: `pagination: {limit, offset}` in, `{pagination {totalCount} data}` out."""

from __future__ import annotations

from typing import Any

from voltgate.errors import ValidationFailed

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


def window(pagination: dict[str, Any] | None) -> tuple[int, int]:
    """(limit, offset) asked for: limit 1-100 (default 20), offset from 0 (default 0)."""
    asked = pagination or {}
    limit = asked.get("limit")
    offset = asked.get("offset")
    limit = DEFAULT_LIMIT if limit is None else limit
    offset = 0 if offset is None else offset
    if not 1 <= limit <= MAX_LIMIT:
        raise ValidationFailed(f"pagination.limit must be 1 to {MAX_LIMIT}")
    if offset < 0:
        raise ValidationFailed("pagination.offset must not be negative")
    return limit, offset


def page(total: int, limit: int, offset: int, data: list[Any]) -> dict[str, Any]:
    return {
        "pagination": {"totalCount": total, "limit": limit, "offset": offset},
        "data": data,
    }
