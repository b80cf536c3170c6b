"""`govctl demo` and `govctl report` run the gate once and write out what it computed: each
derived result (IPv6 plan, tenants, capacity and backup simulations, KPIs) is computed once —
a simulation as one set of the gate's replications."""

from __future__ import annotations

import ast
import json
from collections import Counter

import pytest

import capacity.kpi
import infra.engine
import infra.render
import network.plan
import simulate.backup
import simulate.capacity
import simulate.replicate
from govctl.app import main
from tests.helpers import ROOT

COUNTED = [
    (network.plan, "plan_city"),
    (infra.render, "render"),
    (simulate.capacity, "run"),
    (simulate.backup, "run"),
    (simulate.replicate, "run"),
    (capacity.kpi, "compute"),
]


@pytest.fixture
def calls(monkeypatch) -> Counter:
    """Counts the calls of each library function in COUNTED (which still runs for real)."""
    counts: Counter = Counter()
    for module, name in COUNTED:
        real = getattr(module, name)

        def counting(*args, _real=real, _key=f"{module.__name__}.{name}", **kwargs):
            # replications are counted by the model they replicate
            key = f"{_key}({args[0].__module__})" if _key == "simulate.replicate.run" else _key
            counts[key] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, counting)
    # the mock renderer: the engine path goes through the same single gate call
    monkeypatch.setattr(infra.engine, "available", lambda: False)
    return counts


ONCE = {
    "network.plan.plan_city": 1,
    "infra.render.render": 1,
    "capacity.kpi.compute": 1,
    # the gate's capacity and backup checks: one set of replications each, nothing more
    "simulate.replicate.run(simulate.capacity)": 1,
    "simulate.replicate.run(simulate.backup)": 1,
}


def test_the_demo_computes_each_result_once(small_city, tmp_path, calls, capsys):
    out = tmp_path / "demo"
    assert main(["demo", str(small_city), "--out", str(out)]) == 0
    # the rollout simulation is the demo's own (the gate has no rollout check): once too
    assert dict(calls) == {**ONCE, "simulate.replicate.run(simulate.rollout)": 1}
    # what the gate computed is what the later steps wrote
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    report = json.loads((out / "report" / "report.json").read_text(encoding="utf-8"))
    assert json.loads((out / "kpi.json").read_text(encoding="utf-8")) == plan["kpi"]
    assert report["plan"] == plan
    ipv6 = json.loads((out / "ipv6" / "plan.json").read_text(encoding="utf-8"))
    assert ipv6["aggregate"] == plan["ipv6"]["aggregate"]
    cap = json.loads((out / "simulate" / "capacity.json").read_text(encoding="utf-8"))
    assert {z: cap["zones"][z]["peak_utilisation"] for z in cap["zones"]} == {
        z: v["peak_utilisation"] for z, v in plan["capacity"].items()
    }
    tenants = json.loads((out / "tenants" / "outputs.json").read_text(encoding="utf-8"))
    assert tenants["adoption_rate"] == plan["tenants"]["adoption_rate"]
    assert (out / "ipv6" / "ipam.lock.yaml").exists() and any((out / "configs").iterdir())
    assert "The city report" in capsys.readouterr().out


def test_the_report_computes_each_result_once(small_city, tmp_path, calls, capsys):
    out = tmp_path / "report"
    assert main(["report", str(small_city), "--out", str(out)]) == 0
    assert dict(calls) == ONCE
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    kpis = {k: v for k, v in data["plan"]["kpi"].items() if k != "schema_version"}
    assert data["compress"]["totals"]["kpi"] == kpis


COMMAND_MODULES = sorted(p.name for p in (ROOT / "govctl").glob("*_cmds.py"))


@pytest.mark.parametrize("name", COMMAND_MODULES)
def test_commands_call_the_library_not_each_other(name):
    """A command module (those that run the gate too) imports the libraries and
    govctl/common.py, never another command module; only govctl/app.py puts the commands
    together."""
    assert len(COMMAND_MODULES) > 10  # the glob found the modules
    offenders = []
    for path in [ROOT / "govctl" / name]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("_cmds"):
                offenders.append(f"{path}:{node.lineno}: from {node.module}")
            if isinstance(node, ast.ImportFrom) and node.module == "govctl":
                offenders += [
                    f"{path}:{node.lineno}: govctl.{a.name}"
                    for a in node.names
                    if a.name.endswith("_cmds")
                ]
            if isinstance(node, ast.Import):
                offenders += [
                    f"{path}:{node.lineno}: import {a.name}"
                    for a in node.names
                    if a.name.endswith("_cmds")
                ]
    assert not offenders, offenders
