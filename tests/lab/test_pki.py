"""lab/pki.py: the certificates a lab control plane authenticates with.

The API server, the controller manager and every client reject a certificate whose chain,
names or key usage is wrong; these tests check each certificate the way a TLS peer does
(`cryptography`'s X.509 path validation, then a real TLS handshake with Python's ssl module).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import stat
import threading

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from lab import pki

LEAVES = {  # stem -> (issuing CA, extended key usage)
    "apiserver": ("ca", ExtendedKeyUsageOID.SERVER_AUTH),
    "admin": ("ca", ExtendedKeyUsageOID.CLIENT_AUTH),
    "front-proxy-client": ("front-proxy-ca", ExtendedKeyUsageOID.CLIENT_AUTH),
}


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pki")
    pki.make_pki(directory, "shared")
    return directory


def cert(directory, stem) -> x509.Certificate:
    return x509.load_pem_x509_certificate((directory / f"{stem}.crt").read_bytes())


def store(directory, ca="ca") -> Store:
    return Store([cert(directory, ca)])


def client_verifier(directory, ca="ca"):
    """Web-PKI path validation for a TLS client (clientAuth EKU, key usage, chain), except
    that a client certificate needs no subject alternative name: Kubernetes reads the user
    from CN and the groups from O, and kubeadm's client certificates have no SAN either."""
    ee = ExtensionPolicy.webpki_defaults_ee().may_be_present(
        x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
    )
    return (
        PolicyBuilder()
        .store(store(directory, ca))
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ee)
        .build_client_verifier()
    )


def test_every_file_is_there_and_private_keys_are_owner_only(made):
    for stem in ("ca", "front-proxy-ca", *LEAVES):
        assert (made / f"{stem}.crt").exists()
        assert stat.S_IMODE((made / f"{stem}.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((made / "sa.key").stat().st_mode) == 0o600
    assert (made / pki.DONE).exists()
    assert not list(made.glob("*.tmp"))


def test_all_keys_are_ec_p256(made):
    for stem in ("ca", "front-proxy-ca", *LEAVES, "sa"):
        key = serialization.load_pem_private_key((made / f"{stem}.key").read_bytes(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        assert key.curve.name == "secp256r1", stem


def test_the_service_account_public_key_belongs_to_its_private_key(made):
    private = serialization.load_pem_private_key((made / "sa.key").read_bytes(), None)
    public = serialization.load_pem_public_key((made / "sa.pub").read_bytes())
    assert private.public_key().public_numbers() == public.public_numbers()


def test_cas_are_self_signed_cas_that_may_sign_certificates(made):
    for ca in ("ca", "front-proxy-ca"):
        c = cert(made, ca)
        assert c.issuer == c.subject
        assert c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == (
            f"govcloud-lab-shared-{ca}"
        )
        constraints = c.extensions.get_extension_for_class(x509.BasicConstraints)
        assert constraints.critical and constraints.value.ca
        usage = c.extensions.get_extension_for_class(x509.KeyUsage)
        assert usage.critical and usage.value.key_cert_sign and usage.value.crl_sign
        c.verify_directly_issued_by(c)


def test_leaves_are_not_cas_and_carry_their_key_usage(made):
    for stem, (ca, purpose) in LEAVES.items():
        c = cert(made, stem)
        assert not c.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        usage = c.extensions.get_extension_for_class(x509.KeyUsage)
        assert usage.critical and usage.value.digital_signature
        assert not usage.value.key_cert_sign
        eku = c.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        assert list(eku) == [purpose], stem
        issuer_ski = cert(made, ca).extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        aki = c.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        assert aki.key_identifier == issuer_ski.value.digest
        c.verify_directly_issued_by(cert(made, ca))


def test_serving_certificate_chain_verifies_for_every_name_clients_use(made):
    leaf = cert(made, "apiserver")
    for name in pki.SERVER_NAMES:
        verifier = PolicyBuilder().store(store(made)).build_server_verifier(x509.DNSName(name))
        chain = verifier.verify(leaf, [])
        assert chain[-1] == cert(made, "ca")
    ip = x509.IPAddress(ipaddress.ip_address("127.0.0.1"))
    PolicyBuilder().store(store(made)).build_server_verifier(ip).verify(leaf, [])


def test_serving_certificate_sans_are_exactly_the_api_server_names(made):
    sans = (
        cert(made, "apiserver")
        .extensions.get_extension_for_class(x509.SubjectAlternativeName)
        .value
    )
    assert sans.get_values_for_type(x509.DNSName) == list(pki.SERVER_NAMES)
    assert sans.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]


def test_serving_certificate_does_not_verify_for_another_name_or_ca(made):
    leaf = cert(made, "apiserver")
    other = PolicyBuilder().store(store(made)).build_server_verifier(x509.DNSName("example.org"))
    with pytest.raises(VerificationError):
        other.verify(leaf, [])
    proxy_ca = PolicyBuilder().store(store(made, "front-proxy-ca"))
    with pytest.raises(VerificationError):
        proxy_ca.build_server_verifier(x509.DNSName("kubernetes")).verify(leaf, [])


def test_client_certificates_chain_to_their_own_ca_only(made):
    admin = client_verifier(made).verify(cert(made, "admin"), [])
    assert admin.chain[-1] == cert(made, "ca")
    client_verifier(made, "front-proxy-ca").verify(cert(made, "front-proxy-client"), [])
    with pytest.raises(VerificationError):  # the API server trusts the two CAs separately
        client_verifier(made).verify(cert(made, "front-proxy-client"), [])
    with pytest.raises(VerificationError):  # a serving certificate is no client certificate
        client_verifier(made).verify(cert(made, "apiserver"), [])


def test_client_subjects_say_user_and_groups_as_the_api_server_reads_them(made, tmp_path):
    admin = cert(made, "admin").subject
    assert admin.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "govcloud-lab-admin"
    assert [a.value for a in admin.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)] == [
        "system:masters"
    ]
    pki.issue(made, "user-alice", "alice", ("dept-a", "auditors"), pki.CLIENT)
    alice = cert(made, "user-alice")
    groups = [a.value for a in alice.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    assert groups == ["dept-a", "auditors"]
    client_verifier(made).verify(alice, [])


def test_make_pki_is_done_once(made):
    before = (made / "ca.crt").read_bytes()
    pki.make_pki(made, "shared")
    assert (made / "ca.crt").read_bytes() == before


def test_a_half_made_pki_is_made_again(tmp_path):
    pki.make_ca(tmp_path, "ca", "left over")  # as if interrupted before `done`
    pki.make_pki(tmp_path, "isolated")
    assert "isolated" in cert(tmp_path, "ca").subject.rfc4514_string()
    cert(tmp_path, "apiserver").verify_directly_issued_by(cert(tmp_path, "ca"))


def test_a_real_tls_handshake_with_mutual_authentication(made):
    """The way kube-apiserver and its clients use the files: server cert + client CA."""
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(made / "apiserver.crt", made / "apiserver.key")
    server_ctx.load_verify_locations(made / "ca.crt")
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    client_ctx = ssl.create_default_context(cafile=str(made / "ca.crt"))
    client_ctx.load_cert_chain(made / "admin.crt", made / "admin.key")
    seen = {}
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def serve():
            conn, _ = listener.accept()
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                seen["peer"] = tls.getpeercert()
                tls.sendall(b"ok")

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with client_ctx.wrap_socket(raw, server_hostname="kubernetes.default.svc") as tls:
                assert tls.recv(2) == b"ok"
        thread.join(10)
    subject = dict(item[0] for item in seen["peer"]["subject"])
    assert subject == {"organizationName": "system:masters", "commonName": "govcloud-lab-admin"}
