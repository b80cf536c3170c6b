"""Synthetic cities: a valid model of any size, reproducible from a seed.

Used for the committed sample city (`examples/sample-city/`), for benchmarks at scale and
for property tests. Everything is drawn from `random.Random(seed)`; the output is plain
data, written as the same five YAML files a planner would write by hand, plus a 30-day
utilisation history of the on-cloud systems (`utilisation.csv.gz`, see `model/history.py`).
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import random
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from model.names import (
    CHINESE_NUMERALS,
    COUNTY_SUFFIX,
    DEPARTMENTS,
    PLACE_CHARS,
    SYSTEM_KINDS,
    TOWNSHIP_SUFFIX,
    VILLAGE_SUFFIX,
)
from model.schema import PLATFORM_FAMILIES
from model.yamlio import StagedDir, dump_yaml, write_atomic

PAIRS = [(p.value, f.value) for p, fams in PLATFORM_FAMILIES.items() for f in fams]


@dataclass(frozen=True)
class SynthSpec:
    seed: int = 1
    counties: int = 9
    townships_per: int = 12
    villages_per: int = 14
    departments: int = 45
    systems: int = 400
    machine_rooms: int = 30
    city_name: str = "赣江市"
    city_slug: str | None = "ganjiang"  # the prefix of its stack names (`city.slug`)
    city_code: str = "369900"
    history_days: int = 30
    all_families: bool = False
    """Every (platform, device family) at every level, round robin (tests of the renderer);
    the city core then has one device per pair."""


def _weighted(rng: random.Random, table: dict):
    keys = list(table)
    return rng.choices(keys, weights=[table[k] for k in keys])[0]


class _Names:
    """Unique two-character Chinese place names."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: set[str] = set()

    def make(self, suffixes: list[str]) -> str:
        for _ in range(50):
            name = "".join(self.rng.choices(PLACE_CHARS, k=2)) + self.rng.choice(suffixes)
            if name not in self.used:
                self.used.add(name)
                return name
        name = "".join(self.rng.choices(PLACE_CHARS, k=3)) + self.rng.choice(suffixes)
        self.used.add(name)
        return name


def _county_codes(city_code: str, n: int) -> list[str]:
    """County codes: the city's four digits + 01…99, then neighbouring 4-digit prefixes."""
    out: list[str] = []
    prefix = int(city_code[:4])
    while len(out) < n:
        for k in range(1, 100):
            code = f"{prefix:04d}{k:02d}"
            if code != city_code:
                out.append(code)
            if len(out) == n:
                break
        prefix -= 1
    return out


class _Mgmt:
    """Sequential management addresses from the lab-safe benchmarking range."""

    def __init__(self, space: list[str]):
        self.hosts = (h for net in space for h in ipaddress.IPv4Network(net).hosts())

    def next(self) -> str:
        return str(next(self.hosts))


def _mgmt_space(devices: int) -> list[str]:
    space = ["198.18.0.0/15"]
    if devices > 131_000:
        space.append("100.64.0.0/10")
    return space


class _Families:
    """With `all_families`, each level's devices take the (platform, family) pairs in turn."""

    def __init__(self, on: bool):
        self.on = on
        self.count: dict[str, int] = {}

    def __call__(self, level: str, device: dict) -> dict:
        if self.on:
            k = self.count.get(level, 0)
            self.count[level] = k + 1
            device["platform"], device["family"] = PAIRS[k % len(PAIRS)]
        return device


def network(spec: SynthSpec, rng: random.Random) -> tuple[dict, list[str]]:
    names = _Names(rng)
    fam = _Families(spec.all_families)
    est = 2 + spec.counties * (2 + spec.townships_per * (1 + spec.villages_per))
    space = _mgmt_space(est)
    mgmt = _Mgmt(space)
    core_code = spec.city_code + "000000"
    core = [
        fam(
            "city",
            {
                "hostname": f"core-{i:02d}",
                "platform": "huawei_vrp",
                "role": "core",
                "mgmt_ipv4": mgmt.next(),
                "uplinks": [{"peer": f"prov-ext-0{j}", "bandwidth_mbps": 10_000} for j in (1, 2)],
            },
        )
        for i in range(1, 1 + (len(PAIRS) if spec.all_families else 2))
    ]
    counties = []
    for ci, ccode in enumerate(_county_codes(spec.city_code, spec.counties)):
        short = f"c{ci + 1:02d}"
        c_v6 = ci < max(1, round(spec.counties * 0.45))
        c_vendor = "huawei_vrp" if ci % 3 != 2 else "h3c_comware"
        cdevs = [
            fam(
                "county",
                {
                    "hostname": f"{short}-agg-0{i}",
                    "platform": c_vendor,
                    "role": "aggregation",
                    "mgmt_ipv4": mgmt.next(),
                    "uplinks": [
                        {"peer": "core-01", "bandwidth_mbps": 10_000},
                        {"peer": "core-02", "bandwidth_mbps": 10_000},
                    ],
                },
            )
            for i in (1, 2)
        ]
        townships = []
        for ti in range(spec.townships_per):
            tcode = f"{ccode}{ti + 1:03d}000"
            tshort = f"{short}t{ti + 1:03d}"
            t_v6 = c_v6 and rng.random() < 0.6
            t_vendor = _weighted(rng, {"huawei_vrp": 4, "h3c_comware": 3, "ruijie_os": 3})
            tdev = fam(
                "township",
                {
                    "hostname": f"{tshort}-acc-01",
                    "platform": t_vendor,
                    "role": "access",
                    "mgmt_ipv4": mgmt.next(),
                    "uplinks": [{"peer": d["hostname"], "bandwidth_mbps": 1000} for d in cdevs],
                },
            )
            villages = []
            for vi in range(spec.villages_per):
                vcode = f"{tcode[:9]}{vi + 1:03d}"
                covered = rng.random() < 0.95
                v_v6 = covered and t_v6 and rng.random() < 0.5
                village: dict[str, Any] = {
                    "code": vcode,
                    "name": names.make(VILLAGE_SUFFIX),
                    "ipv6": "dual_stack" if v_v6 else "pending",
                }
                if covered:
                    platform = _weighted(
                        rng,
                        {
                            "ruijie_os": 35,
                            "h3c_comware": 30,
                            "huawei_vrp": 25,
                            "cisco_ios": 7,
                            "linux_frr": 3,
                        },
                    )
                    village["devices"] = [
                        fam(
                            "village",
                            {
                                "hostname": f"{tshort}v{vi + 1:03d}-cpe",
                                "platform": platform,
                                "role": "cpe",
                                "mgmt_ipv4": mgmt.next(),
                                "uplinks": [
                                    {
                                        "peer": tdev["hostname"],
                                        "bandwidth_mbps": _weighted(rng, {100: 3, 1000: 7}),
                                    }
                                ],
                            },
                        )
                    ]
                else:
                    village["devices"] = []
                villages.append(village)
            townships.append(
                {
                    "code": tcode,
                    "name": names.make(TOWNSHIP_SUFFIX),
                    "ipv6": "dual_stack" if t_v6 else "pending",
                    "devices": [tdev],
                    "villages": villages,
                }
            )
        counties.append(
            {
                "code": f"{ccode}000000",
                "name": names.make(COUNTY_SUFFIX),
                "ipv6": "dual_stack" if c_v6 else "pending",
                "devices": cdevs,
                "townships": townships,
            }
        )
    doc = {
        "routing": "ospfv3",
        "upstream": ["prov-ext-01", "prov-ext-02"],
        "city_core": {
            "code": core_code,
            "name": f"{spec.city_name}电子政务外网核心",
            "ipv6": "dual_stack",
            "devices": core,
        },
        "counties": counties,
    }
    return doc, space


def departments(spec: SynthSpec) -> list[dict]:
    out = []
    for i in range(spec.departments):
        code, slug, name, mlps, isolated = DEPARTMENTS[i % len(DEPARTMENTS)]
        round_ = i // len(DEPARTMENTS)
        if round_:
            code, slug = f"{code}{round_ + 1}", f"{slug}-{round_ + 1}"
            name = f"{name}（{CHINESE_NUMERALS[(round_ - 1) % 10]}{round_ // 10 or ''}）"
        out.append(
            {"code": code, "slug": slug, "name": name, "mlps_level": mlps, "_isolated": isolated}
        )
    for i, d in enumerate(out):
        if d["_isolated"]:
            d["zone"] = "isolated"
        elif i % 5 == 3:
            d["zone"] = "xinchuang"
        else:
            d["zone"] = "shared"
    return out


def systems(
    spec: SynthSpec, rng: random.Random, depts: list[dict], rooms: list[dict]
) -> list[dict]:
    active_rooms: dict[str, list[str]] = {}
    for r in rooms:
        if r["state"] == "active":
            active_rooms.setdefault(r["department"], []).append(r["id"])
    all_active = [r["id"] for r in rooms if r["state"] == "active"]
    out = []
    counters: dict[str, int] = {}
    for i in range(spec.systems):
        d = depts[i % len(depts)] if i < len(depts) else rng.choice(depts)
        n = counters[d["code"]] = counters.get(d["code"], 0) + 1
        kind = rng.choice(SYSTEM_KINDS)
        if d["_isolated"]:
            classification = _weighted(rng, {"sensitive": 6, "classified": 2, "non_classified": 2})
        else:
            classification = _weighted(rng, {"non_classified": 90, "classified": 6, "sensitive": 4})
        if classification == "sensitive" and not d["_isolated"]:
            classification = "non_classified"
        if classification == "classified":
            state = _weighted(rng, {"legacy": 9, "retired": 1})
        else:
            state = _weighted(rng, {"on_cloud": 55, "migrating": 8, "legacy": 33, "retired": 4})
        if not all_active and state in ("legacy", "migrating"):
            # no machine room left to run in: the system is on the cloud already, or (a
            # classified one, which never migrates) retired with its rooms
            state = "retired" if classification == "classified" else "on_cloud"
        vcpu = _weighted(rng, {2: 25, 4: 35, 8: 25, 16: 12, 32: 3})
        memory = vcpu * _weighted(rng, {2: 3, 4: 5, 8: 2})
        storage = round(min(20_000, rng.lognormvariate(math.log(300), 1.0)), -1) or 50.0
        data = round(storage * rng.uniform(0.4, 0.9), 1)
        dr_weights = (
            {1: 4, 2: 18, 3: 30, 4: 25, 5: 17, 6: 6}
            if d["mlps_level"] == 3
            else {1: 8, 2: 30, 3: 32, 4: 20, 5: 8, 6: 2}
        )
        dr = _weighted(rng, dr_weights)
        s = {
            "id": f"{d['slug']}-{n:03d}",
            "department": d["code"],
            "name": f"{d['name'].removeprefix('市')}{kind}",
            "classification": classification,
            "state": state,
        }
        zone = None
        if classification == "sensitive":
            zone = "isolated"
        elif classification == "non_classified":
            zone = d["zone"]
        if state in ("legacy", "migrating"):
            own = active_rooms.get(d["code"]) or all_active
            s["location"] = rng.choice(own)
        if zone and state != "retired":
            s["target_zone"] = zone
            if state == "legacy":
                wave = _weighted(rng, {1: 4, 2: 3, 3: 2, None: 1})
                if wave is not None:
                    s["wave"] = wave
            elif state == "migrating":
                s["wave"] = 1
        s.update(
            {
                "vcpu": vcpu,
                "memory_gib": memory,
                "storage_gib": float(storage),
                "data_gib": data,
                "daily_change_ratio": round(rng.uniform(0.01, 0.12), 3),
                "dr_level": dr,
                "ipv6_ready": rng.random() < (0.55 if state == "on_cloud" else 0.25),
                "network": "extranet" if rng.random() < 0.7 or state == "on_cloud" else "private",
            }
        )
        if dr >= 5 or rng.random() < 0.12:
            s["replicas"] = 2 if dr < 6 else 3
        if zone and state != "retired":  # a placeholder digest of the image it would run
            s["image_digest"] = (
                "sha256:" + hashlib.sha256(f"{spec.seed}/{s['id']}".encode()).hexdigest()
            )
        out.append(s)
    return out


def machine_rooms(spec: SynthSpec, rng: random.Random, depts: list[dict]) -> list[dict]:
    out: list[dict[str, str]] = []
    for i in range(spec.machine_rooms):
        d = depts[i % len(depts)]
        n = sum(1 for r in out if r["department"] == d["code"]) + 1
        out.append(
            {
                "id": f"MR-{d['code']}-{n:02d}",
                "department": d["code"],
                "name": f"{d['name']}机房{n}",
                "state": "consolidated" if rng.random() < 0.45 else "active",
            }
        )
    if out and not any(r["state"] == "active" for r in out):
        out[0]["state"] = "active"
    return out


def _zone_nodes(
    demand_vcpu: float,
    demand_mem: float,
    node_vcpu: int,
    node_mem: int,
    overcommit: float,
    target: float = 0.6,
) -> int:
    by_cpu = demand_vcpu / (node_vcpu * overcommit * target)
    by_mem = demand_mem / (node_mem * target)
    return max(3, math.ceil(max(by_cpu, by_mem)))


def city_doc(spec: SynthSpec, systems_: list[dict], mgmt_space: list[str]) -> dict:
    zone_shapes = {
        "shared": ("shared", "primary-dc", 64, 512, 2.0),
        "isolated": ("isolated", "primary-dc", 48, 384, 1.5),
        "xinchuang": ("xinchuang", "primary-dc", 96, 512, 1.5),
    }
    zones = []
    for name, (kind, site, vcpu, mem, oc) in zone_shapes.items():
        mine = [s for s in systems_ if s.get("target_zone") == name and s["state"] != "retired"]
        demand_cpu = sum(s["vcpu"] * s.get("replicas", 1) for s in mine)
        demand_mem = sum(s["memory_gib"] * s.get("replicas", 1) for s in mine)
        zones.append(
            {
                "name": name,
                "kind": kind,
                "site": site,
                "nodes": _zone_nodes(demand_cpu, demand_mem, vcpu, mem, oc),
                "node_vcpu": vcpu,
                "node_memory_gib": mem,
                "cpu_overcommit": oc,
            }
        )
    dr_groups = []  # the DR cluster holds every system in a city-wide failover, at ≤ 80%
    for arch, kinds, (vcpu, mem, oc) in (
        ("amd64", ("shared", "isolated"), (64, 512, 2.0)),
        ("arm64", ("xinchuang",), (96, 512, 1.5)),
    ):
        mine = [s for s in systems_ if s.get("target_zone") in kinds and s["state"] != "retired"]
        demand_cpu = sum(s["vcpu"] * s.get("replicas", 1) for s in mine)
        demand_mem = sum(s["memory_gib"] * s.get("replicas", 1) for s in mine)
        nodes = _zone_nodes(demand_cpu, demand_mem, vcpu, mem, oc, target=0.8)
        dr_groups.append(
            {
                "arch": arch,
                "nodes": nodes,
                "node_vcpu": vcpu,
                "node_memory_gib": mem,
                "cpu_overcommit": oc,
            }
        )
    return {
        "city": {
            "name": spec.city_name,
            **({"slug": spec.city_slug} if spec.city_slug else {}),
            "code": spec.city_code,
            "ipv6_prefix": "2001:db8::/32",
            "ipv4_legacy": mgmt_space,
            "sites": [
                {"name": "primary-dc", "role": "primary", "city": spec.city_name},
                {
                    "name": "dr-dc",
                    "role": "dr_same_city",
                    "city": spec.city_name,
                    "link_mbps": 10_000,
                    "link_paths": 2,
                    "node_groups": dr_groups,
                },
                {
                    "name": "offsite-backup",
                    "role": "backup_offsite",
                    "city": "邻江市",
                    "link_mbps": 2_000,
                },
            ],
            "zones": zones,
        }
    }


def _quota(mine: list[dict], rng: random.Random) -> dict:
    cpu = sum(s["vcpu"] * s.get("replicas", 1) for s in mine)
    mem = sum(s["memory_gib"] * s.get("replicas", 1) for s in mine)
    sto = sum(s["storage_gib"] for s in mine)
    head = rng.uniform(1.2, 1.5)
    return {
        "cpu": max(4, math.ceil(cpu * head)),
        "memory_gib": max(8, math.ceil(mem * head)),
        "storage_gib": max(100, math.ceil(sto * head / 100) * 100),
    }


def generate(spec: SynthSpec) -> dict[str, dict]:
    """The five YAML documents of a synthetic city, as plain data."""
    rng = random.Random(spec.seed)
    net, mgmt_space = network(spec, rng)
    depts = departments(spec)
    rooms = machine_rooms(spec, rng, depts)
    syss = systems(spec, rng, depts, rooms)
    for d in depts:
        mine = [
            s
            for s in syss
            if s["department"] == d["code"] and s.get("target_zone") and s["state"] != "retired"
        ]
        d["quota"] = _quota(mine, rng)
        del d["_isolated"]
    docs = {
        "city": city_doc(spec, syss, mgmt_space),
        "departments": {"departments": depts},
        "systems": {"systems": syss},
        "machine_rooms": {"machine_rooms": rooms},
        "network": net,
    }
    _bureau(spec, docs)
    return docs


HEADERS = {
    "city": "# The city: its IPv6 aggregate, existing IPv4 space, data-centre sites and cloud zones.",
    "departments": "# One tenant per department: MLPS level, home zone and resource quota.",
    "systems": "# Government information systems: classification, migration state and wave, size, DR level.",
    "machine_rooms": "# Departmental machine rooms: active, or consolidated into the government cloud.",
    "network": "# The four-level e-government extranet: city core, counties, townships, villages.",
    "targets": "# The plans' targets by year (binding 约束性 or expected 预期性) and their source plans.",
    "private_networks": "# Private business networks (专网): owner, kind, migration state, systems carried.",
    "exceptions": "# Approved exceptions to the plans' in-principle rules (原则上): reason and approval.",
    "projects": "# IT project register: total and security spend (万元) per project and year.",
}


def write(spec: SynthSpec, out: Path, history: bool = True) -> dict[str, int]:
    """Write a synthetic city to `out`; return counts of what was written."""
    from model.history import synth_history, write_history

    docs = generate(spec)
    with StagedDir(Path(out)) as stage:
        for key, doc in docs.items():
            text = (
                f"{HEADERS[key]}\n# Generated by `govctl model synth --seed {spec.seed}`.\n"
                + dump_yaml(doc)
            )
            write_atomic(stage / f"{key}.yaml", text)
        if history:
            on_cloud = [s for s in docs["systems"]["systems"] if s["state"] == "on_cloud"]
            write_history(
                stage / "utilisation.csv.gz", synth_history(on_cloud, spec.seed, spec.history_days)
            )
    counts = {
        "counties": len(docs["network"]["counties"]),
        "townships": sum(len(c["townships"]) for c in docs["network"]["counties"]),
        "villages": sum(
            len(t["villages"]) for c in docs["network"]["counties"] for t in c["townships"]
        ),
        "departments": len(docs["departments"]["departments"]),
        "systems": len(docs["systems"]["systems"]),
        "machine_rooms": len(docs["machine_rooms"]["machine_rooms"]),
    }
    if history:
        counts["history_systems"] = sum(
            1 for s in docs["systems"]["systems"] if s["state"] == "on_cloud"
        )
    return counts


# --- the bureau's view: registers and the fields the plans ask for ----------------------

PLAN_START = date(2023, 2, 1)  # Nanchang's plan (Feb 2023): no new rooms, new systems on the cloud
SNAPSHOT_DAY = date(2026, 10, 31)  # the day the generated city describes (end of its history)
_NATIONAL_VERTICAL = {  # departments whose private network is a ministry's vertical line
    "GAJ": "公安信息网",
    "SWUJ": "税务专网",
    "HGJ": "海关专网",
    "RSJ": "金保工程专网",
    "YBJ": "医保专网",
    "SCJGJ": "市场监管专网",
}
_KEPT_REASON = "国家垂直专网，确需保留，与电子政务外网互联互通 (national vertical network, kept and interconnected)"
_APPROVER = "市大数据局 (municipal big-data bureau)"


def _day(rng: random.Random, start: date, end: date) -> str:
    return (start + timedelta(days=rng.randrange(max(1, (end - start).days)))).isoformat()


def _bureau(spec: SynthSpec, docs: dict[str, dict]) -> None:
    """Add what the plans ask for beyond the five files, from a second random stream so the
    city's other draws (and so its network, IPv6 lock and utilisation history) stay put:
    classified systems on the intranet, the isolated local backup site, counties, MLPS and
    密评 dates, rooms that stay, private networks, exceptions, projects and targets."""
    rng = random.Random(f"{spec.seed}/bureau")
    city = docs["city"]["city"]
    depts = {d["code"]: d for d in docs["departments"]["departments"]}
    syss = docs["systems"]["systems"]
    rooms = docs["machine_rooms"]["machine_rooms"]
    counties = [c["code"] for c in docs["network"]["counties"]]
    # sites: sensitive data is backed up in the city, never to the off-site city
    for s in city["sites"]:
        s["ipv6"] = "dual_stack" if s["role"] in ("primary", "dr_same_city") else "pending"
    city["sites"].append(
        {
            "name": "isolated-backup",
            "role": "backup_isolated",
            "city": spec.city_name,
            "link_mbps": 10_000,
            "link_paths": 2,
            "ipv6": "pending",
        }
    )
    for z in city["zones"]:
        mine = [s for s in syss if s.get("target_zone") == z["name"] and s["state"] != "retired"]
        demand = sum(s["storage_gib"] for s in mine)  # one volume per system (infra/workload.py)
        z["storage_gib"] = max(10_240, math.ceil(demand / 0.6 / 1024) * 1024)
    # systems
    exceptions: list[dict] = []
    for s in syss:
        d = depts[s["department"]]
        if s["classification"] == "classified":
            s["network"] = "intranet"  # 电子政务内网, kept apart from the extranet
        if counties and rng.random() < 0.35:
            s["county"] = f"{rng.choice(counties)}"
        new = s["state"] != "legacy" and rng.random() < 0.15
        s["introduced"] = _day(
            rng, PLAN_START if new else date(2008, 1, 1), SNAPSHOT_DAY if new else PLAN_START
        )
        if s["classification"] == "classified":
            continue
        level = 3 if d["mlps_level"] == 3 and rng.random() < 0.75 else 2
        if rng.random() < 0.04:
            continue  # not yet graded
        s["mlps_level"] = level
        if rng.random() < 0.92:
            s["mlps_filed"] = _day(rng, date(2018, 1, 1), date(2024, 6, 30))
            if level == 3 and rng.random() < 0.88:
                s["mlps_assessed"] = _day(rng, date(2025, 12, 1), SNAPSHOT_DAY)
            elif rng.random() < 0.5:
                s["mlps_assessed"] = _day(rng, date(2024, 7, 1), SNAPSHOT_DAY)
        if level == 3:
            verdict = _weighted(rng, {"passed": 55, "failed": 10, "not_assessed": 35})
            if verdict != "not_assessed":
                s["crypto_assessment"] = verdict
                s["crypto_assessed"] = _day(rng, date(2024, 1, 1), SNAPSHOT_DAY)
    # two legacy systems built after the plan's start, off the cloud by approved exception
    late = [s for s in syss if s["state"] == "legacy" and s["classification"] == "non_classified"]
    for s, why in zip(
        rng.sample(late, min(2, len(late))),
        ("与省级垂直系统同步部署，待省平台统一迁移", "依托部门现有专用硬件，2026年底前迁移"),
        strict=False,
    ):
        s["introduced"] = _day(rng, PLAN_START, SNAPSHOT_DAY)
        exceptions.append(
            {
                "kind": "system_off_cloud",
                "subject": s["id"],
                "reason": why,
                "approved_by": _APPROVER,
                "approved_on": _day(rng, date.fromisoformat(s["introduced"]), SNAPSHOT_DAY),
                "expires": "2027-12-31",
            }
        )
    # rooms: why the active ones that must stay, stay
    holds_classified = {
        s.get("location")
        for s in syss
        if s["classification"] == "classified" and s["state"] != "retired"
    }
    for r in rooms:
        r["introduced"] = _day(rng, date(2005, 1, 1), date(2018, 1, 1))
        if counties and rng.random() < 0.3:
            r["county"] = rng.choice(counties)
        if r["state"] == "active" and r["id"] in holds_classified:
            r["stays"] = "classified"
    others = [r for r in rooms if r["state"] == "active" and "stays" not in r]
    if others:
        r = rng.choice(others)
        r["stays"] = "exception"
        r["enlarged"] = _day(rng, PLAN_START, SNAPSHOT_DAY)
        exceptions.append(
            {
                "kind": "room",
                "subject": r["id"],
                "reason": "实时业务需就近部署的专用机房，经论证保留并扩容 (kept and enlarged after review)",
                "approved_by": _APPROVER,
                "approved_on": r["enlarged"],
            }
        )
    # private networks: one per department with systems on a private line, plus migrated ones
    nets: list[dict] = []
    for code, d in depts.items():
        mine = [
            s["id"]
            for s in syss
            if s["department"] == code and s["network"] == "private" and s["state"] != "retired"
        ]
        old = [s["id"] for s in syss if s["department"] == code and s["network"] == "extranet"]
        if mine:
            vertical = code in _NATIONAL_VERTICAL
            net = {
                "id": f"PN-{code}-01",
                "name": _NATIONAL_VERTICAL.get(code, f"{d['name']}业务专网"),
                "owner": code,
                "kind": "national_vertical" if vertical else "local",
                "state": "kept" if vertical else _weighted(rng, {"to_migrate": 3, "migrating": 1}),
                "systems": mine,
                "introduced": _day(rng, date(2006, 1, 1), date(2019, 1, 1)),
            }
            if vertical:
                net["kept_reason"] = _KEPT_REASON
            else:
                net["target_date"] = _day(rng, date(2025, 6, 30), date(2027, 12, 31))
            nets.append(net)
        if old and rng.random() < (0.8 if not mine else 0.3):
            n = len([x for x in nets if x["owner"] == code]) + 1
            nets.append(
                {
                    "id": f"PN-{code}-{n:02d}",
                    "name": f"{d['name']}原业务专网{n}",
                    "owner": code,
                    "kind": "local",
                    "state": "migrated",
                    "systems": rng.sample(old, min(len(old), rng.randint(1, 3))),
                    "introduced": _day(rng, date(2006, 1, 1), date(2016, 1, 1)),
                    "migrated_on": _day(rng, date(2021, 1, 1), SNAPSHOT_DAY),
                }
            )
    if nets:  # one county's new private line after the plan's start, by exception
        local = [x for x in nets if x["state"] in ("to_migrate", "migrating")] or nets
        line = rng.choice(local)
        line["introduced"] = _day(rng, PLAN_START, date(2025, 1, 1))
        if counties:
            line["county"] = rng.choice(counties)
        exceptions.append(
            {
                "kind": "private_line",
                "subject": line["id"],
                "reason": "上级部门统一部署的纵向业务专线，待省级专网整合后迁移",
                "approved_by": _APPROVER,
                "approved_on": _day(rng, date.fromisoformat(line["introduced"]), SNAPSHOT_DAY),
            }
        )
    docs["private_networks"] = {"private_networks": nets}
    docs["exceptions"] = {"exceptions": exceptions}
    docs["projects"] = {"projects": _projects(rng, list(depts), counties)}
    docs["targets"] = {
        "plan_start": PLAN_START.isoformat(),
        "targets": _targets() + _assigned_targets(counties, syss),
    }


def _assigned_targets(counties: list[str], syss: list[dict]) -> list[dict]:
    """Targets the city assigns to counties and departments (2025; no random draw, so the
    rest of the city stays put): the first half of the counties pilot the village IPv6 last
    mile at 80%, and the three departments with the most cloud-bound systems lead cloud
    adoption at 90%. Other groups are held to the city's targets."""
    out: list[dict] = []
    for code in counties[: max(1, len(counties) // 2)]:
        out.append(
            {
                "indicator": "ipv6_rollout.village",
                "year": 2025,
                "target": 0.8,
                "kind": "expected",
                "source": f"{_SEEDS['jiujiang']}: 电子政务外网IPv6改造 — the city's assignment: "
                "pilot counties first (试点县先行)",
                "county": code,
            }
        )
    bound: dict[str, int] = {}
    for s in syss:
        if s["classification"] != "classified" and s["state"] != "retired":
            bound[s["department"]] = bound.get(s["department"], 0) + 1
    for code in sorted(bound, key=lambda c: (-bound[c], c))[:3]:
        out.append(
            {
                "indicator": "cloud_adoption_rate",
                "year": 2025,
                "target": 0.9,
                "kind": "expected",
                "source": f"{_SEEDS['nanchang']}: 非涉密政务系统应上云率达到80% — the city's "
                "assignment: the departments with the most systems lead (90%)",
                "department": code,
            }
        )
    return out


def _projects(rng: random.Random, codes: list[str], counties: list[str]) -> list[dict]:
    out: list[dict] = []
    kinds = (
        "系统升级改造",
        "政务云资源扩容",
        "数据共享平台建设",
        "网络安全等级保护整改",
        "IPv6改造",
    )
    for year in (2023, 2024, 2025, 2026):
        for code in rng.sample(codes, max(1, len(codes) * 2 // 5)):
            total = round(rng.lognormvariate(math.log(300), 0.8), 1)
            share = rng.uniform(0.03, 0.16)
            p = {
                "id": f"P{year}-{code}-{len(out) + 1:03d}",
                "name": f"{year}年{rng.choice(kinds)}项目",
                "year": year,
                "department": code,
                "total_wan": total,
                "security_wan": round(total * share, 1),
            }
            if counties and rng.random() < 0.25:
                p["county"] = rng.choice(counties)
            out.append(p)
    return out


_SEEDS = {
    "nanchang": "000 Nanchang digital-government plan (Feb 2023, to 2025)",
    "jiujiang": "001 Jiujiang 2025 work points",
    "xiangtan": "003 Xiangtan 14th five-year plan (to 2025)",
}


def _targets() -> list[dict]:
    """The source plans' 2025 targets, and the city's yearly path towards them (2023, 2024:
    expected milestones the plans do not fix; 2025: the plans' own figures)."""
    path = " — 2023/2024: the city's milestones on the way"
    rows = [
        (
            "cloud_adoption_rate",
            (0.65, 0.72, 0.80),
            "binding",
            "nanchang",
            "非涉密政务系统应上云率达到80%",
        ),
        (
            "machine_room_consolidation_rate",
            (0.60, 0.70, 0.80),
            "binding",
            "xiangtan",
            "数据机房整合率达到80%以上",
        ),
        (
            "private_network_migration_rate",
            (0.50, 0.65, 0.80),
            "binding",
            "xiangtan",
            "非涉密专网向政务外网整合迁移率达到80%以上",
        ),
        (
            "ipv6_ready_systems_rate",
            (0.40, 0.70, 1.00),
            "expected",
            "nanchang",
            "政务网、数据中心及业务系统实现支持IPv6",
        ),
        (
            "ipv6_datacentre_rate",
            (0.50, 0.75, 1.00),
            "expected",
            "nanchang",
            "数据中心实现支持IPv6",
        ),
        ("ipv6_rollout.city", (1.0, 1.0, 1.0), "expected", "nanchang", "政务网支持IPv6"),
        ("ipv6_rollout.county", (0.30, 0.60, 1.00), "expected", "jiujiang", "电子政务外网IPv6改造"),
        (
            "ipv6_rollout.township",
            (0.20, 0.50, 1.00),
            "expected",
            "jiujiang",
            "电子政务外网IPv6改造",
        ),
        (
            "ipv6_rollout.village",
            (0.10, 0.30, 0.60),
            "expected",
            "jiujiang",
            "电子政务外网IPv6改造，村级最后一公里",
        ),
        (
            "extranet_coverage.city",
            (1.0, 1.0, 1.0),
            "binding",
            "nanchang",
            "市县乡镇电子政务外网升级改造",
        ),
        (
            "extranet_coverage.county",
            (1.0, 1.0, 1.0),
            "binding",
            "nanchang",
            "市县乡镇电子政务外网升级改造",
        ),
        (
            "extranet_coverage.township",
            (1.0, 1.0, 1.0),
            "binding",
            "nanchang",
            "市县乡镇电子政务外网升级改造",
        ),
        (
            "extranet_coverage.village",
            (0.85, 0.92, 1.00),
            "expected",
            "nanchang",
            "打通村级最后一公里，四级全覆盖",
        ),
        (
            "mlps_coverage_rate",
            (0.80, 0.90, 1.00),
            "binding",
            "xiangtan",
            "重要信息系统等级保护覆盖率达100%",
        ),
        (
            "crypto_assessment_rate",
            (0.30, 0.50, 0.70),
            "expected",
            "jiujiang",
            "存量重要信息系统密码应用安全性评估 (no figure in the plan, the city's own)",
        ),
        (
            "security_spend_share",
            (0.08, 0.09, 0.10),
            "binding",
            "xiangtan",
            "网络安全投入占信息化项目总投入达10%",
        ),
    ]
    out: list[dict] = []
    for key, values, kind, seed, quote in rows:
        for year, value in zip((2023, 2024, 2025), values, strict=True):
            out.append(
                {
                    "indicator": key,
                    "year": year,
                    "target": value,
                    "kind": kind if year == 2025 else "expected",
                    "source": f"{_SEEDS[seed]}: {quote}" + (path if year < 2025 else ""),
                }
            )
    return out
