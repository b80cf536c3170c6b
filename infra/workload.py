"""`SystemWorkload`: one government system running in its department's namespace.

A Deployment, or a StatefulSet when the system holds data, sized from the model (requests
and limits both from `vcpu` / `memory_gib`, so capacity planning and quota mean the same
thing), a PersistentVolumeClaim from `storage_gib`, and a dual-stack Service. Containers
meet Pod Security `restricted` (non-root, no privilege escalation, all capabilities
dropped, RuntimeDefault seccomp, read-only root filesystem). Systems of a xinchuang
(信创) zone are pinned to arm64 nodes. The same component makes the warm DR replica:
only the cluster, the role label and the replica count differ.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from infra import conventions as cv
from infra.plan import ARCH_BY_ZONE_KIND, Cluster
from model.schema import Department, System

meta = k8s.meta.v1
core = k8s.core.v1
apps = k8s.apps.v1


def image(registry: str, dept: Department, system: System) -> str:
    return f"{registry}/{dept.slug}/{system.id}:stable"


def pod_security() -> core.PodSecurityContextArgs:
    return core.PodSecurityContextArgs(
        run_as_non_root=True,
        run_as_user=cv.RUN_AS,
        run_as_group=cv.RUN_AS,
        fs_group=cv.RUN_AS,
        seccomp_profile=core.SeccompProfileArgs(type="RuntimeDefault"),
    )


def container_security() -> core.SecurityContextArgs:
    return core.SecurityContextArgs(
        allow_privilege_escalation=False,
        privileged=False,
        run_as_non_root=True,
        read_only_root_filesystem=True,
        capabilities=core.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=core.SeccompProfileArgs(type="RuntimeDefault"),
    )


def affinity(arch: str | None) -> core.AffinityArgs | None:
    if arch is None:
        return None
    return core.AffinityArgs(
        node_affinity=core.NodeAffinityArgs(
            required_during_scheduling_ignored_during_execution=core.NodeSelectorArgs(
                node_selector_terms=[
                    core.NodeSelectorTermArgs(
                        match_expressions=[
                            core.NodeSelectorRequirementArgs(
                                key="kubernetes.io/arch", operator="In", values=[arch]
                            )
                        ]
                    )
                ]
            )
        )
    )


class SystemWorkload(pulumi.ComponentResource):
    """A system's workload, volume and Service in namespace `dept.slug` on one cluster."""

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
        super().__init__(self.TYPE, name, None, opts)
        role = self.ROLE
        s = system
        ns = dept.slug
        selector = {cv.SYSTEM: s.id}
        lbls = cv.labels(
            **{
                cv.SYSTEM: s.id,
                cv.DEPARTMENT: dept.code,
                cv.DATA_CLASS: s.classification.value,
                cv.DR_LEVEL: str(s.dr_level),
                cv.ZONE_KIND: cluster.kind,
                cv.ROLE: role,
                "app.kubernetes.io/name": s.id,
            }
        )
        waits = cv.SKIP_AWAIT if skip_await else {}
        md = meta.ObjectMetaArgs(
            name=s.id,
            namespace=ns,
            labels=lbls,
            annotations={"govcloud/system-name": s.name, **waits},
        )
        child = pulumi.ResourceOptions(parent=self)
        volumes = [
            core.VolumeArgs(name="tmp", empty_dir=core.EmptyDirVolumeSourceArgs(size_limit="1Gi"))
        ]
        mounts = [core.VolumeMountArgs(name="tmp", mount_path="/tmp")]
        deps = []
        if s.storage_gib > 0:
            claim = f"{s.id}-data"
            deps.append(
                core.PersistentVolumeClaim(
                    f"{name}-pvc",
                    metadata=meta.ObjectMetaArgs(
                        name=claim, namespace=ns, labels=lbls, annotations=waits or None
                    ),
                    spec=core.PersistentVolumeClaimSpecArgs(
                        access_modes=["ReadWriteOnce" if s.replicas == 1 else "ReadWriteMany"],
                        storage_class_name=storage_class,
                        resources=core.VolumeResourceRequirementsArgs(
                            requests={"storage": cv.gib(s.storage_gib)}
                        ),
                    ),
                    opts=child,
                )
            )
            volumes.append(
                core.VolumeArgs(
                    name="data",
                    persistent_volume_claim=core.PersistentVolumeClaimVolumeSourceArgs(
                        claim_name=claim
                    ),
                )
            )
            mounts.append(core.VolumeMountArgs(name="data", mount_path="/data"))
        amount = {"cpu": cv.cpu(s.vcpu), "memory": cv.gib(s.memory_gib)}
        template = core.PodTemplateSpecArgs(
            metadata=meta.ObjectMetaArgs(labels=lbls),
            spec=core.PodSpecArgs(
                security_context=pod_security(),
                affinity=affinity(arch or ARCH_BY_ZONE_KIND.get(cluster.kind)),
                automount_service_account_token=False,
                containers=[
                    core.ContainerArgs(
                        name="app",
                        image=image(registry, dept, s),
                        ports=[core.ContainerPortArgs(name="http", container_port=cv.APP_PORT)],
                        resources=core.ResourceRequirementsArgs(requests=amount, limits=amount),
                        security_context=container_security(),
                        volume_mounts=mounts,
                    )
                ],
                volumes=volumes,
            ),
        )
        wl_opts = pulumi.ResourceOptions(parent=self, depends_on=deps)
        if s.data_gib > 0:
            self.workload = apps.StatefulSet(
                f"{name}-sts",
                metadata=md,
                spec=apps.StatefulSetSpecArgs(
                    replicas=replicas,
                    service_name=s.id,
                    selector=meta.LabelSelectorArgs(match_labels=selector),
                    template=template,
                ),
                opts=wl_opts,
            )
        else:
            self.workload = apps.Deployment(
                f"{name}-deploy",
                metadata=md,
                spec=apps.DeploymentSpecArgs(
                    replicas=replicas,
                    selector=meta.LabelSelectorArgs(match_labels=selector),
                    template=template,
                ),
                opts=wl_opts,
            )
        core.Service(
            f"{name}-svc",
            metadata=md,
            spec=core.ServiceSpecArgs(
                selector=selector,
                ip_family_policy="PreferDualStack",
                ports=[
                    core.ServicePortArgs(
                        name="http", port=cv.SERVICE_PORT, target_port="http", protocol="TCP"
                    )
                ],
            ),
            opts=child,
        )
        self.replicas = pulumi.Output.from_input(replicas)
        self.register_outputs({"replicas": self.replicas})


class DrReplica(SystemWorkload):
    """The warm standby of a system in the DR cluster: the same objects, labelled
    `govcloud/role: dr-replica`, at 0 replicas until the system is in the failover list."""

    TYPE = "govcloud:infra:DrReplica"
    ROLE = "dr-replica"
