"""The clinic's signing certificate: configured, or a self-signed one made at first use.

Signed PDFs carry a PAdES signature made with this key, so any PDF reader can
check they are unchanged. A clinic with a certificate from a certification
authority names its key and certificate (PEM) in PRIORAUTH_SIGNING_KEY and
PRIORAUTH_SIGNING_CERT; otherwise a self-signed certificate is generated once
per installation and kept under instance/signing/ (the key readable by its
owner only; instance/ is never committed). A reader then shows the signature
as intact but its issuer as unknown, until the clinic's certificate is trusted.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

SIGNING_DIR = "signing"
KEY_FILE = "signing-key.pem"
CERT_FILE = "signing-cert.pem"
KEY_BITS = 3072
VALID_DAYS = 3650


@dataclass(frozen=True)
class SigningIdentity:
    """A private key and its certificate, both PEM."""

    key_pem: bytes
    cert_pem: bytes
    self_signed: bool


def _generate(organization: str) -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    # The organization's name only: a certificate travels inside every signed PDF.
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{organization} document signing"[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization[:64]),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    usage = x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


def _write_new(path: Path, data: bytes, mode: int) -> bool:
    """Write a file that must not exist yet; False when another process made it first."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return True


def signing_identity(
    instance_path: Path,
    organization: str,
    *,
    key_path: str | None = None,
    cert_path: str | None = None,
) -> SigningIdentity:
    """The configured key and certificate, else the installation's self-signed pair."""
    if key_path and cert_path:
        return SigningIdentity(
            Path(key_path).read_bytes(), Path(cert_path).read_bytes(), self_signed=False
        )
    folder = instance_path / SIGNING_DIR
    key_file, cert_file = folder / KEY_FILE, folder / CERT_FILE
    if not (key_file.exists() and cert_file.exists()):
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        key_pem, cert_pem = _generate(organization)
        # The key first, so a certificate never exists without its key; a second
        # worker racing this one keeps the first pair.
        if _write_new(key_file, key_pem, 0o600):
            cert_file.unlink(missing_ok=True)
            _write_new(cert_file, cert_pem, 0o644)
        else:
            _wait_for(cert_file)
    return SigningIdentity(key_file.read_bytes(), cert_file.read_bytes(), self_signed=True)


def _wait_for(path: Path, seconds: float = 10.0) -> None:
    """Another worker made the key a moment ago: give it time to write the certificate."""
    deadline = time.monotonic() + seconds
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def installation_certificate(instance_path: Path, *, cert_path: str | None = None) -> bytes | None:
    """The certificate this installation signs with, if it has one yet (for verifying)."""
    if cert_path:
        return Path(cert_path).read_bytes()
    path = instance_path / SIGNING_DIR / CERT_FILE
    return path.read_bytes() if path.exists() else None
