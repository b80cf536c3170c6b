"""lab/kubeconfig.py: kubeconfigs the Kubernetes client reads as kubectl would."""

from __future__ import annotations

import base64
import stat

import pytest
import yaml

from lab import kubeconfig, pki


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pki")
    pki.make_pki(directory, "shared")
    return directory


def entries(certs):
    return [
        kubeconfig.Entry(
            name, f"https://127.0.0.1:{port}", certs / "ca.crt", "admin", certs / "admin"
        )
        for name, port in (("shared", 6443), ("dr-dc", 6444))
    ]


def test_written_file_is_private_and_the_client_reads_every_context(certs, tmp_path):
    config = pytest.importorskip("kubernetes.config")
    path = kubeconfig.write(tmp_path / "kubeconfig", entries(certs))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    contexts, current = config.list_kube_config_contexts(config_file=str(path))
    assert [c["name"] for c in contexts] == ["shared", "dr-dc"]
    assert current["name"] == "shared"
    assert contexts[1]["context"] == {"cluster": "dr-dc", "user": "dr-dc-admin"}


def test_certificates_are_embedded_byte_for_byte(certs, tmp_path):
    path = kubeconfig.write(tmp_path / "kubeconfig", entries(certs)[:1])
    data = yaml.safe_load(path.read_text())
    assert data["apiVersion"] == "v1" and data["kind"] == "Config"
    cluster = data["clusters"][0]["cluster"]
    assert cluster["server"] == "https://127.0.0.1:6443"
    assert (
        base64.b64decode(cluster["certificate-authority-data"]) == (certs / "ca.crt").read_bytes()
    )
    user = data["users"][0]["user"]
    assert base64.b64decode(user["client-key-data"]) == (certs / "admin.key").read_bytes()
    assert base64.b64decode(user["client-certificate-data"]) == (certs / "admin.crt").read_bytes()


def test_only_files_this_lab_wrote_are_without_nodes(certs, tmp_path):
    lab_made = kubeconfig.write(tmp_path / "lab", entries(certs))
    other = tmp_path / "prod"
    other.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    broken = tmp_path / "broken"
    broken.write_text("clusters: [\n")
    assert kubeconfig.without_nodes(lab_made)
    assert not kubeconfig.without_nodes(other)
    assert not kubeconfig.without_nodes(broken)
    assert not kubeconfig.without_nodes(tmp_path / "missing")


def test_an_empty_kubeconfig_is_still_a_valid_document(tmp_path):
    data = yaml.safe_load(kubeconfig.write(tmp_path / "empty", []).read_text())
    assert data["contexts"] == [] and data["current-context"] == ""
