"""The real Pulumi engine for the govcloud program, through the Automation API.

`govctl tenants preview|up|destroy`, `govctl tenants render`, the plan gate and the DR drill
drive `infra/` (the program `Pulumi.yaml` names) with these plain functions:

    tools = locate()                                  # .tools/bin, else `pulumi` on PATH
    st = stack("prod", settings, ".pulumi-state")     # create if new, write govcloud:* config
    preview(st) / up(st) / refresh(st) / destroy(st)  # → {"changes": {...}, "outputs": {...}, ...}
    up(st, program=fn)                                # `fn` as the program, run in this process
    st = open_stack("prod", ".pulumi-state"); settings_of(st)   # reuse a stack's own config

Each stack operation is one CLI run (a new stack: two, `pulumi stack init` first): the config
is written to `Pulumi.<stack>.yaml` directly, and outputs and the update summary are read
from the backend's files. With an inline program (`program=`, what the orchestrator passes)
the engine talks to this process for the program instead of starting a language host, which
would list the virtualenv's packages and start a Python for the program, every stack.

Everything runs offline: a local file backend (`PULUMI_BACKEND_URL=file://<state dir>`),
plugins taken from PATH with `.tools/bin` first (automatic plugin downloads off), no update
check. Stack secrets use the passphrase provider: `PULUMI_CONFIG_PASSPHRASE` (or
`PULUMI_CONFIG_PASSPHRASE_FILE`) must be set, except for throwaway stacks (`throwaway=True`:
renders and demos in a temporary state directory), which use a fixed passphrase.

Per-step checkpoints are on (Pulumi's default): the file backend saves the state after every
resource step, so an update killed half-way records what it did and the next `up` carries
on from there. Small stacks (one per department, `infra/stacks.py`) keep that affordable:
the cost of a checkpoint grows with the size of the stack's state.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from infra.settings import (
    NAMESPACE,
    ConfigValues,
    StackSettings,
    from_config,
    rooted,
    to_config,
)
from model.errors import display_path
from model.outputs import OutputError, write_atomic
from model.yamlio import dump_yaml, read_yaml

REPO_ROOT = Path(__file__).resolve().parent.parent  # the program, its Pulumi.yaml, .tools/bin
PROJECT_DIR = REPO_ROOT  # the project stacks use by default (tests point it at a scratch project)
TOOLS_BIN = REPO_ROOT / ".tools" / "bin"
POLICY_PACK = REPO_ROOT / "infra" / "policy"
DEFAULT_STATE = Path(".pulumi-state")
PROVIDER_PLUGIN = "pulumi-resource-kubernetes"
THROWAWAY_PASSPHRASE = "govcloud-throwaway-state"  # only for state deleted right after use
STACK_TYPE = "pulumi:pulumi:Stack"
CHANGE_KEYS = ("create", "update", "delete", "same", "replace")
SCHEMA_VERSION = 1

OnOutput = Callable[[str], None]
Program = Callable[[], None]  # an inline program: registers the stack's resources in-process


class EngineMissing(RuntimeError):
    """No Pulumi CLI (or no Kubernetes provider plugin) to run the program with."""


class PassphraseMissing(RuntimeError):
    """`PULUMI_CONFIG_PASSPHRASE` is not set for a stack that keeps its state."""


class EngineError(RuntimeError):
    """A Pulumi operation failed; the message is the engine's own diagnostics."""

    def __init__(self, message: str, violations: list[dict] | None = None) -> None:
        super().__init__(message)
        self.violations = violations or []


@dataclass(frozen=True)
class Tools:
    pulumi: Path  # the CLI
    path: str  # PATH for the engine: the CLI's folder (with its plugins) first
    version: str


def locate(tools_bin: Path = TOOLS_BIN) -> Tools:
    """The Pulumi CLI to use: `make tools`' build in `.tools/bin`, else `pulumi` on PATH."""
    cli = tools_bin / "pulumi"
    if not (cli.is_file() and os.access(cli, os.X_OK)):
        found = shutil.which("pulumi")
        if found is None:
            raise EngineMissing(
                "no Pulumi CLI: run `make tools` (builds .tools/bin/pulumi and its plugins) "
                "or put `pulumi` on PATH"
            )
        cli = Path(found)
    path = os.pathsep.join([str(cli.parent), os.environ.get("PATH", "")])
    if shutil.which(PROVIDER_PLUGIN, path=path) is None and not _installed_plugin():
        raise EngineMissing(
            f"no {PROVIDER_PLUGIN} plugin beside {cli} or on PATH: run `make tools`, "
            "or `pulumi plugin install resource kubernetes`"
        )
    version = subprocess.run(
        [str(cli), "version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    return Tools(cli, path, version or "unknown")


def _installed_plugin() -> bool:
    home = Path(os.environ.get("PULUMI_HOME") or Path.home() / ".pulumi")
    return any((home / "plugins").glob("resource-kubernetes-v*"))


def available() -> bool:
    try:
        locate()
    except EngineMissing:
        return False
    return True


def _passphrase(throwaway: bool) -> dict[str, str]:
    if os.environ.get("PULUMI_CONFIG_PASSPHRASE") is not None or os.environ.get(
        "PULUMI_CONFIG_PASSPHRASE_FILE"
    ):
        return {}
    if throwaway:
        return {"PULUMI_CONFIG_PASSPHRASE": THROWAWAY_PASSPHRASE}
    raise PassphraseMissing(
        "PULUMI_CONFIG_PASSPHRASE is not set: the stack's secrets are encrypted with it "
        "(export it, or point PULUMI_CONFIG_PASSPHRASE_FILE at a file holding it)"
    )


def environment(tools: Tools, state_dir: Path, *, throwaway: bool = False) -> dict[str, str]:
    """The variables the engine runs with (on top of the caller's environment)."""
    return {
        "PULUMI_BACKEND_URL": Path(state_dir).resolve().as_uri(),
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PATH": tools.path,
        **_passphrase(throwaway),
    }


def scratch_project(directory: Path) -> Path:
    """A project directory outside the checkout that runs the same program (`main` and the
    virtualenv pointing back here), for stacks whose `Pulumi.<stack>.yaml` must not land in
    the repository: throwaway renders, tests, benchmarks."""
    project = yaml.safe_load((REPO_ROOT / "Pulumi.yaml").read_text(encoding="utf-8"))
    project["main"] = str(REPO_ROOT / project.get("main", "."))
    opts = project.setdefault("runtime", {}).setdefault("options", {})
    if "virtualenv" in opts:
        opts["virtualenv"] = str(REPO_ROOT / opts["virtualenv"])
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Pulumi.yaml").write_text(
        yaml.safe_dump(project, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    return directory


@functools.cache
def _command(tools: Tools):
    """The CLI for the Automation API, with the version `locate` read: the SDK's own
    constructor runs `pulumi version` again, for every workspace."""
    from pulumi import automation as auto
    from semver import VersionInfo

    class Command(auto.PulumiCommand):
        def __init__(self) -> None:
            self.command = str(tools.pulumi)
            try:
                self.version = VersionInfo.parse(tools.version.removeprefix("v"))
            except ValueError:
                self.version = None

    return Command()


def _workspace(state_dir: Path, project_dir: Path | None, tools: Tools | None, throwaway: bool):
    from pulumi import automation as auto

    tools = tools or locate()
    Path(state_dir).mkdir(parents=True, exist_ok=True)
    return auto.LocalWorkspace(
        work_dir=str(project_dir or PROJECT_DIR),
        env_vars=environment(tools, state_dir, throwaway=throwaway),
        pulumi_command=_command(tools),
    )


@functools.cache
def _file_stack_type():
    """`auto.Stack` over the local file backend, reading what the backend's own files say
    instead of asking the CLI: opened without `pulumi stack select` (every command names its
    stack), the outputs read from the checkpoint and the update summary from the history
    (where `pulumi stack output` and `pulumi stack history` read them). Three fewer CLI runs
    for every stack an operation touches."""
    from datetime import UTC, datetime

    from pulumi import automation as auto

    class FileStack(auto.Stack):
        def __init__(self, name: str, workspace, state_dir: Path, project: str) -> None:
            self.name = name
            self.workspace = workspace
            self.state_dir = Path(state_dir)
            self.project = project

        def __repr__(self) -> str:
            return f"FileStack({self.name!r}, {self.state_dir})"

        def outputs(self):
            cp = checkpoint(self.state_dir, self.project, self.name)
            outputs = cp.outputs if cp else {}
            return {k: auto.OutputValue(value=v, secret=False) for k, v in outputs.items()}

        def info(self, show_secrets: bool = True):
            last = last_update(self.state_dir, self.project, self.name)
            if last is None:
                return None
            return auto.UpdateSummary(
                kind=last["kind"],
                start_time=datetime.fromtimestamp(last.get("startTime") or 0, tz=UTC),
                message=last.get("message", ""),
                environment=last.get("environment") or {},
                config={},
                result=last.get("result", ""),
                end_time=datetime.fromtimestamp(last["endTime"], tz=UTC)
                if last.get("endTime") is not None
                else None,
                version=last.get("version"),
                resource_changes=last.get("resourceChanges"),
            )

    return FileStack


def stack(
    name: str,
    settings: StackSettings | Mapping[str, Any],
    state_dir: Path = DEFAULT_STATE,
    *,
    project_dir: Path | None = None,
    tools: Tools | None = None,
    throwaway: bool = False,
):
    """Create or select stack `name` in the file backend at `state_dir` and write its
    `govcloud:*` config from `settings` (a `StackSettings`, or config values such as
    `{"model": "examples/sample-city", "renderDir": "out"}`); keys it no longer has are
    removed. The project is the repository's `Pulumi.yaml` (its `Pulumi.<name>.yaml` lands
    beside it, as with plain `pulumi`) unless `project_dir` names another (`scratch_project`).
    Returns a `pulumi.automation.Stack`."""

    ws = _workspace(state_dir, project_dir, tools, throwaway)
    project = project_name(project_dir)
    if name not in list_stacks(state_dir, project):
        _guard(lambda: ws.create_stack(name))
    st = _file_stack_type()(name, ws, state_dir, project)
    configure(st, settings)
    return st


def open_stack(
    name: str,
    state_dir: Path = DEFAULT_STATE,
    *,
    project_dir: Path | None = None,
    tools: Tools | None = None,
    throwaway: bool = False,
):
    """An existing stack, its config untouched (destroy, a drill that changes one key)."""
    ws = _workspace(state_dir, project_dir, tools, throwaway)
    project = project_name(project_dir)
    if name not in list_stacks(state_dir, project):
        raise EngineError(f"no stack {name!r} in {state_dir}")
    return _file_stack_type()(name, ws, state_dir, project)


def _portable(settings: StackSettings, project_dir: Path) -> StackSettings:
    """Paths relative to the project root when they are inside it (so a stack's config reads
    the same on every checkout), absolute otherwise; the program resolves them again."""

    def rel(path: str) -> str:
        p = Path(path).expanduser().resolve()
        try:
            return str(p.relative_to(Path(project_dir).resolve()))
        except ValueError:
            return str(p)

    clusters = {
        n: replace(c, kubeconfig=rel(c.kubeconfig))
        if c.kubeconfig and "\n" not in c.kubeconfig
        else c
        for n, c in settings.clusters.items()
    }
    render_dir = None if settings.render_dir is None else rel(settings.render_dir)
    return replace(settings, model=rel(settings.model), render_dir=render_dir, clusters=clusters)


def config_file(st) -> Path:
    """The stack's config file, `Pulumi.<stack>.yaml` beside the project's `Pulumi.yaml`."""
    return Path(st.workspace.work_dir) / f"Pulumi.{st.name}.yaml"


def _config_doc(path: Path) -> dict:
    """A stack config file's content as plain data ({} when there is none yet); a file that
    is not YAML, or not a mapping with a `config` mapping, is an `EngineError` naming its
    line (it may have been edited by hand)."""
    if not path.exists():
        return {}
    data, errors = read_yaml(path)
    if errors:
        raise EngineError("\n".join(str(e) for e in errors))
    if data is None:
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("config") or {}, dict):
        raise EngineError(
            f"{display_path(path)}:{getattr(data, 'line', 1)}: config: a stack config file "
            "is a mapping whose `config` is a mapping of keys to values"
        )
    return json.loads(json.dumps(data))  # plain dicts and lists, for the YAML writer


def configure(st, settings: StackSettings | Mapping[str, Any]) -> None:
    """Write the stack's `govcloud:*` config into its config file, dropping stale keys and
    keeping everything else the file holds (the passphrase salt `pulumi stack init` wrote,
    other namespaces' keys). Written as `pulumi config set-all` writes it — strings for
    scalars, YAML for objects — but in place of one more CLI run; atomically."""
    if isinstance(settings, StackSettings):
        settings = to_config(_portable(settings, Path(st.workspace.work_dir)))
    path = config_file(st)
    doc = _config_doc(path)
    kept = {k: v for k, v in (doc.get("config") or {}).items() if not k.startswith(f"{NAMESPACE}:")}
    values = {
        f"{NAMESPACE}:{k.removeprefix(NAMESPACE + ':')}": (
            v if isinstance(v, (str, dict, list)) else json.dumps(v)
        )
        for k, v in settings.items()
    }
    doc["config"] = kept | values
    try:
        write_atomic(path, dump_yaml(doc))
    except OutputError as exc:
        raise EngineError(str(exc)) from None


def program_settings(settings: StackSettings, project_dir: Path | None = None) -> StackSettings:
    """`settings` as the program reads them back from the stack config and roots them: the
    view both sides compute a stack's inputs hash from."""
    root = Path(project_dir or PROJECT_DIR)
    values = to_config(_portable(settings, root))
    return rooted(from_config(ConfigValues(values)), str(root))


def project_name(project_dir: Path | None = None) -> str:
    doc = yaml.safe_load((Path(project_dir or PROJECT_DIR) / "Pulumi.yaml").read_text("utf-8"))
    return str(doc["name"])


def _stacks_dir(state_dir: Path, project: str) -> Path:
    return Path(state_dir) / ".pulumi" / "stacks" / project


def list_stacks(state_dir: Path, project: str) -> list[str]:
    """The stacks the file backend at `state_dir` holds for `project` (read from its files)."""
    d = _stacks_dir(state_dir, project)
    # the checkpoint itself only: not `.json.bak` nor the `.attrs` files Pulumi keeps beside each
    names = {
        f.name.split(".json")[0]
        for f in d.glob("*.json*")
        if f.name.endswith((".json", ".json.gz"))
    }
    return sorted(names)


@dataclass(frozen=True)
class Checkpoint:
    """What a stack's saved state says: its outputs, resources, unfinished operations."""

    outputs: dict
    resources: int
    pending: list[dict]


def release_stale_locks(state_dir: Path, project: str, name: str) -> int:
    """Remove the stack's update locks (`.pulumi/locks/organization/<project>/<stack>/*.json`)
    whose creating process was on this host and is gone — what an `up` killed with SIGKILL
    leaves behind, and what `pulumi cancel` would remove. A live holder's lock stays. Returns
    how many were removed."""
    import socket

    locks = Path(state_dir) / ".pulumi" / "locks" / "organization" / project / name
    removed = 0
    for path in sorted(locks.glob("*.json")) if locks.is_dir() else ():
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
            pid, host = int(doc.get("pid", 0)), str(doc.get("hostname", ""))
        except (OSError, ValueError, TypeError):
            continue
        if host != socket.gethostname() or pid <= 0 or process_running(pid):
            continue
        path.unlink(missing_ok=True)
        removed += 1
    return removed


def process_running(pid: int) -> bool:
    """Whether the process runs: it exists and is no zombie (a SIGKILLed `pulumi` whose parent
    died too stays a zombie until init reaps it, which may take a while)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2 :].split()[0] not in "ZX"


def checkpoint(state_dir: Path, project: str, name: str) -> Checkpoint | None:
    """The stack's latest checkpoint in the file backend (`.pulumi/stacks/<project>/<stack>.json`,
    gzipped when Pulumi was told to), or None when the stack has none."""
    import gzip

    base = _stacks_dir(state_dir, project) / f"{name}.json"
    for path, opener in ((base, open), (base.with_name(base.name + ".gz"), gzip.open)):
        try:
            with opener(path, "rt", encoding="utf-8") as f:
                doc = json.load(f)
        except FileNotFoundError:
            continue
        latest = (doc.get("checkpoint") or {}).get("latest") or {}
        resources = latest.get("resources") or []
        outputs = next(
            (r.get("outputs") or {} for r in resources if r.get("type") == STACK_TYPE), {}
        )
        return Checkpoint(
            dict(outputs), len(resources), list(latest.get("pending_operations") or [])
        )
    return None


def last_update(state_dir: Path, project: str, name: str) -> dict | None:
    """The stack's newest history entry in the file backend
    (`.pulumi/history/<project>/<stack>/<stack>-<time>.history.json`: `kind` update, refresh,
    destroy…, `result` succeeded or failed), or None when it has none."""

    d = Path(state_dir) / ".pulumi" / "history" / project / name
    entries = []
    for f in d.glob(f"{name}-*.history.json"):
        stamp = f.name[len(name) + 1 : -len(".history.json")]
        if stamp.isdigit():
            entries.append((int(stamp), f))
    if not entries:
        return None
    return json.loads(max(entries)[1].read_text(encoding="utf-8"))


def settings_of(st) -> StackSettings:
    """The stack's own config as `StackSettings` (paths as written, relative to the project),
    read from its config file."""
    return from_config(ConfigValues(_config_doc(config_file(st)).get("config") or {}))


@dataclass
class _Watch:
    """What the event stream tells about one operation: the changed resources, the stack's
    outputs (also at preview), error diagnostics and policy violations."""

    steps: list[dict] = field(default_factory=list)
    outputs: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    violations: list[dict] = field(default_factory=list)

    def __call__(self, event) -> None:
        if event.resource_pre_event is not None:
            md = event.resource_pre_event.metadata
            op = getattr(md.op, "value", md.op)
            if op != "same" and md.type != STACK_TYPE:
                self.steps.append({"op": op, "urn": md.urn, "type": md.type})
        elif event.res_outputs_event is not None:
            md = event.res_outputs_event.metadata
            if md.type == STACK_TYPE and md.new is not None:
                self.outputs = dict(md.new.outputs or {})
        elif event.diagnostic_event is not None and event.diagnostic_event.severity == "error":
            self.errors.append(event.diagnostic_event.message.strip())
        elif event.policy_event is not None:
            p = event.policy_event
            self.violations.append(
                {
                    "policy": p.policy_name,
                    "pack": p.policy_pack_name,
                    "level": p.enforcement_level,
                    "resource": p.resource_urn or "",
                    "message": p.message.strip(),
                }
            )


def changes(op_map: Mapping | None) -> dict[str, int]:
    """Pulumi's per-operation counts as `{"create", "update", "delete", "same", "replace"}`
    (other operations, e.g. `read`, added only when they happened)."""
    counts = {str(getattr(k, "value", k)): int(v) for k, v in (op_map or {}).items()}
    return {**{k: counts.pop(k, 0) for k in CHANGE_KEYS}, **{k: v for k, v in counts.items() if v}}


def _guard(call):
    from pulumi import automation as auto

    try:
        return call()
    except auto.errors.CommandError as exc:
        raise EngineError(_tail(str(exc))) from None


def _tail(text: str, lines: int = 30) -> str:
    kept = [ln for ln in text.strip().splitlines() if ln.strip()]
    return "\n".join(kept[-lines:])


def _run(
    st, operation: str, call: Callable[[_Watch], Any], summary: Callable[[Any], Mapping | None]
) -> dict:
    from pulumi import automation as auto

    watch = _Watch()
    start = time.monotonic()
    try:
        result = call(watch)
    except auto.errors.CommandError as exc:
        mandatory = [v for v in watch.violations if v["level"] == "mandatory"]
        if mandatory:
            lines = [
                f"{v['policy']}: {v['message'].splitlines()[-1]} ({v['resource'].rsplit('::', 1)[-1]})"
                for v in mandatory
            ]
            raise EngineError(
                f"{operation} refused by the policy pack ({len(mandatory)} mandatory violations):\n"
                + "\n".join(lines),
                mandatory,
            ) from None
        raise EngineError(
            f"pulumi {operation} of stack {st.name} failed:\n"
            + ("\n".join(watch.errors) if watch.errors else _tail(str(exc)))
        ) from None
    outputs = getattr(result, "outputs", None)
    return {
        "schema_version": SCHEMA_VERSION,
        "stack": st.name,
        "operation": operation,
        "changes": changes(summary(result)),
        "outputs": {k: v.value for k, v in outputs.items()}
        if outputs is not None
        else watch.outputs,
        "steps": watch.steps,
        "violations": watch.violations,
        "seconds": round(time.monotonic() - start, 1),
    }


# where each operation's result keeps its per-operation counts
_COUNTS: dict[str, Callable[[Any], Mapping | None]] = {
    "preview": lambda r: r.change_summary,
    "up": lambda r: r.summary.resource_changes,
}


def _update(
    st,
    operation: str,
    on_output: OnOutput | None,
    policy_packs,
    expect_no_changes: bool,
    program: Program | None,
) -> dict:
    """`pulumi preview` or `pulumi up`: the same arguments, the counts in another place."""
    call = getattr(st, operation)
    return _run(
        st,
        operation,
        lambda w: call(
            on_output=on_output,
            on_event=w,
            policy_packs=[str(p) for p in policy_packs] or None,
            expect_no_changes=expect_no_changes or None,
            program=program,
            color="never",
            suppress_progress=True,
        ),
        _COUNTS[operation],
    )


def preview(
    st,
    *,
    on_output: OnOutput | None = None,
    policy_packs: list[Path] | tuple = (),
    expect_no_changes: bool = False,
    program: Program | None = None,
) -> dict:
    """`pulumi preview`: what an up would change, and the outputs it would export. With
    `program`, that function runs in this process as the stack's program (an inline program:
    no language host, no program process); without, the project's program does."""
    return _update(st, "preview", on_output, policy_packs, expect_no_changes, program)


def up(
    st,
    *,
    on_output: OnOutput | None = None,
    policy_packs: list[Path] | tuple = (),
    expect_no_changes: bool = False,
    program: Program | None = None,
) -> dict:
    """`pulumi up`: apply (or, in render mode, write the YAML); `program` as for `preview`."""
    return _update(st, "up", on_output, policy_packs, expect_no_changes, program)


def refresh(st, *, on_output: OnOutput | None = None, clear_pending: bool = False) -> dict:
    """`pulumi refresh`: read the live objects back into the state. `clear_pending` drops
    the creates an interrupted update left pending (the next `up` creates those objects
    again: server-side apply takes an existing one over, render mode rewrites its file)."""
    return _run(
        st,
        "refresh",
        lambda w: st.refresh(
            on_output=on_output,
            on_event=w,
            clear_pending_creates=clear_pending or None,
            color="never",
            suppress_progress=True,
        ),
        lambda r: r.summary.resource_changes,
    )


def clear_pending(st) -> int:
    """Drop the operations an interrupted update left pending, without reading anything back:
    Pulumi's documented recovery (export the state, remove `pending_operations`, import it).
    For render-mode stacks, whose provider has no cluster a refresh could read. The next `up`
    runs those operations again (render mode rewrites the files). Returns how many it dropped."""
    exported = _guard(st.export_stack)
    deployment = dict(exported.deployment or {})
    dropped = len(deployment.pop("pending_operations", None) or [])
    if dropped:
        _guard(lambda: st.import_stack(type(exported)(exported.version, deployment)))
    return dropped


def destroy(st, *, on_output: OnOutput | None = None, remove: bool = False) -> dict:
    """`pulumi destroy`: delete every resource of the stack (and the stack itself with `remove`)."""
    result = _run(
        st,
        "destroy",
        lambda w: st.destroy(
            on_output=on_output, on_event=w, color="never", suppress_progress=True
        ),
        lambda r: r.summary.resource_changes,
    )
    if remove:
        _guard(lambda: st.workspace.remove_stack(st.name))
    return result


def read_render_dir(render_dir: Path) -> dict[str, list[dict]]:
    """The objects the provider's `renderYamlToDirectory` wrote, per cluster: it writes one
    file per object under `<dir>/<cluster>/0-crd/` and `<dir>/<cluster>/1-manifest/`."""
    objects: dict[str, list[dict]] = {}
    for cluster in sorted(p for p in Path(render_dir).iterdir() if p.is_dir()):
        objs = objects.setdefault(cluster.name, [])
        for f in sorted(cluster.glob("*/*.yaml")):
            objs.extend(d for d in yaml.safe_load_all(f.read_text(encoding="utf-8")) if d)
    return objects


def render(
    settings: StackSettings,
    *,
    on_output: OnOutput | None = None,
    tools: Tools | None = None,
    parallel: int | None = None,
):
    """Run every stack of the city through the real engine, in render mode, into throwaway
    state, and return their objects and the city's outputs as an `infra.render.Rendered`
    (the same value the plain-data render returns, so `infra.render.write` lays both out)."""
    from infra import orchestrate
    from infra.render import SCHEMA_VERSION as RENDER_SCHEMA
    from infra.render import Rendered

    with tempfile.TemporaryDirectory(prefix="govcloud-render-") as tmp:
        work = Path(tmp)
        result = orchestrate.run(
            "up",
            replace(settings, render_dir=str(work / "render")),
            work / "state",
            project_dir=scratch_project(work / "project"),
            tools=tools,
            throwaway=True,
            parallel=parallel,
        )
        objects = read_render_dir(work / "render") if (work / "render").is_dir() else {}
    return Rendered(
        objects=objects,
        components=result["components"],
        outputs={"schema_version": RENDER_SCHEMA, **result["outputs"]},
        stacks={s["stack"]: sum(s["changes"].values()) for s in result["stacks"]},
    )
