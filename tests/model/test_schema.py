"""`model/schema.py`: no string field of the model takes a line break, a control character or
a CLI comment/separator character — free text reaches device configs, manifests and commands."""

from __future__ import annotations

import typing
from enum import Enum

import pytest
import yaml
from pydantic import BaseModel, ValidationError

from govctl.app import main
from model.loader import FILES
from model.schema import Text
from tests.helpers import SAMPLE_CITY, edit_yaml

INJECTED = ["\n", "\r", "\x00", "!", "#", ";"]


def _leaves(annotation) -> list:
    """The plain types inside an annotation (through Annotated, unions, lists, dicts)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _leaves(typing.get_args(annotation)[0])
    if origin is None:
        return [annotation]
    if origin is typing.Literal:
        return [type(a) for a in typing.get_args(annotation)]
    return [leaf for arg in typing.get_args(annotation) for leaf in _leaves(arg)]


def _is_string(annotation) -> bool:
    return any(
        isinstance(t, type) and issubclass(t, str) and not issubclass(t, Enum)
        for t in _leaves(annotation)
    )


def _is_list(annotation) -> bool:
    return any(
        typing.get_origin(a) is list
        for a in (annotation, *typing.get_args(annotation))
        if a is not type(None)
    )


def _examples() -> tuple[dict[type[BaseModel], dict], set[type[BaseModel]]]:
    """One example dict per model class, from the sample city, and every class reachable."""
    found: dict[type[BaseModel], dict] = {}
    reachable: set[type[BaseModel]] = set()

    def classes(annotation):
        return [t for t in _leaves(annotation) if isinstance(t, type) and issubclass(t, BaseModel)]

    def reach(cls):
        if cls not in reachable:
            reachable.add(cls)
            for f in cls.model_fields.values():
                for sub in classes(f.annotation):
                    reach(sub)

    def walk(cls, data):
        if not isinstance(data, dict):
            return
        found.setdefault(cls, data)
        for name, f in cls.model_fields.items():
            value = data.get(name)
            for sub in classes(f.annotation):
                for item in value if isinstance(value, list) else [value]:
                    walk(sub, item)

    for name, root in FILES.values():
        reach(root)
        path = SAMPLE_CITY / name
        if path.exists():
            walk(root, yaml.safe_load(path.read_text(encoding="utf-8")))
    return found, reachable


EXAMPLES, REACHABLE = _examples()
STRING_FIELDS = [
    (cls, name, f.annotation)
    for cls in sorted(REACHABLE, key=lambda c: c.__name__)
    for name, f in cls.model_fields.items()
    if _is_string(f.annotation)
]


def test_the_sample_city_has_an_example_of_every_model_class():
    assert REACHABLE - set(EXAMPLES) == set()
    assert len(STRING_FIELDS) > 30  # names, codes, hostnames, prefixes, reasons, sources…


@pytest.mark.parametrize(
    ("cls", "name", "annotation"),
    STRING_FIELDS,
    ids=[f"{c.__name__}.{n}" for c, n, _ in STRING_FIELDS],
)
def test_every_string_field_refuses_injected_characters(cls, name, annotation):
    base = EXAMPLES[cls]
    assert cls.model_validate(base)  # the example itself is valid
    for ch in INJECTED:
        value = f"ab{ch}cd"
        bad = dict(base) | {name: [value] if _is_list(annotation) else value}
        with pytest.raises(ValidationError) as info:
            cls.model_validate(bad)
        assert any(e["loc"][0] == name for e in info.value.errors()), (name, repr(ch))


def test_free_text_keeps_chinese_and_ordinary_punctuation():
    from pydantic import TypeAdapter

    ok = TypeAdapter(Text)
    for value in (
        "赣江市电子政务外网核心",
        "Jiujiang 2025 (the city's own), 100%",
        "重要信息；达标！",
    ):
        assert ok.validate_python(value) == value


def test_an_injected_interface_is_refused_with_its_location(small_city, tmp_path, capsys):
    """The reported defect: `interface: "GE0/0/1\\n quit\\nundo ospfv3 1"` validated and
    `net render` wrote `undo ospfv3 1` as a top-level line."""
    city = small_city

    def change(d):
        d["counties"][0]["devices"][0]["uplinks"][0]["interface"] = "GE0/0/1\n quit\nundo ospfv3 1"

    edit_yaml(city, "network.yaml", change)
    assert main(["validate", str(city)]) == 2
    err = capsys.readouterr().err
    assert "network.yaml:" in err and "counties[0].devices[0].uplinks[0].interface" in err
    assert main(["net", "render", str(city), "--out", str(tmp_path / "cfg")]) == 2
    assert not (tmp_path / "cfg").exists()


def test_the_arch_rule_has_one_owner_and_the_dr_site_one_source_of_its_nodes():
    from model.schema import PINNED_ARCH, Arch, NodeGroup, Site, Zone, ZoneKind

    def zone(kind):
        return Zone(name="z", kind=kind, site="dc", nodes=1, node_vcpu=8, node_memory_gib=8)

    assert PINNED_ARCH == {ZoneKind.xinchuang: Arch.arm64}
    assert zone(ZoneKind.xinchuang).pinned_arch == Arch.arm64 == zone(ZoneKind.xinchuang).arch
    for kind in (ZoneKind.shared, ZoneKind.isolated):
        assert zone(kind).pinned_arch is None and zone(kind).arch == Arch.amd64
    groups = [
        NodeGroup(arch=Arch.amd64, nodes=2, node_vcpu=8, node_memory_gib=8),
        NodeGroup(arch=Arch.arm64, nodes=1, node_vcpu=8, node_memory_gib=8),
    ]
    site = Site(name="dr", role="dr_same_city", city="市", node_groups=groups)
    assert site.arches == {"amd64", "arm64"}
    # the node groups are the only source: no groups, no nodes of any arch
    assert site.model_copy(update={"node_groups": []}).arches == set()
