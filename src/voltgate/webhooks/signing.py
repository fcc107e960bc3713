"""Webhook signatures: `Voltgate-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`, each v1 the
HMAC-SHA256 of `<t>.<body>` under one of the endpoint's secrets (two while a rotation
overlaps). A receiver accepts the delivery when any v1 matches one of its secrets and t is
recent (`verify`, which docs/alerts.md shows as a snippet)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

HEADER = "Voltgate-Signature"
DELIVERY_HEADER = "Voltgate-Delivery-Id"
EVENT_HEADER = "Voltgate-Event"
ATTEMPT_HEADER = "Voltgate-Attempt"
TOLERANCE = 300


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    signed = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def signature(secrets: Sequence[str], timestamp: int, body: bytes) -> str:
    """The header's value: one v1 per secret, the current one first."""
    return ",".join([f"t={timestamp}", *(f"v1={_mac(s, timestamp, body)}" for s in secrets)])


def verify(header: str, secret: str, body: bytes, now: float, tolerance: float = TOLERANCE) -> bool:
    """Whether `header` signs `body` with `secret`, made within `tolerance` seconds of `now`."""
    timestamp: int | None = None
    macs: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t" and value.isdigit():
            timestamp = int(value)
        elif name == "v1":
            macs.append(value)
    if timestamp is None or abs(now - timestamp) > tolerance:
        return False
    expected = _mac(secret, timestamp, body)
    return any(hmac.compare_digest(expected, mac) for mac in macs)
