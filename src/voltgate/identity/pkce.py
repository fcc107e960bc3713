"""PKCE (RFC 7636): S256 only; `plain` is refused (§4.2 allows it, OAuth 2.1 drops it)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from voltgate.errors import InvalidGrant, InvalidRequest


@dataclass(frozen=True, slots=True)
class Verifiers:
    """The code verifiers a token path accepts, and how its error describes them."""

    pattern: re.Pattern[str]
    described: str

    def match(self, verifier: str) -> bool:
        return self.pattern.match(verifier) is not None


VERIFIER = Verifiers(
    re.compile(r"^[A-Za-z0-9\-._~]{43,128}$"), "43-128 unreserved characters"
)  # §4.1
# What ev.energy's guide makes: URL-safe base64 of 43-128 characters, `=`-padded (60-172).
BASE64_VERIFIER = Verifiers(
    re.compile(r"^(?:[A-Za-z0-9\-._~]{43,128}|[A-Za-z0-9\-_]{58,172}={0,2})$"),
    "43-128 unreserved characters, or URL-safe base64 of them",
)
_CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")


def check_challenge(challenge: str | None, method: str | None) -> str | None:
    """Validate an authorization request's challenge (§4.3); None when none was sent."""
    if challenge is None:
        if method is not None:
            raise InvalidRequest("code_challenge_method without code_challenge")
        return None
    if (method or "plain") != "S256":
        raise InvalidRequest("code_challenge_method must be S256 (plain is not accepted)")
    if not _CHALLENGE.match(challenge):
        raise InvalidRequest("code_challenge must be 43 base64url characters (S256)")
    return challenge


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def verify(challenge: str | None, verifier: str | None, shape: Verifiers = VERIFIER) -> None:
    """§4.6: a challenge needs the matching verifier; a verifier needs a challenge. `shape`:
    the verifiers accepted (RFC 7636's unless a dialect's guide makes others)."""
    if challenge is None:
        if verifier is not None:
            raise InvalidGrant("code_verifier sent but the authorization request had no challenge")
        return
    if verifier is None:
        raise InvalidGrant("code_verifier is required (the authorization request used PKCE)")
    if not shape.match(verifier):
        raise InvalidGrant(f"code_verifier is malformed ({shape.described})")
    if not hmac.compare_digest(s256(verifier), challenge):
        raise InvalidGrant("code_verifier does not match the code_challenge")
