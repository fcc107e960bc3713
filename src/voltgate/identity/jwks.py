"""Remote JSON Web Key Sets (RFC 7517) of external issuers, for verifying their tokens.

A key set is fetched with httpx, kept per issuer and fetched again on an unknown `kid` at most
once per interval; concurrent requests for a fetch share one. Only RS256 (RSA, >= 2048 bits)
and ES256 (P-256) keys are kept, each bound to its one algorithm (RFC 7518 §3.3, §3.4), so a
token cannot choose how its key is used.
"""

from __future__ import annotations

import asyncio
import binascii
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import structlog
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from voltgate.clock import Clock
from voltgate.identity.jwt import b64decode

ALGORITHMS = frozenset({"RS256", "ES256"})
_MIN_RSA_BITS = 2048
_ECDSA = ec.ECDSA(hashes.SHA256())

log = structlog.get_logger("voltgate.identity")


@dataclass(frozen=True, slots=True)
class VerifyKey:
    """A published public key and the one algorithm it verifies."""

    kid: str
    alg: str
    public: rsa.RSAPublicKey | ec.EllipticCurvePublicKey

    def verify(self, signing_input: bytes, signature: bytes) -> bool:
        try:
            if isinstance(self.public, rsa.RSAPublicKey):
                if len(signature) != (self.public.key_size + 7) // 8:
                    return False
                self.public.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
            else:
                if len(signature) != 64:
                    return False
                r = int.from_bytes(signature[:32], "big")
                s = int.from_bytes(signature[32:], "big")
                self.public.verify(encode_dss_signature(r, s), signing_input, _ECDSA)
        except InvalidSignature:
            return False
        return True


class KeySetError(Exception):
    """A key set that could not be fetched or read; the message is safe to log."""


def parse_key_set(body: bytes) -> dict[str, VerifyKey]:
    """The usable signing keys of a JWKS document by kid; keys of other kinds are skipped."""
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise KeySetError("the key set is not JSON") from None
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise KeySetError("the key set has no `keys` list")
    keys: dict[str, VerifyKey] = {}
    for entry in entries:
        key = _key(entry) if isinstance(entry, dict) else None
        if key is not None:
            keys.setdefault(key.kid, key)
    return keys


def _key(jwk: dict[str, Any]) -> VerifyKey | None:
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid or jwk.get("use", "sig") != "sig":
        return None
    ops = jwk.get("key_ops")
    if ops is not None and (not isinstance(ops, list) or "verify" not in ops):
        return None
    try:
        if jwk.get("kty") == "RSA" and jwk.get("alg", "RS256") == "RS256":
            n = int.from_bytes(b64decode(jwk["n"]), "big")
            e = int.from_bytes(b64decode(jwk["e"]), "big")
            rsa_key = rsa.RSAPublicNumbers(e, n).public_key()
            if rsa_key.key_size < _MIN_RSA_BITS:
                return None
            return VerifyKey(kid, "RS256", rsa_key)
        if (
            jwk.get("kty") == "EC"
            and jwk.get("crv") == "P-256"
            and jwk.get("alg", "ES256") == "ES256"
        ):
            x, y = b64decode(jwk["x"]), b64decode(jwk["y"])
            if len(x) != 32 or len(y) != 32:
                return None
            numbers = ec.EllipticCurvePublicNumbers(
                int.from_bytes(x, "big"), int.from_bytes(y, "big"), ec.SECP256R1()
            )
            return VerifyKey(kid, "ES256", numbers.public_key())
    except (KeyError, TypeError, ValueError, binascii.Error):
        return None  # malformed or off-curve: not a key anyone can sign for
    return None


@dataclass(frozen=True, slots=True)
class FetchPolicy:
    min_interval: float  # seconds between fetches of one key set, successful or not
    max_age: float  # seconds after which a key set is fetched again on its next use
    timeout: float  # seconds a fetch gets in all
    max_bytes: int  # the largest key set body read


class RemoteKeys:
    """One issuer's key set, cached; a failed fetch keeps the keys already known."""

    def __init__(self, url: str, clock: Clock, policy: FetchPolicy) -> None:
        self._url = url
        self._clock = clock
        self._policy = policy
        self._keys: dict[str, VerifyKey] = {}
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None
        self._inflight: asyncio.Task[None] | None = None
        self.last_error: str | None = None  # why the latest fetch failed, None after a success

    async def get(self, kid: str) -> VerifyKey | None:
        """The key named `kid`, fetching the set first when it is unknown or old (rate-limited)."""
        key = self._keys.get(kid)
        fresh = (
            self._fetched_at is not None
            and self._clock.now() - self._fetched_at < self._policy.max_age
        )
        if key is not None and fresh:
            return key
        await self._refresh()
        return self._keys.get(kid)

    async def _refresh(self) -> None:
        if self._inflight is None:
            now = self._clock.now()
            if (
                self._attempted_at is not None
                and now - self._attempted_at < self._policy.min_interval
            ):
                return
            self._attempted_at = now
            self._inflight = asyncio.get_running_loop().create_task(self._fetch())
        # Shielded: a waiter that is cancelled must not cancel the fetch others wait for.
        await asyncio.shield(self._inflight)

    async def _fetch(self) -> None:
        try:
            keys = parse_key_set(await self._download())
        except (KeySetError, httpx.HTTPError, TimeoutError, OSError) as exc:
            self.last_error = str(exc) if isinstance(exc, KeySetError) else _describe(exc)
            log.warning("jwks fetch failed", url=self._url, reason=self.last_error)
        else:
            self._keys = keys
            self._fetched_at = self._clock.now()
            self.last_error = None
            log.info("jwks fetched", url=self._url, keys=len(keys))
        finally:
            self._inflight = None

    async def _download(self) -> bytes:
        limit = self._policy.max_bytes
        body = bytearray()
        async with (
            asyncio.timeout(self._policy.timeout),
            httpx.AsyncClient(timeout=self._policy.timeout) as client,
            client.stream("GET", self._url, headers={"accept": "application/json"}) as response,
        ):
            if response.status_code != 200:
                raise KeySetError(f"the key set URL answered HTTP {response.status_code}")
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise KeySetError(f"the key set is larger than {limit} bytes")
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > limit:
                    raise KeySetError(f"the key set is larger than {limit} bytes")
        return bytes(body)


def _describe(exc: Exception) -> str:
    if isinstance(exc, TimeoutError | httpx.TimeoutException):
        return "the key set URL did not answer in time"
    return f"the key set URL could not be reached ({type(exc).__name__})"
