"""Structured JSON logs, one correlation id per request, and redaction as a last defence.

Call sites never log a secret, token, password or Authorization value; `_redact` additionally
masks anything shaped like one (voltgate prefixes, JWTs, Basic/Bearer credentials) in case
a library or an exception message carries it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import time
from collections.abc import MutableMapping
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from voltgate.errors import ServerError, resource_body
from voltgate.ids import unique_hex

_SENSITIVE_KEYS = {
    "password",
    "secret",
    "client_secret",
    "token",
    "access_token",
    "refresh_token",
    "authorization",
    "device_secret",
    "code",
    "code_verifier",
}
_PATTERNS = re.compile(
    r"vg[a-z]{1,4}_(?:test|live)_[A-Za-z0-9_\-]{16,}"
    r"|eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"
    r"|(?i:bearer|basic)\s+[A-Za-z0-9._~+/=\-]+"
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
REDACTED = "[redacted]"


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _PATTERNS.sub(REDACTED, value)
    if isinstance(value, dict):
        return {
            k: REDACTED if k.lower() in _SENSITIVE_KEYS else _scrub(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def _redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        event[key] = REDACTED if key.lower() in _SENSITIVE_KEYS else _scrub(event[key])
    return event


def _dumps(obj: Any, **_: Any) -> str:
    return orjson.dumps(obj, default=str).decode()


class AccessLog:
    """One JSON line per request, built directly: the fields are known and safe, so the
    structlog chain (~24 µs a line) is skipped; only the path is checked for credentials.
    Lines are written in batches (at most 50 ms late) to save a write per request."""

    FLUSH_AFTER = 0.05
    MAX_LINES = 256

    def __init__(self) -> None:
        self.stream: Any = sys.stderr
        self.enabled = True
        self._lines: list[str] = []

    def write(self, record: dict[str, Any]) -> None:
        if not self.enabled:
            return
        path = record["path"]
        if "vg" in path or "eyJ" in path:
            record["path"] = _PATTERNS.sub(REDACTED, path)
        record["level"] = "info"
        record["timestamp"] = datetime.now(UTC).isoformat()
        lines = self._lines
        lines.append(orjson.dumps(record).decode())
        if len(lines) >= self.MAX_LINES:
            self.flush()
        elif len(lines) == 1:
            try:
                asyncio.get_running_loop().call_later(self.FLUSH_AFTER, self.flush)
            except RuntimeError:
                self.flush()

    def flush(self) -> None:
        if self._lines:
            lines, self._lines = self._lines, []
            self.stream.write("\n".join(lines) + "\n")
            self.stream.flush()


access_log = AccessLog()


def configure_logging(level: str = "info", stream: Any = None) -> None:
    numeric = logging.getLevelName(level.upper())
    access_log.flush()
    access_log.stream = stream or sys.stderr
    access_log.enabled = not isinstance(numeric, int) or numeric <= logging.INFO
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,
        _redact,
        structlog.processors.JSONRenderer(serializer=_dumps),
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(
            numeric if isinstance(numeric, int) else 20
        ),
        logger_factory=structlog.PrintLoggerFactory(stream or sys.stderr),
        cache_logger_on_first_use=False,
    )
    # Route stdlib logging (granian, sqlalchemy, alembic) through the same JSON + redaction.
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                _redact,
                structlog.processors.JSONRenderer(serializer=_dumps),
            ],
            foreign_pre_chain=[
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(numeric if isinstance(numeric, int) else logging.INFO)


error_log = structlog.get_logger("voltgate.error")


class RequestContext:
    """Pure ASGI middleware: correlation id in and out, one access line, no 500 stack traces."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _REQUEST_ID.match(candidate):
                    request_id = candidate
                break
        if request_id is None:
            request_id = unique_hex(12)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False
        header = (b"x-request-id", request_id.encode())

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            error_log.exception("unhandled_error", request_id=request_id, path=scope["path"])
            if not response_started:
                exc = ServerError("internal error; quote the request id to support")
                body = orjson.dumps({**resource_body(exc), "request_id": request_id})
                await send_wrapper(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
        finally:
            access_log.write(
                {
                    "event": "request",
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                    "request_id": request_id,
                    "address": (scope.get("client") or ("", 0))[0],
                }
            )
