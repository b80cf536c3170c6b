"""Kubeconfig files for the lab's control planes, written with `yaml.safe_dump`.

Every client — kubectl, the Python client, Pulumi's Kubernetes provider and the lab's own
controller managers — finds a lab cluster through a kubeconfig: one context per cluster,
named after it, with the cluster's CA and a client certificate embedded (base64 PEM, as
`kubectl config --embed-certs` writes them). The file carries a `govcloud.lab` extension that
clients ignore and `without_nodes()` reads: these control planes have no nodes, so nothing
should wait for a workload to become ready there.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

LAB_EXTENSION = "govcloud.lab"  # marks the kubeconfigs this lab writes


@dataclass(frozen=True)
class Entry:
    """One context: the cluster (and context) name, its server URL, its CA certificate, and
    the user whose certificate and key are `<stem>.crt` and `<stem>.key`."""

    name: str
    server: str
    ca: Path
    user: str
    stem: Path


def kubeconfig(entries: list[Entry]) -> dict:
    """The kubeconfig document (`apiVersion: v1`, `kind: Config`) for these contexts; the
    first is the current context."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": e.name,
                "cluster": {"server": e.server, "certificate-authority-data": _b64(e.ca)},
            }
            for e in entries
        ],
        "users": [
            {
                "name": f"{e.name}-{e.user}",
                "user": {
                    "client-certificate-data": _b64(Path(f"{e.stem}.crt")),
                    "client-key-data": _b64(Path(f"{e.stem}.key")),
                },
            }
            for e in entries
        ],
        "contexts": [
            {"name": e.name, "context": {"cluster": e.name, "user": f"{e.name}-{e.user}"}}
            for e in entries
        ],
        "current-context": entries[0].name if entries else "",
        # Says what these clusters are to tools that read the file (clients ignore it).
        "extensions": [{"name": LAB_EXTENSION, "extension": {"nodes": 0}}],
    }


def write(path: Path, entries: list[Entry]) -> Path:
    """Write the kubeconfig atomically, readable by its owner only (it holds client keys)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(kubeconfig(entries), sort_keys=False, default_flow_style=False)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), 0o600)
        out.write(text)
    tmp.replace(path)
    return path


def without_nodes(path: str | os.PathLike) -> bool:
    """True if the kubeconfig is one this lab wrote: control planes without nodes, where no
    workload ever becomes ready (so Pulumi must not wait for readiness there)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return False
    extensions = data.get("extensions") if isinstance(data, dict) else None
    return any(isinstance(e, dict) and e.get("name") == LAB_EXTENSION for e in extensions or ())


def _b64(path: Path) -> str:
    return base64.b64encode(Path(path).read_bytes()).decode()
