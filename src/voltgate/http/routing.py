"""The one dispatch path for every API route.

A dialect registers `Operation`s on a `RouteTable`: path, handler, error format, guard, the
models of its path, query and body, its answers. `Router` compiles each into an endpoint once
at start-up (guard bound to the authenticator, rate limit to the limiter, validators built)
and serves them as raw ASGI: an exact path is one dict look-up, a templated one a walk down a
segment trie; nothing is resolved per request. The OpenAPI document is generated from the
same operations (`http.openapi`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar

import orjson
from pydantic import BaseModel
from starlette.types import ASGIApp, Receive, Scope, Send

from voltgate.errors import ErrorFormat, MethodNotAllowed, VoltgateError, challenge_headers
from voltgate.http.guards import Authenticator, Guard, SignatureCheck, Signing
from voltgate.http.request import RawRequest
from voltgate.http.validation import JsonBody, Params, json_object, query_values
from voltgate.identity.guard import Principal

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

    async def send(self, send: Send, *, head: bool = False) -> None:
        headers = [(b"content-length", str(len(self.body)).encode()), *self.headers]
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


class Body:
    """How a route reads its body."""

    __slots__ = ("kind", "model", "optional")

    def __init__(
        self, kind: str, model: type[BaseModel] | None = None, *, optional: bool = False
    ) -> None:
        self.kind = kind
        self.model = model
        self.optional = optional

    @classmethod
    def json(cls, model: type[BaseModel], *, optional: bool = False) -> Body:
        """A JSON object validated by `model` (which refuses unknown fields)."""
        return cls("model", model, optional=optional)

    @classmethod
    def object(cls) -> Body:
        """Nothing, or any JSON object: the handler checks it (`call.body` is a dict)."""
        return cls("object")

    @classmethod
    def raw(cls, model: type[BaseModel] | None = None) -> Body:
        """The bytes, parsed by the handler; `model` documents them."""
        return cls("raw", model)

    @classmethod
    def oauth(cls) -> Body:
        """OAuth parameters, form-encoded (or a JSON object of strings): the handler parses."""
        return cls("oauth")


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

    def replace(self, op: Operation, **changes: Any) -> None:
        self.operations[self.operations.index(op)] = replace(op, **changes)


@dataclass(frozen=True, slots=True)
class Binding:
    """The shared services routes are bound to at start-up."""

    auth: Authenticator
    signatures: SignatureCheck
    limiter: Limiter
    max_body: int


class Endpoint:
    """One operation compiled: each step it needs decided once, none looked up per request."""

    __slots__ = (
        "_auth",
        "_body",
        "_guard",
        "_handler",
        "_limit",
        "_limiter",
        "_max_body",
        "_path",
        "_query",
        "_sensitive",
        "_signatures",
        "_signed",
        "_status",
        "errors",
        "op",
    )

    def __init__(self, op: Operation, binding: Binding) -> None:
        self.op = op
        self.errors = op.errors
        self._handler = op.handler
        self._guard = op.guard
        self._auth = binding.auth
        self._signatures = binding.signatures
        self._signed = op.guard is not None and op.guard.signing is not None
        self._sensitive = op.guard is not None and op.guard.signing is Signing.SENSITIVE
        self._limit = op.limit
        self._limiter = binding.limiter
        self._max_body = binding.max_body
        self._status = op.status
        self._path = None if op.path_model is None else Params(op.path_model, "path")
        self._query = None if op.query is None else Params(op.query, "query")
        self._body: Callable[[bytes, str | None], Any] | None = None
        if op.body is not None:
            if op.body.kind == "model":
                assert op.body.model is not None
                self._body = JsonBody(op.body.model, optional=op.body.optional)
            elif op.body.kind == "object":
                self._body = json_object
            else:
                self._body = _raw

    async def __call__(self, request: RawRequest) -> RawResponse:
        call: Call[Any, Any, Any] = Call(request)
        try:
            if self._guard is not None:
                principal = await self._auth.authenticate(request.header(b"authorization"))
                if self._limit is not None:  # counted before the kind and scopes: a 403 too
                    limit = self._limit
                    await self._limiter.count(call, limit.key(principal), limit.who, limit.prefix)
                call.principal_or_none = self._guard.admit(principal)
            if self._path is not None:
                call.path = self._path(dict(request.params))
            if self._query is not None:
                call.query = self._query(query_values(request.query_string))
            if self._body is not None or self._signed:
                raw = await request.body(self._max_body)
                if self._signed:
                    await self._verify(call, raw)
                if self._body is not None:
                    call.body = self._body(raw, request.header(b"content-type"))
            result = await self._handler(call)
        except VoltgateError as exc:
            return error(exc, self.errors, [*call.headers, *NO_STORE])
        if isinstance(result, RawResponse):
            if call.headers:
                result.headers.extend(call.headers)
            return result
        if result is None:
            return RawResponse(self._status, b"", call.headers)
        return RawResponse(self._status, orjson.dumps(result), [JSON_TYPE, *call.headers])

    async def _verify(self, call: Call[Any, Any, Any], raw: bytes) -> None:
        request = call.request
        await self._signatures(
            call.principal.claims.client_id,
            sensitive=self._sensitive,
            method=request.method,
            target=request.target,
            body=raw,
            timestamp=request.header(b"x-timestamp"),
            signature=request.header(b"x-signature"),
        )


def _raw(raw: bytes, _content_type: str | None) -> bytes:
    return raw


class _Node:
    __slots__ = ("children", "methods", "param", "param_name")

    def __init__(self) -> None:
        self.children: dict[str, _Node] = {}
        self.param: _Node | None = None
        self.param_name = ""
        self.methods: dict[str, Endpoint] | None = None


Match = tuple[dict[str, Endpoint], dict[str, str]]


class Router:
    """ASGI: the API's routes; anything else goes to `fallback` (the pages, or a 404)."""

    def __init__(self, table: RouteTable, binding: Binding, fallback: ASGIApp) -> None:
        self.fallback = fallback
        self.endpoints: list[Endpoint] = []
        self._static: dict[str, dict[str, Endpoint]] = {}
        self._root = _Node()
        for op in table.operations:
            endpoint = Endpoint(op, binding)
            self.endpoints.append(endpoint)
            self._methods(op.path)[op.method] = endpoint

    def _methods(self, path: str) -> dict[str, Endpoint]:
        if "{" not in path:
            return self._static.setdefault(path, {})
        node = self._root
        for segment in path.split("/")[1:]:
            if segment.startswith("{") and segment.endswith("}"):
                name = segment[1:-1]
                if node.param is None:
                    node.param = _Node()
                    node.param_name = name
                elif node.param_name != name:
                    raise ValueError(f"{path}: parameter {name} clashes with {node.param_name}")
                node = node.param
            else:
                node = node.children.setdefault(segment, _Node())
        if node.methods is None:
            node.methods = {}
        return node.methods

    def match(self, path: str) -> Match | None:
        methods = self._static.get(path)
        if methods is not None:
            return methods, {}
        params: dict[str, str] = {}
        found = _walk(self._root, path.split("/"), 1, params)
        return None if found is None else (found, params)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.fallback(scope, receive, send)
            return
        matched = self.match(scope["path"])
        if matched is None:
            await self.fallback(scope, receive, send)
            return
        methods, params = matched
        method = scope["method"]
        endpoint = methods.get(method)
        head = False
        if endpoint is None and method == "HEAD":
            endpoint, head = methods.get("GET"), True
        if endpoint is None:
            response = _not_allowed(methods, method)
        else:
            response = await endpoint(RawRequest(scope, receive, params))
        await response.send(send, head=head)


def _walk(node: _Node, parts: list[str], index: int, params: dict[str, str]) -> Any:
    if index == len(parts):
        return node.methods
    segment = parts[index]
    child = node.children.get(segment)
    if child is not None:
        found = _walk(child, parts, index + 1, params)
        if found is not None:
            return found
    if node.param is not None and segment:
        params[node.param_name] = segment
        found = _walk(node.param, parts, index + 1, params)
        if found is not None:
            return found
        del params[node.param_name]
    return None


def allowed(methods: Mapping[str, Endpoint]) -> str:
    names = list(methods)
    if "GET" in methods:
        names.append("HEAD")
    return ", ".join([*names, "OPTIONS"])


def _not_allowed(methods: Mapping[str, Endpoint], method: str) -> RawResponse:
    allow = allowed(methods)
    if method == "OPTIONS":
        return RawResponse(204, b"", [(b"allow", allow.encode())])
    errors = next(iter(methods.values())).errors
    exc = MethodNotAllowed(f"use {allow} on this path")
    return error(exc, errors, [(b"allow", allow.encode())])
