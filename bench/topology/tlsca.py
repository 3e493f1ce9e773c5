"""A certificate authority made for one run: the CA and a server certificate for the spawned nodes.

``--tls`` on the harness's own servers needs certificates that nobody has to provide. This makes a CA
and one server certificate (for 127.0.0.1 and localhost, what the spawned nodes bind) with the
``cryptography`` package, writes them into the run's work directory beside the servers, and they go
with it. Keys are EC P-256: cheap to make, and the handshakes they sign are what a managed service
would use too (TLS 1.3, ECDHE). Nothing here is meant to outlive the run.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from bench.wire.tls import TlsFiles

#: Long enough for any run, short enough that a leaked file is soon worthless.
VALID_FOR = datetime.timedelta(days=2)
#: A CA signs certificates and nothing else.
CA_KEY_USAGE = x509.KeyUsage(
    digital_signature=True,
    key_cert_sign=True,
    crl_sign=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    encipher_only=False,
    decipher_only=False,
)


@dataclass(frozen=True)
class ServerCertificates:
    """The files a TLS server and its clients need, all in one directory."""

    ca_cert: Path
    cert: Path
    key: Path

    def server_args(self, seen_at: str | None = None) -> tuple[str, ...]:
        """redis-server / valkey-server arguments: TLS on ``--tls-port``; clients show no certificate.

        ``seen_at``: where the server finds this directory, if not here (a container's mount point).
        """

        def path(file: Path) -> str:
            return str(file) if seen_at is None else f"{seen_at}/{file.name}"

        return (
            "--tls-cert-file", path(self.cert),
            "--tls-key-file", path(self.key),
            "--tls-ca-cert-file", path(self.ca_cert),
            "--tls-auth-clients", "no",
        )  # fmt: skip

    @property
    def client_tls(self) -> TlsFiles:
        """What a client checks these servers against: this CA."""
        return TlsFiles(ca_cert=str(self.ca_cert))


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.touch(mode=0o600)  # the owner's only from the start, not after the key is in it
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


def _signed_by(
    issuer: x509.Name, subject: x509.Name, key: ec.EllipticCurvePrivateKey, now: datetime.datetime
) -> x509.CertificateBuilder:
    """What the CA's certificate and the server's share: names, key, a fresh serial, the validity."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALID_FOR)
    )


def make_certificates(
    directory: Path, hosts: tuple[str, ...] = ("127.0.0.1", "localhost")
) -> ServerCertificates:
    """A new CA, and a server certificate it signs for ``hosts``, written into ``directory``."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("leaderboard-bench run CA")
    ca = (
        _signed_by(ca_name, ca_name, ca_key, now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(CA_KEY_USAGE, critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    cert = (
        _signed_by(ca_name, _name(hosts[0]), key, now)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    files = ServerCertificates(directory / "ca.crt", directory / "server.crt", directory / "server.key")
    files.ca_cert.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    _write_key(key, files.key)
    return files
