"""`DepartmentTenant`: one department's hardened namespace on one cluster.

A thin component: the objects (Namespace with Pod Security `restricted`, ResourceQuota,
LimitRange, NetworkPolicies, the tenant-admin Role and RoleBinding) come from
`infra.build.tenant`, the one place that defines them. Plain data in; nothing read from
files or config.
"""

from __future__ import annotations

import pulumi

from infra import build
from infra.component import Component
from infra.plan import Cluster
from model.schema import Department

network_policies = build.network_policies


class DepartmentTenant(Component):
    """A department's namespace and guard rails on one cluster (opts carry its provider)."""

    TYPE = "govcloud:infra:DepartmentTenant"
    namespace: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        dept: Department,
        cluster: Cluster,
        *,
        data_class: str,
        ingress_namespace: str,
        opts: pulumi.ResourceOptions | None = None,
    ):
        objects = build.tenant(
            name, dept, cluster, data_class=data_class, ingress_namespace=ingress_namespace
        )
        super().__init__(name, objects, opts)
        self.namespace_resource = self.children[objects[0].name]  # what workloads wait for
        self.namespace = pulumi.Output.from_input(dept.slug)
        self.register_outputs({"namespace": self.namespace})
