"""The one dispatch path for every API route.

`Router` compiles each registered `Operation` into an `Endpoint` once at start-up (its guard
bound to the authenticator, its rate limit to the limiter, its validators built) and serves
them as raw ASGI: an exact path is one dict look-up, a templated one a walk down a segment
trie; nothing is resolved per request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import orjson
from starlette.types import ASGIApp, Receive, Scope, Send

from voltgate.clock import Clock
from voltgate.errors import MethodNotAllowed, VoltgateError
from voltgate.http.guards import Authenticator, SignatureCheck, Signing
from voltgate.http.kept import Kept
from voltgate.http.request import RawRequest
from voltgate.http.routing import (
    JSON_TYPE,
    NO_STORE,
    Call,
    Limiter,
    Operation,
    RawResponse,
    RouteTable,
    error,
)
from voltgate.http.sockets import serve as serve_socket
from voltgate.http.validation import JsonBody, Params, json_object, query_values
from voltgate.identity.usage import Usage
from voltgate.metrics.requests import Requests
from voltgate.observability import crashed, log_request, request_id


@dataclass(frozen=True, slots=True)
class Binding:
    """The shared services routes are bound to at start-up; `max_body` is the largest body
    any route reads (a route's `Body.max_bytes` may lower it for that route)."""

    auth: Authenticator
    signatures: SignatureCheck
    limiter: Limiter
    max_body: int
    clock: Clock
    kept: Kept
    requests: Requests = field(default_factory=Requests)  # each route's latency series
    usage: Usage | None = None  # each app's refused requests (errors, rate limits) per minute


class Endpoint:
    """One operation compiled: each step it needs decided once, none looked up per request."""

    __slots__ = (
        "_auth",
        "_body",
        "_clock",
        "_guard",
        "_handler",
        "_keep",
        "_kept",
        "_limit",
        "_limiter",
        "_max_body",
        "_path",
        "_query",
        "_sensitive",
        "_signatures",
        "_signed",
        "_status",
        "_usage",
        "errors",
        "op",
        "series",
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
        cap = None if op.body is None else op.body.max_bytes
        self._max_body = binding.max_body if cap is None else min(cap, binding.max_body)
        self._status = op.status
        self._keep = op.keep
        self._kept = binding.kept
        self._clock = binding.clock
        self._usage = binding.usage
        self.series = binding.requests.route(op.method, op.path, op.dialect)
        if op.keep is not None and (op.guard is None or op.method != "GET" or op.body):
            raise ValueError(f"{op.path}: only a guarded GET keeps its answers")
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
        client_id: str | None = None
        try:
            if self._guard is not None:
                principal = await self._auth.authenticate(request.header(b"authorization"))
                client_id = principal.claims.client_id
                if self._limit is not None:  # counted before the kind and scopes: a 403 too
                    limit = self._limit
                    await self._limiter.count(call, limit.key(principal), limit.who, limit.prefix)
                call.principal_or_none = self._guard.admit(principal)
                if self._keep is not None:
                    return await self._kept_answer(call)
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
            if client_id is not None and self._usage is not None:
                self._usage.answered(client_id, exc.status_code)
            return error(exc, self.errors, [*call.headers, *NO_STORE])
        if isinstance(result, RawResponse):
            if call.headers:
                result.headers.extend(call.headers)
            return result
        if result is None:
            return RawResponse(self._status, b"", call.headers)
        return RawResponse(self._status, orjson.dumps(result), [JSON_TYPE, *call.headers])

    async def admit(self, call: Call[Any, Any, Any], authorization: str | None) -> None:
        """A WebSocket handshake's checks, those of a request without a body: the guard (and
        the rate limit), then the path and query."""
        if self._guard is not None:
            principal = await self._auth.authenticate(authorization)
            if self._limit is not None:
                limit = self._limit
                await self._limiter.count(call, limit.key(principal), limit.who, limit.prefix)
            call.principal_or_none = self._guard.admit(principal)
        if self._path is not None:
            call.path = self._path(dict(call.request.params))
        if self._query is not None:
            call.query = self._query(query_values(call.request.query_string))

    async def _kept_answer(self, call: Call[Any, Any, Any]) -> RawResponse:
        """The answer kept for this caller and request if still good, else made and kept."""
        assert self._keep is not None
        request, claims = call.request, call.principal.claims
        key = (
            self,
            claims.client_id,
            claims.subject,
            claims.scope,
            *request.params.values(),
            request.query_string,
        )
        version = self._keep.version(call)  # read before the handler awaits anything
        now = self._clock.now()
        kept = self._kept
        found = kept.get(key, version, now, self._keep.seconds)
        if found is None:
            flight = kept.flight(key, version)
            if flight is not None:  # being made: wait for it rather than make it again
                found = await asyncio.shield(flight)
        if found is not None:
            return RawResponse(self._status, found[0], [JSON_TYPE, *found[1], *call.headers])
        before = len(call.headers)
        future = kept.take_off(key, version)
        made: tuple[bytes, list[tuple[bytes, bytes]]] | None = None
        try:
            if self._path is not None:
                call.path = self._path(dict(request.params))
            if self._query is not None:
                call.query = self._query(query_values(request.query_string))
            result = await self._handler(call)
            if isinstance(result, RawResponse):
                result.headers.extend(call.headers)
                return result
            body = orjson.dumps(result)
            made = body, call.headers[before:]
            kept.put(key, version, now, *made)
            return RawResponse(self._status, body, [JSON_TYPE, *call.headers])
        finally:
            kept.land(key, future, made)

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
            await self._other(scope, receive, send)
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
        # The request's id, access line and 500 as `RequestContext` gives the pages, inline:
        # no wrapper around `send`. The one place a request is measured: its route's series,
        # bound at start-up.
        rid = request_id(scope)
        started, status, answering = perf_counter(), 500, False
        try:
            if endpoint is None:
                response = _not_allowed(methods, method)
            else:
                response = await endpoint(RawRequest(scope, receive, params))
            status = response.status
            answering = True
            await response.send(send, head=head, request_id=rid.encode())
        except Exception:
            await crashed(scope, send, rid, answered=answering)
        finally:
            seconds = perf_counter() - started
            if endpoint is not None:
                endpoint.series.observe(status, seconds)
            log_request(scope, status, seconds, rid)

    async def _other(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A WebSocket on a WebSocket route; anything else (or elsewhere) to the fallback."""
        matched = self.match(scope["path"]) if scope["type"] == "websocket" else None
        endpoint = None if matched is None else matched[0].get("GET")
        if endpoint is None or endpoint.op.socket is None:
            await self.fallback(scope, receive, send)
            return
        await serve_socket(endpoint, scope, receive, send, matched[1] if matched else {})


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
