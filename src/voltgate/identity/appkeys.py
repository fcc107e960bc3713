"""App keys (Tesla virtual keys): an app's NIST P-256 key pair, the public half hosted as a PEM
at `https://<domain>/.well-known/appspecific/com.tesla.3p.public-key.pem`.

Inside voltgate a public key is its 65-byte uncompressed point (0x04 || X || Y), what the
vehicle command protocol carries and `GET /api/1/partner_accounts/public_key` shows in hex.
Reading a hosted file says exactly what is wrong with it, as the registration error names it.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from voltgate.errors import ValidationFailed
from voltgate.sdk.vehicle_command.keys import (
    generate_private_key,
    private_key_pem,
    public_bytes,
    public_key_from_bytes,
    public_key_pem,
)

KEY_PATH = "/.well-known/appspecific/com.tesla.3p.public-key.pem"
PEM_MEDIA_TYPE = "application/x-pem-file"
POINT_BYTES = 65  # 0x04 || X (32) || Y (32)
_CURVE_NAMES = {"secp384r1": "P-384", "secp521r1": "P-521", "secp256k1": "secp256k1"}
_KINDS: tuple[tuple[type, str], ...] = (
    (rsa.RSAPublicKey, "RSA"),
    (ed25519.Ed25519PublicKey, "Ed25519"),
    (ed448.Ed448PublicKey, "Ed448"),
)


class KeyRefused(ValidationFailed):
    """A hosted public key that cannot be registered; the description names why."""

    error = "invalid_public_key"


@dataclass(frozen=True, slots=True)
class KeyPair:
    private_pem: bytes  # PKCS#8, unencrypted: the file is written 0600
    public_pem: bytes  # SubjectPublicKeyInfo
    point: bytes


def generate() -> KeyPair:
    private = generate_private_key()
    return KeyPair(private_key_pem(private), public_key_pem(private), public_bytes(private))


def pem_of(point: bytes) -> bytes:
    """The public key as a PEM file (SubjectPublicKeyInfo), as an app hosts it."""
    return public_key_pem(public_key_from_bytes(point))


def fingerprint(point: bytes) -> str:
    """SHA-256 of the point, as OpenSSH shows key fingerprints: what a person compares."""
    digest = base64.b64encode(hashlib.sha256(point).digest()).decode().rstrip("=")
    return f"SHA256:{digest}"


def read_public_pem(body: bytes, content_type: str | None = None) -> bytes:
    """The P-256 point of a hosted public key file, or `KeyRefused` naming what it is instead."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    head = body.lstrip()[:256].lower()
    if media in ("text/html", "application/xhtml+xml") or head.startswith((b"<", b"\xef\xbb\xbf<")):
        raise KeyRefused("the file is HTML, not a PEM public key (a page instead of the key?)")
    if b"-----begin " not in head:
        raise KeyRefused("the file is not PEM (no -----BEGIN PUBLIC KEY----- line)")
    if b"private key-----" in head:
        raise KeyRefused("the file is a PRIVATE key: host only the public key, and replace it")
    try:
        key = serialization.load_pem_public_key(body)
    except (ValueError, TypeError):
        raise KeyRefused("the file is not a readable PEM public key") from None
    if isinstance(key, ec.EllipticCurvePublicKey):
        if isinstance(key.curve, ec.SECP256R1):
            return public_bytes(key)
        curve = _CURVE_NAMES.get(key.curve.name, key.curve.name)
        raise KeyRefused(f"the key is on the wrong curve: {curve}, where NIST P-256 is needed")
    name = next((n for t, n in _KINDS if isinstance(key, t)), "not an EC key")
    raise KeyRefused(f"the key is {name}, where an EC key on NIST P-256 is needed")


def parse_point(value: bytes) -> bytes:
    """A stored point, checked to be on P-256 (ValueError otherwise)."""
    if len(value) != POINT_BYTES or value[0] != 4:
        raise ValueError("not an uncompressed P-256 point")
    ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), value)
    return value
