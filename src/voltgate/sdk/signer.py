"""Request signing, the client side (Tellus optional `X-Signature`).

The signature is HMAC-SHA256, keyed with the client's (or device's) secret, over the canonical
string

    METHOD "\\n" PATH "\\n" TIMESTAMP "\\n" BODY

where METHOD is upper case, PATH is the request target as sent (path plus `?query` if any),
TIMESTAMP is the `X-Timestamp` header (Unix seconds) and BODY the exact body bytes (empty for
none). `X-Signature` carries the lowercase hex digest. The server also accepts the four parts
concatenated with nothing between them (`concatenated`), as Tellus's guide words it
("HTTP_METHOD + REQUEST_PATH + TIMESTAMP + REQUEST_BODY"); this signer keeps the newlines,
which keep the parts apart by themselves rather than by the server's timestamp rules.
"""

from __future__ import annotations

import hashlib
import hmac
import time


def canonical(method: str, path: str, timestamp: str, body: bytes) -> bytes:
    head = f"{method.upper()}\n{path}\n{timestamp}\n".encode()
    return head + body


def concatenated(method: str, path: str, timestamp: str, body: bytes) -> bytes:
    """The guide's literal form: METHOD + PATH + TIMESTAMP + BODY, no separators."""
    return f"{method.upper()}{path}{timestamp}".encode() + body


def signature(secret: str, method: str, path: str, timestamp: str, body: bytes) -> str:
    message = canonical(method, path, timestamp, body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


class Signer:
    """Headers for one request: `Signer(secret).headers("POST", "/v1/…", body)`."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def headers(
        self, method: str, path: str, body: bytes = b"", timestamp: int | None = None
    ) -> dict[str, str]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        return {
            "X-Timestamp": stamp,
            "X-Signature": signature(self._secret, method, path, stamp, body),
        }
