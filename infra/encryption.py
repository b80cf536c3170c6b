"""What the platform renders for cryptography (密码应用), as plain data: the one owner of it.

GB/T 39786-2021 (`model/cryptolevels.py`) obliges (应) a level-3 system to keep its important
data confidential at rest and in transit. The platform provides three things, each an object
(or a field of one) the tenants program renders, so `capacity/compliance.py` can check what
would be applied rather than what the model says:

- **Encrypted volumes.** One StorageClass per cluster, `encrypted-<cluster>`, of Longhorn's CSI
  driver with `encrypted: "true"`: volumes are dm-crypt (LUKS) devices whose key the kubelet
  passes from a Secret named by the class's CSI secret parameters (Longhorn, "Volume
  Encryption", longhorn.io/docs/1.6.0/advanced-resources/security/volume-encryption: the
  provisioner, node-publish, node-stage and node-expand secret name/namespace parameters).
  The Secret `volume-key-<cluster>` in `longhorn-system` is the platform's, filled from the
  city's key management (密钥管理) and never rendered here; its CRYPTO_KEY_CIPHER picks the
  cipher (SM4 where the nodes' kernels carry it). A system whose level requires storage
  confidentiality (and every sensitive system) claims its volume from this class.
- **Encrypted backups.** Every BackupStorageLocation carries the aws object-store plugin's
  `customerKeyEncryptionFile` (SSE-C: the store encrypts every object with the city's key
  and keeps none of it; velero-plugin-for-aws, backupstoragelocation.md and PR #176: "the
  path to the secret from within the velero pod"). The file is item `<site>` of the Secret
  `backup-keys` in the velero namespace, mounted by the platform's Velero install at
  `/credentials/backup-keys`; the location's annotations name that Secret and item. One key
  per site, so the DR cluster's read-only locations read with the key they were written with.
  Volume data (file-system backups through kopia) is also encrypted client-side by Velero's
  repository key (`velero-repo-credentials`), before it leaves the cluster.
- **TLS between services.** Every tenant namespace is meshed by Linkerd (`linkerd.io/inject:
  enabled`) with `config.linkerd.io/default-inbound-policy: all-authenticated`: a meshed pod
  accepts only mTLS from meshed clients (linkerd.io/2/reference/authorization-policy,
  "Default policies"), so calls between services are encrypted and both ends authenticated.
  Every tenant is meshed, not only level-3 ones: a level-3 service called by an unmeshed
  level-2 one would refuse it. The NetworkPolicy `allow-mesh-control-plane` lets the proxies
  reach Linkerd's identity, destination and policy controllers.

No key is ever in the clear in a rendered object: only Secret names and items.
"""

from __future__ import annotations

from model import cryptolevels as crypto
from model.schema import Classification, Department, System

# --- volumes -------------------------------------------------------------------------------

VOLUME_PROVISIONER = "driver.longhorn.io"
VOLUME_KEY_NAMESPACE = "longhorn-system"
_CSI = "csi.storage.k8s.io/"
# The CSI secret parameters the kubelet and provisioner resolve (Kubernetes CSI docs,
# "StorageClass Secrets"; Longhorn's volume-encryption example sets exactly these four).
CSI_SECRET_ROLES = ("provisioner", "node-publish", "node-stage", "node-expand")


def storage_class_name(cluster: str) -> str:
    return f"encrypted-{cluster}"


def volume_key_secret(cluster: str) -> str:
    return f"volume-key-{cluster}"


def storage_class(cluster: str) -> dict:
    """The cluster's encrypted StorageClass (cluster-scoped)."""
    params = {"encrypted": "true", "numberOfReplicas": "3", "fsType": "ext4"}
    for role in CSI_SECRET_ROLES:
        params[f"{_CSI}{role}-secret-name"] = volume_key_secret(cluster)
        params[f"{_CSI}{role}-secret-namespace"] = VOLUME_KEY_NAMESPACE
    return {
        "apiVersion": "storage.k8s.io/v1",
        "kind": "StorageClass",
        "metadata": {"name": storage_class_name(cluster)},
        "provisioner": VOLUME_PROVISIONER,
        "parameters": params,
        "reclaimPolicy": "Retain",  # a deleted claim leaves the (encrypted) data until released
        "allowVolumeExpansion": True,
        "volumeBindingMode": "WaitForFirstConsumer",
    }


def volume_key_ref(sc: dict) -> tuple[str, str] | None:
    """(namespace, name) of the key Secret an encrypted StorageClass names for every CSI
    role, or None when the class is not encrypted or a role lacks the reference."""
    params = sc.get("parameters") or {}
    if params.get("encrypted") != "true":
        return None
    refs = {
        (params.get(f"{_CSI}{r}-secret-namespace"), params.get(f"{_CSI}{r}-secret-name"))
        for r in CSI_SECRET_ROLES
    }
    if len(refs) != 1:
        return None
    ns, name = refs.pop()
    return (ns, name) if ns and name else None


def crypto_level(system: System, dept: Department) -> int:
    return crypto.level_of(system.mlps_level, dept.mlps_level)


def needs_encryption_at_rest(system: System, dept: Department) -> bool:
    """Does the system's volume come from the encrypted class? When its level requires
    storage confidentiality, and always for sensitive data."""
    return system.classification == Classification.sensitive or crypto.requires(
        crypto_level(system, dept), "storage"
    )


# --- backups -------------------------------------------------------------------------------

BACKUP_KEY_SECRET = "backup-keys"
BACKUP_KEY_MOUNT = "/credentials/" + BACKUP_KEY_SECRET
SECRET_ANNOTATION = "govcloud/encryption-secret"
SECRET_KEY_ANNOTATION = "govcloud/encryption-secret-key"


def backup_encryption(site: str) -> tuple[dict[str, str], dict[str, str]]:
    """(config entries, annotations) that make a BackupStorageLocation of `site` encrypted."""
    return (
        {"customerKeyEncryptionFile": f"{BACKUP_KEY_MOUNT}/{site}"},
        {SECRET_ANNOTATION: BACKUP_KEY_SECRET, SECRET_KEY_ANNOTATION: site},
    )


def backup_key_ref(bsl: dict) -> tuple[str, str] | None:
    """(Secret, item) a BackupStorageLocation encrypts with, or None when it does not, or its
    key file is not that Secret's mounted item."""
    ann = bsl.get("metadata", {}).get("annotations") or {}
    secret, item = ann.get(SECRET_ANNOTATION), ann.get(SECRET_KEY_ANNOTATION)
    path = (bsl.get("spec", {}).get("config") or {}).get("customerKeyEncryptionFile")
    if not (secret and item) or path != f"/credentials/{secret}/{item}":
        return None
    return secret, item


# --- service-to-service TLS ------------------------------------------------------------------

MESH_NAMESPACE = "linkerd"
INBOUND_POLICY = "config.linkerd.io/default-inbound-policy"
MESH_ANNOTATIONS = {"linkerd.io/inject": "enabled", INBOUND_POLICY: "all-authenticated"}
# Linkerd's control-plane ports the proxies call: identity 8080, destination 8086, policy 8090.
MESH_CONTROL_PORTS = (8080, 8086, 8090)
MESH_POLICY = "allow-mesh-control-plane"
AUTHENTICATED_POLICIES = {"all-authenticated", "cluster-authenticated"}


def mesh_policy_spec() -> dict:
    return {
        "podSelector": {},
        "policyTypes": ["Egress"],
        "egress": [
            {
                "ports": [{"protocol": "TCP", "port": p} for p in MESH_CONTROL_PORTS],
                "to": [
                    {
                        "namespaceSelector": {
                            "matchLabels": {"kubernetes.io/metadata.name": MESH_NAMESPACE}
                        }
                    }
                ],
            }
        ],
    }


def meshed(namespace: dict) -> bool:
    """Does a rendered Namespace put its pods in the mesh with mTLS-only inbound traffic?"""
    ann = namespace.get("metadata", {}).get("annotations") or {}
    return (
        ann.get("linkerd.io/inject") == "enabled"
        and ann.get(INBOUND_POLICY) in AUTHENTICATED_POLICIES
    )
