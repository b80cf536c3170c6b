"""Bad input of every kind gives `file:line: field: message` and exit 2, never a traceback."""

from __future__ import annotations

import re

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from govctl.app import main
from model import InvalidModel, load_city
from model.yamlio import parse_yaml

LINE = re.compile(r"^(?P<path>[^:]+\.(yaml|gz)):(?P<line>\d+): (?P<rest>.+)$")


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def located(err: str) -> list[re.Match]:
    lines = [ln for ln in err.splitlines() if ln and "error(s)" not in ln]
    matches = [LINE.match(ln) for ln in lines]
    assert all(matches), f"unlocated error lines: {lines}"
    return matches


def test_valid_city_exit_0(small_city, capsys):
    code, out, err = run(["validate", str(small_city)], capsys)
    assert code == 0, err
    assert "40 systems" in out


def test_yaml_syntax_error(small_city, capsys):
    (small_city / "departments.yaml").write_text("departments:\n  - code: [FGW\n", encoding="utf-8")
    code, _, err = run(["validate", str(small_city)], capsys)
    assert code == 2
    (m,) = located(err)
    assert m["path"].endswith("departments.yaml") and "YAML syntax error" in m["rest"]
    assert "line 2" in m["rest"]


def test_wrong_type_names_field_and_line(small_city, capsys):
    text = (small_city / "systems.yaml").read_text(encoding="utf-8")
    first_vcpu = text.index("  vcpu:")
    line_no = text[:first_vcpu].count("\n") + 1
    (small_city / "systems.yaml").write_text(
        text[:first_vcpu] + "  vcpu: lots" + text[text.index("\n", first_vcpu) :], encoding="utf-8"
    )
    code, _, err = run(["validate", str(small_city)], capsys)
    assert code == 2
    (m,) = located(err)
    assert int(m["line"]) == line_no
    assert m["rest"].startswith("systems[0].vcpu:") and "'lots'" in m["rest"]


def test_unknown_keys_all_reported(small_city, capsys):
    text = (small_city / "machine_rooms.yaml").read_text(encoding="utf-8")
    text = text.replace("  state: active\n", "  state: active\n  colour: red\n")
    (small_city / "machine_rooms.yaml").write_text(text, encoding="utf-8")
    code, _, err = run(["validate", str(small_city)], capsys)
    assert code == 2
    found = located(err)
    assert len(found) == text.count("colour: red") >= 2
    for m in found:
        assert "unknown key" in m["rest"]
        assert text.splitlines()[int(m["line"]) - 1].strip() == "colour: red"


def test_empty_file(small_city, capsys):
    (small_city / "city.yaml").write_text("", encoding="utf-8")
    code, _, err = run(["validate", str(small_city)], capsys)
    assert code == 2
    (m,) = located(err)
    assert m["path"].endswith("city.yaml") and m["line"] == "1" and "empty" in m["rest"]


def test_non_utf8(small_city, capsys):
    raw = (small_city / "network.yaml").read_bytes()
    cut = raw.index(b"\n", 500) + 1
    (small_city / "network.yaml").write_bytes(raw[:cut] + b"name: \xff\xfe\n" + raw[cut:])
    code, _, err = run(["validate", str(small_city)], capsys)
    assert code == 2
    (m,) = located(err)
    assert int(m["line"]) == raw[:cut].count(b"\n") + 1 and "UTF-8" in m["rest"]


def test_missing_file(small_city, capsys):
    (small_city / "machine_rooms.yaml").unlink()
    code, _, err = run(["validate", str(small_city)], capsys)
    assert code == 2
    (m,) = located(err)
    assert m["path"].endswith("machine_rooms.yaml") and "missing" in m["rest"]


def test_not_a_mapping(small_city, capsys):
    (small_city / "city.yaml").write_text("- just\n- a list\n", encoding="utf-8")
    code, _, err = run(["validate", str(small_city)], capsys)
    assert code == 2
    assert located(err)


def test_duplicate_yaml_key_is_an_error(small_city, capsys):
    text = (
        (small_city / "city.yaml")
        .read_text(encoding="utf-8")
        .replace("  code: '369900'\n", "  code: '369900'\n  code: '369901'\n")
    )
    (small_city / "city.yaml").write_text(text, encoding="utf-8")
    code, _, err = run(["validate", str(small_city)], capsys)
    assert code == 2
    (m,) = located(err)
    assert "duplicate key 'code'" in m["rest"]
    assert text.splitlines()[int(m["line"]) - 1].strip().startswith("code:")


def test_errors_across_files_are_all_reported(small_city, capsys):
    for name in ("city.yaml", "systems.yaml"):
        (small_city / name).write_text("{", encoding="utf-8")
    code, _, err = run(["validate", str(small_city)], capsys)
    assert code == 2
    assert {m["path"].rsplit("/", 1)[-1] for m in located(err)} == {"city.yaml", "systems.yaml"}


def test_not_a_directory(tmp_path, capsys):
    code, _, err = run(["validate", str(tmp_path / "nope")], capsys)
    assert code == 2 and "not a directory" in err


def test_load_city_raises_values_not_text(small_city):
    (small_city / "city.yaml").write_text("city: 3\n", encoding="utf-8")
    with pytest.raises(InvalidModel) as info:
        load_city(small_city)
    (e,) = info.value.errors
    assert e.line == 1 and e.field == "city"


def test_parse_keeps_lines():
    data, dups = parse_yaml("a: 1\nb:\n  - x\n  - y: 2\n")
    assert dups == []
    assert data.key_lines == {"a": 1, "b": 2}
    assert data["b"].item_lines == [3, 4]
    assert data["b"][1].key_lines == {"y": 4}


yaml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False, allow_infinity=True, width=64)
    | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(min_size=1, max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(yaml_values)
@example("0E0")
@example(
    [
        "1e3",
        "1.5e+3",
        ".5",
        "-.5",
        "+1",
        "-0.0",
        "1_000",
        "0x1F",
        "012",
        "yes",
        "~",
        ".inf",
        "-.Inf",
    ]
)
def test_event_parser_reads_what_pyyaml_writes(value):
    text = yaml.safe_dump({"v": value}, allow_unicode=True)
    parsed, dups = parse_yaml(text)
    assert dups == []
    assert parsed == yaml.safe_load(text)
