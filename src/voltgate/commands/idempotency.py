"""Idempotency-Key: a retried request with the same key and body gets the commands the first
one created; the same key with another body is 409 (code 4001)."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

from voltgate.commands.store import Claim
from voltgate.errors import Conflict, ValidationFailed

CLAIM_TTL = 86_400  # an Idempotency-Key is remembered this long
_KEY_CHARS = frozenset(chr(c) for c in range(0x21, 0x7F))


def check_key(key: str) -> None:
    if not 1 <= len(key) <= 200 or not set(key) <= _KEY_CHARS:
        raise ValidationFailed("Idempotency-Key must be 1 to 200 visible ASCII characters")


def request_hash(target: list[Any], body: Any) -> str:
    """What a request asked for: the same key must come with the same request."""
    value = orjson.dumps({"target": target, "body": body}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(value).hexdigest()


def replay(claim: Claim, fingerprint: str) -> list[str]:
    """The commands the claim's request created, if this request is the same one."""
    if claim.request_hash != fingerprint:
        raise Conflict(f"Idempotency-Key {claim.key!r} was already used with a different request")
    return list(claim.command_ids)
