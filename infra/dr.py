"""Velero objects for backups and disaster recovery (velero.io/v1 custom resources).

`BackupLocations` declares, in one cluster, where its backups go: the off-site store and,
for a zone cluster, its bucket at the same-city DR site (the DR cluster gets read-only
locations onto those buckets, so Velero there can restore them). `BackupSchedule` is one
Velero `Schedule`. Velero itself is installed with the platform, not here.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from infra import conventions as cv
from infra.plan import Backup

VELERO_API = "velero.io/v1"


def _md(name: str) -> k8s.meta.v1.ObjectMetaArgs:
    return k8s.meta.v1.ObjectMetaArgs(name=name, namespace=cv.VELERO_NAMESPACE, labels=cv.labels())


class BackupLocations(pulumi.ComponentResource):
    """The Velero BackupStorageLocations of one cluster.

    `locations` maps a location name to (bucket, site, s3 URL, read_only)."""

    def __init__(
        self,
        name: str,
        locations: dict[str, tuple[str, str, str, bool]],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__("govcloud:infra:BackupLocations", name, None, opts)
        for loc, (bucket, site, url, read_only) in sorted(locations.items()):
            k8s.apiextensions.CustomResource(
                f"{name}-{loc}",
                api_version=VELERO_API,
                kind="BackupStorageLocation",
                metadata=_md(loc),
                spec={
                    "provider": "aws",  # Velero's S3-compatible object-store plugin
                    "objectStorage": {"bucket": bucket, "prefix": "velero"},
                    "config": {"region": site, "s3Url": url, "s3ForcePathStyle": "true"},
                    "accessMode": "ReadOnly" if read_only else "ReadWrite",
                    "credential": {"name": f"objectstore-{site}", "key": "cloud"},
                },
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({"locations": sorted(locations)})


class BackupSchedule(pulumi.ComponentResource):
    """One Velero Schedule: a tenant's daily off-site backup, or a system's RPO-driven one."""

    def __init__(self, name: str, backup: Backup, opts: pulumi.ResourceOptions | None = None):
        super().__init__("govcloud:infra:BackupSchedule", name, None, opts)
        b = backup
        selector = (
            {"matchLabels": {cv.SYSTEM: b.system}}
            if b.system
            else {"matchExpressions": [{"key": cv.SYSTEM, "operator": "Exists"}]}
        )
        k8s.apiextensions.CustomResource(
            f"{name}-schedule",
            api_version=VELERO_API,
            kind="Schedule",
            metadata=_md(b.name),
            spec={
                "schedule": b.cron,
                "useOwnerReferencesInBackup": False,
                "template": {
                    "includedNamespaces": [b.namespace],
                    "labelSelector": selector,
                    "includeClusterResources": False,
                    "storageLocation": b.location,
                    "snapshotVolumes": False,
                    "defaultVolumesToFsBackup": True,
                    "ttl": f"{b.ttl_hours}h0m0s",
                },
            },
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.register_outputs({"cron": b.cron, "location": b.location})
