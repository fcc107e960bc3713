"""Access tokens of external identity providers (Auth0-style) accepted as bearer.

A token is a JWS (RFC 7515) signed RS256 or ES256 by a key in its issuer's published JWKS,
with the JWT claims of RFC 7519 §4.1 checked as RFC 9068 §4 asks of a resource server: `iss`
exactly one configured issuer, `aud` its audience, `exp`/`nbf`/`iat` within the clock skew.
The issuer is chosen by the unverified `iss`, then everything is checked against that issuer
alone; the key is chosen by `kid` and fixes the algorithm, never the header's `jku`/`jwk`.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from voltgate.clock import Clock
from voltgate.config import ExternalIdp, Settings
from voltgate.errors import ExpiredToken, InvalidToken
from voltgate.identity import jwt
from voltgate.identity.jwks import ALGORITHMS, FetchPolicy, RemoteKeys

_MAX_TOKEN = 16 * 1024
_COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class ExternalIdentity:
    """A verified external access token: who it names and until when."""

    issuer: str
    subject: str
    user_claim_value: str  # the configured user claim's value (`sub` unless set otherwise)
    email: str | None
    expires_at: float
    claims: dict[str, Any]
    create_users: bool  # whether the issuer is configured to create unknown users


@dataclass(frozen=True, slots=True)
class _Issuer:
    config: ExternalIdp
    keys: RemoteKeys


class ExternalTokens:
    """Verifies external access tokens; each verified token is kept until its `exp`."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        policy = FetchPolicy(
            min_interval=settings.external_idp_jwks_min_interval,
            max_age=settings.external_idp_jwks_max_age,
            timeout=settings.external_idp_jwks_timeout,
            max_bytes=settings.external_idp_jwks_max_bytes,
        )
        self._issuers = {
            idp.issuer: _Issuer(idp, RemoteKeys(idp.jwks_url, clock, policy))
            for idp in settings.external_issuers
        }
        self._clock = clock
        self._skew = settings.clock_skew
        # By SHA-256 of the token, so the hot path pays for the signature once per token.
        self._verified: OrderedDict[bytes, ExternalIdentity] = OrderedDict()
        self._verified_max = 100_000

    @property
    def issuers(self) -> tuple[str, ...]:
        return tuple(self._issuers)

    def recognises(self, token: str) -> bool:
        """Whether `token` looks like a JWT naming a configured issuer (nothing is verified):
        lets a caller that accepts several bearer kinds pick this verifier."""
        try:
            issuer = _parse(token).claims.get("iss")
        except InvalidToken:
            return False
        return isinstance(issuer, str) and issuer in self._issuers

    async def verify(self, token: str) -> ExternalIdentity:
        """The identity an external access token names; raises InvalidToken or ExpiredToken."""
        if len(token) > _MAX_TOKEN or not token.isascii():
            raise InvalidToken("the access token is malformed")
        digest = hashlib.sha256(token.encode("ascii")).digest()
        identity = self._verified.get(digest)
        if identity is None:
            identity = await self._verify_uncached(token)
            if len(self._verified) >= self._verified_max:
                self._verified.popitem(last=False)
            self._verified[digest] = identity
        if self._clock.now() >= identity.expires_at + self._skew:
            self._verified.pop(digest, None)
            raise _expired()
        return identity

    async def _verify_uncached(self, token: str) -> ExternalIdentity:
        jws = _parse(token)
        header, claims = jws.header, jws.claims
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise InvalidToken("the access token's algorithm is not accepted (RS256 or ES256)")
        if "crit" in header:
            raise InvalidToken("the access token names critical header extensions")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise InvalidToken("the access token names no signing key (kid)")
        iss = claims.get("iss")
        issuer = self._issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise InvalidToken(
                "the access token was issued by an issuer this server does not trust"
            )
        key = await issuer.keys.get(kid)
        if key is None:
            unavailable = issuer.keys.last_error
            reason = f" (its key set is unavailable: {unavailable})" if unavailable else ""
            raise InvalidToken(
                f"the access token is signed with a key {issuer.config.issuer} does not publish"
                + reason
            )
        if key.alg != alg:
            raise InvalidToken("the access token's algorithm does not match its signing key")
        if not key.verify(jws.signing_input, jws.signature):
            raise InvalidToken("the access token signature is invalid")
        return self._identity(issuer.config, claims)

    def _identity(self, idp: ExternalIdp, claims: dict[str, Any]) -> ExternalIdentity:
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if idp.audience not in audiences:
            raise InvalidToken("the access token was issued for another audience")
        now = self._clock.now()
        expires_at = _time(claims, "exp")
        if expires_at is None:
            raise InvalidToken("the access token has no expiry (exp)")
        if now >= expires_at + self._skew:
            raise _expired()
        not_before = _time(claims, "nbf")
        if not_before is not None and now + self._skew < not_before:
            raise InvalidToken("the access token is not valid yet (nbf)")
        issued_at = _time(claims, "iat")
        if issued_at is not None and now + self._skew < issued_at:
            raise InvalidToken("the access token was issued in the future (iat)")
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject:
            raise InvalidToken("the access token names no subject (sub)")
        user = claims.get(idp.user_claim)
        if isinstance(user, int) and not isinstance(user, bool):
            user = str(user)
        if not isinstance(user, str) or not user:
            raise InvalidToken(
                f"the access token lacks the claim naming the user ({idp.user_claim})"
            )
        email = claims.get(idp.email_claim)
        return ExternalIdentity(
            issuer=idp.issuer,
            subject=subject,
            user_claim_value=user,
            email=email if isinstance(email, str) and email else None,
            expires_at=expires_at,
            claims=claims,
            create_users=idp.create_users,
        )


def external_tokens(settings: Settings, clock: Clock) -> ExternalTokens | None:
    """The verifier of the configured external IdPs, or None when none is configured."""
    return ExternalTokens(settings, clock) if settings.external_issuers else None


def _parse(token: str) -> jwt.Parsed:
    """Split and decode without verifying (RFC 7515 §7.1), as the identity core does."""
    if not _COMPACT.fullmatch(token):
        raise InvalidToken("the access token is malformed")
    try:
        return jwt.split(token, _MAX_TOKEN)
    except jwt.JoseError:
        raise InvalidToken("the access token is malformed") from None


def _time(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidToken(f"the access token's {name} is not a NumericDate")
    return float(value)


def _expired() -> ExpiredToken:
    return ExpiredToken("the access token has expired: sign in with the identity provider again")
