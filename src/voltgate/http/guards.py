"""What a route demands of its caller, declared with the route and bound once at start-up:
a bearer token (RFC 6750) of some kinds with some scopes, and optionally a signature.

Checks run in a fixed order: the token (401), its kind (403 naming the kinds), its scopes
(403 naming them), then the signature (401) once the body is read.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from typing import Protocol

from voltgate.identity.guard import Principal


class Signing(Enum):
    ROUTINE = "routine"  # signed when the caller's mode is `required`
    SENSITIVE = "sensitive"  # signed when the caller's mode is `optional` or `required`


@dataclass(frozen=True, slots=True)
class Guard:
    kinds: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()
    any_of: bool = False
    signing: Signing | None = None

    def signed(self, signing: Signing = Signing.ROUTINE) -> Guard:
        return replace(self, signing=signing)

    def admit(self, principal: Principal) -> Principal:
        """The route's kind check (403 naming the kinds), then its scopes (403 naming them)."""
        if self.kinds:
            principal.require_kind(*self.kinds)
        if self.scopes:
            if self.any_of:
                principal.require_any(*self.scopes)
            else:
                principal.require(*self.scopes)
        return principal


ANY_TOKEN = Guard()


class Authenticator(Protocol):
    async def authenticate(self, authorization: str | None) -> Principal: ...


class SignatureCheck(Protocol):
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
