"""`EncryptedStorage`: a cluster's encrypted StorageClass (GB/T 39786 storage confidentiality).

A thin component over `infra.build.encrypted_storage`; what the class is, and why, is
`infra/encryption.py`. It belongs to the cluster's platform stack: every tenant there claims
volumes of its level-3 and sensitive systems from it.
"""

from __future__ import annotations

import pulumi

from infra import build
from infra.component import Component
from infra.plan import Cluster


class EncryptedStorage(Component):
    """The encrypted StorageClass of one cluster (opts carry its provider)."""

    TYPE = "govcloud:infra:EncryptedStorage"

    def __init__(self, name: str, cluster: Cluster, opts: pulumi.ResourceOptions | None = None):
        objects = build.encrypted_storage(name, cluster)
        super().__init__(name, objects, opts)
        self.register_outputs({"storage_class": objects[0].manifest["metadata"]["name"]})
