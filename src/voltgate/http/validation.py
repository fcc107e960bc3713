"""Request parts validated by pydantic models compiled once, at registration.

Messages name the failing place the way clients have always read them: `query.page: …`,
`path.connector: …`, `field.sub: …` for a body field, `body: …` for the body as a whole.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl

import orjson
from pydantic import BaseModel, ValidationError

from voltgate.errors import InvalidRequest, UnsupportedMediaType, ValidationFailed

M = TypeVar("M", bound=BaseModel)
_MAX_QUERY_FIELDS = 64


def describe(exc: ValidationError, where: str) -> str:
    """The first error as `<place>: <message>`, at most 300 characters."""
    first = exc.errors(include_url=False, include_context=False, include_input=False)[0]
    if first["type"] == "json_invalid":
        return "the body is not valid JSON"
    name = ".".join(str(part) for part in first["loc"])
    if where != "body":
        name = f"{where}.{name}" if name else where
    return f"{name or 'body'}: {first['msg']}"[:300]


class Params(Generic[M]):
    """A model over a mapping of strings (path or query parameters)."""

    __slots__ = ("_validate", "model", "where")

    def __init__(self, model: type[M], where: str) -> None:
        self.model = model
        self.where = where
        self._validate: Callable[[Any], M] = model.model_validate

    def __call__(self, values: dict[str, str]) -> M:
        try:
            return self._validate(values)
        except ValidationError as exc:
            raise ValidationFailed(describe(exc, self.where)) from None


def query_values(query_string: str) -> dict[str, str]:
    """The query's parameters (the last value of a repeated one wins)."""
    if not query_string:
        return {}
    if "%" in query_string or "+" in query_string:
        try:
            pairs = parse_qsl(
                query_string, keep_blank_values=True, max_num_fields=_MAX_QUERY_FIELDS
            )
        except ValueError:
            raise InvalidRequest(
                f"the query has more than {_MAX_QUERY_FIELDS} parameters"
            ) from None
        values = dict(pairs)
    else:  # nothing to decode: split as parse_qsl would, without its cost
        parts = query_string.split("&")
        if len(parts) > _MAX_QUERY_FIELDS:
            raise InvalidRequest(f"the query has more than {_MAX_QUERY_FIELDS} parameters")
        values = {}
        for part in parts:
            if part:
                name, _, value = part.partition("=")
                values[name] = value
    for name, value in values.items():
        if "\x00" in value or "\x00" in name:
            raise ValidationFailed(f"query.{name[:64]}: must not contain a NUL character")
    return values


def is_json(content_type: str | None) -> bool:
    """No Content-Type, `application/json` or any `+json` type."""
    if content_type is None:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json") or media == ""


class JsonBody(Generic[M]):
    """A JSON object validated by `model` (unknown fields refused: every body model forbids
    extras, checked here once). With `optional`, an empty body is None."""

    __slots__ = ("_validate", "model", "optional")

    def __init__(self, model: type[M], *, optional: bool = False) -> None:
        if model.model_config.get("extra") != "forbid":
            raise TypeError(f"{model.__name__} must refuse unknown fields (extra='forbid')")
        self.model = model
        self.optional = optional
        self._validate: Callable[[bytes], M] = model.model_validate_json

    def __call__(self, raw: bytes, content_type: str | None) -> M | None:
        if not raw.strip():
            if self.optional:
                return None
            raise ValidationFailed("body: Field required")
        if not is_json(content_type):
            raise UnsupportedMediaType("Content-Type must be application/json")
        try:
            return self._validate(raw)
        except ValidationError as exc:
            raise ValidationFailed(describe(exc, "body")) from None


def json_object(raw: bytes, content_type: str | None) -> dict[str, Any]:
    """A body that is nothing (no parameters) or a JSON object, checked by its handler."""
    if not raw.strip():
        return {}
    if not is_json(content_type):
        raise UnsupportedMediaType("Content-Type must be application/json")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ValidationFailed("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise ValidationFailed("the body must be a JSON object")
    return data
