"""Signed commands over Fleet API's HTTP, the app's side: a REST command (`set_charge_limit`,
`{"percent": 80}`) encoded, signed with the app's key (`Signer`) and sent as
`POST /api/1/vehicles/{vin}/signed_command`, the vehicle's reply read.

One command at a time per vehicle (its counters must see them in the order they were signed).
The first command to a vehicle's domain makes the session (a handshake); later ones reuse it
(one round trip). A refusal carrying fresh session info (the vehicle restarted: a new epoch; a
clock or counter out of step) updates the session, and the command is signed and sent once
more. HTTP goes through `post(path, json)`, e.g. `AsyncApiClient.request` bound to POST, which
brings the caller's token. (Here, not in `vehicle_command`, which imports no HTTP client.)

    post = lambda path, json: api.request("POST", path, json=json)
    commands = SignedCommands(Signer(load_private_key(pem)), post)
    result, reason = await commands.send(vin, "set_charge_limit", {"percent": 80})
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from voltgate.sdk.vehicle_command import (
    MessageFault,
    Reply,
    ResponseError,
    Session,
    Signer,
    VehicleCommandError,
    encode,
)
from voltgate.sdk.vehicle_command.locks import VinLocks
from voltgate.sdk.vehicle_command.session import DEFAULT_EXPIRY

Post = Callable[[str, dict[str, Any]], Awaitable[httpx.Response]]


class ProtocolUnsupported(VehicleCommandError):
    """Fleet API's 422: the vehicle does not speak the protocol (send the REST command)."""


class KeyNotPaired(VehicleCommandError):
    """The vehicle does not know the app's key (`UNKNOWN_KEY_ID`): its owner must pair it, at
    `/_ak/<the app's domain>` on the server (Tesla: `tesla.com/_ak/<domain>`)."""

    fault = MessageFault.UNKNOWN_KEY_ID


class VehicleRefused(VehicleCommandError):
    """The vehicle refused the message for another reason (`fault` names it)."""

    def __init__(self, fault: MessageFault | int, reason: str) -> None:
        super().__init__(reason)
        self.fault = fault if isinstance(fault, MessageFault) else MessageFault.BAD_PARAMETER
        self.code = int(fault)


class SignedCommands:
    def __init__(self, signer: Signer, post: Post, *, expires_in: float = DEFAULT_EXPIRY) -> None:
        self.signer = signer
        self._post = post
        self._expires_in = expires_in
        self._lock = VinLocks()

    async def send(
        self, vin: str, name: str, body: Mapping[str, Any] | None = None
    ) -> tuple[bool, str]:
        """The vehicle's answer (result, reason) to command `name`. Raises CommandBodyError or
        UnsupportedCommand before sending anything, ProtocolUnsupported, KeyNotPaired,
        VehicleRefused, ResponseError, SessionInfoRejected, or httpx's errors (a non-2xx answer
        other than 422: `httpx.HTTPStatusError`)."""
        domain, payload = encode(name, body)
        async with self._lock(vin):
            session = self.signer.session(vin, domain)
            if not session.ready:
                _check(await self._exchange(session, session.session_info_request()))
            for attempt in (1, 2):
                message = session.sign(payload, expires_in=self._expires_in)
                reply = await self._exchange(session, message)
                if reply.fault == MessageFault.NONE:
                    return bool(reply.result), reply.reason
                if not (reply.resync and attempt == 1):
                    _check(reply)
        raise AssertionError("unreachable: the second attempt returns or raises")

    async def _exchange(self, session: Session, message: bytes) -> Reply:
        path = f"/api/1/vehicles/{session.vin}/signed_command"
        answer = await self._post(path, {"routable_message": base64.b64encode(message).decode()})
        if answer.status_code == 422:
            raise ProtocolUnsupported(f"{session.vin} does not speak the vehicle command protocol")
        answer.raise_for_status()
        try:
            data = base64.b64decode(answer.json()["response"], validate=True)
        except (ValueError, KeyError, TypeError, binascii.Error):
            raise ResponseError("the answer carries no vehicle reply") from None
        return session.read(data)


def _check(reply: Reply) -> None:
    if reply.fault == MessageFault.NONE:
        return
    if reply.fault == MessageFault.UNKNOWN_KEY_ID:
        raise KeyNotPaired("the vehicle does not know this app's key: its owner must pair it")
    raise VehicleRefused(reply.fault, f"the vehicle refused the message: {reply.reason}")
