"""Reading OAuth request bodies without a framework's form parser (FastAPI's Form() capped a
POST at ~4,700 req/s).

Form (application/x-www-form-urlencoded) and JSON objects of strings are accepted. Anything
malformed, repeated (RFC 6749 §3.2), oversized or not UTF-8 is an `invalid_request`.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import orjson

from voltgate.errors import InvalidRequest, UnsupportedMediaType

MAX_VALUE = 4096
MAX_FIELDS = 64
# A token, revocation or introspection request is a handful of parameters, none past
# MAX_VALUE: 16 KiB holds four at their longest, so one too long is still named (400).
MAX_PARAMS_BODY = 16_384


def parse_params(
    body: bytes, content_type: str | None, *, allow_json: bool = True
) -> dict[str, str]:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    if not body.strip():
        return {}
    if media == "application/x-www-form-urlencoded":
        return _form(body)
    if media == "application/json" and allow_json:
        return _json(body)
    accepted = "application/x-www-form-urlencoded" + (" or application/json" if allow_json else "")
    raise UnsupportedMediaType(f"Content-Type must be {accepted}")


def _form(body: bytes) -> dict[str, str]:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("the request body is not valid UTF-8") from None
    try:
        pairs = parse_qsl(
            text,
            keep_blank_values=True,
            strict_parsing=False,
            errors="strict",
            max_num_fields=MAX_FIELDS,
        )
    except (ValueError, UnicodeDecodeError):
        raise InvalidRequest("the form body is malformed or has too many fields") from None
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise InvalidRequest(f"parameter {name[:64]!r} is repeated")
        _check(name, value)
        params[name] = value
    return params


def _json(body: bytes) -> dict[str, str]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise InvalidRequest("the JSON body is malformed") from None
    if not isinstance(data, dict):
        raise InvalidRequest("the JSON body must be an object")
    if len(data) > MAX_FIELDS:
        raise InvalidRequest("the JSON body has too many fields")
    params: dict[str, str] = {}
    for name, value in data.items():
        if value is None:
            continue
        if not isinstance(value, str):
            raise InvalidRequest(f"parameter {name[:64]!r} must be a string")
        _check(name, value)
        params[name] = value
    return params


def _check(name: str, value: str) -> None:
    if len(name) > 128 or len(value) > MAX_VALUE:
        raise InvalidRequest(f"parameter {name[:64]!r} is too long")
    if "\x00" in value:
        raise InvalidRequest(f"parameter {name[:64]!r} contains a NUL character")
