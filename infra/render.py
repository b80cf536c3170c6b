"""Render every Kubernetes object of the city as YAML, from the builders, with no Pulumi runtime.

`render(model, settings)` plans the city (`infra/plan.py`), splits it into stacks
(`infra/stacks.py`) and calls each unit's builder (`infra/build.py`) — the same functions
whose objects the Pulumi components register, so the render and the engine produce the
same objects (tested against the real engine). `write` puts them, one multi-document file
per namespace, in `OUT/<cluster>/<namespace>.yaml` (namespaces themselves in
`00-cluster.yaml`) plus `OUT/outputs.json`.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from infra import plan as planner
from infra import stacks as st
from infra.settings import StackSettings
from model.city import CityModel
from model.outputs import StagedDir, dumps_json, write_atomic

SCHEMA_VERSION = 1
CLUSTER_SCOPED_FILE = "00-cluster.yaml"  # namespace names start with a letter: sorts first


class DuplicateResource(RuntimeError):
    """Two objects with one name: the engine would refuse the program too."""


@dataclass
class Rendered:
    objects: dict[str, list[dict]] = field(default_factory=dict)  # cluster → Kubernetes objects
    components: dict[str, int] = field(default_factory=dict)  # component type → count
    outputs: dict = field(default_factory=dict)
    stacks: dict[str, int] = field(default_factory=dict)  # stack name → resources

    @property
    def resources(self) -> int:
        """Every resource the stacks register: objects, components and providers."""
        return sum(self.stacks.values())


def plain(value):
    """A fresh copy with sorted keys (builders share constant sub-dicts; YAML would alias
    them), so the same model always writes the same bytes."""
    if isinstance(value, dict):
        return {k: plain(v) if isinstance(v, (dict, list)) else v for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [plain(v) if isinstance(v, (dict, list)) else v for v in value]
    return value


_HEAD = ("apiVersion", "kind", "metadata")


def as_manifest(obj: dict) -> dict:
    """A manifest with apiVersion, kind, metadata first and every key below sorted."""
    return {
        **{k: plain(obj[k]) for k in _HEAD if k in obj},
        **{k: plain(obj[k]) for k in sorted(obj) if k not in _HEAD},
    }


def render(m: CityModel, settings: StackSettings) -> Rendered:
    """Every object of every stack of the city, per cluster. Placement errors are raised
    (as `infra.plan.PlacementError`) before anything is built."""
    p = planner.plan(m, settings.wave, settings.failover)
    out = Rendered()
    seen: set[tuple] = set()
    names: set[str] = set()
    for stack in st.city_stacks(m, p, settings):
        n = len(stack.clusters)  # one provider per cluster the stack uses
        for u in stack.units:
            out.components[u.type] = out.components.get(u.type, 0) + 1
            n += 1
            for o in st.objects(u):
                if o.name in names:
                    raise DuplicateResource(f"two resources named {o.name!r}")
                names.add(o.name)
                ident = (u.cluster, *o.ident)
                if ident in seen:
                    raise DuplicateResource(
                        f"two {ident[2]} objects {ident[3] or ''}/{ident[4]} in cluster {u.cluster}"
                    )
                seen.add(ident)
                out.objects.setdefault(u.cluster, []).append(as_manifest(o.manifest))
                n += 1
        out.stacks[stack.name] = n + 1  # and the stack itself
    for c in p.clusters:
        out.objects.setdefault(c, [])
    out.outputs = {"schema_version": SCHEMA_VERSION, **st.outputs(m, p, settings)}
    return out


# --- YAML out ---------------------------------------------------------------------------------
# PyYAML's emitter spends about half a millisecond per object in its Python representer, which
# is 16 CPU seconds for a city of 33,000 objects. Manifests are plain data (dicts, lists,
# strings, integers, booleans), so a block emitter for exactly those is a few lines: a string
# is written plain only when it cannot read back as anything else, otherwise as a JSON string
# (a valid YAML double-quoted scalar). Tested: every rendered object reads back equal.

_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./-]*\Z")
# JSON leaves these raw; YAML refuses or folds them: written as \\u escapes instead.
_UNSAFE = re.compile(
    "[^\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
)
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf"}


_CONTAINERS = (dict, list)


@functools.lru_cache(maxsize=1 << 16)
def _string(v: str) -> str:
    """A string as a scalar. Cached: keys and most values (labels, kinds, names) recur in
    every object, so the pattern and the quoting run once per distinct string."""
    if _PLAIN.match(v) and v.lower().lstrip(".") not in _RESERVED:
        return v
    quoted = json.dumps(v, ensure_ascii=False)
    return _UNSAFE.sub(lambda c: f"\\u{ord(c.group()):04x}", quoted)


def _leaf(x) -> str:
    """A scalar, or an empty dict or list, as it stands after `key: ` or `- `."""
    if isinstance(x, str):
        return _string(x)
    if x is True or x is False:
        return "true" if x else "false"
    if x is None:
        return "null"
    if isinstance(x, dict):
        return "{}"
    if isinstance(x, list):
        return "[]"
    return str(x) if isinstance(x, int) else json.dumps(x)  # as JSON writes them


def _emit(v, indent: str, out: list[str]) -> None:
    """`v` (a non-empty dict or list) as block lines at `indent`."""
    child = indent + "  "
    if isinstance(v, dict):
        for k, x in v.items():
            key = _string(k if isinstance(k, str) else str(k))
            if x and isinstance(x, _CONTAINERS):
                out.append(f"{indent}{key}:")
                _emit(x, child if isinstance(x, dict) else indent, out)
            else:
                out.append(f"{indent}{key}: {_leaf(x)}")
        return
    for x in v:
        if x and isinstance(x, _CONTAINERS):
            first = len(out)  # the item's first line carries the dash
            _emit(x, child, out)
            out[first] = f"{indent}- {out[first][len(child) :]}"
        else:
            out.append(f"{indent}- {_leaf(x)}")


def block_yaml(doc: dict) -> str:
    """One document (a dict of plain data) as block-style YAML."""
    if not doc:
        return "{}\n"
    out: list[str] = []
    _emit(doc, "", out)
    return "\n".join(out) + "\n"


def file_of(obj: dict) -> str:
    """The file an object goes in: one per namespace; cluster-scoped objects first."""
    ns = obj["metadata"].get("namespace")
    return f"{ns}.yaml" if ns else CLUSTER_SCOPED_FILE


def write(rendered: Rendered, out: Path) -> int:
    """Write `out/<cluster>/<namespace>.yaml` (multi-document, `kubectl apply -f` order) and
    `out/outputs.json`, all or nothing. Returns the number of objects written.

    Files are written plainly into the hidden staging folder (no per-file fsync: nothing
    sees them until the folder's files are moved in), which is what keeps a city of
    thousands of namespaces fast to write."""
    n = 0
    with StagedDir(out) as stage:
        for cluster, objs in sorted(rendered.objects.items()):
            files: dict[str, list[dict]] = {}
            for obj in objs:
                files.setdefault(file_of(obj), []).append(obj)
            (stage / cluster).mkdir(parents=True, exist_ok=True)
            for name, docs in sorted(files.items()):
                docs.sort(key=lambda o: (o["kind"], o["metadata"]["name"]))
                text = "---\n".join(block_yaml(d) for d in docs)
                (stage / cluster / name).write_text(text, encoding="utf-8")
                n += len(docs)
        write_atomic(stage / "outputs.json", dumps_json(rendered.outputs, indent=2))
    return n
