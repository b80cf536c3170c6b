"""Velero objects for backups and disaster recovery (velero.io/v1 custom resources).

`BackupLocations` declares, in one cluster, where its backups go (`infra.build.backup_locations`:
the off-site store and, for a zone cluster, its bucket at the same-city DR site; the DR
cluster gets read-only locations onto those buckets so Velero there can restore them).
`BackupSchedule` is one Velero `Schedule` (`infra.build.schedule`). Velero itself is
installed with the platform, not here.
"""

from __future__ import annotations

import pulumi

from infra import build
from infra.component import Component
from infra.plan import Backup


class BackupLocations(Component):
    """The Velero BackupStorageLocations of one cluster.

    `locations` maps a location name to (bucket, site, s3 URL, read_only)."""

    TYPE = "govcloud:infra:BackupLocations"

    def __init__(
        self,
        name: str,
        locations: dict[str, tuple[str, str, str, bool]],
        opts: pulumi.ResourceOptions | None = None,
    ):
        super().__init__(name, build.backup_locations(name, locations), opts)
        self.register_outputs({"locations": sorted(locations)})


class BackupSchedule(Component):
    """One Velero Schedule: a tenant's daily off-site backup, or a system's RPO-driven one."""

    TYPE = "govcloud:infra:BackupSchedule"

    def __init__(self, name: str, backup: Backup, opts: pulumi.ResourceOptions | None = None):
        super().__init__(name, build.schedule(name, backup), opts)
        self.register_outputs({"cron": backup.cron, "location": backup.location})
