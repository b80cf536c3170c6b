"""`SystemWorkload` and `DrReplica`: one government system in its department's namespace.

Thin components over `infra.build.workload` (PersistentVolumeClaim, Deployment or
StatefulSet, dual-stack Service, PodDisruptionBudget when replicated). The same builder
makes the warm DR replica: only the cluster, the role label and the replica count differ.
"""

from __future__ import annotations

import pulumi

from infra import build
from infra.component import Component
from infra.plan import Cluster
from model.schema import Department, System


class SystemWorkload(Component):
    """A system's workload, volume, Service (and budget) in namespace `dept.slug`."""

    TYPE = "govcloud:infra:SystemWorkload"
    ROLE = "primary"

    def __init__(
        self,
        name: str,
        system: System,
        dept: Department,
        cluster: Cluster,
        *,
        replicas: int,
        registry: str,
        storage_class: str | None = None,
        skip_await: bool = False,
        arch: str | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ):
        objects = build.workload(
            name,
            system,
            dept,
            cluster,
            replicas=replicas,
            registry=registry,
            role=self.ROLE,
            storage_class=storage_class,
            skip_await=skip_await,
            arch=arch,
        )
        super().__init__(name, objects, opts)
        self.replicas = pulumi.Output.from_input(replicas)
        self.register_outputs({"replicas": self.replicas})


class DrReplica(SystemWorkload):
    """The warm standby of a system in the DR cluster: the same objects, labelled
    `govcloud/role: dr-replica`, at 0 replicas until the system is in the failover list."""

    TYPE = "govcloud:infra:DrReplica"
    ROLE = "dr-replica"
