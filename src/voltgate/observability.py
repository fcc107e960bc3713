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
import threading
import time
from collections.abc import MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

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
        self.streams: list[Any] = [sys.stderr]
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
            text = "\n".join(lines) + "\n"
            for stream in self.streams:
                stream.write(text)
                stream.flush()


access_log = AccessLog()


class _Lines:
    """structlog's logger: each rendered line goes to every destination whose level it meets
    (structlog's PrintLogger writes to one)."""

    def __init__(self, sinks: list[tuple[Any, int]]) -> None:
        self._sinks = sinks
        self._lock = threading.Lock()  # the SQLite writer thread logs too

    def _emit(self, level: int, line: str) -> None:
        with self._lock:
            for stream, least in self._sinks:
                if level >= least:
                    stream.write(line + "\n")
                    stream.flush()

    def debug(self, line: str) -> None:
        self._emit(logging.DEBUG, line)

    def info(self, line: str) -> None:
        self._emit(logging.INFO, line)

    def warning(self, line: str) -> None:
        self._emit(logging.WARNING, line)

    def error(self, line: str) -> None:
        self._emit(logging.ERROR, line)

    def critical(self, line: str) -> None:
        self._emit(logging.CRITICAL, line)

    msg = info
    warn = warning
    exception = error
    fatal = critical


def _level(name: str | None, default: int = logging.INFO) -> int:
    numeric = logging.getLevelName(name.upper()) if name else default
    return numeric if isinstance(numeric, int) else default


_opened: list[TextIO] = []  # log files this process opened, closed when logging is set again


def configure_logging(
    level: str = "info",
    stream: Any = None,
    *,
    file: Path | None = None,
    console_level: str | None = None,
) -> None:
    """JSON lines at `level` and above to `stream` (stderr) and, when given, appended to `file`;
    with `console_level` the stream shows only that level and above (the file keeps `level`)."""
    numeric = _level(level)
    sinks: list[tuple[Any, int]] = [(stream or sys.stderr, _level(console_level, numeric))]
    access_log.flush()
    previous = _opened[:]
    _opened.clear()
    if file is not None:
        handle = file.open("a", encoding="utf-8")
        _opened.append(handle)
        sinks.append((handle, numeric))
    lowest = min(least for _, least in sinks)
    access_log.streams = [out for out, least in sinks if least <= logging.INFO]
    access_log.enabled = bool(access_log.streams)
    lines = _Lines(sinks)
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
        wrapper_class=structlog.make_filtering_bound_logger(lowest),
        logger_factory=lambda *_names: lines,
        cache_logger_on_first_use=False,
    )
    # Route stdlib logging (granian, sqlalchemy, alembic) through the same JSON + redaction.
    formatter = structlog.stdlib.ProcessorFormatter(
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
    handlers: list[logging.Handler] = []
    for out, least in sinks:
        handler = logging.StreamHandler(out)
        handler.setLevel(least)
        handler.setFormatter(formatter)
        handlers.append(handler)
    root = logging.getLogger()
    root.handlers = handlers
    root.setLevel(lowest)
    for old in previous:  # nothing writes to them any more
        old.close()


error_log = structlog.get_logger("voltgate.error")


def request_id(scope: Scope) -> str:
    """The caller's X-Request-Id when it is a sane one, else a new id; kept in the scope."""
    found = None
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _REQUEST_ID.match(candidate):
                found = candidate
            break
    if found is None:
        found = unique_hex(12)
    scope.setdefault("state", {})["request_id"] = found
    return found


def log_request(scope: Scope, status: int, seconds: float, request_id: str) -> None:
    """The request's access line."""
    access_log.write(
        {
            "event": "request",
            "method": scope["method"],
            "path": scope["path"],
            "status": status,
            "ms": round(seconds * 1000, 2),
            "request_id": request_id,
            "address": (scope.get("client") or ("", 0))[0],
        }
    )


async def crashed(scope: Scope, send: Send, request_id: str, *, answered: bool) -> None:
    """An exception no handler caught: logged with its trace, answered (unless the answer had
    begun) with a 500 that carries the request id and no trace."""
    error_log.exception("unhandled_error", request_id=request_id, path=scope["path"])
    if answered:
        return
    exc = ServerError("internal error; quote the request id to support")
    body = orjson.dumps({**resource_body(exc), "request_id": request_id})
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id.encode()),
    ]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class RequestContext:
    """Pure ASGI middleware: correlation id in and out, one access line, no 500 stack traces.
    The API's router does the same inline (`http.dispatch.Router`); this wraps the rest."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope)
        started = time.perf_counter()
        status = 500
        response_started = False
        header = (b"x-request-id", rid.encode())

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
            await crashed(scope, send, rid, answered=response_started)
        finally:
            log_request(scope, status, time.perf_counter() - started, rid)
