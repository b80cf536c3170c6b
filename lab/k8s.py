"""Real, local Kubernetes control planes for tests and demos.

govcloud provisions one Kubernetes tenant per department; to test that against the real
thing (RBAC, PodSecurity, ResourceQuota, LimitRange admission) without a cloud, this module
runs, per named cluster, an etcd, a kube-apiserver and a kube-controller-manager (which keeps
ResourceQuota status current and creates service accounts) as plain processes on 127.0.0.1.
kube-apiserver and kube-controller-manager come from `make tools` (.tools/bin), etcd from
Debian's etcd-server. No kubelet or scheduler: pods are admitted and stored, never run.

    up(state_dir, ["shared", "isolated", "dr"])  # starts what is not already running
    status(state_dir)                            # {"shared": {"healthy": True, ...}, ...}
    down(state_dir)                              # stops exactly what up started, removes data

The kubeconfig (`<state_dir>/kubeconfig`, or the `kubeconfig=` path given to up; `govctl
lab k8s` uses `.lab/kubeconfig`) has one context per cluster, named after it. Each cluster
also gets the platform objects govcloud expects to find installed (`lab/k8s-platform.yaml`:
the Velero namespace and CRDs). The certificates come from `lab.pki`, the kubeconfigs from
`lab.kubeconfig`; processes and the state file are `lab.supervisor`'s.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import ssl
import time
import urllib.error
import urllib.request
from pathlib import Path

from lab import supervisor
from lab.kubeconfig import LAB_EXTENSION as LAB_EXTENSION
from lab.kubeconfig import Entry
from lab.kubeconfig import without_nodes as without_nodes
from lab.kubeconfig import write as write_kubeconfig
from lab.supervisor import LabError as LabError

REPO = Path(__file__).resolve().parent.parent
TOOLS_BIN = REPO / ".tools" / "bin"
DEFAULT_LAB_DIR = REPO / ".lab"
DEFAULT_STATE_DIR = DEFAULT_LAB_DIR / "k8s"
DEFAULT_KUBECONFIG = DEFAULT_LAB_DIR / "kubeconfig"
PLATFORM = Path(__file__).with_name("k8s-platform.yaml")
STATE_FILE = "state.json"
HOST = "127.0.0.1"
# Virtual addresses the API server hands to Services (dual-stack, so `PreferDualStack`
# Services get both families); nothing is routed or listens there. Lab ranges only:
# IPv4 from 198.18.0.0/15 (clear of the extranet lab's 198.19.0.0/18, 198.19.64.0/20 and
# 198.19.252.0/22), IPv6 from fd00::/8.
SERVICE_CIDRS = ("198.19.240.0/24", "fd00:198:19:240::/112")
SERVICE_CIDR = ",".join(SERVICE_CIDRS)
ADMISSION_PLUGINS = (
    "NamespaceLifecycle,LimitRanger,ServiceAccount,DefaultStorageClass,DefaultTolerationSeconds,"
    "NodeRestriction,PodSecurity,Priority,RuntimeClass,StorageObjectInUseProtection,"
    "PersistentVolumeClaimResize,CertificateApproval,CertificateSigning,CertificateSubjectRestriction,"
    "MutatingAdmissionWebhook,ValidatingAdmissionPolicy,ValidatingAdmissionWebhook,ResourceQuota"
)
PROCESSES = ("etcd", "kube-apiserver", "kube-controller-manager")  # start order
PORTS = ("apiserver", "etcd", "etcd_peer", "controller_manager")
NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$")
SUBJECT_WORD = re.compile(r"^[A-Za-z0-9:._@-]+$")


# --- binaries -------------------------------------------------------------------------------


def find_binaries() -> dict[str, str]:
    """Paths of etcd, kube-apiserver and kube-controller-manager; LabError if any is missing."""
    found = _binaries()
    missing = [name for name, path in found.items() if path is None]
    if missing:
        hints = []
        if {"kube-apiserver", "kube-controller-manager"} & set(missing):
            hints.append("run `make tools` (builds them into .tools/bin)")
        if "etcd" in missing:
            hints.append("install Debian's etcd-server (`make setup` as root)")
        raise LabError(f"missing binaries: {', '.join(missing)}; " + " and ".join(hints))
    return {name: path for name, path in found.items() if path}


def _binaries() -> dict[str, str | None]:
    def tool(name: str) -> str | None:
        path = TOOLS_BIN / name
        return str(path) if os.access(path, os.X_OK) else None

    return {
        "etcd": tool("etcd") or shutil.which("etcd"),
        "kube-apiserver": tool("kube-apiserver"),
        "kube-controller-manager": tool("kube-controller-manager"),
    }


# --- public API -----------------------------------------------------------------------------


def up(
    state_dir: str | os.PathLike = DEFAULT_STATE_DIR,
    clusters: list[str] | tuple[str, ...] = ("shared",),
    *,
    kubeconfig: str | os.PathLike | None = None,
    base_port: int | None = None,
    timeout: float = 120.0,
) -> dict:
    """Start each named cluster that is not already healthy; leave healthy ones alone.

    Ports are free loopback ports picked once and kept in the state file (or, with base_port,
    base_port + 10*i + 0..3 for the i-th cluster). The kubeconfig goes to `kubeconfig`
    (default: where the last up() wrote it, else `<state_dir>/kubeconfig`); its path is
    recorded so that down() removes it.
    Every cluster gets the platform objects of `lab/k8s-platform.yaml` (applied each time).
    Returns {"kubeconfig": path, "clusters": {name: {"server", "context", "started",
    "startup_seconds"}}}.
    """
    state_dir = Path(state_dir)
    bins = find_binaries()
    for name in clusters:
        if not NAME.match(name):
            raise LabError(f"cluster name {name!r} is not a short DNS label")
    state_dir.mkdir(parents=True, exist_ok=True)
    state = _state(state_dir)
    old = state.data.get("kubeconfig")
    kubeconfig_path = Path(kubeconfig or old or state_dir / "kubeconfig")
    if old and Path(old) != kubeconfig_path.absolute():
        Path(old).unlink(missing_ok=True)  # moved: the old file would name stale servers
    state.data["kubeconfig"] = str(kubeconfig_path.absolute())
    every = state.data["clusters"]
    result: dict[str, dict] = {}
    starting: list[str] = []
    for i, name in enumerate(clusters):
        cluster = every.get(name)
        if cluster and _all_alive(cluster) and _ready(state_dir, name, cluster):
            result[name] = _describe(cluster, name, started=False)
            continue
        if cluster:  # some process died: stop the rest, restart on the same ports and data
            _stop(cluster)
        else:
            cluster = {"ports": _pick_ports(i, base_port), "processes": {}}
            every[name] = cluster
        busy = [f"{HOST}:{p} ({what})" for what, p in cluster["ports"].items() if not _port_free(p)]
        if busy:
            state.save()
            raise LabError(
                f"cluster {name!r}: ports busy: {', '.join(busy)}; stop what listens there, "
                f"or run down() to forget these ports, or pass another base_port"
            )
        _pki().make_pki(state_dir / name / "pki", name)
        starting.append(name)
    state.save()
    _write_kubeconfigs(state_dir, every, kubeconfig_path)

    # Start the clusters side by side: all etcds, then all API servers, then controllers.
    began = {name: time.monotonic() for name in starting}
    try:
        for process in PROCESSES:
            for name in starting:
                cluster = every[name]
                argv = _argv(process, bins[process], state_dir / name, name, cluster["ports"])
                log = state_dir / name / f"{process}.log"
                cluster["processes"][process] = supervisor.spawn(argv, log)
                state.save()  # recorded before anything waits on it
            deadline = time.monotonic() + timeout
            for name in starting:
                _wait(state_dir, name, every[name], process, deadline)
    except LabError:
        _stop(*(every[name] for name in starting))
        state.save()
        raise
    for name in starting:
        cluster = every[name]
        cluster["startup_seconds"] = round(time.monotonic() - began[name], 1)
        result[name] = _describe(cluster, name, started=True)
    state.save()
    platform = _platform_objects()
    for name in clusters:
        _install(state_dir, name, every[name], platform, timeout)
    return {"kubeconfig": str(kubeconfig_path), "clusters": result}


def down(state_dir: str | os.PathLike = DEFAULT_STATE_DIR) -> list[str]:
    """Stop the processes up() started (by recorded PID, start time and program) and remove
    their data and the kubeconfig. Returns the names of the clusters it removed."""
    state_dir = Path(state_dir)
    state = _state(state_dir)
    if not state.exists():
        return []
    clusters = state.data["clusters"]
    _stop(*clusters.values())
    for name in clusters:
        shutil.rmtree(state_dir / name, ignore_errors=True)
    kubeconfig = state.data.get("kubeconfig")
    for leftover in (Path(kubeconfig) if kubeconfig else None, state_dir / "kubeconfig"):
        if leftover:
            leftover.unlink(missing_ok=True)
    state.remove()
    try:
        state_dir.rmdir()  # only if nothing else was put there
    except OSError:
        pass
    return list(clusters)


def status(state_dir: str | os.PathLike = DEFAULT_STATE_DIR) -> dict:
    """Per cluster: {"healthy": readyz ok and all processes alive, "server", "processes", ...}."""
    state_dir = Path(state_dir)
    state = _state(state_dir)
    if not state.exists():
        return {}
    report = {}
    for name, cluster in state.data["clusters"].items():
        alive = {p: supervisor.alive(cluster["processes"].get(p)) for p in PROCESSES}
        readyz = _get(state_dir, name, cluster, "/readyz") if alive["kube-apiserver"] else None
        report[name] = {
            "healthy": all(alive.values()) and readyz == "ok",
            "server": f"https://{HOST}:{cluster['ports']['apiserver']}",
            "readyz": readyz,
            "processes": {
                p: {"pid": (cluster["processes"].get(p) or {}).get("pid"), "alive": alive[p]}
                for p in PROCESSES
            },
            "ports": cluster["ports"],
            "startup_seconds": cluster.get("startup_seconds"),
        }
    return report


def kubeconfig_of(state_dir: str | os.PathLike = DEFAULT_STATE_DIR) -> str | None:
    """Where up() wrote the kubeconfig of the clusters in state_dir (None: no lab there)."""
    return _state(Path(state_dir)).data.get("kubeconfig")


def user_kubeconfig(
    state_dir: str | os.PathLike, cluster: str, user: str, groups: tuple[str, ...] = ()
) -> Path:
    """A kubeconfig for `user` (in `groups`) on a running cluster: a client cert from its CA."""
    state_dir = Path(state_dir)
    ports = _state(state_dir).data["clusters"][cluster]["ports"]
    for word in (user, *groups):
        if not SUBJECT_WORD.match(word):
            raise LabError(f"user or group name {word!r} has characters the lab does not accept")
    pki = state_dir / cluster / "pki"
    stem = "user-" + user.replace(":", "_")
    _pki().issue(pki, stem, user, groups, _pki().CLIENT)
    path = state_dir / cluster / "users" / f"{user.replace(':', '_')}.kubeconfig"
    server = f"https://{HOST}:{ports['apiserver']}"
    return write_kubeconfig(path, [Entry(cluster, server, pki / "ca.crt", user, pki / stem)])


def _pki():
    """lab.pki, imported when certificates are made: `cryptography` costs a third of a second,
    which commands that only read a lab kubeconfig (`govctl tenants up`) do not pay."""
    from lab import pki

    return pki


def _state(state_dir: Path) -> supervisor.StateFile:
    """`{"kubeconfig": path, "clusters": {name: {"ports", "processes": {name: record}}}}`."""
    return supervisor.StateFile(Path(state_dir) / STATE_FILE, {"clusters": {}})


def _write_kubeconfigs(state_dir: Path, clusters: dict, path: Path) -> None:
    """The admin kubeconfig of every cluster at `path`, and each controller manager's own."""
    entries = []
    for name, cluster in clusters.items():
        pki = state_dir / name / "pki"
        server = f"https://{HOST}:{cluster['ports']['apiserver']}"
        entry = Entry(name, server, pki / "ca.crt", "admin", pki / "admin")
        write_kubeconfig(state_dir / name / "controller-manager.kubeconfig", [entry])
        entries.append(entry)
    write_kubeconfig(path, entries)


def _all_alive(cluster: dict) -> bool:
    return all(supervisor.alive(cluster["processes"].get(p)) for p in PROCESSES)


def _stop(*clusters: dict, grace: float = 10.0) -> None:
    """Stop the clusters' recorded processes, newest kind first (all controller managers
    together, then the API servers, then etcd); never anything else."""
    for process in reversed(PROCESSES):
        supervisor.stop([c["processes"].pop(process, None) for c in clusters], grace)


# --- processes ------------------------------------------------------------------------------


def _argv(process: str, binary: str, home: Path, name: str, ports: dict) -> list[str]:
    pki = home / "pki"
    etcd_url = f"http://{HOST}:{ports['etcd']}"
    if process == "etcd":
        peer = f"http://{HOST}:{ports['etcd_peer']}"
        return [
            binary, f"--name={name}", f"--data-dir={home / 'etcd'}",
            f"--listen-client-urls={etcd_url}", f"--advertise-client-urls={etcd_url}",
            f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster={name}={peer}", f"--initial-cluster-token=govcloud-lab-{name}",
            "--logger=zap", "--log-level=warn",
        ]  # fmt: skip
    if process == "kube-apiserver":
        return [
            binary, f"--etcd-servers={etcd_url}",
            f"--bind-address={HOST}", f"--advertise-address={HOST}",
            f"--secure-port={ports['apiserver']}", f"--cert-dir={pki}",
            f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            # Aggregation layer, as kubeadm sets it up (the controller manager reads it too).
            f"--requestheader-client-ca-file={pki / 'front-proxy-ca.crt'}",
            "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            f"--proxy-client-cert-file={pki / 'front-proxy-client.crt'}",
            f"--proxy-client-key-file={pki / 'front-proxy-client.key'}",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--endpoint-reconciler-type=none",  # its endpoint would be a loopback address
            "--authorization-mode=Node,RBAC", f"--enable-admission-plugins={ADMISSION_PLUGINS}",
            "--allow-privileged=true",  # as real clusters: PodSecurity decides per namespace
            "--profiling=false", "--v=1",
        ]  # fmt: skip
    kubeconfig = home / "controller-manager.kubeconfig"
    return [
        binary, f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}", f"--authorization-kubeconfig={kubeconfig}",
        f"--bind-address={HOST}", f"--secure-port={ports['controller_manager']}",
        f"--cert-dir={home / 'controller-manager'}",
        f"--flex-volume-plugin-dir={home / 'controller-manager' / 'flexvolume'}",  # not in /usr
        f"--service-account-private-key-file={pki / 'sa.key'}", f"--root-ca-file={pki / 'ca.crt'}",
        f"--cluster-signing-cert-file={pki / 'ca.crt'}", f"--cluster-signing-key-file={pki / 'ca.key'}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--leader-elect=false", "--profiling=false", "--v=1",
    ]  # fmt: skip


def _wait(state_dir: Path, name: str, cluster: dict, process: str, deadline: float) -> None:
    home = state_dir / name
    record = cluster["processes"][process]
    while True:
        if not supervisor.alive(record):
            raise LabError(f"cluster {name!r}: {process} exited:\n{_tail(home / f'{process}.log')}")
        if _up(state_dir, name, cluster, process):
            return
        if time.monotonic() > deadline:
            raise LabError(
                f"cluster {name!r}: {process} not ready in time:\n{_tail(home / f'{process}.log')}"
            )
        time.sleep(0.2)


def _up(state_dir: Path, name: str, cluster: dict, process: str) -> bool:
    ports = cluster["ports"]
    if process == "etcd":
        return '"health":"true"' in (_fetch(f"http://{HOST}:{ports['etcd']}/health") or "")
    if process == "kube-apiserver":
        return _ready(state_dir, name, cluster)
    # Its own health check (self-signed, loopback), and the first sign of its controllers
    # working: the default namespace's service account.
    return _fetch(
        f"https://{HOST}:{ports['controller_manager']}/healthz", ssl._create_unverified_context()
    ) == "ok" and (
        _get(state_dir, name, cluster, "/api/v1/namespaces/default/serviceaccounts/default")
        is not None
    )


def _ready(state_dir: Path, name: str, cluster: dict) -> bool:
    return _get(state_dir, name, cluster, "/readyz") == "ok"


def _admin_context(state_dir: Path, name: str) -> ssl.SSLContext | None:
    pki = state_dir / name / "pki"
    try:
        context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        context.load_cert_chain(pki / "admin.crt", pki / "admin.key")
    except (OSError, ssl.SSLError):
        return None
    return context


def _get(state_dir: Path, name: str, cluster: dict, path: str) -> str | None:
    """GET path from the cluster's API server as its admin; None on any failure."""
    context = _admin_context(state_dir, name)
    if context is None:
        return None
    return _fetch(f"https://{HOST}:{cluster['ports']['apiserver']}{path}", context)


def _opener(context: ssl.SSLContext | None) -> urllib.request.OpenerDirector:
    """Loopback only: any proxy settings of the environment are ignored."""
    return urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )


def _fetch(url: str, context: ssl.SSLContext | None = None) -> str | None:
    """GET a loopback URL; None on any failure."""
    try:
        with _opener(context).open(url, timeout=3) as response:
            return response.read().decode()
    except (OSError, ssl.SSLError, urllib.error.URLError, ValueError):
        return None


# --- platform objects -----------------------------------------------------------------------

# Where the API serves each kind the platform file may hold.
_KIND_PATHS = {
    ("v1", "Namespace"): "/api/v1/namespaces/{name}",
    (
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
    ): "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}",
}


def _platform_objects() -> list[dict]:
    import yaml  # the project's YAML library; only needed here

    return [o for o in yaml.safe_load_all(PLATFORM.read_text(encoding="utf-8")) if o]


def _install(
    state_dir: Path, name: str, cluster: dict, objects: list[dict], timeout: float
) -> None:
    """Server-side apply the platform objects, then wait until each CRD is served."""
    context = _admin_context(state_dir, name)
    base = f"https://{HOST}:{cluster['ports']['apiserver']}"
    for obj in objects:
        path = _KIND_PATHS[(obj["apiVersion"], obj["kind"])].format(name=obj["metadata"]["name"])
        request = urllib.request.Request(
            f"{base}{path}?fieldManager=govcloud-lab&force=true", data=json.dumps(obj).encode(),
            method="PATCH", headers={"Content-Type": "application/apply-patch+yaml"})  # fmt: skip
        try:
            with _opener(context).open(request, timeout=10):
                pass
        except urllib.error.HTTPError as exc:
            raise LabError(
                f"cluster {name!r}: applying {obj['kind']} {obj['metadata']['name']} "
                f"failed: {exc.code} {exc.read().decode(errors='replace')[:500]}"
            ) from None
        except (OSError, urllib.error.URLError) as exc:
            raise LabError(f"cluster {name!r}: API server unreachable: {exc}") from None
    deadline = time.monotonic() + timeout
    for crd in (o for o in objects if o["kind"] == "CustomResourceDefinition"):
        spec = crd["spec"]
        served = f"/apis/{spec['group']}/{spec['versions'][0]['name']}"
        while f'"name":"{spec["names"]["plural"]}"' not in (
            _get(state_dir, name, cluster, served) or ""
        ):
            if time.monotonic() > deadline:
                raise LabError(
                    f"cluster {name!r}: CRD {crd['metadata']['name']} not served in time"
                )
            time.sleep(0.2)


def _tail(log: Path, lines: int = 15) -> str:
    try:
        text = log.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return f"(no log at {log})"
    return "\n".join(text) + f"\n(full log: {log})"


# --- ports ----------------------------------------------------------------------------------


def _pick_ports(index: int, base_port: int | None) -> dict[str, int]:
    if base_port is not None:
        return {what: base_port + 10 * index + i for i, what in enumerate(PORTS)}
    ports: dict[str, int] = {}
    held = []
    try:  # hold each socket until all are picked so the ports differ
        for what in PORTS:
            s = socket.socket()
            s.bind((HOST, 0))
            held.append(s)
            ports[what] = s.getsockname()[1]
    finally:
        for s in held:
            s.close()
    return ports


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as servers do: ignore TIME_WAIT
        try:
            s.bind((HOST, port))
        except OSError:
            return False
    return True


def _describe(cluster: dict, name: str, started: bool) -> dict:
    return {
        "server": f"https://{HOST}:{cluster['ports']['apiserver']}",
        "context": name,
        "started": started,
        "startup_seconds": cluster.get("startup_seconds"),
    }
