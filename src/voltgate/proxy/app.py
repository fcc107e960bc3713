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
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

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
_CONFIG_BODY = 'the body is {"vins": [VIN, …], "config": {…}}: a config for those vehicles'


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers, media_type="application/json")


def _error(exc: errors.ProxyError) -> Response:
    return _json(exc.status, exc.body(), exc.headers)


def _passed(answer: Answer) -> Response:
    headers = {k: v for k, v in answer.headers.items() if k.lower() not in _HOP}
    return Response(answer.body, answer.status, headers)


def _authorization(request: Request) -> str:
    value = request.headers.get("authorization", "")
    if not value.lower().startswith("bearer ") or len(value) > 8_192:
        raise errors.MissingToken("send the Fleet API token: Authorization: Bearer <token>")
    return value


async def _body(request: Request, error: type[errors.ProxyError] = errors.InvalidCommand) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise error(f"the body is over {MAX_BODY} bytes")
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


class ProxyRoutes:
    def __init__(
        self, commands: Commands, signer: Signer, upstream: Upstream, client: httpx.AsyncClient
    ) -> None:
        self._commands = commands
        self._signer = signer
        self._upstream = upstream
        self._client = client

    async def command(self, request: Request) -> Response:
        try:
            authorization = _authorization(request)
            vin, name = request.path_params["vin"], request.path_params["name"]
            if not _VIN.match(vin):
                raise errors.InvalidCommand("the proxy signs for a vehicle named by its VIN")
            body = _loads(await _body(request), errors.InvalidCommand)
            if not isinstance(body, dict):
                raise errors.InvalidCommand("the body is a JSON object of the command's parameters")
            result, reason = await self._commands.send(vin, name, body, authorization)
        except errors.ProxyError as exc:
            return _error(exc)
        except Passthrough as passed:
            return _passed(passed.answer)
        return _json(200, {"response": {"result": result, "reason": reason}})

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


def create_proxy(
    signer: Signer,
    upstream: str,
    *,
    timeout: float = 10.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    client = httpx.AsyncClient(base_url=upstream, timeout=timeout, transport=transport)
    fleet_api = Upstream(client, Wire(upstream) if transport is None else None, timeout)
    routes = ProxyRoutes(Commands(signer, fleet_api, timeout), signer, fleet_api, client)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await fleet_api.close()
        await client.aclose()

    return Starlette(
        routes=[
            Route("/healthz", _healthz, methods=["GET"]),
            Route("/api/1/vehicles/{vin}/command/{name}", routes.command, methods=["POST"]),
            Route(
                "/api/1/vehicles/fleet_telemetry_config",
                routes.telemetry_config,
                methods=["POST"],
            ),
            Route("/api/1/{path:path}", routes.forward, methods=_METHODS),
        ],
        lifespan=lifespan,
    )


def from_environment() -> Starlette:
    """The proxy worker's factory: settings read once from VOLTGATE_PROXY_*."""
    from voltgate.proxy.config import ProxySettings
    from voltgate.sdk.vehicle_command import load_private_key

    settings = ProxySettings()  # required fields come from VOLTGATE_PROXY_*
    key = load_private_key(settings.key_file.read_bytes())
    return create_proxy(Signer(key), settings.upstream, timeout=settings.timeout)
