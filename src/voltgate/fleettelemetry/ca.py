"""The vehicles' certificate authority for the Fleet Telemetry listener, and its TLS contexts.

Vehicles connect with a client certificate whose subject CN is their VIN; the listener verifies
the chain against this CA and takes the vehicle's identity from the CN with every "." replaced by
"-", as the published server does (messages/identity.go). The same CA signs the listener's own
certificate, so the `ca` a vehicle's config carries is this CA's certificate.

The CA's key (EC P-256) is stored as encrypted PKCS#8 (`ca.key`, mode 0600) whose passphrase is
derived from the master key (HKDF, its own purpose string), as the signing keys are sealed under
a key derived from it: a copy of the directory alone does not give the key away, and a changed
master key is refused with a clear message rather than a parse error.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import re
import secrets
import ssl
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from voltgate.clock import Clock, SystemClock
from voltgate.identity.secrets import derive

CA_CERT_FILE = "ca.pem"
CA_KEY_FILE = "ca.key"
CA_VALIDITY = timedelta(days=3650)
LEAF_VALIDITY = timedelta(days=365)
# Certificates start this much before "now", so a peer whose clock lags a little accepts them.
_BACKDATE = timedelta(minutes=5)
_VIN = re.compile(r"[A-HJ-NPR-Z0-9]{17}")
_LABEL = re.compile(r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?")
_KEY_PURPOSE = "voltgate/telemetry-ca-key/v1"


class CertificateError(ValueError):
    """A certificate cannot be issued, read or trusted."""


class InvalidVin(CertificateError):
    pass


def check_vin(vin: str) -> str:
    """The VIN, upper-cased, if it is 17 characters of 0-9 and A-Z without I, O and Q."""
    upper = vin.strip().upper()
    if not _VIN.fullmatch(upper):
        raise InvalidVin(f"{vin!r} is not a VIN (17 characters of 0-9, A-Z without I, O, Q)")
    return upper


def vin_of(peer_cert_der: bytes) -> str:
    """The vehicle a client certificate names: its subject CN with "." replaced by "-", the
    published server's rule. Go keeps the last CN of a subject that has several; so does this."""
    try:
        cert = x509.load_der_x509_certificate(peer_cert_der)
    except ValueError as exc:
        raise CertificateError(f"not a DER certificate: {exc}") from None
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        raise CertificateError("the client certificate has no subject CN")
    value = names[-1].value
    common_name = value if isinstance(value, str) else value.decode()
    return common_name.replace(".", "-")


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "voltgate"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem(key: ec.EllipticCurvePrivateKey, password: bytes | None = None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def create_file(path: Path, data: bytes, mode: int) -> None:
    """Create `path` (never overwrite) with `mode` from the start."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


_SIGNING_ONLY = {
    "content_commitment": False,
    "key_encipherment": False,
    "data_encipherment": False,
    "key_agreement": False,
    "encipher_only": False,
    "decipher_only": False,
}


def _sign(
    builder: x509.CertificateBuilder,
    subject_key: ec.EllipticCurvePublicKey,
    issuer: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    now: float,
    validity: timedelta,
) -> x509.Certificate:
    start = datetime.fromtimestamp(now, UTC)
    return (
        builder.public_key(subject_key)
        .issuer_name(issuer)
        .serial_number(x509.random_serial_number())
        .not_valid_before(start - _BACKDATE)
        .not_valid_after(start + validity)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )


class CertificateAuthority:
    """A self-signed CA kept in a directory: `init` makes one, `open` loads it."""

    def __init__(
        self,
        directory: Path,
        cert: x509.Certificate,
        key: ec.EllipticCurvePrivateKey,
        clock: Clock | None = None,
    ) -> None:
        self.directory = directory
        self.cert = cert
        self._key = key
        self._clock = clock or SystemClock()

    @staticmethod
    def _passphrase(master_key: bytes) -> bytes:
        return base64.urlsafe_b64encode(derive(master_key, _KEY_PURPOSE))

    @classmethod
    def init(
        cls, directory: Path, master_key: bytes, clock: Clock | None = None
    ) -> CertificateAuthority:
        """Make a new CA in `directory`; refuses if one is there already."""
        cert_path, key_path = directory / CA_CERT_FILE, directory / CA_KEY_FILE
        if cert_path.exists() or key_path.exists():
            raise CertificateError(f"a CA already exists in {directory}")
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        clock = clock or SystemClock()
        key = ec.generate_private_key(ec.SECP256R1())
        name = _name("voltgate vehicle CA")
        builder = (
            x509.CertificateBuilder()
            .subject_name(name)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, key_cert_sign=True, crl_sign=True, **_SIGNING_ONLY
                ),
                critical=True,
            )
        )
        cert = _sign(builder, key.public_key(), name, key, clock.now(), CA_VALIDITY)
        ca = cls(directory, cert, key, clock)
        create_file(key_path, _pem(key, cls._passphrase(master_key)), 0o600)
        create_file(cert_path, ca.cert_pem, 0o644)
        return ca

    @classmethod
    def open(
        cls, directory: Path, master_key: bytes, clock: Clock | None = None
    ) -> CertificateAuthority:
        try:
            cert = x509.load_pem_x509_certificate((directory / CA_CERT_FILE).read_bytes())
            raw_key = (directory / CA_KEY_FILE).read_bytes()
        except FileNotFoundError:
            raise CertificateError(
                f"no CA in {directory} (make one with `voltgate telemetry ca init`)"
            ) from None
        try:
            key = serialization.load_pem_private_key(raw_key, cls._passphrase(master_key))
        except ValueError:
            raise CertificateError(
                f"cannot decrypt {directory / CA_KEY_FILE}: it was made under another master key"
            ) from None
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise CertificateError(f"{directory / CA_KEY_FILE} is not an EC key")
        return cls(directory, cert, key, clock)

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def _leaf(
        self, common_name: str, usage: x509.ObjectIdentifier, san: list[x509.GeneralName]
    ) -> tuple[bytes, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True, key_cert_sign=False, crl_sign=False, **_SIGNING_ONLY
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if san:
            builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
        now = self._clock.now()
        cert = _sign(builder, key.public_key(), self.cert.subject, self._key, now, LEAF_VALIDITY)
        return cert.public_bytes(serialization.Encoding.PEM), _pem(key)

    def issue_vehicle(self, vin: str) -> tuple[bytes, bytes]:
        """(certificate PEM, unencrypted PKCS#8 key PEM) for the vehicle `vin`: CN = VIN,
        clientAuth, one year."""
        return self._leaf(check_vin(vin), ExtendedKeyUsageOID.CLIENT_AUTH, [])

    def issue_server(self, hostname: str) -> tuple[bytes, bytes]:
        """(certificate PEM, key PEM) for the listener: serverAuth, one year, valid for
        `hostname`, localhost and 127.0.0.1."""
        names: list[x509.GeneralName] = []
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(hostname)))
        except ValueError:
            labels = hostname.removesuffix(".").split(".")
            if len(hostname) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
                raise CertificateError(f"{hostname!r} is not a host name or IP address") from None
            names.append(x509.DNSName(hostname.removesuffix(".").lower()))
        loopback = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
        for default in (x509.DNSName("localhost"), loopback):
            if default not in names:
                names.append(default)
        # X.509 caps a CN at 64 characters; clients match the SAN, not the CN.
        common_name = hostname if len(hostname) <= 64 else "voltgate telemetry listener"
        return self._leaf(common_name, ExtendedKeyUsageOID.SERVER_AUTH, names)


def _load_chain(context: ssl.SSLContext, cert_pem: bytes, key_pem: bytes) -> None:
    """ssl takes a certificate chain only from files: write one that holds the key encrypted
    under a one-time password, so the key never touches the disk in the clear."""
    try:
        key = serialization.load_pem_private_key(key_pem, None)
    except (ValueError, TypeError) as exc:
        raise CertificateError(f"not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise CertificateError("the private key is not an EC key")
    password = secrets.token_urlsafe(24).encode()
    with tempfile.TemporaryDirectory(prefix="voltgate-tls-") as folder:
        path = Path(folder) / "chain.pem"
        create_file(path, cert_pem + b"\n" + _pem(key, password), 0o600)
        try:
            context.load_cert_chain(path, password=password)
        except ssl.SSLError as exc:
            raise CertificateError(f"the certificate and key do not go together: {exc}") from None


def _context(
    purpose: ssl._SSLMethod, ca_cert_pem: bytes, cert_pem: bytes, key_pem: bytes
) -> ssl.SSLContext:
    context = ssl.SSLContext(purpose)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.verify_mode = ssl.CERT_REQUIRED
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    try:
        context.load_verify_locations(cadata=ca_cert_pem.decode())
    except (ssl.SSLError, UnicodeDecodeError) as exc:
        raise CertificateError(f"not a PEM CA certificate: {exc}") from None
    _load_chain(context, cert_pem, key_pem)
    return context


def server_context(
    ca_cert_pem: bytes, server_cert_pem: bytes, server_key_pem: bytes
) -> ssl.SSLContext:
    """The listener's TLS: TLS 1.2+, a client certificate required and verified against the CA
    (a certificate without clientAuth is refused by OpenSSL's purpose check)."""
    return _context(ssl.PROTOCOL_TLS_SERVER, ca_cert_pem, server_cert_pem, server_key_pem)


def client_context(ca_cert_pem: bytes, cert_pem: bytes, key_pem: bytes) -> ssl.SSLContext:
    """A vehicle's TLS: TLS 1.2+, the server verified against the CA and its host name."""
    return _context(ssl.PROTOCOL_TLS_CLIENT, ca_cert_pem, cert_pem, key_pem)
