"""GraphQL over HTTP: what a request asks (one operation or a bounded batch) and how the
answer is sent, as the GraphQL-over-HTTP specification says.

- POST with a JSON body `{query, variables, operationName}` (or a JSON array of them: a
  batch), or `application/graphql` with the document itself. be.ENERGISED's own guide posts
  the bare document (`mutation{…}`) labelled `application/json`: a body that is not JSON is
  read as a document, so that request works as written.
- GET with `?query=…&variables=…&operationName=…`, for queries only (a mutation: 405).
- The answer is `application/graphql-response+json` when the client accepts it (then a
  document that cannot run is a 400 and a missing or bad bearer a 401), else
  `application/json` with 200 for every well-formed request, errors in the body.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import orjson

from voltgate.errors import InvalidRequest, UnsupportedMediaType

GRAPHQL_RESPONSE = "application/graphql-response+json"
_JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Operation:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


def wants_graphql_response(accept: str | None) -> bool:
    return accept is not None and GRAPHQL_RESPONSE in accept


def media_type(accept: str | None) -> bytes:
    return (GRAPHQL_RESPONSE if wants_graphql_response(accept) else _JSON).encode()


def from_body(raw: bytes, content_type: str | None, max_batch: int) -> list[Operation] | Operation:
    """The operation (or batch) a POST asks for."""
    media = (content_type or _JSON).split(";", 1)[0].strip().lower()
    if media == "application/graphql":
        return Operation(_text(raw), None, None)
    if media != _JSON and not media.endswith("+json"):
        raise UnsupportedMediaType(
            "send the request as application/json (or the document as application/graphql)"
        )
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return Operation(
            _text(raw), None, None
        )  # the bare document, as be.ENERGISED's guide sends it
    if isinstance(parsed, list):
        if not parsed:
            raise InvalidRequest("the batch is empty")
        if len(parsed) > max_batch:
            raise InvalidRequest(f"a batch holds at most {max_batch} operations")
        return [_operation(item) for item in parsed]
    return _operation(parsed)


def from_query(query_string: str) -> Operation:
    """The operation a GET asks for."""
    params = dict(parse_qsl(query_string, keep_blank_values=True))
    query = params.get("query")
    if not query:
        raise InvalidRequest("a GET request needs the document in ?query=")
    variables: Any = None
    if params.get("variables"):
        try:
            variables = orjson.loads(params["variables"])
        except orjson.JSONDecodeError:
            raise InvalidRequest("variables must be a JSON object") from None
    return _operation(
        {"query": query, "variables": variables, "operationName": params.get("operationName")}
    )


def _operation(item: Any) -> Operation:
    if not isinstance(item, dict):
        raise InvalidRequest("each request must be a JSON object with a query")
    query = item.get("query")
    if not isinstance(query, str) or not query.strip():
        raise InvalidRequest("the request has no query (a GraphQL document as a string)")
    variables = item.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise InvalidRequest("variables must be a JSON object")
    name = item.get("operationName")
    if name is not None and not isinstance(name, str):
        raise InvalidRequest("operationName must be a string")
    return Operation(query, variables, name or None)


def _text(raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest("the document is not UTF-8") from None
    if not text.strip():
        raise InvalidRequest("the request has no query (a GraphQL document)")
    return text
