"""What a route is: the `Operation`s dialects register on a `RouteTable` (path, handler,
error format, guard, the models of its path, query and body, its answers), the `Call` a
handler gets and the `RawResponse` it may return.

`http.dispatch.Router` compiles each operation once at start-up and serves it; the OpenAPI
document is generated from the same operations (`http.openapi`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import orjson
from pydantic import BaseModel
from starlette.types import Send

from voltgate.errors import ErrorFormat, VoltgateError, challenge_headers
from voltgate.http.body import MAX_PARAMS_BODY
from voltgate.http.guards import Guard
from voltgate.http.kept import Keep
from voltgate.http.request import RawRequest
from voltgate.identity.guard import Principal

if TYPE_CHECKING:
    from voltgate.http.sockets import Socket

P = TypeVar("P")
Q = TypeVar("Q")
B = TypeVar("B")
Headers = list[tuple[bytes, bytes]]
JSON_TYPE = (b"content-type", b"application/json")
NO_STORE: Headers = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache")]


class RawResponse:
    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, body: bytes, headers: Headers) -> None:
        self.status = status
        self.body = body
        self.headers = headers

    async def send(self, send: Send, *, head: bool = False, request_id: bytes = b"") -> None:
        headers = [(b"content-length", str(len(self.body)).encode()), *self.headers]
        if request_id:
            headers.append((b"x-request-id", request_id))
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if head else self.body})


def json(body: Any, status: int = 200, headers: Iterable[tuple[bytes, bytes]] = ()) -> RawResponse:
    return RawResponse(status, orjson.dumps(body), [JSON_TYPE, *headers])


def error(
    exc: VoltgateError, errors: ErrorFormat, headers: Iterable[tuple[bytes, bytes]] = ()
) -> RawResponse:
    merged = {**challenge_headers(exc), **exc.headers}
    extra = [(k.lower().encode(), v.encode("latin-1")) for k, v in merged.items()]
    return json(errors.render(exc), exc.status_code, [*headers, *extra])


class Call(Generic[P, Q, B]):
    """One request as its handler gets it: the caller, the validated path, query and body,
    and headers to add to the answer (an error's too: rate-limit state)."""

    __slots__ = ("body", "headers", "path", "principal_or_none", "query", "request")

    def __init__(self, request: RawRequest) -> None:
        self.request = request
        self.principal_or_none: Principal | None = None
        self.path: P = None  # type: ignore[assignment]
        self.query: Q = None  # type: ignore[assignment]
        self.body: B = None  # type: ignore[assignment]
        self.headers: Headers = []

    @property
    def principal(self) -> Principal:
        """The authenticated caller (routes with a guard)."""
        assert self.principal_or_none is not None, "this route has no guard"
        return self.principal_or_none

    @property
    def params(self) -> Mapping[str, str]:
        return self.request.params


Handler = Callable[[Call[Any, Any, Any]], Awaitable[Any]]
# A WebSocket route's handler: checks what its guard and models cannot, then accepts the socket
# and serves it until it ends (`http.sockets`).
SocketHandler = Callable[[Call[Any, Any, None], "Socket"], Awaitable[None]]


class Body:
    """How a route reads its body, and at most how much of it: `max_bytes` where the route
    needs less than the server's `max_body_bytes` (which stays the ceiling); past it, 413."""

    __slots__ = ("kind", "max_bytes", "model", "optional")

    def __init__(
        self,
        kind: str,
        model: type[BaseModel] | None = None,
        *,
        optional: bool = False,
        max_bytes: int | None = None,
    ) -> None:
        self.kind = kind
        self.model = model
        self.optional = optional
        self.max_bytes = max_bytes

    @classmethod
    def json(
        cls, model: type[BaseModel], *, optional: bool = False, max_bytes: int | None = None
    ) -> Body:
        """A JSON object validated by `model` (which refuses unknown fields)."""
        return cls("model", model, optional=optional, max_bytes=max_bytes)

    @classmethod
    def object(cls, *, max_bytes: int | None = None) -> Body:
        """Nothing, or any JSON object: the handler checks it (`call.body` is a dict)."""
        return cls("object", max_bytes=max_bytes)

    @classmethod
    def raw(cls, model: type[BaseModel] | None = None, *, max_bytes: int | None = None) -> Body:
        """The bytes, parsed by the handler; `model` documents them."""
        return cls("raw", model, max_bytes=max_bytes)

    @classmethod
    def oauth(cls, *, max_bytes: int = MAX_PARAMS_BODY) -> Body:
        """OAuth parameters, form-encoded (or a JSON object of strings): the handler parses."""
        return cls("oauth", max_bytes=max_bytes)


@dataclass(frozen=True, slots=True)
class RatePolicy:
    """A per-route request count; `key` names the counter from the caller."""

    key: Callable[[Principal], str]
    who: str
    prefix: str = "RateLimit-"


class Limiter:
    """Counts requests under a key, sharing counts across instances (bound at start-up)."""

    async def count(self, call: Call[Any, Any, Any], key: str, who: str, prefix: str) -> None:
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class HeaderDoc:
    name: str
    description: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class Operation:
    """Everything dispatch and the document know about one route."""

    method: str
    path: str
    handler: Handler
    errors: ErrorFormat
    guard: Guard | None = None
    path_model: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    body: Body | None = None
    status: int = 200
    response: Any = None  # the success body's type (TypedDict, model), None for none
    media: str = "application/json"
    failures: tuple[int, ...] = ()  # what the handler itself may answer (404, 409, 408 …)
    answers: tuple[tuple[int, Any], ...] = ()  # other answers with their own body (503 …)
    limit: RatePolicy | None = None
    counted: str | None = None  # the handler counts itself; its headers' prefix
    headers: tuple[HeaderDoc, ...] = ()
    summary: str = ""
    description: str = ""
    tags: tuple[str, ...] = ()
    public: bool = True  # listed in the OpenAPI document
    keep: Keep | None = None  # a read whose 200s are kept while their data is unchanged
    dialect: str = ""  # the dialect that registered it (a label of its metrics)
    socket: SocketHandler | None = None  # a WebSocket route: its handler (`http.sockets`)

    def statuses(self) -> list[int]:
        """Every error status this route can answer."""
        found = {405, *self.failures}
        if self.guard is not None:
            found |= {401, 403}
        if self.path_model is not None or self.query is not None:
            found.add(400)
        if self.body is not None:
            found |= {400, 413}
            if self.body.kind in ("model", "object", "oauth"):
                found.add(415)
            if self.body.kind == "oauth":
                found.add(401)  # client authentication (RFC 6749 §2.3, §5.2 invalid_client)
        if self.limit is not None or self.counted is not None:
            found.add(429)
        return sorted(found)


@dataclass
class RouteTable:
    """Operations collected by the dialects at start-up; `scope()` shares defaults."""

    operations: list[Operation] = field(default_factory=list)
    defaults: dict[str, Any] = field(default_factory=dict)
    prefix: str = ""

    def scope(self, prefix: str = "", **defaults: Any) -> RouteTable:
        """A view adding under `prefix` with these defaults (errors, guard, tags …)."""
        return RouteTable(self.operations, {**self.defaults, **defaults}, self.prefix + prefix)

    def add(self, method: str, path: str, handler: Handler, **options: Any) -> Operation:
        merged = {**self.defaults, **options}
        op = Operation(method=method, path=self.prefix + path, handler=handler, **merged)
        for existing in self.operations:
            if existing.method == op.method and existing.path == op.path:
                raise ValueError(f"{method} {op.path} is registered twice")
        self.operations.append(op)
        return op

    def get(self, path: str, handler: Handler, **options: Any) -> Operation:
        return self.add("GET", path, handler, **options)

    def post(self, path: str, handler: Handler, **options: Any) -> Operation:
        return self.add("POST", path, handler, **options)

    def delete(self, path: str, handler: Handler, **options: Any) -> Operation:
        return self.add("DELETE", path, handler, **options)

    def websocket(self, path: str, handler: SocketHandler, **options: Any) -> Operation:
        """A WebSocket at `path`: its handshake (a GET) passes the guard and the path and query
        models, then `handler(call, socket)` runs; a GET without the handshake is 426."""
        from voltgate.http.sockets import upgrade_required

        failures = (*options.pop("failures", self.defaults.get("failures", ())), 426)
        return self.add(
            "GET", path, upgrade_required, socket=handler, status=101, failures=failures, **options
        )

    def replace(self, op: Operation, **changes: Any) -> None:
        self.operations[self.operations.index(op)] = replace(op, **changes)
