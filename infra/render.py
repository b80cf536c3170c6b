"""Render the program's Kubernetes objects as YAML by running it under Pulumi's mocks.

The same `infra.program.deploy` that `pulumi up` runs is executed with
`pulumi.runtime.set_mocks`: the mock monitor receives every resource registration with its
inputs exactly as the engine would (pulumi-kubernetes has already turned snake_case
arguments into the camelCase Kubernetes JSON names), and `Capture` keeps the Kubernetes
objects per provider — that is, per cluster. `write` puts the objects, one multi-document file per namespace, in
`OUT/<cluster>/<namespace>.yaml` (namespaces themselves in `00-cluster.yaml`) plus
`OUT/outputs.json`.
"""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import pulumi
from pulumi.runtime import mocks

from infra import plan as planner
from infra.program import deploy, outputs
from infra.settings import StackSettings
from model.city import CityModel
from model.yamlio import StagedDir, dump_yaml, write_atomic

SCHEMA_VERSION = 1
PROVIDER_TYPE = "pulumi:providers:kubernetes"
CLUSTER_SCOPED_FILE = "00-cluster.yaml"  # namespace names start with a letter: sorts first


class DuplicateResource(RuntimeError):
    """Two registrations with one name: the real engine would refuse the program too."""


@dataclass
class Rendered:
    objects: dict[str, list[dict]] = field(default_factory=dict)  # cluster → Kubernetes objects
    components: dict[str, int] = field(default_factory=dict)  # component type → count
    outputs: dict = field(default_factory=dict)

    @property
    def resources(self) -> int:
        """Every resource the program registered: objects, components and providers."""
        return (
            sum(len(v) for v in self.objects.values())
            + sum(self.components.values())
            + len(self.objects)
        )


class Capture(pulumi.runtime.Mocks):
    """A mock engine that records Kubernetes objects by the cluster their provider targets."""

    def __init__(self) -> None:
        self.rendered = Rendered()
        self._names: set[tuple[str, str]] = set()
        self._objects: set[tuple] = set()

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        key = (args.typ, args.name)
        if key in self._names:
            raise DuplicateResource(f"two resources of type {args.typ} named {args.name!r}")
        self._names.add(key)
        if args.typ == PROVIDER_TYPE:
            self.rendered.objects.setdefault(args.name, [])
        elif args.typ.startswith("kubernetes:"):
            self._add(cluster_of(args.provider), args.inputs)
        else:
            self.rendered.components[args.typ] = self.rendered.components.get(args.typ, 0) + 1
        return f"{args.name}-id", {}  # outputs are not read back: keep the mock cheap

    def _add(self, cluster: str, inputs: dict) -> None:
        obj = as_manifest(inputs)
        md = obj["metadata"]
        ident = (cluster, obj["apiVersion"], obj["kind"], md.get("namespace"), md["name"])
        if ident in self._objects:
            raise DuplicateResource(
                f"two {obj['kind']} objects {md.get('namespace', '')}/{md['name']} in cluster {cluster}"
            )
        self._objects.add(ident)
        self.rendered.objects.setdefault(cluster, []).append(obj)

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}, None


def cluster_of(provider_ref: str) -> str:
    """A provider reference is `<urn>::<id>`; the URN ends with the provider's name, which
    is the cluster's name."""
    urn = provider_ref.rsplit("::", 1)[0]
    return urn.rsplit("::", 1)[-1]


def _plain(value):
    """Undo the wire format (protobuf Struct numbers are floats; Kubernetes wants integers)
    and sort keys, so the same program always writes the same bytes."""
    if isinstance(value, dict):
        return {k: _plain(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


_HEAD = ("apiVersion", "kind", "metadata")


def as_manifest(inputs: dict) -> dict:
    """Resource inputs as a Kubernetes manifest: apiVersion, kind, metadata first."""
    obj = _plain(inputs)
    return {
        **{k: obj[k] for k in _HEAD if k in obj},
        **{k: v for k, v in obj.items() if k not in _HEAD},
    }


def render(m: CityModel, settings: StackSettings, workers: int = 1) -> Rendered:
    """Run the program under mocks and return what it would create. Placement errors are
    raised (as `infra.plan.PlacementError`) before anything runs.

    With `workers > 1` the departments are split into that many shards, each run by the
    same program in its own process (Pulumi's SDK registers resources on one thread);
    objects every shard declares alike (the backup locations) are kept once, and the stack
    outputs are computed from the whole city."""
    p = planner.plan(m, settings.wave, settings.failover)
    if workers <= 1:
        return _render_one(m, settings)
    shards = [
        (
            shard_model(m, codes),
            replace(
                settings,
                failover=settings.failover & {s.id for s in m.systems if s.department in codes},
            ),
        )
        for codes in shard_departments(m, workers)
    ]
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(shards), mp_context=ctx) as pool:
        parts = list(pool.map(_render_shard, shards))
    merged = merge(parts)
    merged.outputs = {"schema_version": SCHEMA_VERSION, **outputs(m, p, settings)}
    return merged


def shard_departments(m: CityModel, n: int) -> list[set[str]]:
    """Departments in `n` groups of about equal object counts (largest first, into the
    lightest group)."""
    weight = {d.code: 10 for d in m.departments}
    for s in m.systems:
        weight[s.department] += 4
    groups: list[tuple[int, set[str]]] = [(0, set()) for _ in range(n)]
    for code in sorted(weight, key=lambda c: -weight[c]):
        i = min(range(n), key=lambda k: groups[k][0])
        groups[i] = (groups[i][0] + weight[code], groups[i][1] | {code})
    return [g for _, g in groups if g]


def shard_model(m: CityModel, codes: set[str]) -> CityModel:
    return replace(
        m,
        departments=[d for d in m.departments if d.code in codes],
        systems=[s for s in m.systems if s.department in codes],
        _cache={},
    )


def _render_shard(job: tuple[CityModel, StackSettings]) -> Rendered:
    return _render_one(*job)


PER_CLUSTER_COMPONENTS = {"govcloud:infra:BackupLocations"}
"""Components every shard declares once per cluster: counted once when shards merge."""


def merge(parts: list[Rendered]) -> Rendered:
    out = Rendered()
    seen: dict[tuple, dict] = {}
    for part in parts:
        for kind, n in part.components.items():
            out.components[kind] = (
                max(out.components.get(kind, 0), n)
                if kind in PER_CLUSTER_COMPONENTS
                else out.components.get(kind, 0) + n
            )
        for cluster, objs in part.objects.items():
            mine = out.objects.setdefault(cluster, [])
            for obj in objs:
                md = obj["metadata"]
                ident = (cluster, obj["apiVersion"], obj["kind"], md.get("namespace"), md["name"])
                if ident not in seen:
                    seen[ident] = obj
                    mine.append(obj)
                elif seen[ident] != obj:
                    raise DuplicateResource(
                        f"shards disagree on {obj['kind']} {md.get('namespace', '')}/{md['name']} in {cluster}"
                    )
    return out


def _render_one(m: CityModel, settings: StackSettings) -> Rendered:
    capture = Capture()
    pulumi.runtime.set_mocks(capture, project="govcloud", stack="render", preview=False)
    result: dict = {}

    def program():
        result.update(deploy(m, settings))
        return pulumi.Output.from_input(True)

    mocks.test(program)()
    capture.rendered.outputs = {"schema_version": SCHEMA_VERSION, **result}
    return capture.rendered


def file_of(obj: dict) -> str:
    """The file an object goes in: one per namespace; cluster-scoped objects first."""
    ns = obj["metadata"].get("namespace")
    return f"{ns}.yaml" if ns else CLUSTER_SCOPED_FILE


def write(rendered: Rendered, out: Path) -> int:
    """Write `out/<cluster>/<namespace>.yaml` (multi-document, `kubectl apply -f` order) and
    `out/outputs.json`, all or nothing. Returns the number of objects written."""
    n = 0
    with StagedDir(out) as stage:
        for cluster, objs in sorted(rendered.objects.items()):
            files: dict[str, list[dict]] = {}
            for obj in objs:
                files.setdefault(file_of(obj), []).append(obj)
            for name, docs in sorted(files.items()):
                docs.sort(key=lambda o: (o["kind"], o["metadata"]["name"]))
                write_atomic(stage / cluster / name, "---\n".join(dump_yaml(d) for d in docs))
                n += len(docs)
        write_atomic(
            stage / "outputs.json",
            json.dumps(rendered.outputs, ensure_ascii=False, indent=2) + "\n",
        )
    return n
