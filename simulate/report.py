"""Reports of the simulations: JSON, Markdown and PNG plots, written all-or-nothing.

`write(out, name, data)` renders `name`.json, `name`.md and the model's plots into `out`
through a staging folder: a reader sees the old report or the new one, never a mix.
Plots use matplotlib's Agg backend through `Figure` objects (no pyplot global state).
"""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402

from model import drlevels  # noqa: E402
from model.outputs import StagedDir, dumps_json, write_atomic  # noqa: E402


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    return buf.getvalue()


def _pct(x) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def _num(x, fmt="{:.2f}") -> str:
    return "—" if x is None else fmt.format(x)


# --- capacity ------------------------------------------------------------------------


def _storage(z: dict) -> str:
    """Peak storage demand, and its share of the zone's storage where it declares one."""
    peak = f"{z['peak_storage_gib']:,.0f} GiB"
    share = z["peak_storage_allocation"]
    return peak if share is None else f"{peak} ({_pct(share)})"


def capacity_markdown(d: dict) -> str:
    s = d["settings"]
    lines = [
        f"# Capacity simulation — {d['city']}",
        "",
        f"Seed {d['seed']}, {d['horizon_days']:g} days, waves up to {d['wave'] if d['wave'] is not None else 'all planned'}; "
        f"growth {s['growth_per_year']:.0%}/year, node MTBF {s['node_mtbf_days']:g} days, repair {s['repair_mean_h']:g} h. "
        f"{d['systems']['arrived']} of {d['systems']['planned']} systems on the cloud by the end; {d['events']:,} events.",
        "",
        "| zone | nodes | VMs | peak | p95 | peak alloc CPU | peak alloc mem | over target from day | exhausted on day | placement failures | nodes needed | storage peak |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, z in d["zones"].items():
        f = z["placement_failures"]
        lines.append(
            f"| {name} | {z['nodes']} | {z['vms']} | {_pct(z['peak_utilisation'])} | {_pct(z['p95_utilisation'])} | "
            f"{_pct(z['peak_cpu_allocation'])} | {_pct(z['peak_memory_allocation'])} | {_num(z['first_over_target_day'], '{:.0f}')} | "
            f"{_num(z['exhaustion_day'], '{:.0f}')} | {f['total']} ({f['arrival']}/{f['growth']}/{f['evacuation']}) | "
            f"{_needed(z)} | {_storage(z)} |"
        )
    lines += [
        "",
        f"Utilisation is use (the load profile × the request) over the physical capacity of the nodes that are up, "
        f"the larger of CPU and memory; the load is drawn from the history by a block bootstrap of {s['bootstrap_block_days']}-day blocks. "
        f"Nodes needed: the fewest nodes a best-fit packing with anti-affinity places every VM on at its largest size (packing), "
        f"or that keep the simulated peak use ≤ {s['target_utilisation']:.0%} (load), whichever is more, plus {s['spare_failures']} "
        "spare node(s) for concurrent failures. Placement failures: arrival/growth/evacuation.",
        "",
    ]
    verdict = d["zones_over_target"] or d["zones_with_placement_failures"]
    lines.append(
        "**Zones needing attention:** "
        + (
            ", ".join(sorted(set(d["zones_over_target"]) | set(d["zones_with_placement_failures"])))
            if verdict
            else "none"
        )
    )
    lines += ["", *[f"![{n}](capacity-{n}.png)" for n in d["zones"]], ""]
    reps = d.get("replications")
    if reps:
        lines += [
            f"## Across {reps['replications']} replications",
            "",
            "| zone | peak mean (95% CI) | peak p5–p95 | peak max | P(peak > target) (95% CI) | nodes needed p50 (max) |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, z in reps["zones"].items():
            p, n = z["peak_utilisation"], z["nodes_needed"]
            ci = p["ci95"]
            over = z["p_over_target"]
            needed = "—" if n is None else f"{n['p50']:.0f} ({n['max']:.0f})"
            lines.append(
                f"| {name} | {_pct(p['mean'])} ({_pct(ci[0]) if ci else '—'}–{_pct(ci[1]) if ci else '—'}) | "
                f"{_pct(p['p5'])}–{_pct(p['p95'])} | {_pct(p['max'])} | {over['p']:.2f} "
                f"({over['ci95'][0]:.2f}–{over['ci95'][1]:.2f}) | "
                f"{needed} |"
            )
        lines += ["", "![peaks across replications](capacity-peaks.png)", ""]
    return "\n".join(lines)


def _needed(z: dict) -> str:
    if z["nodes_needed"] is None:
        return "— (a VM is larger than a node)"
    return (
        f"{z['nodes_needed']} (+{z['extra_nodes_needed']}; packing {z['nodes_needed_packing']}, "
        f"load {z['nodes_needed_load']}, spares {z['spare_nodes']})"
    )


def capacity_figures(d: dict) -> dict[str, bytes]:
    out = {}
    target = d["settings"]["target_utilisation"]
    for name, z in d["zones"].items():
        fig = Figure(figsize=(8, 3.2))
        ax = fig.subplots()
        ax.plot(
            range(len(z["daily_peak_utilisation"])),
            [v * 100 for v in z["daily_peak_utilisation"]],
            lw=1,
            label="daily peak use",
        )
        ax.axhline(target * 100, color="red", ls="--", lw=1, label=f"target {target:.0%}")
        ax.set_xlabel("day")
        ax.set_ylabel("utilisation %")
        ax.set_title(f"zone {name}: {z['nodes']} nodes, peak {_pct(z['peak_utilisation'])}")
        ax.legend(loc="upper left", fontsize=8)
        out[f"capacity-{name}.png"] = _png(fig)
    reps = d.get("replications")
    if reps and reps.get("zones"):
        fig = Figure(figsize=(8, 3.2))
        ax = fig.subplots()
        every = [p * 100 for z in reps["zones"].values() for p in z["peaks"]]
        lo, hi = min(every), max(every)
        bins = [lo + (hi - lo + 1e-9) * k / 30 for k in range(31)]
        for name, z in reps["zones"].items():
            ax.hist([p * 100 for p in z["peaks"]], bins=bins, alpha=0.6, label=name)
        ax.axvline(target * 100, color="red", ls="--", lw=1, label=f"target {target:.0%}")
        ax.set_xlabel("zone peak utilisation %, one per replication")
        ax.set_ylabel("replications")
        ax.set_title(f"distribution of the zones' peaks over {reps['replications']} replications")
        ax.legend(fontsize=8)
        out["capacity-peaks.png"] = _png(fig)
    return out


# --- backup --------------------------------------------------------------------------


def _hours(seconds) -> str:
    return "—" if seconds is None else f"{seconds / 3600:.2f} h"


def backup_markdown(d: dict) -> str:
    w = d["window"]
    lines = [
        f"# Backup and DR simulation — {d['city']}",
        "",
        f"Seed {d['seed']}, {w['nights']} nights, {len(d['systems'])} systems, {d['events']:,} events.",
        "",
        "## Links",
        "",
        "| site | role | Mbps | replication Mbps | shortfall Mbps | max lag | lagging | outages | outage hours | GiB moved | busy |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for role, link in d["links"].items():
        lines.append(
            f"| {link['site']} | {role} | {link['capacity_mbps']:g} | {link['replication_mbps']:g} | "
            f"{link['replication_shortfall_mbps']:g} | {_hours(link['replication_max_lag_s'])} | "
            f"{_pct(link['replication_lagging_fraction'])} | {link['outages']} | "
            f"{link['outage_h']:g} | {link['delivered_gib']:,.0f} | {_pct(link['busy_fraction'])} |"
        )
    for v in d["replication_violations"]:
        lines.append(
            f"\n**Replication cannot keep up** on the link to {v['site']}: {v['shortfall_mbps']:g} Mbit/s short of the write rate."
        )
    lines += [
        "",
        "## Backup window",
        "",
        f"Window {w['window_h']:g} h: {w['nights_over']} of {w['nights']} nights over (or unfinished); "
        f"mean {_num(w['mean_h'])} h, p95 {_num(w['p95_h'])} h, max {_num(w['max_h'])} h.",
        "",
        "![backup window](backup-window.png)",
        "",
        "## RPO and RTO by GB/T 20988 level",
        "",
        "| level | systems | RPO bound | worst RPO | RPO violations | RTO bound | worst RTO | RTO violations |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for lv, b in d["by_level"].items():
        lines.append(
            f"| {lv} | {b['systems']} | {_hours(b['rpo_bound_s'])} | {_hours(b['worst_rpo_s'])} | {b['rpo_violations']} | "
            f"{_hours(b['rto_bound_s'])} | {_hours(b['worst_rto_s'])} | {b['rto_violations']} |"
        )
    lines += [
        "",
        "RTO is the city-wide disaster at the end of the run: every system recovers at once at the DR site "
        "(its DR cluster's nodes, by arch), from its newest restorable copy over that copy's path, then takes over.",
    ]
    for key, what in (
        ("dr_host_problems", "cannot be recovered at the DR site"),
        ("restore_failures", "lost because every restore attempt failed"),
    ):
        if d[key]:
            lines += ["", f"**{len(d[key])} system(s) {what}**, e.g.:", ""]
            lines += [f"- {sid}: {why}" for sid, why in list(d[key].items())[:20]]
    bad = [r for r in d["systems"] if not r["rpo_ok"] or r["rto_ok"] is False]
    lines += [
        "",
        "![RPO by system](backup-rpo.png)",
        "",
        "![RTO by system](backup-rto.png)",
        "",
        f"## Systems missing their bounds ({len(bad)})",
        "",
    ]
    if bad:
        lines += [
            "| system | level | mode | copy at | RPO | bound | RTO | bound |",
            "|---|---:|---|---|---:|---:|---:|---:|",
        ]
        for r in bad[:200]:
            lines.append(
                f"| {r['id']} | {r['dr_level']} | {r['mode']} | {r['copy_site']} | {_hours(r['rpo_s'])} | {_hours(r['rpo_bound_s'])} | "
                f"{_hours(r['rto_s']) if r['rto_s'] is not None else 'never'} | {_hours(r['rto_bound_s'])} |"
            )
        if len(bad) > 200:
            lines.append(f"\n… and {len(bad) - 200} more (see backup.json).")
    else:
        lines.append("None.")
    return "\n".join(lines) + "\n"


def backup_figures(d: dict) -> dict[str, bytes]:
    w = d["window"]
    fig = Figure(figsize=(8, 3.2))
    ax = fig.subplots()
    hours = [n["window_h"] if n["window_h"] is not None else 24.0 for n in d["nights"]]
    colors = ["tab:red" if h > w["window_h"] else "tab:blue" for h in hours]
    ax.bar([n["night"] for n in d["nights"]], hours, color=colors, width=0.9)
    ax.axhline(w["window_h"], color="black", ls="--", lw=1, label=f"window {w['window_h']:g} h")
    ax.set_xlabel("night")
    ax.set_ylabel("hours to finish")
    ax.set_title("nightly backup window")
    ax.legend(fontsize=8)
    window = _png(fig)

    fig = Figure(figsize=(8, 3.6))
    ax = fig.subplots()
    rows = d["systems"]
    ax.scatter(
        [r["dr_level"] + (i % 17 - 8) * 0.02 for i, r in enumerate(rows)],
        [max(r["rpo_s"], 1.0) / 3600 for r in rows],
        c=["tab:red" if not r["rpo_ok"] else "tab:green" for r in rows],
        s=8,
    )
    for lv, lvl in drlevels.LEVELS.items():
        ax.hlines(max(lvl.rpo_bound_s, 1.0) / 3600, lv - 0.4, lv + 0.4, colors="black", lw=1.5)
    ax.set_yscale("log")
    ax.set_xlabel("GB/T 20988 level (bars: RPO bound)")
    ax.set_ylabel("worst RPO, hours")
    ax.set_title("RPO achieved per system")
    rpo = _png(fig)

    fig = Figure(figsize=(8, 3.6))
    ax = fig.subplots()
    hosted = [r for r in rows if r["rto_s"] is not None]
    ax.scatter(
        [r["dr_level"] + (i % 17 - 8) * 0.02 for i, r in enumerate(hosted)],
        [max(r["rto_s"], 60.0) / 3600 for r in hosted],
        c=["tab:red" if r["rto_ok"] is False else "tab:green" for r in hosted],
        s=8,
    )
    for lv, lvl in drlevels.LEVELS.items():
        ax.hlines(lvl.rto_bound_s / 3600, lv - 0.4, lv + 0.4, colors="black", lw=1.5)
    lost = len(rows) - len(hosted)
    ax.set_yscale("log")
    ax.set_xlabel("GB/T 20988 level (bars: RTO bound)")
    ax.set_ylabel("RTO, hours")
    ax.set_title(
        "RTO per system in the city-wide failover"
        + (f" ({lost} cannot be recovered at the DR site)" if lost else "")
    )
    out = {"backup-window.png": window, "backup-rpo.png": rpo, "backup-rto.png": _png(fig)}
    reps = d.get("replications")
    if reps and reps.get("by_level"):
        out["backup-bounds.png"] = _bounds_figure(reps)
    return out


def _bounds_figure(reps: dict) -> bytes:
    """Across replications, each level's worst RPO and RTO (p5–p95 bar, median, min–max
    whiskers) against the level's bound: how close the deciding metric comes to it."""
    fig = Figure(figsize=(9, 3.6))
    axes = fig.subplots(1, 2)
    for ax, key, bound_of, floor in (
        (axes[0], "worst_rpo_s", lambda lv: lv.rpo_bound_s, 1.0),
        (axes[1], "worst_rto_s", lambda lv: lv.rto_bound_s, 60.0),
    ):
        for lv_key, b in reps["by_level"].items():
            lv, dist = int(lv_key), b[key]
            ax.hlines(
                max(bound_of(drlevels.level(lv)), floor) / 3600, lv - 0.4, lv + 0.4, colors="black"
            )
            if dist is None:
                continue
            lo, mid, hi = (max(dist[q], floor) / 3600 for q in ("p5", "p50", "p95"))
            over = dist["max"] > bound_of(drlevels.level(lv)) + 1e-9
            colour = "tab:red" if over else "tab:green"
            ax.vlines(lv, max(dist["min"], floor) / 3600, max(dist["max"], floor) / 3600, lw=1)
            ax.vlines(lv, lo, hi, lw=5, colors=colour)
            ax.plot([lv], [mid], marker="o", ms=6, color=colour, mec="black")
        ax.set_yscale("log")
        ax.set_xticks(range(1, 7))
        ax.set_xlabel("GB/T 20988 level (black: bound)")
        ax.set_ylabel("hours")
        ax.set_title(f"{key[6:9].upper()}: the level's worst, across replications", fontsize=9)
    fig.suptitle(
        f"{reps['replications']} replications: median (dot), p5–p95 (thick), min–max (thin); "
        "red: over the bound in some replication",
        fontsize=9,
    )
    return _png(fig)


# --- rollout -------------------------------------------------------------------------


def rollout_markdown(d: dict) -> str:
    t, s = d["total_h"], d["settings"]
    lines = [
        f"# Rollout duration — {d['city']}",
        "",
        f"Seed {d['seed']}, {s['replications']} replications, {s['forks']} forks; push time log-normal, median "
        f"{s['push_median_s']:g} s (σ {s['push_sigma']:g}) + {s['connect_s']:g} s connect; failure rate {s['failure_rate']:.1%}, "
        f"{s['retries']} retries after {s['retry_backoff_s']:g} s.",
        "",
        "| level | devices | mean duration |",
        "|---|---:|---:|",
    ]
    for lvl, n in d["devices"].items():
        lines.append(f"| {lvl} | {n:,} | {d['levels_h'][lvl]:.2f} h |")
    lines += [
        "",
        f"**Total:** mean {t['mean']:.2f} h (95% CI {t['ci95'][0]}–{t['ci95'][1]}), p50 {t['p50']:.2f} h, "
        f"p90 {t['p90']:.2f} h, p95 {t['p95']:.2f} h, max {t['max']:.2f} h. "
        f"Devices left failed after retries: {d['failed_devices_mean']:.2f} on average.",
        "",
        "![rollout duration](rollout-duration.png)",
        "",
    ]
    return "\n".join(lines)


def rollout_figures(d: dict) -> dict[str, bytes]:
    fig = Figure(figsize=(7, 3.2))
    ax = fig.subplots()
    ax.hist(d["totals_h"], bins=min(40, max(5, len(d["totals_h"]) // 5)), color="tab:blue")
    ax.axvline(d["total_h"]["p95"], color="red", ls="--", lw=1, label="p95")
    ax.set_xlabel("total rollout duration, hours")
    ax.set_ylabel("replications")
    ax.legend(fontsize=8)
    return {"rollout-duration.png": _png(fig)}


RENDERERS = {
    "capacity": (capacity_markdown, capacity_figures),
    "backup": (backup_markdown, backup_figures),
    "rollout": (rollout_markdown, rollout_figures),
}


def write(out: Path, data: dict) -> list[Path]:
    """Write `<simulation>.json`, `.md` and its plots into `out`; return the paths written."""
    name = data["simulation"]
    markdown, figures = RENDERERS[name]
    files: dict[str, str | bytes] = {
        f"{name}.json": dumps_json(data, indent=1),
        f"{name}.md": markdown(data),
    }
    files.update(figures(data))
    with StagedDir(Path(out)) as stage:
        for fname, content in files.items():
            write_atomic(stage / fname, content)
    return [Path(out) / f for f in files]
