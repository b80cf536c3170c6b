"""Every Kubernetes object govcloud creates, built as plain data — the one source of each object.

Each builder takes model data and returns `Obj`s: the Pulumi resource name, the Kubernetes
manifest (camelCase, as the API server and the engine see it) and the names of the resources
it must wait for. The Pulumi components (`infra/tenant.py`, `infra/workload.py`,
`infra/dr.py`) register exactly these objects; `infra/render.py` writes them as YAML with no
Pulumi runtime at all. Nothing here imports Pulumi.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from infra import conventions as cv
from infra import encryption as enc
from infra.plan import Backup, Cluster
from model.schema import Department, System


@dataclass(frozen=True)
class Obj:
    """One Kubernetes object as the program registers it."""

    name: str  # the Pulumi resource name (the last part of its URN): stable, from the model
    manifest: dict
    after: tuple[str, ...] = ()  # resource names (same component) it depends on

    @property
    def ident(self) -> tuple[str, str, str | None, str]:
        md = self.manifest["metadata"]
        return (self.manifest["apiVersion"], self.manifest["kind"], md.get("namespace"), md["name"])


def type_token(manifest: dict) -> str:
    """The Pulumi type of a Kubernetes object: `kubernetes:<group or core>/<version>:<kind>`."""
    group, _, version = manifest["apiVersion"].rpartition("/")
    return f"kubernetes:{group or 'core'}/{version}:{manifest['kind']}"


def _md(name: str, namespace: str | None = None, labels=None, annotations=None) -> dict:
    out: dict = {"name": name}
    if namespace is not None:
        out["namespace"] = namespace
    if labels:
        out["labels"] = dict(labels)
    if annotations:
        out["annotations"] = dict(annotations)
    return out


# --- the tenant ---------------------------------------------------------------------------

# What a department's own administrators may do inside their namespace. Quotas, limit
# ranges, network policies and RBAC are the platform's: they can read, not change them.
_RW = ["get", "list", "watch", "create", "update", "patch", "delete"]
ADMIN_RULES = [
    (
        "",
        [
            "pods",
            "pods/log",
            "services",
            "endpoints",
            "configmaps",
            "secrets",
            "persistentvolumeclaims",
            "serviceaccounts",
            "events",
        ],
        _RW,
    ),
    (
        "apps",
        ["deployments", "statefulsets", "replicasets", "deployments/scale", "statefulsets/scale"],
        _RW,
    ),
    ("batch", ["jobs", "cronjobs"], _RW),
    ("networking.k8s.io", ["ingresses"], _RW),
    ("policy", ["poddisruptionbudgets"], ["get", "list", "watch"]),
    ("", ["resourcequotas", "limitranges"], ["get", "list", "watch"]),
    ("networking.k8s.io", ["networkpolicies"], ["get", "list", "watch"]),
]

# Per-container defaults for pods that do not say: small, so a forgotten limit cannot eat
# a department's quota.
DEFAULT_LIMIT = {"cpu": "500m", "memory": "512Mi", "ephemeral-storage": cv.EPHEMERAL_LIMIT}
DEFAULT_REQUEST = {"cpu": "100m", "memory": "128Mi", "ephemeral-storage": cv.EPHEMERAL_REQUEST}


def tenant(
    name: str, dept: Department, cluster: Cluster, *, data_class: str, ingress_namespace: str
) -> list[Obj]:
    """A department's namespace and guard rails on one cluster: Namespace (Pod Security
    `restricted`, department and MLPS labels), ResourceQuota, LimitRange, NetworkPolicies,
    the tenant-admin Role and its RoleBinding."""
    ns = dept.slug
    zone = cluster.zone.name if cluster.zone else cluster.name
    base = cv.labels(
        **{
            cv.DEPARTMENT: dept.code,
            cv.MLPS: str(dept.mlps_level),
            cv.ZONE: zone,
            cv.ZONE_KIND: cluster.kind,
            cv.DATA_CLASS: data_class,
        }
    )
    ns_labels = {
        **base,
        "pod-security.kubernetes.io/enforce": cv.PSA_LEVEL,
        "pod-security.kubernetes.io/enforce-version": cv.PSA_VERSION,
    }
    if dept.mlps_level == 3:
        ns_labels |= cv.MLPS3_AUDIT_LABELS

    def md(obj: str) -> dict:
        return _md(obj, ns, base, cv.PLATFORM_OWNED)

    q = dept.quota
    ns_name = f"{name}-ns"
    after = (ns_name,)
    out = [
        Obj(
            ns_name,
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": _md(
                    ns,
                    labels=ns_labels,
                    annotations={
                        "govcloud/department-name": dept.name,
                        **enc.MESH_ANNOTATIONS,
                        **cv.PLATFORM_OWNED,
                    },
                ),
            },
        ),
        Obj(
            f"{name}-quota",
            {
                "apiVersion": "v1",
                "kind": "ResourceQuota",
                "metadata": md("quota"),
                "spec": {
                    "hard": {
                        "requests.cpu": cv.cpu(q.cpu),
                        "limits.cpu": cv.cpu(q.cpu),
                        "requests.memory": cv.gib(q.memory_gib),
                        "limits.memory": cv.gib(q.memory_gib),
                        "requests.storage": cv.gib(q.storage_gib),
                    }
                },
            },
            after,
        ),
        Obj(
            f"{name}-limits",
            {
                "apiVersion": "v1",
                "kind": "LimitRange",
                "metadata": md("limits"),
                "spec": {
                    "limits": [
                        {
                            "type": "Container",
                            "default": DEFAULT_LIMIT,
                            "defaultRequest": DEFAULT_REQUEST,
                            "max": {"cpu": cv.cpu(q.cpu), "memory": cv.gib(q.memory_gib)},
                        }
                    ]
                },
            },
            after,
        ),
    ]
    out += [
        Obj(
            f"{name}-{policy}",
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": md(policy),
                "spec": spec,
            },
            after,
        )
        for policy, spec in network_policies(dept, ingress_namespace)
    ]
    role = f"{name}-admin"
    out += [
        Obj(
            role,
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": md("tenant-admin"),
                "rules": [
                    {"apiGroups": [g], "resources": list(r), "verbs": list(v)}
                    for g, r, v in ADMIN_RULES
                ],
            },
            after,
        ),
        Obj(
            f"{name}-admin-binding",
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": md("tenant-admin"),
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "Role",
                    "name": "tenant-admin",
                },
                "subjects": [
                    {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": dept.group}
                ],
            },
            (role,),
        ),
    ]
    return out


def _peers(prefixes: list[str]) -> list[dict]:
    return [{"ipBlock": {"cidr": str(ipaddress.ip_network(p))}} for p in prefixes]


def network_policies(dept: Department, ingress_namespace: str) -> list[tuple[str, dict]]:
    """The tenant's NetworkPolicies as (name, spec). Policies add up: the first denies
    everything, each of the others opens one path (egress: anywhere at MLPS level 2, only to
    the declared `egress_allow` prefixes at level 3)."""
    every_pod: dict = {}
    same_ns = [{"podSelector": every_pod}]
    out = [
        ("default-deny", {"podSelector": every_pod, "policyTypes": ["Ingress", "Egress"]}),
        (
            "allow-same-namespace",
            {
                "podSelector": every_pod,
                "policyTypes": ["Ingress", "Egress"],
                "ingress": [{"from": same_ns}],
                "egress": [{"to": same_ns}],
            },
        ),
        (
            "allow-dns",
            {
                "podSelector": every_pod,
                "policyTypes": ["Egress"],
                "egress": [
                    {
                        "ports": [{"protocol": p, "port": 53} for p in ("UDP", "TCP")],
                        "to": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {"kubernetes.io/metadata.name": cv.DNS_NAMESPACE}
                                },
                                "podSelector": {"matchLabels": dict(cv.DNS_POD_LABELS)},
                            }
                        ],
                    }
                ],
            },
        ),
        (
            "allow-from-ingress",
            {
                "podSelector": every_pod,
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [
                            {
                                "namespaceSelector": {
                                    "matchLabels": {
                                        "kubernetes.io/metadata.name": ingress_namespace
                                    }
                                }
                            }
                        ]
                    }
                ],
            },
        ),
        (enc.MESH_POLICY, enc.mesh_policy_spec()),  # the proxies reach the mesh's controllers
    ]
    if dept.mlps_level == 3:
        if dept.egress_allow:  # level 3: only the declared destinations
            out.append(
                (
                    "allow-declared-egress",
                    {
                        "podSelector": every_pod,
                        "policyTypes": ["Egress"],
                        "egress": [{"to": _peers(dept.egress_allow)}],
                    },
                )
            )
    else:  # level 2: egress is open, ingress stays closed
        out.append(
            (
                "allow-egress",
                {
                    "podSelector": every_pod,
                    "policyTypes": ["Egress"],
                    "egress": [{"to": _peers(["0.0.0.0/0", "::/0"])}],
                },
            )
        )
    return out


# --- a system's workload --------------------------------------------------------------------


def image(registry: str, dept: Department, system: System) -> str:
    """The system's image: pinned by the model's digest, else the promoted `stable` tag."""
    repo = f"{registry}/{dept.slug}/{system.id}"
    return f"{repo}@{system.image_digest}" if system.image_digest else f"{repo}:stable"


POD_SECURITY = {
    "runAsNonRoot": True,
    "runAsUser": cv.RUN_AS,
    "runAsGroup": cv.RUN_AS,
    "fsGroup": cv.RUN_AS,
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "runAsNonRoot": True,
    "runAsUser": cv.RUN_AS,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def affinity(arch: str | None, selector: dict[str, str], replicas: int) -> dict | None:
    """Required node architecture on xinchuang clusters; replicas of one system preferably
    on different nodes (the spread constraint keeps zones even, this keeps nodes apart)."""
    out: dict = {}
    if arch is not None:
        out["nodeAffinity"] = {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": "kubernetes.io/arch", "operator": "In", "values": [arch]}
                        ]
                    }
                ]
            }
        }
    if replicas > 1:
        out["podAntiAffinity"] = {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "labelSelector": {"matchLabels": selector},
                        "topologyKey": "kubernetes.io/hostname",
                    },
                }
            ]
        }
    return out or None


def probes(system: System) -> dict:
    """Liveness and readiness over HTTP on the app port, at the model's health endpoints;
    a startup probe gives slow starters (state loaded from /data) five minutes."""

    def http(path: str, **timing) -> dict:
        return {"httpGet": {"path": path, "port": "http"}, "timeoutSeconds": 2, **timing}

    return {
        "startupProbe": http(system.health_path, periodSeconds=5, failureThreshold=60),
        "livenessProbe": http(system.health_path, periodSeconds=10, failureThreshold=3),
        "readinessProbe": http(system.ready_path, periodSeconds=5, failureThreshold=3),
    }


def workload(
    name: str,
    system: System,
    dept: Department,
    cluster: Cluster,
    *,
    replicas: int,
    registry: str,
    role: str = "primary",
    storage_class: str | None = None,
    skip_await: bool = False,
    arch: str | None = None,
) -> list[Obj]:
    """A system's PersistentVolumeClaim (when it has storage), Deployment (or StatefulSet
    when it holds data), dual-stack Service, and PodDisruptionBudget when replicated.

    Requests = limits = the model's `vcpu` / `memory_gib`, so capacity planning and quota
    mean the same thing; containers meet Pod Security `restricted`."""
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
    md = _md(s.id, ns, lbls, {"govcloud/system-name": s.name, **waits})
    volumes: list[dict] = [{"name": "tmp", "emptyDir": {"sizeLimit": cv.TMP_SIZE}}]
    mounts = [{"name": "tmp", "mountPath": "/tmp"}]
    out: list[Obj] = []
    after: tuple[str, ...] = ()
    if s.storage_gib > 0:
        claim = f"{s.id}-data"
        pvc_spec: dict = {
            "accessModes": ["ReadWriteOnce" if s.replicas == 1 else "ReadWriteMany"],
            "resources": {"requests": {"storage": cv.gib(s.storage_gib)}},
        }
        if enc.needs_encryption_at_rest(
            s, dept
        ):  # GB/T 39786: its level requires encryption at rest
            pvc_spec["storageClassName"] = enc.storage_class_name(cluster.name)
        elif storage_class:
            pvc_spec["storageClassName"] = storage_class
        out.append(
            Obj(
                f"{name}-pvc",
                {
                    "apiVersion": "v1",
                    "kind": "PersistentVolumeClaim",
                    "metadata": _md(claim, ns, lbls, waits),
                    "spec": pvc_spec,
                },
            )
        )
        after = (f"{name}-pvc",)
        volumes.append({"name": "data", "persistentVolumeClaim": {"claimName": claim}})
        mounts.append({"name": "data", "mountPath": "/data"})
    amount = {"cpu": cv.cpu(s.vcpu), "memory": cv.gib(s.memory_gib)}
    pod: dict = {
        "securityContext": POD_SECURITY,
        "automountServiceAccountToken": False,
        "containers": [
            {
                "name": "app",
                "image": image(registry, dept, s),
                "imagePullPolicy": "Always",
                "ports": [{"name": "http", "containerPort": cv.APP_PORT}],
                "resources": {
                    "requests": {**amount, "ephemeral-storage": cv.EPHEMERAL_REQUEST},
                    "limits": {**amount, "ephemeral-storage": cv.EPHEMERAL_LIMIT},
                },
                "securityContext": CONTAINER_SECURITY,
                "volumeMounts": mounts,
                **probes(s),
            }
        ],
        "volumes": volumes,
    }
    # a xinchuang system keeps its arch wherever it runs (the plan says so for the DR cluster)
    pinned = cluster.zone.pinned_arch if cluster.zone is not None else None
    aff = affinity(arch or (pinned.value if pinned else None), selector, s.replicas)
    if aff:
        pod["affinity"] = aff
    if s.replicas > 1:
        pod["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": selector},
            }
        ]
    spec: dict = {
        "replicas": replicas,
        "selector": {"matchLabels": selector},
        "template": {"metadata": {"labels": lbls}, "spec": pod},
    }
    if s.data_gib > 0:
        kind, suffix = "StatefulSet", "sts"
        spec["serviceName"] = s.id
    else:
        kind, suffix = "Deployment", "deploy"
    out.append(
        Obj(
            f"{name}-{suffix}",
            {"apiVersion": "apps/v1", "kind": kind, "metadata": md, "spec": spec},
            after,
        )
    )
    out.append(
        Obj(
            f"{name}-svc",
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": md,
                "spec": {
                    "selector": selector,
                    "ipFamilyPolicy": "PreferDualStack",
                    "ports": [
                        {
                            "name": "http",
                            "port": cv.SERVICE_PORT,
                            "targetPort": "http",
                            "protocol": "TCP",
                        }
                    ],
                },
            },
        )
    )
    if s.replicas > 1:  # a voluntary disruption (node drain, upgrade) keeps all but one running
        out.append(
            Obj(
                f"{name}-pdb",
                {
                    "apiVersion": "policy/v1",
                    "kind": "PodDisruptionBudget",
                    "metadata": _md(s.id, ns, lbls),
                    "spec": {"maxUnavailable": 1, "selector": {"matchLabels": selector}},
                },
            )
        )
    return out


# --- Velero ---------------------------------------------------------------------------------

VELERO_API = "velero.io/v1"


def backup_locations(name: str, locations: dict[str, tuple[str, str, str, bool]]) -> list[Obj]:
    """The Velero BackupStorageLocations of one cluster; `locations` maps a location name to
    (bucket, site, S3 URL, read_only). Each is encrypted with its site's key
    (`infra.encryption.backup_encryption`)."""
    return [
        Obj(
            f"{name}-{loc}",
            {
                "apiVersion": VELERO_API,
                "kind": "BackupStorageLocation",
                "metadata": _md(loc, cv.VELERO_NAMESPACE, cv.labels(), keys[1]),
                "spec": {
                    "provider": "aws",  # Velero's S3-compatible object-store plugin
                    "objectStorage": {"bucket": bucket, "prefix": "velero"},
                    "config": {
                        "region": site,
                        "s3Url": url,
                        "s3ForcePathStyle": "true",
                        **keys[0],
                    },
                    "accessMode": "ReadOnly" if read_only else "ReadWrite",
                    "credential": {"name": f"objectstore-{site}", "key": "cloud"},
                },
            },
        )
        for loc, (bucket, site, url, read_only) in sorted(locations.items())
        for keys in [enc.backup_encryption(site)]
    ]


def encrypted_storage(name: str, cluster: Cluster) -> list[Obj]:
    """The cluster's encrypted StorageClass (`infra.encryption.storage_class`)."""
    return [Obj(f"{name}-class", enc.storage_class(cluster.name))]


def schedule(name: str, backup: Backup) -> list[Obj]:
    """One Velero Schedule: a tenant's daily off-site backup, or a system's RPO-driven one."""
    b = backup
    selector = (
        {"matchLabels": {cv.SYSTEM: b.system}}
        if b.system
        else {"matchExpressions": [{"key": cv.SYSTEM, "operator": "Exists"}]}
    )
    return [
        Obj(
            f"{name}-schedule",
            {
                "apiVersion": VELERO_API,
                "kind": "Schedule",
                "metadata": _md(b.name, cv.VELERO_NAMESPACE, cv.labels()),
                "spec": {
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
            },
        )
    ]
