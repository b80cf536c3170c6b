"""The govcloud program: providers, tenants, workloads, DR and backups for one city.

`deploy(model, settings)` is what `infra/__main__.py` runs under the Pulumi engine and what
`infra/render.py` runs under Pulumi's mocks — the same code either way. It returns the
stack outputs (plain data) for the caller to export.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from capacity import kpi
from infra import plan as planner
from infra.dr import BackupLocations, BackupSchedule
from infra.settings import StackSettings
from infra.tenant import DepartmentTenant
from infra.workload import DrReplica, SystemWorkload
from model.city import CityModel

ADOPTION_TARGET = next(t.target for t in kpi.TARGETS if t.key == "cloud_adoption_rate")


def cluster_provider(name: str, settings: StackSettings) -> k8s.Provider:
    """The Kubernetes provider of one cluster: its kubeconfig context, or a render directory."""
    c = settings.cluster(name)
    if settings.render_dir:
        return k8s.Provider(name, render_yaml_to_directory=f"{settings.render_dir}/{name}")
    return k8s.Provider(
        name, context=c.context, kubeconfig=c.kubeconfig, enable_server_side_apply=True
    )


def backup_locations(p: planner.CloudPlan, cluster: str, settings: StackSettings) -> dict:
    """Location name → (bucket, site, URL, read-only) for one cluster."""
    if p.clusters[cluster].kind == "dr":
        return {
            planner.dr_location(p.dr_site, c): (
                f"govcloud-{c}",
                p.dr_site,
                settings.object_store(p.dr_site),
                True,
            )
            for c, cl in p.clusters.items()
            if cl.kind != "dr"
        }
    sites = [p.offsite_site]
    if p.isolated_backup_site and p.clusters[cluster].isolated:
        sites.append(p.isolated_backup_site)  # sensitive departments' backups stay in the city
    return {
        site: (f"govcloud-{cluster}", site, settings.object_store(site), False) for site in sites
    } | {
        planner.dr_location(p.dr_site, cluster): (
            f"govcloud-{cluster}",
            p.dr_site,
            settings.object_store(p.dr_site),
            False,
        ),
    }


def deploy(m: CityModel, settings: StackSettings) -> dict:
    p = planner.plan(m, settings.wave, settings.failover)
    providers = {name: cluster_provider(name, settings) for name in p.clusters}

    def on(cluster: str, depends_on=None) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(provider=providers[cluster], depends_on=depends_on)

    tenants = {}
    for cluster, d in p.tenants:
        data_class = "sensitive" if d.code in p.sensitive_departments else "non_classified"
        tenants[(cluster, d.code)] = DepartmentTenant(
            f"{cluster}-{d.slug}",
            d,
            p.clusters[cluster],
            data_class=data_class,
            ingress_namespace=settings.ingress_namespace,
            opts=on(cluster),
        )
    for cluster, s, replicas in p.workloads:
        kind = DrReplica if cluster == p.dr_cluster else SystemWorkload
        kind(
            f"{cluster}-{s.id}",
            s,
            m.departments_by_code[s.department],
            p.clusters[cluster],
            replicas=replicas,
            registry=settings.registry,
            storage_class=settings.cluster(cluster).storage_class,
            skip_await=settings.skip_await,
            arch=p.arches.get(s.id),
            opts=on(cluster, [tenants[(cluster, s.department)].namespace_resource]),
        )
    for c in p.clusters:
        BackupLocations(f"{c}-backup-locations", backup_locations(p, c, settings), opts=on(c))
    for b in p.backups:
        BackupSchedule(
            f"{b.cluster}-{b.name}",
            b,
            opts=on(b.cluster, [tenants[(b.cluster, b.department)].namespace_resource]),
        )
    return outputs(m, p, settings)


def outputs(m: CityModel, p: planner.CloudPlan, settings: StackSettings) -> dict:
    """The stack outputs: counts per cluster, adoption after this wave, what still blocks."""
    per_cluster = {}
    for name, c in p.clusters.items():
        mine = [(s, r) for cl, s, r in p.workloads if cl == name]
        per_cluster[name] = {
            "kind": c.kind,
            "tenants": sum(1 for cl, _ in p.tenants if cl == name),
            "workloads": len(mine),
            "running_replicas": sum(r for _, r in mine),
        }
    blocking = kpi.blocking_systems(m, settings.wave)
    return {
        "wave": settings.wave,
        "clusters": per_cluster,
        "systems_per_zone": {
            n: v["workloads"] for n, v in per_cluster.items() if p.clusters[n].kind != "dr"
        },
        "adoption_rate": kpi.cloud_adoption_rate(m, settings.wave),
        "adoption_target": ADOPTION_TARGET,
        "blocking_systems": blocking,
        "dr": {
            "warm_replicas": per_cluster[p.dr_cluster]["workloads"],
            "failed_over": sorted(settings.failover),
            "rpo_schedules": sum(1 for b in p.backups if b.system),
            "daily_backups": sum(1 for b in p.backups if not b.system),
        },
        "dr_gaps": p.dr_gaps,
    }
