"""The protocol's tags, keyed by the ECDH session key K (protocol.md, "Response authentication",
"HMAC-SHA256 authentication", "AES-GCM encryption"):

- session info: HMAC-SHA256(HMAC-SHA256(K, "session info"), metadata || SessionInfo bytes);
- command:      HMAC-SHA256(HMAC-SHA256(K, "authenticated command"), metadata || payload);
- AES-GCM:      key K, 12-byte nonce, associated data SHA-256(metadata).

Tags are compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SESSION_INFO_LABEL = b"session info"
COMMAND_LABEL = b"authenticated command"
NONCE_LENGTH = 12


# hmac.digest: the one-shot C path (a few µs less than hmac.new(...).digest() per call).
def subkey(session_key: bytes, label: bytes) -> bytes:
    return hmac.digest(session_key, label, "sha256")


@dataclass(frozen=True, slots=True)
class SessionKeys:
    """K and the two HMAC keys derived from it: what one (vehicle key, client key) pair needs
    for every message, derived once and kept by whoever keeps K."""

    shared: bytes  # K, also the AES-GCM key
    command: bytes  # HMAC-SHA256(K, "authenticated command")
    session_info: bytes  # HMAC-SHA256(K, "session info")

    @classmethod
    def of(cls, session_key: bytes) -> SessionKeys:
        return cls(
            session_key,
            subkey(session_key, COMMAND_LABEL),
            subkey(session_key, SESSION_INFO_LABEL),
        )


def tag(hmac_key: bytes, metadata: bytes, data: bytes) -> bytes:
    """HMAC-SHA256(hmac_key, metadata || data), `hmac_key` a SessionKeys subkey."""
    return hmac.digest(hmac_key, metadata + data, "sha256")


def session_info_tag(session_key: bytes, metadata: bytes, encoded_info: bytes) -> bytes:
    return hmac.digest(subkey(session_key, SESSION_INFO_LABEL), metadata + encoded_info, "sha256")


def command_tag(session_key: bytes, metadata: bytes, payload: bytes) -> bytes:
    return hmac.digest(subkey(session_key, COMMAND_LABEL), metadata + payload, "sha256")


def same(expected: bytes, given: bytes) -> bool:
    return hmac.compare_digest(expected, given)


def gcm_decrypt(
    session_key: bytes, nonce: bytes, ciphertext: bytes, tag: bytes, metadata: bytes
) -> bytes | None:
    """The plaintext, or None when the tag does not verify."""
    try:
        return AESGCM(session_key).decrypt(
            nonce, ciphertext + tag, hashlib.sha256(metadata).digest()
        )
    except (InvalidTag, ValueError):
        return None
