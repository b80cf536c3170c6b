"""Property tests of the loader: mutate a valid city at random; every failure is located.

Whatever the mutation, `govctl validate` exits 0 or 2 — never a traceback — and every
error line has the form `file:line: …` with a line that exists in that file.
"""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from govctl.app import main

FILES = [
    "city.yaml",
    "departments.yaml",
    "systems.yaml",
    "machine_rooms.yaml",
    "network.yaml",
    "targets.yaml",
    "private_networks.yaml",
    "exceptions.yaml",
    "projects.yaml",
]
LINE = re.compile(r"^(?P<path>[^:]+\.yaml):(?P<line>\d+): (?P<rest>.+)$")
SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def paths(node, prefix=()):
    """Every (path, value) in a plain YAML tree."""
    yield prefix, node
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths(v, prefix + (i,))


def get(node, path):
    for p in path:
        node = node[p]
    return node


@contextlib.contextmanager
def city_copy(master: Path):
    with tempfile.TemporaryDirectory() as tmp:
        dst = Path(tmp) / "city"
        shutil.copytree(master, dst)
        yield dst


def validate(city: Path) -> tuple[int, list[re.Match], dict[str, list[str]]]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["validate", str(city)])
    assert code in (0, 2), f"exit {code}: {err.getvalue()}"
    lines = [ln for ln in err.getvalue().splitlines() if ln and "error(s)" not in ln]
    matches = [LINE.match(ln) for ln in lines]
    assert all(matches), f"unlocated: {lines}"
    texts = {}
    for m in matches:
        path = Path(m["path"])
        text = path.read_bytes().decode("utf-8", "replace").splitlines() if path.exists() else []
        texts[m["path"]] = text
        assert 1 <= int(m["line"]) <= max(1, len(text) + 1), m.group(0)
    return code, matches, texts


def _holds(text: list[str], m: re.Match, start: str) -> bool:
    """Does the reported line hold `start` (after a list dash, if any)?"""
    return text[int(m["line"]) - 1].strip().removeprefix("- ").startswith(start)


def load(city: Path, name: str):
    return yaml.safe_load((city / name).read_text(encoding="utf-8"))


def dump(city: Path, name: str, data) -> None:
    (city / name).write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )


@SETTINGS
@given(data=st.data(), name=st.sampled_from(FILES))
def test_scalar_replaced_by_a_mapping_is_located(small_city_master, data, name):
    with city_copy(small_city_master) as city:
        tree = load(city, name)
        candidates = [
            p
            for p, v in paths(tree)
            if p and isinstance(p[-1], str) and not isinstance(v, dict | list)
        ]
        path = data.draw(st.sampled_from(candidates))
        get(tree, path[:-1])[path[-1]] = {"garbage": [1, 2]}
        dump(city, name, tree)
        code, matches, texts = validate(city)
        assert code == 2
        key = path[-1]
        assert any(
            _holds(texts[m["path"]], m, f"{key}:") for m in matches if m["path"].endswith(name)
        ), f"no error at a line holding {key!r}: {[m.group(0) for m in matches]}"


@SETTINGS
@given(data=st.data(), name=st.sampled_from(FILES))
def test_unknown_key_is_located(small_city_master, data, name):
    with city_copy(small_city_master) as city:
        tree = load(city, name)
        mappings = [p for p, v in paths(tree) if isinstance(v, dict)]
        path = data.draw(st.sampled_from(mappings))
        get(tree, path)["zz_unexpected"] = data.draw(
            st.one_of(st.integers(), st.text(max_size=5), st.none())
        )
        dump(city, name, tree)
        code, matches, texts = validate(city)
        assert code == 2
        assert any(
            "unknown key" in m["rest"] and _holds(texts[m["path"]], m, "zz_unexpected:")
            for m in matches
        )


@SETTINGS
@given(data=st.data(), name=st.sampled_from(FILES))
def test_deleted_key_never_crashes(small_city_master, data, name):
    with city_copy(small_city_master) as city:
        tree = load(city, name)
        keyed = [p for p, _ in paths(tree) if p and isinstance(p[-1], str)]
        path = data.draw(st.sampled_from(keyed))
        del get(tree, path[:-1])[path[-1]]
        dump(city, name, tree)
        validate(city)


@SETTINGS
@given(
    name=st.sampled_from(
        [
            "departments.yaml",
            "systems.yaml",
            "machine_rooms.yaml",
            "private_networks.yaml",
            "exceptions.yaml",
            "projects.yaml",
        ]
    ),
    index=st.integers(0, 5),
)
def test_duplicated_record_is_an_error(small_city_master, name, index):
    with city_copy(small_city_master) as city:
        tree = load(city, name)
        (records,) = tree.values()
        records.append(dict(records[index % len(records)]))
        dump(city, name, tree)
        code, matches, _ = validate(city)
        assert code == 2
        assert any("duplicate" in m["rest"] for m in matches)


@SETTINGS
@given(
    name=st.sampled_from(FILES), garbage=st.binary(min_size=1, max_size=12), where=st.floats(0, 1)
)
def test_random_bytes_never_crash(small_city_master, name, garbage, where):
    with city_copy(small_city_master) as city:
        raw = (city / name).read_bytes()
        cut = int(len(raw) * where)
        (city / name).write_bytes(raw[:cut] + garbage + raw[cut:])
        validate(city)


@SETTINGS
@given(name=st.sampled_from(FILES), keep=st.floats(0, 1))
def test_truncated_file_never_crashes(small_city_master, name, keep):
    with city_copy(small_city_master) as city:
        raw = (city / name).read_bytes()
        (city / name).write_bytes(raw[: int(len(raw) * keep)])
        validate(city)
