"""JWT access tokens (RFC 9068): issuance and verification.

Claims: iss sub aud client_id scope jti iat exp (RFC 9068 §2.2), plus `scp` (the scopes as an
array, as Tesla's tokens carry them), `kind` (third_party, partner, operator, …) and `env`
(sandbox | production) so a deployment can refuse the other environment's tokens by name.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from voltgate.clock import Clock
from voltgate.config import Settings
from voltgate.errors import ExpiredToken, InvalidToken
from voltgate.identity import jwt
from voltgate.identity.keys import KeyManager
from voltgate.ids import unique_token

ACCESS_TOKEN_TYP = "at+jwt"  # noqa: S105 - a media type, not a secret


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: str
    jti: str
    expires_in: int
    expires_at: float
    scope: str

    def response(self) -> dict[str, Any]:
        """The access-token part of a token response (RFC 6749 §5.1)."""
        return {
            "access_token": self.token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": self.scope,
        }


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """A verified access token; `raw` holds every claim for introspection."""

    subject: str
    client_id: str
    scopes: frozenset[str]
    scope: str
    kind: str
    jti: str
    issued_at: float
    expires_at: float
    raw: dict[str, Any]
    family: str | None = None  # `fid`: the grant a delegated token descends from


class UnknownKey(InvalidToken):
    """Signed with a `kid` this process does not know (yet): worth one key reload."""


class TokenService:
    def __init__(self, settings: Settings, keys: KeyManager, clock: Clock) -> None:
        self._issuer = settings.issuer
        self._audience = settings.token_audience
        self._env = settings.environment.value
        self._skew = settings.clock_skew
        self._keys = keys
        self._clock = clock
        # Verified tokens, so the hot path pays for ECDSA once per token, not per request.
        self._verified: OrderedDict[str, AccessClaims] = OrderedDict()
        self._verified_max = 100_000

    def issue(
        self,
        *,
        subject: str,
        client_id: str,
        scopes: tuple[str, ...],
        kind: str,
        ttl: int,
        extra: dict[str, Any] | None = None,
    ) -> IssuedToken:
        ring = self._keys.ring
        assert ring is not None, "keys not loaded"
        now = int(self._clock.now())
        jti = unique_token(16)
        scope = " ".join(scopes)
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "sub": subject,
            "aud": self._audience,
            "client_id": client_id,
            "scope": scope,
            "scp": list(scopes),
            "kind": kind,
            "env": self._env,
            "jti": jti,
            "iat": now,
            "exp": now + ttl,
        }
        if extra:
            claims.update(extra)
        key = ring.active
        token = jwt.sign(key.header(ACCESS_TOKEN_TYP), claims, key.private)
        return IssuedToken(token, jti, ttl, float(now + ttl), scope)

    def verify(self, token: str) -> AccessClaims:
        """Signature, typ, iss, aud, env and exp; revocation is the caller's (the guard's) part."""
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify_uncached(token)
            if len(self._verified) >= self._verified_max:
                self._verified.popitem(last=False)
            self._verified[token] = claims
        if claims.expires_at + self._skew <= self._clock.now():
            self._verified.pop(token, None)
            raise ExpiredToken("the access token has expired")
        return claims

    def forget(self, token: str) -> None:
        self._verified.pop(token, None)

    def peek(self, token: str) -> AccessClaims | None:
        """Verify signature and claims but accept an expired token (revocation, introspection)."""
        cached = self._verified.get(token)
        if cached is not None:
            return cached
        try:
            return self._verify_uncached(token, check_expiry=False)
        except InvalidToken:
            return None

    def _verify_uncached(self, token: str, check_expiry: bool = True) -> AccessClaims:
        try:
            parsed = jwt.parse(token)
        except jwt.JoseError as exc:
            raise InvalidToken(f"the access token is malformed: {exc}") from None
        claims = parsed.claims
        env = claims.get("env")
        if env is not None and env != self._env:
            raise InvalidToken(
                f"the access token was issued for the {env} environment; "
                f"this deployment is {self._env}"
            )
        ring = self._keys.ring
        assert ring is not None, "keys not loaded"
        kid = parsed.header.get("kid")
        if not isinstance(kid, str):
            raise InvalidToken("the access token names no signing key")
        key = ring.get(kid, self._clock.now())
        if key is None:
            raise UnknownKey("the access token signature is invalid")
        if not jwt.verify_signature(parsed, key.public):
            raise InvalidToken("the access token signature is invalid")
        if parsed.header.get("typ") != ACCESS_TOKEN_TYP:
            raise InvalidToken("the token is not an access token")
        if claims.get("iss") != self._issuer or claims.get("aud") != self._audience:
            raise InvalidToken("the access token was issued for another issuer or audience")
        try:
            scope = claims["scope"]
            result = AccessClaims(
                subject=str(claims["sub"]),
                client_id=str(claims["client_id"]),
                scopes=frozenset(scope.split()),
                scope=scope,
                kind=str(claims["kind"]),
                jti=str(claims["jti"]),
                issued_at=float(claims["iat"]),
                expires_at=float(claims["exp"]),
                raw=claims,
                family=claims.get("fid"),
            )
        except (KeyError, TypeError, ValueError, AttributeError):
            raise InvalidToken("the access token is missing required claims") from None
        if check_expiry and result.expires_at + self._skew <= self._clock.now():
            raise ExpiredToken("the access token has expired")
        return result
