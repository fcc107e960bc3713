"""Scope parsing and narrowing (RFC 6749 §3.3)."""

from __future__ import annotations

import re

from voltgate.errors import InvalidScope

# scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
_SCOPE_TOKEN = re.compile(r"^[\x21\x23-\x5B\x5D-\x7E]{1,128}$")


def parse(value: str | None) -> tuple[str, ...]:
    if value is None:
        return ()
    tokens = tuple(dict.fromkeys(value.split(" ")))
    tokens = tuple(t for t in tokens if t)
    for token in tokens:
        if not _SCOPE_TOKEN.match(token):
            raise InvalidScope("the scope parameter contains an invalid scope token")
    return tokens


def narrow(requested: tuple[str, ...], allowed: tuple[str, ...]) -> tuple[str, ...]:
    """Requested ⊆ allowed; nothing requested means everything allowed (RFC 6749 §3.3)."""
    if not requested:
        return allowed
    extra = [s for s in requested if s not in allowed]
    if extra:
        raise InvalidScope(f"the client may not request: {' '.join(extra)}")
    return requested


def is_valid(token: str) -> bool:
    return bool(_SCOPE_TOKEN.match(token))
