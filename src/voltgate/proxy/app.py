"""The proxy's HTTP side: `POST /api/1/vehicles/{VIN}/command/{name}` signed (`commands.py`),
`POST /api/1/vehicles/fleet_telemetry_config` signed as a JWS and sent to
`fleet_telemetry_config_jws`, every other `/api/1/*` call forwarded to Fleet API as it came,
with the caller's token.

Answers: `{"response": {"result": bool, "reason": str}}` for a command the vehicle answered;
Fleet API's own answer where it refused the caller (401, 403, 404) or for a legacy vehicle's
REST command; otherwise one of the proxy's errors (`errors.py`), never a bare 500.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, Router

from voltgate.proxy import errors
from voltgate.proxy.commands import Commands, Passthrough, Upstream, answer_of, unreachable
from voltgate.proxy.wire import Answer, Wire
from voltgate.sdk.vehicle_command import Signer, jws

MAX_BODY = 1_048_576
_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
# Headers that belong to one hop, not to the request or answer carried.
_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "content-encoding",
    }
)
_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]
# The signed-command route, as Starlette's `{vin}` and `{name}` would match it.
_COMMAND = re.compile(r"^/api/1/vehicles/([^/]+)/command/([^/]+)$")
_JSON_TYPE = (b"content-type", b"application/json")
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
_CONFIG_BODY = 'the body is {"vins": [VIN, …], "config": {…}}: a config for those vehicles'


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def _error(exc: errors.ProxyError) -> Response:
    return _json(exc.status, exc.body(), exc.headers)


def _passed(answer: Answer) -> Response:
    headers = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
    return Response(answer.body, answer.status, headers)


def _bearer(value: str) -> str:
    if not value.lower().startswith("bearer ") or len(value) > 8_192:
        raise errors.MissingToken("send the Fleet API token: Authorization: Bearer <token>")
    return value


def _authorization(request: Request) -> str:
    return _bearer(request.headers.get("authorization", ""))


def _too_long(declared: str | None, error: type[errors.ProxyError]) -> None:
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise error(f"the body is over {MAX_BODY} bytes")


async def _body(request: Request, error: type[errors.ProxyError] = errors.InvalidCommand) -> bytes:
    _too_long(request.headers.get("content-length"), error)
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise error(f"the body is over {MAX_BODY} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _loads(raw: bytes, error: type[errors.ProxyError]) -> Any:
    try:
        return orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError:
        raise error("the body is not JSON") from None


class _Gone(Exception):
    """The caller disconnected before its body was whole: nobody to answer."""


# A command's answer as ASGI takes it: status, body, headers beyond the length.
Raw = tuple[int, bytes, list[tuple[bytes, bytes]]]


def _raw_json(status: int, body: Any, headers: dict[str, str] | None = None) -> Raw:
    extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    return status, orjson.dumps(body), [_JSON_TYPE, *extra]


def _raw_passed(answer: Answer) -> Raw:
    headers = [
        (k.lower().encode("latin-1"), v.encode("latin-1"))
        for k, v in answer.headers.items()
        if k.lower() not in _HOP
    ]
    return answer.status, answer.body, headers


class ProxyRoutes:
    def __init__(
        self, commands: Commands, signer: Signer, upstream: Upstream, client: httpx.AsyncClient
    ) -> None:
        self._commands = commands
        self._signer = signer
        self._upstream = upstream
        self._client = client

    async def command(
        self, vin: str, name: str, authorization: str, body: Callable[[], Awaitable[bytes]]
    ) -> Raw:
        """`POST /api/1/vehicles/{vin}/command/{name}` on plain values: `body()` reads the
        request's body (after the token and the VIN are checked, as they were first)."""
        try:
            authorization = _bearer(authorization)
            if not _VIN.match(vin):
                raise errors.InvalidCommand("the proxy signs for a vehicle named by its VIN")
            params = _loads(await body(), errors.InvalidCommand)
            if not isinstance(params, dict):
                raise errors.InvalidCommand("the body is a JSON object of the command's parameters")
            result, reason = await self._commands.send(vin, name, params, authorization)
        except errors.ProxyError as exc:
            return _raw_json(exc.status, exc.body(), exc.headers)
        except Passthrough as passed:
            return _raw_passed(passed.answer)
        return _raw_json(200, {"response": {"result": result, "reason": reason}})

    async def telemetry_config(self, request: Request) -> Response:
        """A fleet telemetry config signed with the proxy's key as a JWS and sent to
        `fleet_telemetry_config_jws` with the caller's token: Fleet API's answer as it is."""
        try:
            authorization = _authorization(request)
            body = _loads(await _body(request, errors.InvalidConfig), errors.InvalidConfig)
            if not isinstance(body, dict) or set(body) != {"vins", "config"}:
                raise errors.InvalidConfig(_CONFIG_BODY)
            vins, config = body["vins"], body["config"]
            if not isinstance(vins, list) or not isinstance(config, dict):
                raise errors.InvalidConfig(_CONFIG_BODY)
            # As the published proxy does: `iss` and `aud` in the config are overwritten.
            token = jws.sign_fleet_config(self._signer.private_key, config)
            answer = await self._upstream.signed_config(vins, token, authorization)
        except errors.ProxyError as exc:
            return _error(exc)
        return _passed(answer)

    async def forward(self, request: Request) -> Response:
        """Any other Fleet API call, as it came (the token is Fleet API's to check)."""
        try:
            raw = await _body(request)
            headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
            upstream = self._client.build_request(
                request.method,
                request.url.path,
                params=request.url.query,
                content=raw,
                headers=headers,
            )
            try:
                response = await self._client.send(upstream)
            except httpx.TimeoutException:
                raise errors.Timeout("Fleet API did not answer in time") from None
            except httpx.TransportError as exc:
                raise errors.UpstreamUnreachable(unreachable(self._client, exc)) from None
        except errors.ProxyError as exc:
            return _error(exc)
        return _passed(answer_of(response))


async def _healthz(_request: Request) -> Response:
    return _json(200, {"status": "ok"})


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of header `name` (lower case), as Starlette's Headers.get gives it."""
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


async def _received(receive: Receive, declared: str | None) -> bytes:
    _too_long(declared, errors.InvalidCommand)
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Gone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise errors.InvalidCommand(f"the body is over {MAX_BODY} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


class ProxyApp:
    """The proxy as an ASGI callable. `POST /api/1/vehicles/{vin}/command/{name}`, its hot
    path, is answered on the ASGI messages themselves (no router, no Request and Response
    objects); everything else, lifespan included, goes through Starlette's routes."""

    def __init__(self, routes: ProxyRoutes, rest: Starlette) -> None:
        self._routes = routes
        self._rest = rest
        self.router: Router = rest.router  # its lifespan_context, for whoever runs the app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            matched = _COMMAND.match(scope["path"])
            if matched is not None:
                await self._command(scope, receive, send, matched[1], matched[2])
                return
        await self._rest(scope, receive, send)

    async def _command(
        self, scope: Scope, receive: Receive, send: Send, vin: str, name: str
    ) -> None:
        async def body() -> bytes:
            return await _received(receive, _header(scope, b"content-length"))

        started = False
        try:
            authorization = _header(scope, b"authorization") or ""
            status, content, headers = await self._routes.command(vin, name, authorization, body)
            headers.append((b"content-length", str(len(content)).encode()))
            started = True
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send({"type": "http.response.body", "body": content})
        except _Gone:
            return
        except Exception:  # as Starlette's ServerErrorMiddleware: a plain 500, then raised
            if not started:
                text = b"Internal Server Error"
                await send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(text)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": text})
            raise


def create_proxy(
    signer: Signer,
    upstream: str,
    *,
    timeout: float = 10.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> ProxyApp:
    client = httpx.AsyncClient(base_url=upstream, timeout=timeout, transport=transport)
    fleet_api = Upstream(client, Wire(upstream) if transport is None else None, timeout)
    routes = ProxyRoutes(Commands(signer, fleet_api, timeout), signer, fleet_api, client)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await fleet_api.close()
        await client.aclose()

    rest = Starlette(
        routes=[
            Route("/healthz", _healthz, methods=["GET"]),
            Route(
                "/api/1/vehicles/fleet_telemetry_config",
                routes.telemetry_config,
                methods=["POST"],
            ),
            Route("/api/1/{path:path}", routes.forward, methods=_METHODS),
        ],
        lifespan=lifespan,
    )
    return ProxyApp(routes, rest)
