"""Compact JWS with ES256 only (RFC 7515, RFC 7518 §3.4), built for the hot path.

Only one algorithm is ever accepted and the header must name a known key, so there is no
`alg` negotiation to confuse. Headers are encoded once per key; a token costs one ECDSA
signature plus two orjson calls.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

ALG = "ES256"
_ECDSA = ec.ECDSA(hashes.SHA256())


class JoseError(Exception):
    """A token that is not a well-formed ES256 JWS; the message is safe to show."""


def b64encode(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def b64decode(data: str | bytes) -> bytes:
    raw = data.encode("ascii") if isinstance(data, str) else data
    return base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))


def encode_header(kid: str, typ: str) -> bytes:
    return b64encode(orjson.dumps({"alg": ALG, "typ": typ, "kid": kid}))


def sign(header_b64: bytes, claims: dict[str, Any], key: ec.EllipticCurvePrivateKey) -> str:
    signing_input = header_b64 + b"." + b64encode(orjson.dumps(claims))
    r, s = decode_dss_signature(key.sign(signing_input, _ECDSA))
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return (signing_input + b"." + b64encode(signature)).decode("ascii")


class Parsed:
    __slots__ = ("claims", "header", "signature", "signing_input")

    def __init__(
        self, header: dict[str, Any], claims: dict[str, Any], signing_input: bytes, sig: bytes
    ) -> None:
        self.header = header
        self.claims = claims
        self.signing_input = signing_input
        self.signature = sig


def parse(token: str) -> Parsed:
    """Split and decode without verifying; raises JoseError for anything malformed, or for an
    algorithm other than ES256 (voltgate's own tokens)."""
    parsed = split(token)
    if parsed.header.get("alg") != ALG:
        raise JoseError("token algorithm is not accepted")
    if len(parsed.signature) != 64:
        raise JoseError("token signature has the wrong length")
    return parsed


def split(token: str, max_length: int = 8192) -> Parsed:
    """A JWS compact serialization split and decoded, nothing checked but its shape (RFC 7515
    §7.1): the caller decides which algorithms and keys it accepts."""
    if len(token) > max_length:
        raise JoseError("token too long")
    parts = token.split(".")
    if len(parts) != 3:
        raise JoseError("token is not a JWS compact serialization")
    try:
        header = orjson.loads(b64decode(parts[0]))
        claims = orjson.loads(b64decode(parts[1]))
        signature = b64decode(parts[2])
    except (ValueError, binascii.Error, orjson.JSONDecodeError, UnicodeEncodeError) as exc:
        raise JoseError("token is not valid base64url JSON") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise JoseError("token header or payload is not a JSON object")
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    return Parsed(header, claims, signing_input, signature)


def verify_signature(parsed: Parsed, key: ec.EllipticCurvePublicKey) -> bool:
    sig = parsed.signature
    der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
    try:
        key.verify(der, parsed.signing_input, _ECDSA)
    except InvalidSignature:
        return False
    return True
