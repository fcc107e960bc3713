"""What the vault keeps per grant, and how a grant's secrets are sealed.

A grant is named by `(profile, app, user)`. Its tokens are sealed with AES-256-GCM under a data
key of its own; the data key is wrapped by the key provider's current key-encryption key; both
are bound to the grant's name (AAD), so a sealed blob moved to another grant does not open.
Only the name, times, counts and flags are stored in the clear: never a token or a secret.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, replace
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from voltgate.sdk.vault.keys import KeyProvider

_NONCE = 12


@dataclass(frozen=True, slots=True)
class GrantKey:
    profile: str
    app: str
    user: str

    def context(self) -> bytes:
        return f"voltgate-vault\0{self.profile}\0{self.app}\0{self.user}".encode()

    def label(self) -> str:
        """For logs and lock names: who, never what."""
        return f"{self.profile}/{self.app}/{self.user}"


@dataclass(frozen=True, slots=True)
class Tokens:
    access_token: str
    refresh_token: str | None
    expires_at: float  # on the vault's clock (Unix seconds)
    scope: str | None = None

    def __repr__(self) -> str:  # a token in a traceback or a log is a leak
        return f"Tokens(expires_at={self.expires_at}, scope={self.scope!r}, …)"


@dataclass(frozen=True, slots=True)
class Record:
    key: GrantKey
    kek_id: str
    wrapped_key: bytes
    sealed: bytes  # nonce + AES-GCM ciphertext of the tokens
    expires_at: float
    refreshed_at: float | None = None  # when the last refresh was stored
    failures: int = 0  # refreshes failed since the last success
    needs_reauth: bool = False  # the platform said invalid_grant: the user must sign in again
    fence: int = 0  # bumped by every write under the grant's lock

    def with_(self, **changes: Any) -> Record:
        return replace(self, **changes)


def seal(key: GrantKey, tokens: Tokens, keys: KeyProvider, **meta: Any) -> Record:
    data_key = AESGCM.generate_key(bit_length=256)
    kek_id, wrapped = keys.wrap(data_key, key.context())
    plain = json.dumps(
        {"a": tokens.access_token, "r": tokens.refresh_token, "s": tokens.scope}
    ).encode()
    nonce = secrets.token_bytes(_NONCE)
    sealed = nonce + AESGCM(data_key).encrypt(nonce, plain, key.context())
    return Record(key, kek_id, wrapped, sealed, tokens.expires_at, **meta)


def open_record(record: Record, keys: KeyProvider) -> Tokens:
    context = record.key.context()
    data_key = keys.unwrap(record.kek_id, record.wrapped_key, context)
    plain = AESGCM(data_key).decrypt(record.sealed[:_NONCE], record.sealed[_NONCE:], context)
    data = json.loads(plain)
    return Tokens(data["a"], data["r"], record.expires_at, data["s"])


def rewrap(record: Record, keys: KeyProvider) -> Record:
    """The same sealed tokens, their data key wrapped under the provider's current key."""
    context = record.key.context()
    data_key = keys.unwrap(record.kek_id, record.wrapped_key, context)
    kek_id, wrapped = keys.wrap(data_key, context)
    return record.with_(kek_id=kek_id, wrapped_key=wrapped)
