"""Names, labels, quantities and security settings every govcloud Kubernetes object shares.

One place for the conventions cloud administrators grep for (`govcloud/department`,
`govcloud/system`, …) and for the restricted Pod Security settings, so the tenant, the
workload and the policy pack cannot drift apart.
"""

from __future__ import annotations

PREFIX = "govcloud/"
DEPARTMENT = PREFIX + "department"
SYSTEM = PREFIX + "system"
MLPS = PREFIX + "mlps-level"
ZONE = PREFIX + "zone"
ZONE_KIND = PREFIX + "zone-kind"
DATA_CLASS = PREFIX + "data-class"
DR_LEVEL = PREFIX + "dr-level"
ROLE = PREFIX + "role"  # primary | dr-replica
MANAGED = {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "govcloud"}

PSA_LEVEL = "restricted"
PSA_VERSION = "v1.30"

# MLPS 2.0 level 3 (GB/T 22239-2019) asks for security audit of every tenant; logs are
# kept at least 180 days (Cybersecurity Law art. 21). The labels tell the audit pipeline.
MLPS3_AUDIT_LABELS = {
    PREFIX + "audit": "required",
    PREFIX + "audit-log-retention-days": "180",
    "pod-security.kubernetes.io/audit": PSA_LEVEL,
    "pod-security.kubernetes.io/audit-version": PSA_VERSION,
    "pod-security.kubernetes.io/warn": PSA_LEVEL,
    "pod-security.kubernetes.io/warn-version": PSA_VERSION,
}

APP_PORT = 8080
SERVICE_PORT = 80
RUN_AS = 10001
# Scratch space per container: the read-only root filesystem leaves only the /tmp emptyDir
# (capped at TMP_SIZE) and the container's logs, both counted as ephemeral storage.
TMP_SIZE = "1Gi"
EPHEMERAL_REQUEST = "256Mi"
EPHEMERAL_LIMIT = "2Gi"
# The provider waits for Deployments, StatefulSets, PVCs and Services to become ready;
# on a lab control plane without nodes they never do. Lab stacks set this annotation.
SKIP_AWAIT = {"pulumi.com/skipAwait": "true"}
# A tenant's guard rails (namespace, quota, limits, network policies, RBAC) belong to the
# platform: server-side apply takes back fields someone else changed (drift) instead of
# stopping at the field-manager conflict.
PLATFORM_OWNED = {"pulumi.com/patchForce": "true"}
VELERO_NAMESPACE = "velero"
DNS_NAMESPACE = "kube-system"
DNS_POD_LABELS = {"k8s-app": "kube-dns"}


def cpu(cores: float) -> str:
    """Cores as a Kubernetes quantity: whole cores as "4", fractions as millicores."""
    milli = round(cores * 1000)
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def gib(amount: float) -> str:
    """GiB as a Kubernetes quantity, exact to the MiB."""
    mib = round(amount * 1024)
    return f"{mib // 1024}Gi" if mib % 1024 == 0 else f"{mib}Mi"


def labels(**extra: str) -> dict[str, str]:
    return {**MANAGED, **extra}
