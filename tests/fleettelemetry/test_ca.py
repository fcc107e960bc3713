"""The vehicles' CA: certificates it issues pass a real mutual-TLS handshake on 127.0.0.1, and a
certificate from another CA, an expired one or one without clientAuth is refused; the CN rule is
the published server's; the CA's key is encrypted under the master key and kept 0600."""

from __future__ import annotations

import asyncio
import ssl
import stat
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from voltgate.clock import FrozenClock
from voltgate.fleettelemetry.ca import (
    CertificateAuthority,
    CertificateError,
    InvalidVin,
    check_vin,
    client_context,
    server_context,
    vin_of,
)

VIN = "5YJ3E1EA7KF000001"
MASTER = bytes(range(32))
OTHER_MASTER = bytes(32)
YEAR = 365 * 86_400


@pytest.fixture
def ca(tmp_path: Path) -> CertificateAuthority:
    return CertificateAuthority.init(tmp_path / "ca", MASTER)


@asynccontextmanager
async def _listener(ca: CertificateAuthority) -> AsyncIterator[tuple[int, list[str]]]:
    """A TLS server on 127.0.0.1 that answers each verified client with the VIN it names."""
    seen: list[str] = []
    cert, key = ca.issue_server("telemetry.example.test")

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        seen.append(vin_of(der))
        writer.write(seen[-1].encode() + b"\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(
        handle, "127.0.0.1", 0, ssl=server_context(ca.cert_pem, cert, key)
    )
    try:
        yield server.sockets[0].getsockname()[1], seen
    finally:
        server.close()
        await server.wait_closed()


async def _ask(port: int, context: ssl.SSLContext, host: str = "127.0.0.1") -> bytes:
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port, ssl=context, server_hostname=host), 10
    )
    try:
        return await asyncio.wait_for(reader.readline(), 10)
    finally:
        writer.close()


async def test_a_vehicle_certificate_passes_mutual_tls_and_names_its_vin(
    ca: CertificateAuthority,
) -> None:
    cert, key = ca.issue_vehicle(VIN)
    async with _listener(ca) as (port, seen):
        assert await _ask(port, client_context(ca.cert_pem, cert, key)) == f"{VIN}\n".encode()
        assert await _ask(port, client_context(ca.cert_pem, cert, key), "localhost")
    assert seen == [VIN, VIN]


async def _refused(port: int, context: ssl.SSLContext) -> None:
    # Under TLS 1.3 the client finishes first; the server's refusal arrives as an alert or EOF.
    try:
        answer = await _ask(port, context)
    except (ssl.SSLError, ConnectionError):
        return
    assert answer == b""


async def test_a_certificate_from_another_ca_is_refused(
    ca: CertificateAuthority, tmp_path: Path
) -> None:
    stranger = CertificateAuthority.init(tmp_path / "other", MASTER)
    cert, key = stranger.issue_vehicle(VIN)
    async with _listener(ca) as (port, seen):
        # The stranger's client trusts our CA for the server, so only its own chain is at fault.
        await _refused(port, client_context(ca.cert_pem, cert, key))
    assert seen == []


def _server_refusal(server: ssl.SSLContext, client: ssl.SSLContext) -> str | None:
    """Run a handshake in memory; the server's reason for refusing it, or None if it passed."""
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    sides = (
        (client.wrap_bio(c_in, c_out, server_hostname="localhost"), c_out, s_in),
        (server.wrap_bio(s_in, s_out, server_side=True), s_out, c_in),
    )
    done: set[int] = set()
    for _ in range(8):
        for index, (tls, outgoing, peer) in enumerate(sides):
            if index not in done:
                try:
                    tls.do_handshake()
                    done.add(index)
                except ssl.SSLWantReadError:
                    pass
                except ssl.SSLError as exc:
                    assert index == 1, f"the client refused: {exc}"
                    return str(getattr(exc, "verify_message", None) or exc.reason)
            peer.write(outgoing.read())
        if len(done) == 2:
            return None
    raise AssertionError("the handshake made no progress")


def test_the_server_refuses_each_bad_client_certificate_for_its_reason(
    ca: CertificateAuthority, tmp_path: Path
) -> None:
    server = server_context(ca.cert_pem, *ca.issue_server("telemetry.example.test"))
    stranger = CertificateAuthority.init(tmp_path / "other", MASTER)
    expired = CertificateAuthority.open(ca.directory, MASTER, FrozenClock(time.time() - 2 * YEAR))
    cases = {
        None: ca.issue_vehicle(VIN),
        "unable to get local issuer certificate": stranger.issue_vehicle(VIN),
        "certificate has expired": expired.issue_vehicle(VIN),
        "unsuitable certificate purpose": ca.issue_server("car.example.test"),
    }
    for reason, (cert, key) in cases.items():
        assert _server_refusal(server, client_context(ca.cert_pem, cert, key)) == reason
    assert server.verify_mode == ssl.CERT_REQUIRED
    assert server.minimum_version == ssl.TLSVersion.TLSv1_2
    anonymous = ssl.create_default_context(cadata=ca.cert_pem.decode())
    assert _server_refusal(server, anonymous) == "PEER_DID_NOT_RETURN_A_CERTIFICATE"


async def test_the_vehicle_refuses_a_server_from_another_ca(
    ca: CertificateAuthority, tmp_path: Path
) -> None:
    stranger = CertificateAuthority.init(tmp_path / "other", MASTER)
    async with _listener(stranger) as (port, seen):
        with pytest.raises(ssl.SSLCertVerificationError):
            await _ask(port, client_context(ca.cert_pem, *ca.issue_vehicle(VIN)))
    assert seen == []


def test_issued_certificates_carry_the_published_shape(ca: CertificateAuthority) -> None:
    cert = x509.load_pem_x509_certificate(ca.issue_vehicle(VIN.lower())[0])
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == VIN
    assert cert.issuer == ca.cert.subject
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert YEAR <= lifetime.total_seconds() <= YEAR + 600
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    ca_life = ca.cert.not_valid_after_utc - ca.cert.not_valid_before_utc
    assert ca_life.days >= 3650
    assert ca.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca

    server = x509.load_pem_x509_certificate(ca.issue_server("Telemetry.Example.test")[0])
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["telemetry.example.test", "localhost"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    by_ip = x509.load_pem_x509_certificate(ca.issue_server("10.0.0.7")[0])
    san = by_ip.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["10.0.0.7", "127.0.0.1"]


def _cert_with_cns(*names: str) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, n) for n in names])
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime(2024, 1, 1, tzinfo=UTC))
        .not_valid_after(datetime(2034, 1, 1, tzinfo=UTC))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.DER)


def test_vin_of_replaces_dots_with_dashes_and_takes_the_last_cn() -> None:
    assert vin_of(_cert_with_cns(VIN)) == VIN
    assert vin_of(_cert_with_cns("device.name.1")) == "device-name-1"
    assert vin_of(_cert_with_cns("first", "second.cn")) == "second-cn"
    with pytest.raises(CertificateError, match="no subject CN"):
        vin_of(_cert_with_cns())
    with pytest.raises(CertificateError, match="not a DER certificate"):
        vin_of(b"\x30\x03garbage")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "5YJ3E1EA7KF00000",
        "5YJ3E1EA7KF0000011",
        "5YJ3E1EA7KF00000I",
        "5YJ3E1EA7KF0000O1",
        "5YJ3E1EA7KF00000Q",
        "5YJ3E1EA7KF00000-",
        "5YJ3E1EA7KF0000 1",
    ],
)
def test_check_vin_refuses_what_is_not_a_vin(bad: str) -> None:
    with pytest.raises(InvalidVin):
        check_vin(bad)


def test_check_vin_upper_cases() -> None:
    assert check_vin(VIN.lower()) == VIN


def test_the_ca_key_is_0600_encrypted_and_opens_only_with_its_master_key(
    ca: CertificateAuthority,
) -> None:
    key_file = ca.directory / "ca.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert b"ENCRYPTED PRIVATE KEY" in key_file.read_bytes()
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(key_file.read_bytes(), None)
    reopened = CertificateAuthority.open(ca.directory, MASTER)
    assert reopened.cert == ca.cert
    cert, _ = reopened.issue_vehicle(VIN)
    assert x509.load_pem_x509_certificate(cert).issuer == ca.cert.subject
    with pytest.raises(CertificateError, match="another master key"):
        CertificateAuthority.open(ca.directory, OTHER_MASTER)


def test_init_refuses_to_replace_a_ca_and_open_needs_one(
    ca: CertificateAuthority, tmp_path: Path
) -> None:
    with pytest.raises(CertificateError, match="already exists"):
        CertificateAuthority.init(ca.directory, MASTER)
    with pytest.raises(CertificateError, match="telemetry ca init"):
        CertificateAuthority.open(tmp_path / "nowhere", MASTER)


def test_bad_host_names_and_mismatched_keys_are_refused(ca: CertificateAuthority) -> None:
    for bad in ("", "-bad.example", "a..b", "white space", "x" * 64 + ".test"):
        with pytest.raises(CertificateError):
            ca.issue_server(bad)
    cert, key = ca.issue_vehicle(VIN)
    _, other_key = ca.issue_vehicle(VIN)
    with pytest.raises(CertificateError, match="do not go together"):
        client_context(ca.cert_pem, cert, other_key)
    with pytest.raises(CertificateError, match="private key"):
        client_context(ca.cert_pem, cert, b"not a key")
    with pytest.raises(CertificateError, match="CA certificate"):
        server_context(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", cert, key)
