"""Key-encryption keys: who wraps the vault's data keys.

`KeyProvider` is the seam for a KMS or HashiCorp Vault's transit engine (both wrap and unwrap a
data key under a key they keep, and name the key version used); `LocalKeyFile` is the default:
AES-256 keys in a JSON file (mode 0600), one of them current. Rotation adds a key and makes it
current; older keys stay so entries wrapped under them still open (`TokenVault.rewrap` moves
them to the current key).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE = 12


class UnknownKey(LookupError):
    """A data key wrapped under a key the provider does not have."""


class KeyProvider(Protocol):
    def wrap(self, data_key: bytes, context: bytes) -> tuple[str, bytes]:
        """`(key id, wrapped data key)`; `context` is bound to the wrapping (AAD)."""
        ...

    def unwrap(self, key_id: str, wrapped: bytes, context: bytes) -> bytes: ...

    def current_key_id(self) -> str: ...


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


class LocalKeyFile:
    """`{"current": id, "keys": {id: base64 key}}` in a file only its owner reads."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            self._create()
        self._load()

    def _create(self) -> None:
        """The first key, in a file made only if none is there: processes starting at once
        must not each write a key of their own and lose all but one."""
        key_id = f"k1-{secrets.token_hex(4)}"
        data = {"current": key_id, "keys": {key_id: _b64(AESGCM.generate_key(bit_length=256))}}
        tmp = self._temporary(data)
        try:
            os.link(tmp, self.path)  # atomic, and fails if the file exists
        except FileExistsError:
            pass
        finally:
            tmp.unlink()

    def _load(self) -> None:
        data = json.loads(self.path.read_text())
        self._current: str = data["current"]
        self._keys = {k: base64.urlsafe_b64decode(v) for k, v in data["keys"].items()}

    def _temporary(self, data: Mapping[str, object]) -> Path:
        tmp = self.path.with_name(self.path.name + f".{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(data, out)
        return tmp

    def _write(self, data: Mapping[str, object]) -> None:
        # Atomic: a reader sees the old file or the new one. Rotation and retirement are an
        # operator's step, run by one process at a time.
        os.replace(self._temporary(data), self.path)

    def rotate(self) -> str:
        """A new current key; the old ones are kept for unwrapping. Its id."""
        data = json.loads(self.path.read_text())
        key_id = f"k{len(data['keys']) + 1}-{secrets.token_hex(4)}"
        data["keys"][key_id] = _b64(AESGCM.generate_key(bit_length=256))
        data["current"] = key_id
        self._write(data)
        self._load()
        return key_id

    def retire(self, key_id: str) -> None:
        """Forget a key (after `rewrap`): entries still under it no longer open."""
        data = json.loads(self.path.read_text())
        if key_id == data["current"]:
            raise ValueError("the current key cannot be retired; rotate first")
        data["keys"].pop(key_id, None)
        self._write(data)
        self._load()

    def current_key_id(self) -> str:
        return self._current

    def wrap(self, data_key: bytes, context: bytes) -> tuple[str, bytes]:
        self._load()  # another process may have rotated: wrap under the newest key
        nonce = secrets.token_bytes(_NONCE)
        return self._current, nonce + AESGCM(self._keys[self._current]).encrypt(
            nonce, data_key, context
        )

    def unwrap(self, key_id: str, wrapped: bytes, context: bytes) -> bytes:
        if key_id not in self._keys:
            self._load()  # another process may have rotated
        try:
            key = self._keys[key_id]
        except KeyError:
            raise UnknownKey(key_id) from None
        return AESGCM(key).decrypt(wrapped[:_NONCE], wrapped[_NONCE:], context)
