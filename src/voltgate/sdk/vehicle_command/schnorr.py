"""Schnorr signatures over NIST P-256 with SHA-256 (`Tesla.SS256`), as teslamotors/vehicle-command
publishes them (internal/schnorr): messages signed once for a whole fleet with the app's ECDH
key, so no second key has to be paired.

- Challenge: c = SHA-256(LV(G) || LV(V) || LV(A) || LV(message)), each item prefixed with its
  length as 4 big-endian bytes; G, V (the public nonce) and A (the signer's public key) are
  65-byte uncompressed points.
- Nonce: v from RFC 6979 §3.2 (HMAC-SHA256, qlen = hlen = 256) over the private scalar and
  SHA-256(message), so signing needs no random numbers; V = vG.
- Signature: V.x || V.y || r (three 32-byte numbers), r = v - a·c mod n (RFC 8235 §3.3).
- Verification: V = rG + cA.

Signing leaves the secret scalar multiplication to `cryptography`; verification works on public
values only, in the affine/Jacobian arithmetic below.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.hazmat.primitives.asymmetric import ec

from voltgate.sdk.vehicle_command.errors import InvalidKey, VehicleCommandError
from voltgate.sdk.vehicle_command.keys import PrivateKey, public_bytes, public_key_from_bytes

SCALAR_LENGTH = 32
SIGNATURE_LENGTH = 3 * SCALAR_LENGTH

# NIST P-256 (FIPS 186-4 D.1.2.3): y² = x³ - 3x + b over GF(p), G of prime order n.
P = 0xFFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF
B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B
N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
GX = 0x6B17D1F2E12C4247F8BCE6E563A440F277037D812DEB33A0F4A13945D898C296
GY = 0x4FE342E2FE1A7F9B8EE7EB4A7C0F9E162BCE33576B315ECECBB6406837BF51F5
G_BYTES = b"\x04" + GX.to_bytes(32, "big") + GY.to_bytes(32, "big")

_Point = tuple[int, int, int]  # Jacobian (X, Y, Z): x = X/Z², y = Y/Z³; Z = 0 is infinity
_INFINITY: _Point = (1, 1, 0)


class InvalidSignature(VehicleCommandError):
    """A signature that is not one of the message by that key (or not 96 bytes)."""


def sign(private_key: PrivateKey, message: bytes) -> bytes:
    """The 96-byte signature of `message`; the same key and message always give the same one."""
    if not isinstance(private_key.curve, ec.SECP256R1):
        raise InvalidKey(f"the key is on {private_key.curve.name}; NIST P-256 is needed")
    scalar = private_key.private_numbers().private_value
    nonce = deterministic_nonce(scalar.to_bytes(SCALAR_LENGTH, "big"), _sha256(message))
    public_nonce = public_bytes(ec.derive_private_key(nonce, ec.SECP256R1()))
    c = _challenge(public_nonce, public_bytes(private_key), message)
    r = (nonce - scalar * c) % N
    return public_nonce[1:] + r.to_bytes(SCALAR_LENGTH, "big")


def verify(public_key: bytes, message: bytes, signature: bytes) -> None:
    """Returns when `signature` is `public_key`'s (a 65-byte point) over `message`; raises
    InvalidKey for a key that is not a P-256 point, InvalidSignature otherwise."""
    a = public_key_from_bytes(public_key).public_numbers()
    if len(signature) != SIGNATURE_LENGTH:
        raise InvalidSignature(f"a signature is {SIGNATURE_LENGTH} bytes, not {len(signature)}")
    vx = int.from_bytes(signature[:SCALAR_LENGTH], "big")
    vy = int.from_bytes(signature[SCALAR_LENGTH : 2 * SCALAR_LENGTH], "big")
    r = int.from_bytes(signature[2 * SCALAR_LENGTH :], "big")
    if r >= N or not _on_curve(vx, vy):  # the published signer never makes these
        raise InvalidSignature("the signature does not verify")
    c = _challenge(b"\x04" + signature[: 2 * SCALAR_LENGTH], public_key, message)
    x, y = _affine(_sum_of_multiples(r, (GX, GY), c, (a.x, a.y)))
    if (x, y) != (vx, vy):
        raise InvalidSignature("the signature does not verify")


def deterministic_nonce(scalar: bytes, digest: bytes) -> int:
    """RFC 6979 §3.2 for P-256 and SHA-256: the nonce in [1, n-1] for this key and digest."""
    h1 = (int.from_bytes(digest, "big") % N).to_bytes(SCALAR_LENGTH, "big")  # bits2octets
    v = b"\x01" * 32
    k = b"\x00" * 32
    k = _hmac(k, v + b"\x00" + scalar + h1)
    v = _hmac(k, v)
    k = _hmac(k, v + b"\x01" + scalar + h1)
    v = _hmac(k, v)
    while True:
        v = _hmac(k, v)  # qlen = hlen: one block is T
        candidate = int.from_bytes(v, "big")
        if 1 <= candidate < N:
            return candidate
        k = _hmac(k, v + b"\x00")
        v = _hmac(k, v)


def _challenge(public_nonce: bytes, signer: bytes, message: bytes) -> int:
    digest = hashlib.sha256()
    for item in (G_BYTES, public_nonce, signer, message):
        digest.update(len(item).to_bytes(4, "big"))
        digest.update(item)
    return int.from_bytes(digest.digest(), "big") % N


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _hmac(key: bytes, data: bytes) -> bytes:
    return hmac.new(key, data, hashlib.sha256).digest()


def _on_curve(x: int, y: int) -> bool:
    return x < P and y < P and (y * y - (x * x * x - 3 * x + B)) % P == 0


# Point arithmetic on public values (short Weierstrass, a = -3, Jacobian coordinates).


def _double(p: _Point) -> _Point:
    x, y, z = p
    if z == 0 or y == 0:
        return _INFINITY
    yy = y * y % P
    s = 4 * x * yy % P
    zz = z * z % P
    m = 3 * (x - zz) * (x + zz) % P
    x3 = (m * m - 2 * s) % P
    y3 = (m * (s - x3) - 8 * yy * yy) % P
    return x3, y3, 2 * y * z % P


def _add(p: _Point, q: _Point) -> _Point:
    x1, y1, z1 = p
    x2, y2, z2 = q
    if z1 == 0:
        return q
    if z2 == 0:
        return p
    z1z1 = z1 * z1 % P
    z2z2 = z2 * z2 % P
    u1 = x1 * z2z2 % P
    u2 = x2 * z1z1 % P
    s1 = y1 * z2 * z2z2 % P
    s2 = y2 * z1 * z1z1 % P
    if u1 == u2:
        return _double(p) if s1 == s2 else _INFINITY
    h = (u2 - u1) % P
    hh = h * h % P
    hhh = h * hh % P
    rr = (s2 - s1) % P
    v = u1 * hh % P
    x3 = (rr * rr - hhh - 2 * v) % P
    y3 = (rr * (v - x3) - s1 * hhh) % P
    return x3, y3, z1 * z2 * h % P


def _sum_of_multiples(k1: int, p1: tuple[int, int], k2: int, p2: tuple[int, int]) -> _Point:
    """k1·P1 + k2·P2 in one pass over the bits (Shamir's trick)."""
    a: _Point = (p1[0], p1[1], 1)
    b: _Point = (p2[0], p2[1], 1)
    both = _add(a, b)
    acc = _INFINITY
    for bit in range(max(k1.bit_length(), k2.bit_length()) - 1, -1, -1):
        acc = _double(acc)
        pick = ((k1 >> bit) & 1, (k2 >> bit) & 1)
        if pick == (1, 1):
            acc = _add(acc, both)
        elif pick == (1, 0):
            acc = _add(acc, a)
        elif pick == (0, 1):
            acc = _add(acc, b)
    return acc


def _affine(p: _Point) -> tuple[int, int]:
    x, y, z = p
    if z == 0:
        return 0, 0  # infinity: matches no point on the curve
    zinv = pow(z, -1, P)
    zz = zinv * zinv % P
    return x * zz % P, y * zz * zinv % P


__all__ = [
    "SIGNATURE_LENGTH",
    "InvalidKey",
    "InvalidSignature",
    "deterministic_nonce",
    "sign",
    "verify",
]
