"""The SDK against the values teslamotors/vehicle-command publishes: protocol.md's test keys,
shared key, session info tag and command metadata, and the fixed vectors of its Go tests
(internal/authentication: metadata checksum, ECDH padding, a known AES-GCM message)."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.fixtures import vehicle_command as published
from voltgate.sdk.vehicle_command import (
    Domain,
    InvalidKey,
    authentication,
    encode,
    load_private_key,
    load_public_key,
    metadata,
    private_key_pem,
    public_bytes,
    public_key_from_bytes,
    public_key_pem,
    session_key,
)
from voltgate.sdk.vehicle_command.codes import SignatureType, Tag
from voltgate.sdk.vehicle_command.keys import generate_private_key
from voltgate.sdk.vehicle_command.schema import RoutableMessage, SessionInfo


def test_the_published_keys_encode_as_the_published_points() -> None:
    assert public_bytes(published.vehicle_key()).hex() == published.VEHICLE_PUBLIC_HEX
    assert public_bytes(published.client_key()).hex() == published.CLIENT_PUBLIC_HEX
    hosted = load_public_key(published.VEHICLE_PUBLIC_PEM)
    assert public_bytes(hosted).hex() == published.VEHICLE_PUBLIC_HEX


def test_the_shared_key_is_the_published_k_from_either_side() -> None:
    vehicle, client = published.vehicle_key(), published.client_key()
    assert session_key(client, public_bytes(vehicle)).hex() == published.SHARED_KEY
    assert session_key(vehicle, public_bytes(client)).hex() == published.SHARED_KEY


def test_the_session_info_key_and_tag_are_the_published_ones() -> None:
    k = bytes.fromhex(published.SHARED_KEY)
    assert authentication.subkey(k, b"session info").hex() == published.SESSION_INFO_KEY
    covered = metadata.session_info(published.VIN, bytes.fromhex(published.HANDSHAKE_UUID))
    assert covered.hex() == published.SESSION_INFO_METADATA
    tag = authentication.session_info_tag(k, covered, bytes.fromhex(published.SESSION_INFO))
    assert tag.hex() == published.SESSION_INFO_TAG


def test_the_published_session_info_decodes_to_its_fields() -> None:
    info = SessionInfo.FromString(bytes.fromhex(published.SESSION_INFO))
    assert info.counter == 6
    assert info.publicKey.hex() == published.VEHICLE_PUBLIC_HEX
    assert info.epoch.hex() == published.EPOCH
    assert info.clock_time == 2650


def test_the_hvac_on_command_is_the_published_payload() -> None:
    assert encode("auto_conditioning_start") == (
        Domain.INFOTAINMENT,
        bytes.fromhex(published.HVAC_ON_PAYLOAD),
    )


def test_the_published_command_metadata_and_its_encryption() -> None:
    covered = metadata.command(
        SignatureType.AES_GCM_PERSONALIZED,
        Domain.INFOTAINMENT,
        published.VIN,
        bytes.fromhex(published.EPOCH),
        2655,
        7,
        0,
    )
    assert covered.hex() == published.GCM_COMMAND_METADATA
    example = published.GCM_COMMAND
    plaintext = authentication.gcm_decrypt(
        bytes.fromhex(published.SHARED_KEY),
        bytes.fromhex(str(example["nonce"])),
        bytes.fromhex(str(example["ciphertext"])),
        bytes.fromhex(str(example["tag"])),
        covered,
    )
    assert plaintext == bytes.fromhex(published.HVAC_ON_PAYLOAD)


def test_the_published_transmitted_message_parses_to_its_fields() -> None:
    sent = bytes.fromhex(
        "320208023a1212100a7962c10d38b61dd2a7722780a4f0969a031005514f57616bcc81a8ce0f9d7b4832"
        "2952040a020805"
    )
    message = RoutableMessage.FromString(sent)
    assert message.to_destination.domain == Domain.VEHICLE_SECURITY
    assert message.from_destination.routing_address.hex() == "0a7962c10d38b61dd2a7722780a4f096"
    assert message.protobuf_message_as_bytes.hex() == "0a020805"
    assert message.uuid.hex() == "05514f57616bcc81a8ce0f9d7b483229"
    # Every field is a known one: re-encoded, only the field order differs.
    again = message.SerializeToString()
    assert len(again) == len(sent) and sorted(again) == sorted(sent)


def test_the_metadata_checksum_of_the_go_tests() -> None:
    items = [
        (Tag.SIGNATURE_TYPE, b"\x05"),
        (Tag.DOMAIN, b"\x02"),
        (Tag.PERSONALIZATION, b"testVIN"),
        (Tag.EPOCH, bytes.fromhex("aada928a4f215f55f9e6e45e66b6521e")),
        (Tag.EXPIRES_AT, bytes.fromhex("00000e74")),
        (Tag.COUNTER, bytes.fromhex("0000053a")),
    ]
    expected = "abab04d804499813382efd74a06791ce2de777439603246dfbaa8392ca05868e"
    assert hashlib.sha256(metadata.serialize(items)).hexdigest() == expected
    # Items are sorted by tag whatever order they come in.
    assert metadata.serialize(reversed(items)) == metadata.serialize(items)


def test_the_shared_secret_keeps_its_leading_zero_byte() -> None:
    vehicle = ec.derive_private_key(
        int("5260f8d6113875d86f8ee8fea340df1ffb40c658b5455e8c33d797c53a41afd3", 16),
        ec.SECP256R1(),
    )
    phone = bytes.fromhex(
        "0407fb60b65b94e0de4a954c53be10003d9e69918dedfda5f4e9efb9ebd8c5bd672a53991c4068865d5fb4"
        "4f97f6cecf8398f261dd1d7bc69be676afdc8ffacbcc"
    )
    shared_x = bytes.fromhex("0072d5b815207a04f0c795fba0ba9e8add3f1f57148c51fface22ca15e6fd845")
    assert session_key(vehicle, phone) == hashlib.sha1(shared_x).digest()[:16]


def test_the_known_aes_gcm_message_of_the_go_tests_decrypts() -> None:
    # internal/authentication/verifier_test.go TestGCMKnown: a VCSEC add-key request.
    message = RoutableMessage.FromString(
        bytes.fromhex(
            "320208023a0208005259296d587d130d34d74d6d5c628c73c1f8ef99cc4ae1c95b97671474980ccc79"
            "46a90a2f7971a5c837b96c9cc1e8075d1aab92bc8557b7fdf2dcf9ddbb90e236246db699788e585e8b"
            "0ea84752e0090cc80c4384d27ca6fcdd216a470a061204bb0ca3712a3d0a10eaabe301b4b4a1243118"
            "a40825220115120c45d29af664e2ff8fd49218b718ffffffff0f2550c300002a106d846705ba5c143f"
            "94257275a2ca701f"
        )
    )
    vehicle = ec.derive_private_key(
        int("9d9c5e86d5a83057965ca94b5faeff116c275d08ca91e839bd2dea59c2229b81", 16),
        ec.SECP256R1(),
    )
    client = bytes.fromhex(
        "0450444fabe062f6ffc59de654373e1aa84aa4f053f365f3746fbaaa8ad5d5875e8279ba379b4788e9148f"
        "5000bd1fe085d18925e8d047239cfa0d9cd23417b714"
    )
    data = message.signature_data.AES_GCM_Personalized_data
    covered = metadata.command(
        SignatureType.AES_GCM_PERSONALIZED,
        Domain(message.to_destination.domain),
        "testvin",
        data.epoch,
        data.expires_at,
        data.counter,
        message.flags,
    )
    plaintext = authentication.gcm_decrypt(
        session_key(vehicle, client),
        data.nonce,
        message.protobuf_message_as_bytes,
        data.tag,
        covered,
    )
    assert plaintext is not None
    assert plaintext.hex() == (
        "82014a2a480a430a41044b96809e66821b4553ff2b427a52d50843a2f718fd56f2ad93d46a8b1db74dd619"
        "0f20b6b82e85a8eac40e867b9a0cf74f364f03e9946e25ceee9934b19cb603120102ca01090a0774657374"
        "76696e"
    )


def test_metadata_refuses_what_it_cannot_encode() -> None:
    with pytest.raises(ValueError, match="255"):
        metadata.serialize([(Tag.PERSONALIZATION, b"x" * 256)])
    with pytest.raises(ValueError, match="twice"):
        metadata.serialize([(Tag.COUNTER, b"1"), (Tag.COUNTER, b"2")])
    with pytest.raises(ValueError, match="END"):
        metadata.serialize([(Tag.END, b"")])
    with pytest.raises(ValueError, match="32-bit"):
        metadata.uint32(2**32)


def test_flags_are_covered_only_when_set() -> None:
    def covered(flags: int) -> bytes:
        return metadata.command(
            SignatureType.HMAC_PERSONALIZED, Domain.INFOTAINMENT, "V", b"e" * 16, 1, 1, flags
        )

    assert b"\x07\x04" not in covered(0)
    assert covered(2).endswith(bytes.fromhex("070400000002ff"))


def test_the_command_tag_is_hmac_of_the_derived_key() -> None:
    k = bytes.fromhex(published.SHARED_KEY)
    derived = hmac.new(k, b"authenticated command", hashlib.sha256).digest()
    expected = hmac.new(derived, b"meta\xffpayload", hashlib.sha256).digest()
    assert authentication.command_tag(k, b"meta\xff", b"payload") == expected


def test_keys_round_trip_through_pem() -> None:
    key = generate_private_key()
    again = load_private_key(private_key_pem(key))
    assert public_bytes(again) == public_bytes(key)
    assert public_bytes(load_public_key(public_key_pem(key))) == public_bytes(key)
    assert public_bytes(public_key_from_bytes(public_bytes(key))) == public_bytes(key)


def test_keys_that_are_not_p256_are_refused_with_the_reason() -> None:
    p384 = ec.generate_private_key(ec.SECP384R1())
    with pytest.raises(InvalidKey, match="secp384r1"):
        load_private_key(private_key_pem(p384))
    with pytest.raises(InvalidKey, match="secp384r1"):
        load_public_key(public_key_pem(p384))
    rsa_public = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    rsa_pem = rsa_public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(InvalidKey, match="elliptic"):
        load_public_key(rsa_pem)
    with pytest.raises(InvalidKey, match="PEM"):
        load_public_key(b"<html>not a key</html>")
    with pytest.raises(InvalidKey, match="65-byte"):
        public_key_from_bytes(b"\x04" + b"\x01" * 32)
    off_curve = bytearray(bytes.fromhex(published.CLIENT_PUBLIC_HEX))
    off_curve[1] ^= 1
    with pytest.raises(InvalidKey, match="not a point"):
        public_key_from_bytes(bytes(off_curve))


def test_an_aes_gcm_tag_that_does_not_verify_gives_nothing() -> None:
    key = bytes(16)
    sealed = AESGCM(key).encrypt(b"n" * 12, b"payload", hashlib.sha256(b"meta").digest())
    ciphertext, tag = sealed[:-16], sealed[-16:]
    assert authentication.gcm_decrypt(key, b"n" * 12, ciphertext, tag, b"meta") == b"payload"
    assert authentication.gcm_decrypt(key, b"n" * 12, ciphertext, tag, b"other") is None
