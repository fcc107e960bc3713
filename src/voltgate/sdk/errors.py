"""What the SDK raises: one error for every answer that is not a success."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A non-2xx answer. `code` is the Tellus numeric code (2002 = token expired, …) when the
    body carries one; `status` is the HTTP status."""

    def __init__(self, status: int, code: int | None, message: str, body: Any = None) -> None:
        super().__init__(
            f"HTTP {status}" + (f" code {code}" if code is not None else "") + f": {message}"
        )
        self.status = status
        self.code = code
        self.message = message
        self.body = body
