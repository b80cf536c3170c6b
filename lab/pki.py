"""The certificates and keys of a lab Kubernetes control plane, made with `cryptography`.

A real cluster authenticates everything by certificate: the API server's serving certificate,
the admin's and each user's client certificates (users are `CN`, groups are `O`, as the API
server reads them), the aggregation layer's front-proxy CA and client, and the key pair that
signs service-account tokens. kubeadm lays them out the same way; this module makes them for
one cluster under `<cluster>/pki/`, once, all on EC P-256 keys:

    make_pki(pki_dir, "shared")               # ca, front-proxy-ca, apiserver, admin, ...
    issue(pki_dir, "user-alice", "alice", ("dept-a",), CLIENT)

Private keys are PKCS #8 PEM, readable by their owner only; certificates are PEM.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from lab.supervisor import LabError

CA_DAYS = 3650
LEAF_DAYS = 365
BACKDATE = datetime.timedelta(minutes=5)  # tolerate a little clock skew between processes
DONE = "done"  # written last: a half-made PKI is made again
SERVER_NAMES = ("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc")
SERVER_IPS = ("127.0.0.1",)


@dataclass(frozen=True)
class Profile:
    """What a leaf certificate is for: its extended key usage and subject alternative names."""

    usage: x509.ObjectIdentifier
    dns: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()


SERVER = Profile(ExtendedKeyUsageOID.SERVER_AUTH, SERVER_NAMES, SERVER_IPS)
CLIENT = Profile(ExtendedKeyUsageOID.CLIENT_AUTH)


def make_pki(pki: Path, cluster: str) -> None:
    """The cluster's CAs, the API server's serving certificate, the admin and front-proxy
    client certificates and the service-account key pair; nothing if already made."""
    pki = Path(pki)
    if (pki / DONE).exists():
        return
    pki.mkdir(parents=True, exist_ok=True)
    for ca in ("ca", "front-proxy-ca"):
        make_ca(pki, ca, f"govcloud-lab-{cluster}-{ca}")
    issue(pki, "apiserver", "kube-apiserver", (), SERVER)
    issue(pki, "admin", "govcloud-lab-admin", ("system:masters",), CLIENT)
    issue(pki, "front-proxy-client", "front-proxy-client", (), CLIENT, ca="front-proxy-ca")
    key = _new_key(pki / "sa.key")
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write(pki / "sa.pub", public, 0o644)
    (pki / DONE).touch()


def make_ca(pki: Path, stem: str, common_name: str) -> None:
    """A self-signed CA: `<stem>.key` and `<stem>.crt`."""
    key = _new_key(pki / f"{stem}.key")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    builder = (
        _base(name, name, key.public_key(), CA_DAYS)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_usage(digital_signature=True, key_cert_sign=True, crl_sign=True), True)
        .add_extension(ski, critical=False)
    )
    _write_cert(pki / f"{stem}.crt", builder.sign(key, hashes.SHA256()))


def issue(
    pki: Path,
    stem: str,
    common_name: str,
    organizations: tuple[str, ...],
    profile: Profile,
    ca: str = "ca",
) -> None:
    """A key (`<stem>.key`) and a certificate (`<stem>.crt`) signed by the CA `<ca>`."""
    pki = Path(pki)
    ca_key = serialization.load_pem_private_key((pki / f"{ca}.key").read_bytes(), None)
    ca_cert = x509.load_pem_x509_certificate((pki / f"{ca}.crt").read_bytes())
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise LabError(f"{pki / f'{ca}.key'}: not an EC key; remove {pki} to make a new PKI")
    key = _new_key(pki / f"{stem}.key")
    subject = x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
        + [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    )
    builder = (
        _base(subject, ca_cert.subject, key.public_key(), LEAF_DAYS)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([profile.usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if profile.dns or profile.ips:
        names: list[x509.GeneralName] = [x509.DNSName(d) for d in profile.dns]
        names += [x509.IPAddress(ipaddress.ip_address(a)) for a in profile.ips]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    _write_cert(pki / f"{stem}.crt", builder.sign(ca_key, hashes.SHA256()))


def _base(
    subject: x509.Name, issuer: x509.Name, public: ec.EllipticCurvePublicKey, days: int
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + datetime.timedelta(days=days))
    )


def _usage(
    digital_signature: bool = False, key_cert_sign: bool = False, crl_sign: bool = False
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=False,  # EC keys sign; they do not encipher keys (RFC 5480 §3)
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=crl_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _new_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write(path, pem, 0o600)
    return key


def _write_cert(path: Path, cert: x509.Certificate) -> None:
    _write(path, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def _write(path: Path, data: bytes, mode: int) -> None:
    """Atomically, created with `mode` (a private key is never readable by others)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as out:
        os.fchmod(out.fileno(), mode)  # also when an old temp file was left with another mode
        out.write(data)
    tmp.replace(path)
