"""MLPS (等保) level-3 evidence per system: each control the platform provides, and the
object that proves it.

The scheme grades systems, not departments. For every system graded level 3 or above (and
every important one, `capacity.kpi.important`), this lists its filing and assessment, its
commercial-crypto assessment (密评), and — for systems the cloud runs — the controls of
GB/T 22239-2019 §8.1 (general requirements, level 3) that the platform provides, each with
the Kubernetes objects the tenants program renders (`infra.render`, under Pulumi's mocks):
the objects are looked up in what would be applied, not assumed. A control with no object
behind it is a `gap`, never `provided`.

Encryption is checked the same way, against GB/T 39786-2021 (`model/cryptolevels.py`): a
system whose 密码应用 level obliges (应) storage confidentiality needs its volume claimed from
a StorageClass that encrypts with a key Secret, and every location its backups go to
encrypted with a key Secret; one obliged to transport confidentiality needs its namespace in
the mesh with mTLS-only inbound traffic and the policy that lets the proxies reach the mesh
(`infra/encryption.py` reads the objects). `evidence(..., rendered=...)` takes the objects to
check, so a tenant rendered without them fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from capacity import kpi
from infra import encryption as enc
from model import cryptolevels as crypto
from model.city import CityModel
from model.schema import Classification, SiteRole

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Control:
    id: str
    clause: str  # GB/T 22239-2019
    title: str


CONTROLS = (
    Control("filing", "公安备案 (MLPS regulation, art. 15)", "filed with public security"),
    Control("assessment", "等级测评, yearly at level 3", "assessed in the last 365 days"),
    Control(
        "isolation",
        "8.1.3.1 边界防护 / 8.2 云计算扩展",
        "tenant namespace, restricted Pod Security, zone cluster",
    ),
    Control(
        "network_policy", "8.1.3.2 访问控制", "default-deny network policy, declared paths only"
    ),
    Control(
        "access_control", "8.1.4.2 访问控制", "tenant-admin role bound to the department's group"
    ),
    Control("audit", "8.1.4.3 安全审计", "audit labels: kept 180 days"),
    Control("backup", "8.1.4.9 数据备份恢复", "scheduled backups, their location and city"),
    Control("redundancy", "8.1.4.9 c) 热冗余", "warm replica on the same-city DR cluster"),
    Control(
        "encryption",
        "8.1.4.8 数据保密性; GB/T 39786-2021 8.4 d) e), 8.2 a)",
        "encrypted volumes, backups, TLS between services, as the system's 密码应用 level asks",
    ),
    Control(
        "crypto_assessment",
        "商用密码应用安全性评估 (密评)",
        "passed the commercial-crypto assessment",
    ),
)


def _objects_by_kind(objects: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for o in objects:
        out.setdefault(o.get("kind", ""), []).append(o)
    return out


def _ref(cluster: str, o: dict) -> dict:
    md = o.get("metadata", {})
    return {
        "cluster": cluster,
        "kind": o.get("kind"),
        "namespace": md.get("namespace"),
        "name": md.get("name"),
    }


def _row(control: Control, status: str, evidence: list[dict], note: str = "") -> dict:
    return {
        "id": control.id,
        "clause": control.clause,
        "title": control.title,
        "status": status,
        "evidence": evidence,
        "note": note,
    }


STATUSES = ("provided", "gap", "not_on_platform", "not_required")


def evidence(
    m: CityModel,
    as_of: date | None = None,
    wave: int | None = None,
    rendered: dict[str, list[dict]] | None = None,
) -> dict:
    """The compliance report: per system, each control's status and evidence, from the
    objects `rendered` (cluster → objects; default: what `infra.render` builds for `wave`)."""
    from infra.plan import plan as cloud_plan
    from infra.render import render
    from infra.settings import StackSettings

    as_of = as_of or date.today()
    p = cloud_plan(m, wave)
    if rendered is None:
        rendered = render(m, StackSettings(model=str(m.source), wave=wave)).objects
    kinds = {c: _objects_by_kind(objs) for c, objs in rendered.items()}
    site_city = {s.name: s.city for s in m.city.sites}
    home_city = next(s.city for s in m.city.sites if s.role == SiteRole.primary)
    locations = {  # (cluster, location name) → site
        (c, o["metadata"]["name"]): o["spec"]["config"]["region"]
        for c, k in kinds.items()
        for o in k.get("BackupStorageLocation", [])
    }
    placed = {s.id: c for c, s, _ in p.workloads if c != p.dr_cluster}
    replicas = {s.id for c, s, _ in p.workloads if c == p.dr_cluster}
    systems: list[dict[str, Any]] = []
    for s in m.systems:
        if not ((s.mlps_level or 0) >= 3 or kpi.important(m, s)):
            continue
        d = m.departments_by_code[s.department]
        level = crypto.level_of(s.mlps_level, d.mlps_level)
        controls = [
            _row(
                CONTROLS[0],
                "provided" if s.mlps_filed else "gap",
                [],
                f"filed {s.mlps_filed}" if s.mlps_filed else "not filed",
            ),
            _row(
                CONTROLS[1],
                "provided" if kpi.mlps_covered(s, as_of) else "gap",
                [],
                f"last assessed {s.mlps_assessed}" if s.mlps_assessed else "never assessed",
            ),
        ]
        cluster = placed.get(s.id)
        if cluster is None:
            note = (
                "classified: the classified scheme (分级保护) applies, not this platform"
                if s.classification == Classification.classified
                else f"{s.state.value} in machine room {s.location}: the department's own controls"
            )
            controls += [_row(c, "not_on_platform", [], note) for c in CONTROLS[2:9]]
        else:
            controls += _platform_controls(
                m, s, d, cluster, kinds, locations, site_city, home_city, p, s.id in replicas
            )
        controls.append(
            _row(
                CONTROLS[9],
                "provided" if s.crypto_assessment.value == "passed" else "gap",
                [],
                f"{s.crypto_assessment.value}"
                + (f" on {s.crypto_assessed}" if s.crypto_assessed else ""),
            )
        )
        systems.append(
            {
                "system": s.id,
                "name": s.name,
                "department": s.department,
                "classification": s.classification.value,
                "mlps_level": s.mlps_level,
                "crypto_level": level,
                "crypto_requirements": {a: crypto.verb(level, a) for a in crypto.ASPECTS},
                "cluster": cluster,
                "controls": controls,
                "gaps": [c["id"] for c in controls if c["status"] == "gap"],
            }
        )
    summary = {
        c.id: {
            status: sum(
                1
                for s in systems
                for r in s["controls"]
                if r["id"] == c.id and r["status"] == status
            )
            for status in STATUSES
        }
        for c in CONTROLS
    }
    return {
        "schema_version": SCHEMA_VERSION,
        "city": m.city.name,
        "as_of": as_of.isoformat(),
        "systems": systems,
        "summary": summary,
    }


def _platform_controls(
    m, s, d, cluster, kinds, locations, site_city, home_city, p, has_replica
) -> list[dict]:
    k = kinds.get(cluster, {})
    ns = d.slug
    namespace = next((o for o in k.get("Namespace", []) if o["metadata"]["name"] == ns), None)
    labels = (namespace or {}).get("metadata", {}).get("labels", {})
    out = []
    restricted = labels.get("pod-security.kubernetes.io/enforce") == "restricted"
    isolated_ok = (
        not (s.classification == Classification.sensitive or d.code in p.sensitive_departments)
        or p.clusters[cluster].isolated
    )
    out.append(
        _row(
            CONTROLS[2],
            "provided" if namespace and restricted and isolated_ok else "gap",
            [_ref(cluster, namespace)] if namespace else [],
            f"{p.clusters[cluster].kind} cluster {cluster}",
        )
    )
    policies = [o for o in k.get("NetworkPolicy", []) if o["metadata"].get("namespace") == ns]
    names = {o["metadata"]["name"] for o in policies}
    out.append(
        _row(
            CONTROLS[3],
            "provided" if "default-deny" in names else "gap",
            [_ref(cluster, o) for o in policies],
        )
    )
    rbac = [
        o
        for o in k.get("Role", []) + k.get("RoleBinding", [])
        if o["metadata"].get("namespace") == ns
    ]
    bound = any(
        subj.get("name") == d.group
        for o in rbac
        if o["kind"] == "RoleBinding"
        for subj in o.get("subjects", [])
    )
    out.append(
        _row(
            CONTROLS[4],
            "provided" if bound else "gap",
            [_ref(cluster, o) for o in rbac],
            f"group {d.group}",
        )
    )
    audited = labels.get("govcloud/audit") == "required"
    out.append(
        _row(
            CONTROLS[5],
            "provided" if audited else "gap",
            [_ref(cluster, namespace)] if namespace and audited else [],
            f"retention {labels.get('govcloud/audit-log-retention-days', '—')} days"
            if audited
            else f"the department's tenant is hardened at level {d.mlps_level}",
        )
    )
    schedules = [
        o
        for o in k.get("Schedule", [])
        if ns in o.get("spec", {}).get("template", {}).get("includedNamespaces", [])
        and _covers(o, s.id)
    ]
    sites = {
        locations.get((cluster, o["spec"]["template"].get("storageLocation"))) for o in schedules
    }
    cities = {site_city.get(x) for x in sites if x}
    sensitive = s.classification == Classification.sensitive or d.code in p.sensitive_departments
    left = sensitive and any(c != home_city for c in cities)
    out.append(
        _row(
            CONTROLS[6],
            "provided" if schedules and not left else "gap",
            [
                _ref(cluster, o) | {"location": o["spec"]["template"].get("storageLocation")}
                for o in schedules
            ],
            "backups at "
            + ", ".join(f"{x} ({site_city.get(x)})" for x in sorted(x for x in sites if x))
            + ("; sensitive data leaves the city" if left else ""),
        )
    )
    out.append(
        _row(
            CONTROLS[7],
            "provided" if has_replica else ("gap" if s.id in p.dr_gaps else "not_required"),
            [{"cluster": p.dr_cluster, "kind": "workload", "name": s.id}] if has_replica else [],
            p.dr_gaps.get(s.id, ""),
        )
    )
    replica = (p.dr_cluster, kinds.get(p.dr_cluster, {})) if has_replica else None
    out.append(_encryption(s, d, cluster, k, schedules, namespace, policies, replica))
    return out


def _volume(s, d, cluster: str, k: dict) -> tuple[list[dict], str | None]:
    """(evidence, note) of the system's volume on one cluster: its claim and the encrypted
    StorageClass it claims from, or ([], None) when the claim is not encrypted."""
    claim = next(
        (
            o
            for o in k.get("PersistentVolumeClaim", [])
            if o["metadata"].get("namespace") == d.slug and o["metadata"]["name"] == f"{s.id}-data"
        ),
        None,
    )
    cls_name = (claim or {}).get("spec", {}).get("storageClassName")
    sc = next((o for o in k.get("StorageClass", []) if o["metadata"]["name"] == cls_name), None)
    key = enc.volume_key_ref(sc) if sc else None
    if not (claim and sc and key):
        return [], None
    note = f"volume {s.id}-data on {cluster} encrypted by {cls_name} (key {key[0]}/{key[1]})"
    return [_ref(cluster, claim), _ref(cluster, sc)], note


def _encryption(s, d, cluster, k, schedules, namespace, policies, replica=None) -> dict:
    """GB/T 39786 at rest and in transit, from the rendered objects: each obligation of the
    system's level is met by an object that names its key Secret, or it is a gap. The warm
    replica's volume on the DR cluster (`replica`: (cluster, objects by kind)) counts too."""
    level = crypto.level_of(s.mlps_level, d.mlps_level)
    at_rest = enc.needs_encryption_at_rest(s, d)
    in_transit = crypto.requires(level, "transport") or crypto.requires(level, "peer_auth")
    evidence: list[dict] = []
    notes: list[str] = []
    missing: list[str] = []
    if s.storage_gib > 0:
        for where, objs in [(cluster, k), *([replica] if replica else [])]:
            found, note = _volume(s, d, where, objs)
            evidence += found
            if note:
                notes.append(note)
            elif at_rest:
                missing.append(
                    f"volume {s.id}-data on {where} is not on an encrypted storage class"
                )
    plain = []
    for loc in sorted({o["spec"]["template"].get("storageLocation") for o in schedules}):
        bsl = next(
            (b for b in k.get("BackupStorageLocation", []) if b["metadata"]["name"] == loc), None
        )
        key = enc.backup_key_ref(bsl) if bsl else None
        if bsl and key:
            evidence.append(_ref(cluster, bsl) | {"key": f"{key[0]}/{key[1]}"})
        else:
            plain.append(loc)
    if schedules and not plain:
        notes.append("backups encrypted at every location")
    elif plain and at_rest:
        missing.append(f"backups to {', '.join(sorted(set(plain)))} are not encrypted")
    mesh = [o for o in policies if o["metadata"]["name"] == enc.MESH_POLICY]
    if namespace and enc.meshed(namespace) and mesh:
        evidence += [_ref(cluster, namespace), _ref(cluster, mesh[0])]
        notes.append(
            f"mTLS between services ({namespace['metadata']['annotations'][enc.INBOUND_POLICY]})"
        )
    elif in_transit:
        missing.append(f"namespace {d.slug} is not in the mesh with mTLS-only inbound traffic")
    asks = ", ".join(f"{a} {crypto.verb(level, a)}" for a in crypto.ASPECTS)
    head = f"密码应用 level {level} ({asks})"
    if missing:
        return _row(CONTROLS[8], "gap", evidence, "; ".join([head, *missing]))
    status = "provided" if at_rest or in_transit else "not_required"
    return _row(CONTROLS[8], status, evidence, "; ".join([head, *notes]))


def _covers(schedule: dict, system: str) -> bool:
    """A tenant-wide schedule covers every system; a system's own one names it."""
    sel = schedule["spec"]["template"].get("labelSelector") or {}
    labels = sel.get("matchLabels") or {}
    return not labels or labels.get("govcloud/system") == system
