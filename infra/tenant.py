"""`DepartmentTenant`: one department's hardened namespace on one cluster.

Namespace (Pod Security `restricted`, department and MLPS labels), ResourceQuota from the
department's quota, LimitRange defaults, NetworkPolicies (default deny both ways, then
allow in-namespace, DNS, the ingress controller, and egress — anywhere at MLPS level 2,
only to the declared `egress_allow` prefixes at level 3), and the tenant-admin Role bound
to the department's group. Plain data in; nothing read from files or config.
"""

from __future__ import annotations

import ipaddress

import pulumi
import pulumi_kubernetes as k8s

from infra import conventions as cv
from infra.plan import Cluster
from model.schema import Department

meta = k8s.meta.v1
core = k8s.core.v1
net = k8s.networking.v1
rbac = k8s.rbac.v1

# What a department's own administrators may do inside their namespace. Quotas, limit
# ranges, network policies and RBAC are the platform's: they can read, not change them.
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
        ["get", "list", "watch", "create", "update", "patch", "delete"],
    ),
    (
        "apps",
        ["deployments", "statefulsets", "replicasets", "deployments/scale", "statefulsets/scale"],
        ["get", "list", "watch", "create", "update", "patch", "delete"],
    ),
    (
        "batch",
        ["jobs", "cronjobs"],
        ["get", "list", "watch", "create", "update", "patch", "delete"],
    ),
    (
        "networking.k8s.io",
        ["ingresses"],
        ["get", "list", "watch", "create", "update", "patch", "delete"],
    ),
    ("", ["resourcequotas", "limitranges"], ["get", "list", "watch"]),
    ("networking.k8s.io", ["networkpolicies"], ["get", "list", "watch"]),
]

# Per-container defaults for pods that do not say: small, so a forgotten limit cannot eat
# a department's quota.
DEFAULT_LIMIT = {"cpu": "500m", "memory": "512Mi"}
DEFAULT_REQUEST = {"cpu": "100m", "memory": "128Mi"}


class DepartmentTenant(pulumi.ComponentResource):
    """A department's namespace and guard rails on one cluster (opts carry its provider)."""

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
        super().__init__("govcloud:infra:DepartmentTenant", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
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

        def md(obj: str) -> meta.ObjectMetaArgs:
            return meta.ObjectMetaArgs(
                name=obj, namespace=ns, labels=base, annotations=cv.PLATFORM_OWNED
            )

        namespace = core.Namespace(
            f"{name}-ns",
            metadata=meta.ObjectMetaArgs(
                name=ns,
                labels=ns_labels,
                annotations={"govcloud/department-name": dept.name, **cv.PLATFORM_OWNED},
            ),
            opts=child,
        )
        in_ns = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        q = dept.quota
        core.ResourceQuota(
            f"{name}-quota",
            metadata=md("quota"),
            spec=core.ResourceQuotaSpecArgs(
                hard={
                    "requests.cpu": cv.cpu(q.cpu),
                    "limits.cpu": cv.cpu(q.cpu),
                    "requests.memory": cv.gib(q.memory_gib),
                    "limits.memory": cv.gib(q.memory_gib),
                    "requests.storage": cv.gib(q.storage_gib),
                }
            ),
            opts=in_ns,
        )
        core.LimitRange(
            f"{name}-limits",
            metadata=md("limits"),
            spec=core.LimitRangeSpecArgs(
                limits=[
                    core.LimitRangeItemArgs(
                        type="Container",
                        default=DEFAULT_LIMIT,
                        default_request=DEFAULT_REQUEST,
                        max={"cpu": cv.cpu(q.cpu), "memory": cv.gib(q.memory_gib)},
                    ),
                ]
            ),
            opts=in_ns,
        )
        for policy_name, spec in network_policies(dept, ingress_namespace):
            net.NetworkPolicy(
                f"{name}-{policy_name}", metadata=md(policy_name), spec=spec, opts=in_ns
            )
        role = rbac.Role(
            f"{name}-admin",
            metadata=md("tenant-admin"),
            rules=[
                rbac.PolicyRuleArgs(api_groups=[g], resources=r, verbs=v) for g, r, v in ADMIN_RULES
            ],
            opts=in_ns,
        )
        rbac.RoleBinding(
            f"{name}-admin-binding",
            metadata=md("tenant-admin"),
            role_ref=rbac.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="Role", name="tenant-admin"
            ),
            subjects=[
                rbac.SubjectArgs(
                    api_group="rbac.authorization.k8s.io", kind="Group", name=dept.group
                )
            ],
            opts=pulumi.ResourceOptions(parent=self, depends_on=[role]),
        )
        self.namespace_resource = namespace  # what the tenant's workloads depend on
        self.namespace = pulumi.Output.from_input(ns)
        self.register_outputs({"namespace": self.namespace})


def _peers(prefixes: list[str]) -> list[net.NetworkPolicyPeerArgs]:
    return [
        net.NetworkPolicyPeerArgs(ip_block=net.IPBlockArgs(cidr=str(ipaddress.ip_network(p))))
        for p in prefixes
    ]


def network_policies(
    dept: Department, ingress_namespace: str
) -> list[tuple[str, net.NetworkPolicySpecArgs]]:
    """The tenant's NetworkPolicies as (name, spec). Policies add up: the first denies
    everything, each of the others opens one path."""
    every_pod = meta.LabelSelectorArgs()
    same_ns = [net.NetworkPolicyPeerArgs(pod_selector=every_pod)]
    dns_ports = [net.NetworkPolicyPortArgs(protocol=p, port=53) for p in ("UDP", "TCP")]
    out = [
        (
            "default-deny",
            net.NetworkPolicySpecArgs(pod_selector=every_pod, policy_types=["Ingress", "Egress"]),
        ),
        (
            "allow-same-namespace",
            net.NetworkPolicySpecArgs(
                pod_selector=every_pod,
                policy_types=["Ingress", "Egress"],
                ingress=[net.NetworkPolicyIngressRuleArgs(from_=same_ns)],
                egress=[net.NetworkPolicyEgressRuleArgs(to=same_ns)],
            ),
        ),
        (
            "allow-dns",
            net.NetworkPolicySpecArgs(
                pod_selector=every_pod,
                policy_types=["Egress"],
                egress=[
                    net.NetworkPolicyEgressRuleArgs(
                        ports=dns_ports,
                        to=[
                            net.NetworkPolicyPeerArgs(
                                namespace_selector=meta.LabelSelectorArgs(
                                    match_labels={"kubernetes.io/metadata.name": cv.DNS_NAMESPACE}
                                ),
                                pod_selector=meta.LabelSelectorArgs(match_labels=cv.DNS_POD_LABELS),
                            )
                        ],
                    )
                ],
            ),
        ),
        (
            "allow-from-ingress",
            net.NetworkPolicySpecArgs(
                pod_selector=every_pod,
                policy_types=["Ingress"],
                ingress=[
                    net.NetworkPolicyIngressRuleArgs(
                        from_=[
                            net.NetworkPolicyPeerArgs(
                                namespace_selector=meta.LabelSelectorArgs(
                                    match_labels={"kubernetes.io/metadata.name": ingress_namespace}
                                )
                            )
                        ]
                    )
                ],
            ),
        ),
    ]
    if dept.mlps_level == 3:
        if dept.egress_allow:  # level 3: only the declared destinations
            out.append(
                (
                    "allow-declared-egress",
                    net.NetworkPolicySpecArgs(
                        pod_selector=every_pod,
                        policy_types=["Egress"],
                        egress=[net.NetworkPolicyEgressRuleArgs(to=_peers(dept.egress_allow))],
                    ),
                )
            )
    else:  # level 2: egress is open, ingress stays closed
        out.append(
            (
                "allow-egress",
                net.NetworkPolicySpecArgs(
                    pod_selector=every_pod,
                    policy_types=["Egress"],
                    egress=[net.NetworkPolicyEgressRuleArgs(to=_peers(["0.0.0.0/0", "::/0"]))],
                ),
            )
        )
    return out
