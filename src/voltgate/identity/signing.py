"""Request signing, the server side: verify `X-Signature` / `X-Timestamp` (see `voltgate.sdk.signer`
for the strings signed: METHOD, PATH, TIMESTAMP and BODY joined by newlines, or concatenated
with nothing between them as Tellus's guide words it; either verifies).

Per client (and device) the mode is `off`, `optional` or `required`. A signature that is
present is always verified, whatever the mode; with signing enabled (optional or required),
sensitive commands (V2G discharge, flexibility) must be signed. Timestamps more than 300 s
from the server's clock are refused, and a signature is accepted once: the replay cache lives
in the coordination port, so it is shared across instances. The secret is taken from its
envelope-encrypted copy for each verification and never kept in plain form.
"""

from __future__ import annotations

import hmac
import re
from enum import StrEnum
from typing import Protocol

from cryptography.exceptions import InvalidTag

from voltgate.cache.port import Coordinator
from voltgate.clock import Clock
from voltgate.errors import InvalidToken, VoltgateError
from voltgate.identity.clients import ClientRegistry
from voltgate.identity.secrets import Envelope
from voltgate.sdk.signer import canonical, concatenated

WINDOW = 300
_HEX = frozenset("0123456789abcdef")
# ASCII digits without a leading zero: one way to write a time, so the concatenated form
# cannot move digits between a path ending in digits and the timestamp (a timestamp within
# the window has exactly one length).
_UNIX_SECONDS = re.compile(r"[1-9][0-9]{0,11}")
_SHOWN_PATH = 200


class SigningMode(StrEnum):
    OFF = "off"
    OPTIONAL = "optional"
    REQUIRED = "required"


class InvalidSignature(VoltgateError):
    error = "invalid_signature"
    status_code = 401
    code = 2001


class RequestVerifier:
    def __init__(self, envelope: Envelope, coordinator: Coordinator, clock: Clock) -> None:
        self._envelope = envelope
        self._coordinator = coordinator
        self._clock = clock
        self.failures = 0  # requests refused for their signature

    async def verify(
        self,
        *,
        mode: str,
        sensitive: bool,
        method: str,
        path: str,
        body: bytes,
        timestamp: str | None,
        signature: str | None,
        sealed_secrets: list[tuple[str, str]],
    ) -> bool:
        """True when the request was signed and verified; False when unsigned and allowed.

        `sealed_secrets` are (sealed secret, envelope context) pairs, newest first: during a
        secret rotation's overlap either secret verifies.
        """
        try:
            if signature is None and timestamp is None:
                if mode == SigningMode.REQUIRED:
                    raise InvalidSignature("this client requires signed requests: send X-Signature")
                if sensitive and mode == SigningMode.OPTIONAL:
                    raise InvalidSignature("this command must be signed: send X-Signature")
                return False
            if signature is None:
                raise InvalidSignature("X-Timestamp was sent without X-Signature")
            if timestamp is None:
                raise InvalidSignature("X-Signature was sent without X-Timestamp")
            self._check_time(timestamp)
            if len(signature) != 64 or not set(signature) <= _HEX:
                raise InvalidSignature(
                    "X-Signature must be 64 lowercase hex characters (HMAC-SHA256)"
                )
            forms = (
                canonical(method, path, timestamp, body),
                concatenated(method, path, timestamp, body),
            )
            if not self._matches(forms, signature, sealed_secrets):
                raise InvalidSignature(_mismatch(method, path, timestamp, body))
            # Claimed only once verified, so forgeries cannot fill the cache.
            if not await self._coordinator.claim_once(f"sig:{signature}", ttl=2 * WINDOW + 1):
                raise InvalidSignature("this signature was already used (replay)")
            return True
        except InvalidSignature:
            self.failures += 1
            raise

    def _check_time(self, value: str) -> None:
        if _UNIX_SECONDS.fullmatch(value) is None:
            raise InvalidSignature("X-Timestamp must be Unix seconds (ASCII digits, no leading 0)")
        at = int(value)
        drift = at - self._clock.now()
        if drift < -WINDOW:
            raise InvalidSignature(f"X-Timestamp is stale: {int(-drift)} s old (limit {WINDOW} s)")
        if drift > WINDOW:
            raise InvalidSignature(
                f"X-Timestamp is {int(drift)} s in the future (limit {WINDOW} s)"
            )

    def _matches(
        self, forms: tuple[bytes, ...], signature: str, sealed: list[tuple[str, str]]
    ) -> bool:
        matched = False
        for sealed_secret, context in sealed:
            try:
                secret = self._envelope.open(sealed_secret, context)
            except (ValueError, InvalidTag):
                continue
            for message in forms:  # every form compared: the time does not tell which matched
                expected = hmac.new(secret, message, "sha256").hexdigest()
                matched |= hmac.compare_digest(expected, signature)
        return matched


def _mismatch(method: str, path: str, timestamp: str, body: bytes) -> str:
    """What to sign, with this request's own parts, for the 401 that says it was not."""
    shown = path if len(path) <= _SHOWN_PATH else f"{path[:_SHOWN_PATH]}…"
    return (
        "X-Signature does not match: wrong secret, or the method, path, timestamp or body "
        "differ from what was signed. Sign METHOD + PATH + TIMESTAMP + BODY with HMAC-SHA256 "
        f'keyed by your secret, as lowercase hex; here "{method.upper()}" + "{shown}" + '
        f'"{timestamp}" + the {len(body)} body bytes exactly as sent, either concatenated '
        'with nothing between them or joined by "\\n"'
    )


class SecretSource(Protocol):
    async def signing_secrets(self, client_id: str) -> list[tuple[str, str]]: ...


class SignedRequests:
    """A request's signature checked against its client's own mode and secrets."""

    def __init__(
        self, clients: ClientRegistry, secrets: SecretSource, verifier: RequestVerifier
    ) -> None:
        self._clients = clients
        self._secrets = secrets
        self._verifier = verifier

    async def __call__(
        self,
        client_id: str,
        *,
        sensitive: bool,
        method: str,
        target: str,
        body: bytes,
        timestamp: str | None,
        signature: str | None,
    ) -> bool:
        """True if signed and verified, False if unsigned and allowed; else 401."""
        client = await self._clients.get(client_id)
        if client is None:
            raise InvalidToken("the client of this access token no longer exists")
        # Unsigned requests (the common case) never open a sealed secret.
        sealed = [] if signature is None else await self._secrets.signing_secrets(client_id)
        return await self._verifier.verify(
            mode=client.signing,
            sensitive=sensitive,
            method=method,
            path=target,
            body=body,
            timestamp=timestamp,
            signature=signature,
            sealed_secrets=sealed,
        )
