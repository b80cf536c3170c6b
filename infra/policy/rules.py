"""The policy pack's rules as plain validate functions, testable without the engine.

Each takes pulumi-policy's args (`ResourceValidationArgs` / `StackValidationArgs`) and a
`report_violation` callback. Resources are recognised by their type token and their
Kubernetes properties (camelCase, as the engine sees them); the labels they check are the
ones `infra/conventions.py` sets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from infra import conventions as cv

Report = Callable[..., None]

WORKLOAD_TYPES = {
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "kubernetes:core/v1:Pod": ("spec",),
}
NAMESPACE = "kubernetes:core/v1:Namespace"
QUOTA = "kubernetes:core/v1:ResourceQuota"
LIMIT_RANGE = "kubernetes:core/v1:LimitRange"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def _get(d, *path):
    """`d[path[0]][path[1]]…`, or None. Under the engine, pulumi-policy hands props over as
    read-only `Mapping` proxies (which raise on values unknown at preview), not dicts."""
    for p in path:
        if not isinstance(d, Mapping):
            return None
        d = d.get(p)
    return d


def _labels(props) -> dict:
    return _get(props, "metadata", "labels") or {}


def pod_spec(resource_type: str, props) -> dict | None:
    path = WORKLOAD_TYPES.get(resource_type)
    return _get(props, *path) if path else None


def containers(spec: dict) -> Iterator[dict]:
    for key in ("initContainers", "containers"):
        yield from spec.get(key) or []


def sensitive_only_isolated(args, report_violation: Report) -> None:
    """Sensitive data (a sensitive system, or a tenant of a department owning one) never
    runs on a shared or xinchuang cluster."""
    labels = _labels(args.props)
    if labels.get(cv.DATA_CLASS) == "sensitive" and labels.get(cv.ZONE_KIND) != "isolated":
        report_violation(
            f"{args.resource_type} {args.name} holds sensitive data but targets a "
            f"{labels.get(cv.ZONE_KIND, 'unlabelled')} cluster; sensitive data stays in the isolated zone"
        )


def requests_and_limits(args, report_violation: Report) -> None:
    """Every container states CPU and memory requests and limits."""
    spec = pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    for c in containers(spec):
        res = c.get("resources") or {}
        missing = [
            f"{kind}.{r}"
            for kind in ("requests", "limits")
            for r in ("cpu", "memory")
            if not (res.get(kind) or {}).get(r)
        ]
        if missing:
            report_violation(
                f"container {c.get('name')!r} of {args.name} has no {', '.join(missing)}"
            )


def no_privileged(args, report_violation: Report) -> None:
    """No privileged container, no privilege escalation, no host namespaces."""
    spec = pod_spec(args.resource_type, args.props)
    if spec is None:
        return
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(host):
            report_violation(f"{args.name} uses {host}")
    for c in containers(spec):
        sc = c.get("securityContext") or {}
        if sc.get("privileged"):
            report_violation(f"container {c.get('name')!r} of {args.name} is privileged")
        if sc.get("allowPrivilegeEscalation", True) is not False:
            report_violation(
                f"container {c.get('name')!r} of {args.name} does not set allowPrivilegeEscalation: false"
            )


def _is_default_deny(props) -> bool:
    spec = props.get("spec") or {}
    return (
        not (spec.get("podSelector") or {})
        and set(spec.get("policyTypes") or []) == {"Ingress", "Egress"}
        and not spec.get("ingress")
        and not spec.get("egress")
    )


def tenants_hardened(args, report_violation: Report) -> None:
    """Every tenant namespace (labelled `govcloud/department`) has, on the same cluster, a
    ResourceQuota, a LimitRange and a default-deny NetworkPolicy, and enforces Pod Security
    `restricted`."""
    found: dict[tuple, set[str]] = {}
    tenants = []
    for r in args.resources:
        cluster = r.provider.urn if r.provider is not None else None
        md = r.props.get("metadata") or {}
        if r.resource_type == NAMESPACE and cv.DEPARTMENT in (md.get("labels") or {}):
            tenants.append((cluster, md.get("name"), r))
        elif r.resource_type in (QUOTA, LIMIT_RANGE) or (
            r.resource_type == NETWORK_POLICY and _is_default_deny(r.props)
        ):
            found.setdefault((cluster, md.get("namespace")), set()).add(r.resource_type)
    needs = {
        QUOTA: "ResourceQuota",
        LIMIT_RANGE: "LimitRange",
        NETWORK_POLICY: "default-deny NetworkPolicy",
    }
    for cluster, ns, r in tenants:
        have = found.get((cluster, ns), set())
        missing = [label for t, label in needs.items() if t not in have]
        if missing:
            report_violation(f"tenant namespace {ns} has no {', '.join(missing)}", r.urn)
        if _labels(r.props).get("pod-security.kubernetes.io/enforce") != cv.PSA_LEVEL:
            report_violation(
                f"tenant namespace {ns} does not enforce Pod Security {cv.PSA_LEVEL}", r.urn
            )
