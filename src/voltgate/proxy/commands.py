"""A REST vehicle command made into a signed one and carried to Fleet API.

One command at a time per vehicle (a lock per VIN): the vehicle's counters must see this
proxy's commands in the order it signed them. A session per (VIN, domain) is made on first use
and kept (the vehicle's epoch, counter and clock offset), so a command costs one round trip; a
refusal that carries fresh session info (the vehicle restarted, the clock drifted, a counter was
taken) updates the session and the command is signed and sent once more. A vehicle that does
not speak the protocol (Fleet API's 422) gets the REST command unsigned, as before the protocol,
and is remembered as such for an hour.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from voltgate.identity.appkeys import fingerprint
from voltgate.proxy import errors
from voltgate.proxy.wire import Answer, Wire, WireError
from voltgate.sdk.vehicle_command import (
    MessageFault,
    ResponseError,
    SessionInfoRejected,
    Signer,
    VehicleCommandError,
    encode,
    public_bytes,
)
from voltgate.sdk.vehicle_command.locks import VinLocks
from voltgate.sdk.vehicle_command.session import Session

LEGACY_FOR = 3_600.0  # seconds a vehicle without the protocol is sent REST commands unsigned
_MIN_EXPIRY = 1.0


class Passthrough(Exception):
    """Fleet API's own answer, handed back to the caller as it is (the caller's 401, 403, 404,
    or a legacy vehicle's REST answer)."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.status)
        self.answer = answer


class _Legacy(Exception):
    """Fleet API's 422: the vehicle does not speak the protocol."""


def _failure(answer: Answer) -> Exception:
    status = answer.status
    if status == 422:
        return _Legacy()
    if status == 408:
        text = _description(answer)
        if text.endswith("offline"):
            return errors.VehicleOffline(text)
        text = text or "vehicle unavailable: vehicle is offline or asleep"
        return errors.VehicleAsleep(f"{text}: send POST /api/1/vehicles/{{vin}}/wake_up first")
    if status == 429:
        retry = answer.headers.get("retry-after")
        return errors.RateLimited(
            "Fleet API's rate limit: retry later", {"Retry-After": retry} if retry else {}
        )
    if status >= 500:
        return errors.UpstreamError(f"Fleet API answered {status}")
    return Passthrough(answer)


def _description(answer: Answer) -> str:
    try:
        body = orjson.loads(answer.body)
    except orjson.JSONDecodeError:
        return ""
    if not isinstance(body, dict):
        return ""
    text = body.get("error_description") or body.get("error") or ""
    return str(text)[:300]


def unreachable(client: httpx.AsyncClient, why: str | Exception) -> str:
    """What a failure to reach Fleet API says: where, and why in words."""
    if isinstance(why, Exception):
        why = str(why) or type(why).__name__
    return f"Fleet API at {client.base_url} is unreachable ({why}): is --upstream right?"


def answer_of(response: httpx.Response) -> Answer:
    return Answer(response.status_code, dict(response.headers.items()), response.content)


class Upstream:
    """Fleet API, called with the caller's own token: the signed-command round trip on the
    proxy's own client (`wire.py`) unless a test hands in httpx's ASGI transport."""

    def __init__(self, client: httpx.AsyncClient, wire: Wire | None, timeout: float) -> None:
        self._client = client
        self._wire = wire
        self._timeout = timeout

    async def signed_command(self, vin: str, message: bytes, authorization: str) -> bytes:
        body = {"routable_message": base64.b64encode(message).decode()}
        answer = await self._post(f"/api/1/vehicles/{vin}/signed_command", body, authorization)
        if answer.status != 200:
            raise _failure(answer)
        try:
            return base64.b64decode(orjson.loads(answer.body)["response"], validate=True)
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise errors.UpstreamError("Fleet API's answer carries no vehicle reply") from None

    async def command(
        self, vin: str, name: str, body: Mapping[str, Any], authorization: str
    ) -> Answer:
        return await self._post(f"/api/1/vehicles/{vin}/command/{name}", dict(body), authorization)

    async def signed_config(self, vins: list[Any], token: str, authorization: str) -> Answer:
        """Fleet API's answer to a telemetry config signed as a JWS, whatever it is."""
        body = {"vins": vins, "token": token}
        return await self._post("/api/1/vehicles/fleet_telemetry_config_jws", body, authorization)

    async def close(self) -> None:
        if self._wire is not None:
            await self._wire.close()

    async def _post(self, path: str, body: dict[str, Any], authorization: str) -> Answer:
        if self._wire is not None:
            try:
                async with asyncio.timeout(self._timeout):
                    return await self._wire.post(
                        path, orjson.dumps(body), {"Authorization": authorization}
                    )
            except TimeoutError:
                raise errors.Timeout("Fleet API did not answer in time") from None
            except WireError as exc:
                raise errors.UpstreamUnreachable(unreachable(self._client, str(exc))) from None
        try:
            response = await self._client.post(
                path, json=body, headers={"Authorization": authorization}
            )
        except httpx.TimeoutException:
            raise errors.Timeout("Fleet API did not answer in time") from None
        except httpx.TransportError as exc:
            raise errors.UpstreamUnreachable(unreachable(self._client, exc)) from None
        return answer_of(response)


class Commands:
    def __init__(self, signer: Signer, upstream: Upstream, timeout: float) -> None:
        self._signer = signer
        self._key = fingerprint(public_bytes(signer.private_key))
        self._upstream = upstream
        self._timeout = timeout
        self._lock = VinLocks()
        self._legacy: dict[str, float] = {}  # VIN → until when it is sent REST commands

    async def send(
        self, vin: str, name: str, body: Mapping[str, Any], authorization: str
    ) -> tuple[bool, str]:
        """The vehicle's answer to command `name` (result, reason); raises a ProxyError or
        Passthrough."""
        try:
            domain, payload = encode(name, body)
        except VehicleCommandError as exc:
            raise errors.InvalidCommand(str(exc)) from None
        deadline = time.monotonic() + self._timeout
        try:
            async with asyncio.timeout(self._timeout), self._lock(vin):
                if self._legacy.get(vin, 0.0) > time.monotonic():
                    raise Passthrough(await self._upstream.command(vin, name, body, authorization))
                session = self._signer.session(vin, domain)
                try:
                    return await self._signed(session, payload, deadline, authorization)
                except _Legacy:
                    self._legacy[vin] = time.monotonic() + LEGACY_FOR
                    raise Passthrough(
                        await self._upstream.command(vin, name, body, authorization)
                    ) from None
        except TimeoutError:
            raise errors.Timeout(f"no answer from the vehicle within {self._timeout:g} s") from None

    async def _signed(
        self, session: Session, payload: bytes, deadline: float, authorization: str
    ) -> tuple[bool, str]:
        vin = session.vin
        if not session.ready:
            handshake = await self._upstream.signed_command(
                vin, session.session_info_request(), authorization
            )
            _check(self._read(session, handshake).fault, self._key)
        for attempt in range(2):
            expires_in = max(deadline - time.monotonic(), _MIN_EXPIRY)
            message = session.sign(payload, expires_in=expires_in)
            reply = self._read(
                session, await self._upstream.signed_command(vin, message, authorization)
            )
            if reply.fault == MessageFault.NONE:
                return bool(reply.result), reply.reason
            if not (reply.resync and attempt == 0):
                _check(reply.fault, self._key)
        raise AssertionError("unreachable: the second attempt returns or raises")

    @staticmethod
    def _read(session: Session, data: bytes) -> Any:
        try:
            return session.read(data)
        except SessionInfoRejected as exc:
            raise errors.VehicleRejected(
                f"the vehicle's session info is not valid: {exc}"
            ) from None
        except ResponseError as exc:
            raise errors.UpstreamError(f"the vehicle's reply is not one: {exc}") from None


def _check(fault: MessageFault | int, key: str) -> None:
    if fault == MessageFault.NONE:
        return
    if fault == MessageFault.UNKNOWN_KEY_ID:
        raise errors.KeyNotPaired(
            f"the vehicle does not know this proxy's key {key}: its owner must pair the key "
            "your domain hosts (/_ak/<your domain> shows its fingerprint), and --key must be "
            "that key's private half"
        )
    text = fault.description if isinstance(fault, MessageFault) else f"fault {fault}"
    raise errors.VehicleRejected(f"the vehicle refused the command: {text}")
