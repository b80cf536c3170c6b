"""The gate's simulated checks (capacity, backup/DR), decided on R replications.

One run of a stochastic model is one draw: a double-path outage or a failure at the peak
flips it with the seed. So the gate runs `gate.replications` independent replications of
each model (in parallel processes, or on a Dask cluster given a scheduler; replication i of
seed s always gets the same seed, `simulate.replicate`), collects each replication's
findings, and decides on each finding's **probability**: a no-go kind of finding whose
estimated probability is above `gate.max_violation_probability` is a reason to stop; one
seen less often is a warning. Each carries its probability, its 95% interval (Wilson) and
the number of replications it was seen in, so the same seeds give the same decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulate import replicate
from simulate.settings import GateSettings


@dataclass(frozen=True)
class Finding:
    check: str
    subject: str
    value: float | str | None
    limit: float | str | None
    message: str
    nogo: bool


def capacity_findings(data: dict, gate: GateSettings) -> list[Finding]:
    out = []
    for name, z in data["zones"].items():
        if z["peak_utilisation"] > gate.target_utilisation:
            needed = z["nodes_needed"] if z["nodes_needed"] is not None else "more"
            out.append(
                Finding(
                    "zone_peak",
                    name,
                    z["peak_utilisation"],
                    gate.target_utilisation,
                    f"zone {name}'s simulated peak utilisation {z['peak_utilisation']:.1%} is above "
                    f"{gate.target_utilisation:.0%}; {needed} nodes needed, {z['nodes']} present",
                    True,
                )
            )
        storage, share = z["peak_storage_allocation"], gate.target_storage_utilisation
        if storage is not None and storage > share:
            out.append(
                Finding(
                    "zone_storage",
                    name,
                    storage,
                    share,
                    f"zone {name}'s storage demand peaks at {z['peak_storage_gib']:g} GiB, "
                    f"{storage:.1%} of its {z['storage_gib']:g} GiB (above {share:.0%}); "
                    f"{z['storage_needed_gib']:g} GiB needed",
                    True,
                )
            )
        failures = z["placement_failures"]
        for kind in ("arrival", "growth"):
            if failures[kind]:
                out.append(
                    Finding(
                        "placement_failure",
                        f"{name}/{kind}",
                        failures[kind],
                        0,
                        f"zone {name}: {failures[kind]} {kind} placement(s) found no node with room",
                        True,
                    )
                )
        if failures["evacuation"]:
            out.append(
                Finding(
                    "evacuation_failure",
                    name,
                    failures["evacuation"],
                    0,
                    f"zone {name}: {failures['evacuation']} VM(s) waited for a node after a failure (no N+1 headroom)",
                    gate.evacuation_failures_are_nogo,
                )
            )
    return out


def backup_findings(data: dict, gate: GateSettings) -> list[Finding]:
    out = []
    for row in data["systems"]:
        level = f"system {row['id']} (DR level {row['dr_level']})"
        if not row["rpo_ok"]:
            bound = row["rpo_bound_s"]
            out.append(
                Finding(
                    "rpo",
                    row["id"],
                    row["rpo_s"],
                    bound,
                    f"{level}: simulated RPO {row['rpo_s'] / 3600:.2f} h is above the level's bound {bound / 3600:.2f} h",
                    True,
                )
            )
        if row["rto_ok"] is False:
            if row["rto_s"] is None and row["restore_problem"]:
                out.append(
                    Finding(
                        "restore_failed",
                        row["id"],
                        row["restore_attempts"],
                        None,
                        f"{level} cannot be recovered in a city-wide failover: {row['restore_problem']}",
                        gate.rto_is_nogo,
                    )
                )
            elif row["rto_s"] is None:
                out.append(
                    Finding(
                        "dr_capacity",
                        row["id"],
                        None,
                        None,
                        f"{level} cannot be recovered at the DR site in a city-wide failover: {row['dr_host_problem']}",
                        gate.rto_is_nogo,
                    )
                )
            else:
                bound = row["rto_bound_s"]
                out.append(
                    Finding(
                        "rto",
                        row["id"],
                        row["rto_s"],
                        bound,
                        f"{level}: simulated RTO {row['rto_s'] / 3600:.1f} h is above the level's bound {bound / 3600:.1f} h",
                        gate.rto_is_nogo,
                    )
                )
    for v in data["replication_violations"]:
        out.append(
            Finding(
                "replication",
                v["site"],
                v["shortfall_mbps"],
                0,
                f"the link to {v['site']} cannot carry its continuous replication: "
                f"{v['shortfall_mbps']:g} Mbit/s short of the write rate",
                True,
            )
        )
    window = data["window"]
    if window["nights_over"]:
        out.append(
            Finding(
                "backup_window",
                "backup",
                window["max_h"],
                window["window_h"],
                f"{window['nights_over']} of {window['nights']} nights ran past the {window['window_h']:g} h backup window",
                gate.backup_window_is_nogo,
            )
        )
    return out


def _worst(findings: list[Finding]) -> Finding:
    numeric = [
        (float(f.value), k) for k, f in enumerate(findings) if isinstance(f.value, int | float)
    ]
    return findings[max(numeric)[1]] if numeric else findings[0]


def decide(per_replication: list[list[Finding]], threshold: float) -> list[tuple[Finding, dict]]:
    """Each (check, subject) seen in any replication, its worst finding and its probability;
    in the order first seen."""
    n = len(per_replication)
    seen: dict[tuple[str, str], list[Finding]] = {}
    for findings in per_replication:
        for key, f in {(f.check, f.subject): f for f in findings}.items():
            seen.setdefault(key, []).append(f)
    out = []
    for found in seen.values():
        p = replicate.proportion(len(found), n)
        p["nogo"] = found[0].nogo and p["p"] > threshold
        out.append((_worst(found), p))
    return out


def summary(datas: list[dict], findings: list[list[Finding]], threshold: float) -> dict:
    """What the replications say as a whole: the chance a replication has a no-go finding,
    and each finding's probability with its interval and what it decided (the report's
    decision plot)."""
    n = len(datas)
    bad = sum(1 for fs in findings if any(f.nogo for f in fs))
    return {
        "replications": n,
        "seeds": [d["seed"] for d in datas],
        "p_any_nogo_finding": replicate.proportion(bad, n),
        "threshold": threshold,
        "findings": [
            {
                "check": f.check,
                "subject": f.subject,
                "nogo_kind": f.nogo,
                "decision": "no-go" if p["nogo"] else "warning",
                **{k: p[k] for k in ("k", "n", "p", "ci95")},
            }
            for f, p in decide(findings, threshold)
        ],
    }
