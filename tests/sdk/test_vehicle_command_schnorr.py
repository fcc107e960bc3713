"""`Tesla.SS256` Schnorr signatures against the vectors teslamotors/vehicle-command publishes in
internal/schnorr/schnorr_test.go and sign_test.go: the signature of "hello world" by the scalar
3·2^248, RFC 6979 A.2.5's nonce, and a digest whose first nonce candidate is past the group
order; and each refusal those tests check."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from voltgate.sdk.vehicle_command import InvalidKey, public_bytes
from voltgate.sdk.vehicle_command.schnorr import (
    GX,
    GY,
    InvalidSignature,
    N,
    deterministic_nonce,
    sign,
    verify,
)

# schnorr_test.go: testKey() is the 32-byte scalar 03 00 … 00; goodSig() signs "hello world".
TEST_SCALAR = 3 << 248
MESSAGE = b"hello world"
SIGNATURE = bytes.fromhex(
    "7cfdbeb5baa730540401550bdefa20976453e8539ae4b2f26ce33125801a08f9"
    "0ed20c3d846497ff82cc9772e3db4703982f47bd0b0b89dfb9a49cd2e5240546"
    "02b1e05fbf95f5686faea7a5809eb92f5ecc22eae74ceccc5e2a65dd67ff20fc"
)
# sign_test.go: RFC 6979 A.2.5 (P-256, SHA-256, message "sample").
RFC6979_SCALAR = bytes.fromhex("c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721")
RFC6979_NONCE = int("a6e3c57dd01abe90086538398355dd4c3b17aa873382b0f24d6129493d8aad60", 16)
# sign_test.go: with the test key, this digest's first candidate is ≥ n: the next is taken.
RESAMPLED_DIGEST = bytes.fromhex("0080c36864c5f2f460e3767983c65677b65cef901bcedcb223f9b365c68f52f6")
RESAMPLED_NONCE = int("264fc6592fbea24fd0954e0b86b886e8743161758ddad2f7e9fed75a0019e005", 16)


def _key(scalar: int = TEST_SCALAR) -> ec.EllipticCurvePrivateKey:
    return ec.derive_private_key(scalar, ec.SECP256R1())


def test_the_published_signature_is_made_and_verified() -> None:
    assert sign(_key(), MESSAGE) == SIGNATURE
    verify(public_bytes(_key()), MESSAGE, SIGNATURE)


def test_the_published_nonces_are_derived() -> None:
    assert deterministic_nonce(RFC6979_SCALAR, hashlib.sha256(b"sample").digest()) == RFC6979_NONCE
    scalar = TEST_SCALAR.to_bytes(32, "big")
    assert deterministic_nonce(scalar, RESAMPLED_DIGEST) == RESAMPLED_NONCE


def test_the_curve_constants_are_p256s() -> None:
    generator = _key(1).public_key().public_numbers()
    assert (generator.x, generator.y) == (GX, GY)
    assert _key(N - 1).public_key().public_numbers().x == GX  # (n-1)G = -G: n is the order


def test_signatures_of_fresh_keys_verify_and_are_deterministic() -> None:
    for size in (0, 1, 1_000):
        key = ec.generate_private_key(ec.SECP256R1())
        message = bytes(range(256)) * (size // 256) + b"m" * (size % 256)
        signature = sign(key, message)
        assert len(signature) == 96 and sign(key, message) == signature
        verify(public_bytes(key), message, signature)


def test_another_message_is_refused() -> None:
    with pytest.raises(InvalidSignature):
        verify(public_bytes(_key()), b"hello worle", SIGNATURE)


def test_another_key_is_refused() -> None:
    with pytest.raises(InvalidSignature):
        verify(public_bytes(_key(4 << 248)), MESSAGE, SIGNATURE)


@pytest.mark.parametrize("flipped", [0, 32, 95], ids=["nonce_x", "nonce_y", "r"])
def test_a_flipped_bit_in_the_signature_is_refused(flipped: int) -> None:
    signature = bytearray(SIGNATURE)
    signature[flipped] ^= 1
    with pytest.raises(InvalidSignature):
        verify(public_bytes(_key()), MESSAGE, bytes(signature))


def test_a_short_signature_is_refused() -> None:
    with pytest.raises(InvalidSignature, match="96 bytes"):
        verify(public_bytes(_key()), MESSAGE, SIGNATURE[:-1])


def test_a_public_key_off_the_curve_is_invalid_key() -> None:
    off = bytearray(public_bytes(_key()))
    off[1] ^= 1  # schnorr_test.go flips the prefix; here the point itself moves off the curve
    with pytest.raises(InvalidKey):
        verify(bytes(off), MESSAGE, SIGNATURE)
    with pytest.raises(InvalidKey):
        verify(b"\x04" + bytes(64), MESSAGE, SIGNATURE)  # the zero point
    with pytest.raises(InvalidKey):
        verify(b"\x05" + public_bytes(_key())[1:], MESSAGE, SIGNATURE)


def test_a_key_on_another_curve_cannot_sign() -> None:
    with pytest.raises(InvalidKey):
        sign(ec.generate_private_key(ec.SECP384R1()), MESSAGE)
