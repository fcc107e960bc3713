"""JSON responses (orjson) and the error response every adapter renders through."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from voltgate.errors import Renderer, VoltgateError


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def error_response(
    exc: VoltgateError, render: Renderer, extra_headers: dict[str, str] | None = None
) -> JSONResponse:
    headers = {**(extra_headers or {}), **exc.headers}
    return JSONResponse(render(exc), status_code=exc.status_code, headers=headers)
