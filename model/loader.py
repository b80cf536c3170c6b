"""Load a city directory: five YAML files (and the bureau's optional registers), validated
per file then across files.

`load_city(dir)` returns a `CityModel` or raises `InvalidModel` carrying every problem
found, each located by file, line and field. Nothing here prints or exits.
"""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from model import rules
from model.city import CityModel
from model.errors import InvalidModel, ModelError, display_path, field_path
from model.registers import ExceptionsFile, PrivateNetworksFile, ProjectsFile, TargetsFile
from model.schema import CityFile, DepartmentsFile, MachineRoomsFile, NetworkFile, SystemsFile
from model.yamlio import line_of, read_yaml

FILES: dict[str, tuple[str, type[BaseModel]]] = {
    "city": ("city.yaml", CityFile),
    "departments": ("departments.yaml", DepartmentsFile),
    "systems": ("systems.yaml", SystemsFile),
    "machine_rooms": ("machine_rooms.yaml", MachineRoomsFile),
    "network": ("network.yaml", NetworkFile),
    "targets": ("targets.yaml", TargetsFile),
    "private_networks": ("private_networks.yaml", PrivateNetworksFile),
    "exceptions": ("exceptions.yaml", ExceptionsFile),
    "projects": ("projects.yaml", ProjectsFile),
}
_File = TypeVar("_File", bound=BaseModel)
OPTIONAL = frozenset(("targets", "private_networks", "exceptions", "projects"))
"""Files a city may leave out: a missing one reads as empty (no targets, no exceptions, …)."""

_FRIENDLY = {
    "extra_forbidden": "unknown key (check its spelling against the schema)",
    "missing": "required field is missing",
}


def _message(err: ErrorDetails) -> str:
    kind = err["type"]
    if kind in _FRIENDLY:
        return _FRIENDLY[kind]
    msg = err["msg"].removeprefix("Value error, ")
    if (
        kind in ("string_pattern_mismatch", "literal_error", "enum")
        or kind.endswith("_type")
        or kind.endswith("_parsing")
    ):
        value = err.get("input")
        if not isinstance(value, dict | list):
            msg = f"{msg} (got {value!r})"
    return msg


def validation_errors(exc: ValidationError, data: Any, shown: str) -> list[ModelError]:
    """Turn pydantic's errors into located ModelErrors against the raw YAML tree."""
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        out.append(ModelError(shown, line_of(data, loc), field_path(loc), _message(err)))
    return out


def load_city(directory: str | Path) -> CityModel:
    """Load and validate a city directory (the cyclic GC is paused: the model is acyclic)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _load_city(Path(directory))
    finally:
        if enabled:
            gc.enable()


def _load_city(directory: Path) -> CityModel:
    if not directory.is_dir():
        raise InvalidModel(
            [
                ModelError(
                    display_path(directory),
                    1,
                    "",
                    "not a directory with a city model (city.yaml, departments.yaml, …)",
                )
            ]
        )
    errors: list[ModelError] = []
    parsed: dict[str, BaseModel] = {}
    raw: dict[str, tuple[Any, str]] = {}
    for key, (name, root) in FILES.items():
        path = directory / name
        if key in OPTIONAL and not path.exists() and not path.is_symlink():
            parsed[key] = root()
            continue
        shown = display_path(path)
        data, problems = read_yaml(path)
        errors.extend(problems)
        if data is None:
            continue
        raw[key] = (data, shown)
        try:
            parsed[key] = root.model_validate(data)
        except ValidationError as exc:
            errors.extend(validation_errors(exc, data, shown))
    if errors:
        raise InvalidModel(errors)

    def part(key: str, kind: type[_File]) -> _File:
        got = parsed[key]
        assert isinstance(got, kind), (key, type(got))  # FILES pairs each key with its root
        return got

    model = CityModel(
        source=directory,
        city=part("city", CityFile).city,
        departments=part("departments", DepartmentsFile).departments,
        systems=part("systems", SystemsFile).systems,
        machine_rooms=part("machine_rooms", MachineRoomsFile).machine_rooms,
        network=part("network", NetworkFile),
        targets=part("targets", TargetsFile),
        private_networks=part("private_networks", PrivateNetworksFile).private_networks,
        exceptions=part("exceptions", ExceptionsFile).exceptions,
        projects=part("projects", ProjectsFile).projects,
    )

    def report(file_key: str, loc: tuple, message: str) -> None:
        data, shown = raw[file_key]
        errors.append(ModelError(shown, line_of(data, loc), field_path(loc), message))

    rules.check(model, report)
    if errors:
        raise InvalidModel(errors)
    return model
