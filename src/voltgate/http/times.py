"""Times in query parameters (`from`, `to`, …): Unix seconds or RFC 3339, one parser for every
route, so every route refuses the same things the same way (400 code 1002)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from voltgate.errors import ValidationFailed


def instant(text: str | None, name: str) -> float | None:
    """Unix seconds; RFC 3339 without an offset is UTC; None when the parameter is absent."""
    if text is None or text.strip() == "":
        return None
    text = text.strip()
    try:
        at = float(text)
    except ValueError:
        try:
            parsed = datetime.fromisoformat(text)
            at = (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
        except ValueError:
            at = math.nan
    if not math.isfinite(at):
        raise ValidationFailed(f"{name}: Unix seconds or an RFC 3339 date-time")
    return at
