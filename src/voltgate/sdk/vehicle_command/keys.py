"""NIST P-256 keys as the protocol uses them: PEM files, the 65-byte uncompressed point
(`0x04 || X || Y`, protocol.md's ENCODE_PUBLIC) and the ECDH session key
K = SHA1(big-endian 32-byte shared x-coordinate)[:16]."""

from __future__ import annotations

import hashlib

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from voltgate.sdk.vehicle_command.errors import InvalidKey

PUBLIC_KEY_LENGTH = 65
SESSION_KEY_LENGTH = 16

PrivateKey = ec.EllipticCurvePrivateKey
PublicKey = ec.EllipticCurvePublicKey


def generate_private_key() -> PrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def load_private_key(pem: bytes, password: bytes | None = None) -> PrivateKey:
    """A P-256 private key from PEM, SEC 1 (`EC PRIVATE KEY`) or PKCS #8 (`PRIVATE KEY`)."""
    try:
        key = serialization.load_pem_private_key(pem, password=password)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InvalidKey(f"not a PEM private key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise InvalidKey("not an elliptic-curve key: NIST P-256 (prime256v1) is needed")
    _check_curve(key.curve)
    return key


def load_public_key(pem: bytes) -> PublicKey:
    """A P-256 public key from a PEM `PUBLIC KEY` (SubjectPublicKeyInfo), as apps host it."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InvalidKey(f"not a PEM public key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise InvalidKey("not an elliptic-curve key: NIST P-256 (prime256v1) is needed")
    _check_curve(key.curve)
    return key


def private_key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: PrivateKey | PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def public_bytes(key: PrivateKey | PublicKey) -> bytes:
    """The 65-byte uncompressed point the protocol sends and vehicles store."""
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def public_key_from_bytes(data: bytes) -> PublicKey:
    """The key of a 65-byte uncompressed point; a point off the curve is refused."""
    if len(data) != PUBLIC_KEY_LENGTH or data[0] != 0x04:
        raise InvalidKey("a public key is the 65-byte uncompressed P-256 point (0x04 || X || Y)")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes(data))
    except ValueError:
        raise InvalidKey("the public key is not a point on P-256") from None


def session_key(private: PrivateKey, peer_public: bytes) -> bytes:
    """K: the first 16 bytes of SHA-1 over the ECDH shared x-coordinate (32 bytes, big-endian)."""
    shared = private.exchange(ec.ECDH(), public_key_from_bytes(peer_public))
    return hashlib.sha1(shared).digest()[:SESSION_KEY_LENGTH]  # noqa: S324 - the protocol's KDF


def _check_curve(curve: ec.EllipticCurve) -> None:
    if not isinstance(curve, ec.SECP256R1):
        raise InvalidKey(f"the key is on {curve.name}; NIST P-256 (prime256v1) is needed")
