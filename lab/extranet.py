"""The namespace lab of the extranet: real routers (FRR) and real SSH, one netns per device.

Network engineers rehearse the IPv6 rollout here before touching a county. `up` builds,
from `lab.topology`, one network namespace `gc-<hostname>` per device with:
  * veth links along its uplinks (named as the model names them), forwarding on;
  * FRR 8.4 zebra + ospf6d in their own pathspace (`-N gc-<hostname>`: config in
    /etc/frr/gc-<hostname>/, sockets in /var/run/frr/gc-<hostname>/), started from an
    IPv4-only frr.conf — the extranet as it is before the rollout;
  * an sshd on the management bridge `gc-mgmt` (IPv4 from 198.19.252.0/22, no IPv6), whose
    only login user `gcnet` has vtysh as its shell, with a lab key and known_hosts.
Each daemon runs in its own UTS namespace named after the device, so prompts are real.

`up` is idempotent: it creates only what is missing and restarts stopped daemons from the
saved config (like a reboot). Everything it creates is recorded in `<lab>/state.json`
before it is created, and every daemon it starts right after (`lab.supervisor`: PID, start
time, program); `down` stops exactly those processes and deletes exactly those things, by name.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from lab import supervisor
from lab.supervisor import LabError as LabError
from lab.topology import MGMT_NET, Node, Topology
from model.outputs import dumps_json
from model.yamlio import dump_yaml, write_atomic

REPO = Path(__file__).resolve().parent.parent
DEFAULT_LAB_DIR = REPO / ".lab"
STATE_FILE = "state.json"
SCHEMA_VERSION = 1
BRIDGE = "gc-mgmt"
LOGIN_USER = "gcnet"
LOGIN_HOME = Path("/run/govcloud-lab")  # one lab at a time (the bridge name is fixed too)
AUTHORIZED_KEYS = LOGIN_HOME / "authorized_keys"
LOGIN_SHELL = LOGIN_HOME / "bin" / "vtysh-login"
FRR_ETC = Path("/etc/frr")
FRR_RUN = Path("/var/run/frr")
FRR_BIN = Path("/usr/lib/frr")
DAEMONS = ("zebra", "ospf6d", "staticd")  # staticd: the discard route (ipv6 route … blackhole)
PRIVSEP_DIR = Path("/run/sshd")
OSPF_TIMERS = {"ospf_hello": 1, "ospf_dead": 4, "ospf_retransmit": 1}
"""The lab's OSPFv3 timers in seconds (FRR's defaults: 10, 40, 5), a `network.render.RenderSettings`:
a post-check sees a new adjacency Full within a second or two, a lost neighbour is noticed in 4 s."""
LAN_IF = "lan0"  # the linux_frr platform's LAN interface (network/platforms.py)
LAN_HOSTS = "lan0-hosts"
LAN_LEVELS = ("city", "township", "village")
"""Levels whose device has a LAN: township and village sites, and the NOC at the city core."""
TOOLS = {  # what the lab runs → the Debian package that provides it
    "ip": "iproute2",
    str(FRR_BIN / "zebra"): "frr",
    str(FRR_BIN / "ospf6d"): "frr",
    "vtysh": "frr",
    "/usr/sbin/sshd": "openssh-server",
    "ssh-keygen": "openssh-client",
    "unshare": "util-linux",
    "ping": "iputils-ping",
}
Progress = Callable[[str], None]


# --- checks ---------------------------------------------------------------------------------


def missing_prerequisites() -> list[str]:
    """Human-readable reasons the lab cannot run here; empty when it can."""
    reasons = []
    if os.geteuid() != 0:
        reasons.append(
            "the lab needs root (network namespaces, veth links, FRR, sshd): run it with sudo"
        )
    missing = sorted({pkg for tool, pkg in TOOLS.items() if not shutil.which(tool)})
    if missing:
        reasons.append(
            f"missing Debian packages: {' '.join(missing)} (apt-get install -y {' '.join(missing)})"
        )
    return reasons


def _require() -> None:
    reasons = missing_prerequisites()
    if reasons:
        raise LabError("; ".join(reasons))


# --- small wrappers ---------------------------------------------------------------------------


def _run(*cmd: str, check: bool = True, input: str | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, capture_output=True, text=True, input=input)
    if check and proc.returncode != 0:
        raise LabError(f"{' '.join(cmd)} failed: {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


def in_netns(
    ns: str, *cmd: str, hostname: str | None = None, check: bool = True
) -> subprocess.CompletedProcess:
    """Run a command inside a lab namespace (in a UTS namespace named `hostname`, if given)."""
    if hostname:
        script = 'hostname "$0" && exec "$@"'
        return _run(
            "ip",
            "netns",
            "exec",
            ns,
            "unshare",
            "--uts",
            "sh",
            "-c",
            script,
            hostname,
            *cmd,
            check=check,
        )
    return _run("ip", "netns", "exec", ns, *cmd, check=check)


def vtysh(node: Node, *commands: str, check: bool = True) -> str:
    args = [a for c in commands for a in ("-c", c)]
    return in_netns(
        node.netns, "vtysh", "-N", node.netns, *args, hostname=node.name, check=check
    ).stdout


def _netns_list() -> set[str]:
    out = _run("ip", "-j", "netns", "list").stdout.strip()
    return {n["name"] for n in json.loads(out)} if out else set()


def _link_exists(name: str, ns: str | None = None) -> bool:
    cmd = ["ip"] + (["-n", ns] if ns else []) + ["link", "show", "dev", name]
    return _run(*cmd, check=False).returncode == 0


def _in_netns(pid: int, ns: str) -> bool:
    """True when process `pid` lives inside network namespace `ns`."""
    try:
        return os.stat(f"/proc/{pid}/ns/net").st_ino == os.stat(f"/run/netns/{ns}").st_ino
    except OSError:
        return False


def _adopt_daemon(state: State, ns: str, name: str, pidfile: Path, exe: str) -> None:
    """Record the daemon that writes `pidfile` (it forked away from the command that started
    it, and may write the file a moment after that command returned) once it runs `exe`
    inside `ns`."""
    found: list[dict] = []

    def written() -> bool:
        record = supervisor.adopt_pidfile(pidfile, exe)
        if record and _in_netns(record["pid"], ns):
            found.append(record)
        return bool(found)

    _wait(written, f"{name} in {ns} (its pid file {pidfile})")
    state.record_process(ns, name, found[0])


# --- state ------------------------------------------------------------------------------------


class State(supervisor.StateFile):
    """What `up` created, saved before each creation so `down` can undo a half-finished `up`,
    and the processes it started: `processes[netns][daemon]`, a `lab.supervisor` record."""

    def __init__(self, lab_dir: Path):
        super().__init__(
            Path(lab_dir) / STATE_FILE,
            {
                "schema_version": SCHEMA_VERSION,
                "netns": [],
                "host_links": [],
                "bridge": None,
                "paths": [],
                "user": None,
                "spec": None,
                "city": None,
                "platforms": None,
                "processes": {},
            },
        )

    def process(self, ns: str, name: str) -> dict | None:
        return self.data["processes"].get(ns, {}).get(name)

    def record_process(self, ns: str, name: str, record: dict | None) -> None:
        """Remember the process `name` started in namespace `ns` (None: it is not running)."""
        self.data["processes"].setdefault(ns, {})[name] = record
        self.save()

    def running(self, ns: str, name: str) -> bool:
        """True while the recorded process runs, is that very process, and is in `ns`."""
        record = self.process(ns, name)
        return record is not None and supervisor.alive(record) and _in_netns(record["pid"], ns)


# --- up ---------------------------------------------------------------------------------------


def up(
    topo: Topology,
    lab_dir: Path = DEFAULT_LAB_DIR,
    spec: str = "",
    city: str = "",
    progress: Progress | None = None,
) -> dict:
    """Build (or repair) the lab. Returns `status()`."""
    _require()
    say = progress or (lambda _msg: None)
    lab_dir = Path(lab_dir).resolve()
    lab_dir.mkdir(parents=True, exist_ok=True)
    state = State(lab_dir)
    if state.data["spec"] and spec and state.data["spec"] != spec:
        raise LabError(
            f"the lab is up with --topology {state.data['spec']}; run `govctl lab down` first"
        )
    if _link_exists(BRIDGE) and state.data["bridge"] != BRIDGE:
        raise LabError(
            f"bridge {BRIDGE} exists but this lab ({lab_dir}) did not create it: another lab is up"
        )
    mixture = "mixed" if any(n.twin for n in topo.nodes) else "frr"
    if state.data["platforms"] and state.data["platforms"] != mixture and state.data["netns"]:
        raise LabError(
            f"the lab is up with --platforms {state.data['platforms']}; run `govctl lab down` first"
        )
    state.record("platforms", mixture)
    state.record("spec", spec or state.data["spec"])
    state.record("city", city or state.data["city"])
    for name in ("ipam.lock.yaml", "plan.json", "configs"):
        state.record("paths", str(lab_dir / name))
    lab_plan(topo, lab_dir)  # names the parents' link ends as the renderer does
    _keys(lab_dir, state)
    _login_user(lab_dir, state)
    _bridge(state)
    existing = _netns_list()
    for node in topo.nodes:
        if node.netns not in existing:
            state.record("netns", node.netns)
            _run("ip", "netns", "add", node.netns)
        _node_base(node)
        if node.level in LAN_LEVELS and not _link_exists(LAN_IF, node.netns):
            # The site's LAN: a veth whose other end stands for the hosts on it (carrier up).
            _run(
                "ip",
                "-n",
                node.netns,
                "link",
                "add",
                LAN_IF,
                "type",
                "veth",
                "peer",
                "name",
                LAN_HOSTS,
            )
        if node.level in LAN_LEVELS:
            for ifname in (LAN_HOSTS, LAN_IF):
                _run("ip", "-n", node.netns, "link", "set", ifname, "up")
    for i, node in enumerate(topo.nodes):
        _mgmt_link(node, i, state)
    for link in topo.links:
        child, parent = topo.node(link.child), topo.node(link.parent)
        if not _link_exists(link.child_if, child.netns):
            _run(
                "ip",
                "link",
                "add",
                link.child_if,
                "netns",
                child.netns,
                "type",
                "veth",
                "peer",
                "name",
                link.parent_if,
                "netns",
                parent.netns,
            )
        for ns, ifname in ((child.netns, link.child_if), (parent.netns, link.parent_if)):
            in_netns(ns, "sysctl", "-qw", f"net.ipv6.conf.{ifname}.accept_dad=0")
            _run("ip", "-n", ns, "link", "set", ifname, "up")
    if PRIVSEP_DIR.exists() is False:
        state.record("paths", str(PRIVSEP_DIR))
        PRIVSEP_DIR.mkdir(mode=0o755)
    for node in topo.nodes:
        say(node.name)
        _frr(node, topo, state)
        if node.twin:
            _twin(node, topo, lab_dir, state)
        else:
            _sshd(node, lab_dir, state)
    _wait_ssh(topo)
    write_atomic(
        lab_dir / "known_hosts",
        "".join(
            f"{n.mgmt} {(lab_dir / 'nodes' / n.name / 'ssh_host_ed25519_key.pub').read_text().split(' ')[0]} "
            f"{(lab_dir / 'nodes' / n.name / 'ssh_host_ed25519_key.pub').read_text().split(' ')[1]}\n"
            for n in topo.nodes
        ),
    )
    return status(topo, lab_dir)


def _keys(lab_dir: Path, state: State) -> None:
    """The lab's client key (in the lab directory, read by root only) and what the login
    user reads as itself — its authorized_keys and its shell — under `LOGIN_HOME`, a
    root-owned 0755 path, so that sshd's StrictModes and the user's permissions hold
    wherever the repository was cloned."""
    ssh = lab_dir / "ssh"
    if not (ssh / "id_ed25519").exists():
        state.record("paths", str(ssh))
        ssh.mkdir(mode=0o700, exist_ok=True)
        _run(
            "ssh-keygen",
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "govcloud-lab",
            "-f",
            str(ssh / "id_ed25519"),
        )
    if not LOGIN_HOME.exists():
        state.record("paths", str(LOGIN_HOME))
    (LOGIN_HOME / "bin").mkdir(mode=0o755, parents=True, exist_ok=True)
    LOGIN_HOME.chmod(0o755)
    write_atomic(AUTHORIZED_KEYS, (ssh / "id_ed25519.pub").read_text())
    AUTHORIZED_KEYS.chmod(0o644)
    # sshd sets GC_PATHSPACE (SetEnv) per node; `ssh node 'show version'` arrives as -c.
    write_atomic(
        LOGIN_SHELL,
        '#!/bin/sh\nif [ "$1" = "-c" ]; then exec /usr/bin/vtysh -N "$GC_PATHSPACE" -H /dev/null -c "$2"; fi\n'
        'exec /usr/bin/vtysh -N "$GC_PATHSPACE" -H /dev/null\n',
    )
    LOGIN_SHELL.chmod(0o755)


def _login_user(lab_dir: Path, state: State) -> None:
    if _run("id", LOGIN_USER, check=False).returncode == 0:
        return
    state.record("user", LOGIN_USER)
    _run(
        "useradd",
        "--system",
        "--no-create-home",
        "--home-dir",
        "/",
        "--shell",
        str(LOGIN_SHELL),
        "--groups",
        "frrvty,frr",
        "--password",
        "*",
        LOGIN_USER,
    )  # "*": no password, not locked


def _bridge(state: State) -> None:
    if not _link_exists(BRIDGE):
        state.record("bridge", BRIDGE)
        _run("ip", "link", "add", BRIDGE, "type", "bridge")
    _run("sysctl", "-qw", f"net.ipv6.conf.{BRIDGE}.disable_ipv6=1")
    host_ip = f"{next(MGMT_NET.hosts())}/{MGMT_NET.prefixlen}"
    if host_ip not in _run("ip", "-br", "addr", "show", "dev", BRIDGE).stdout:
        _run("ip", "addr", "add", host_ip, "dev", BRIDGE)
    _run("ip", "link", "set", BRIDGE, "up")


def _node_base(node: Node) -> None:
    _run("ip", "-n", node.netns, "link", "set", "lo", "up")
    in_netns(
        node.netns,
        "sysctl",
        "-qw",
        "net.ipv4.ip_forward=1",
        "net.ipv6.conf.all.forwarding=1",
        "net.ipv6.conf.default.forwarding=1",
        "net.ipv6.conf.all.accept_dad=0",
        "net.ipv6.conf.default.accept_dad=0",
        "net.ipv6.conf.all.keep_addr_on_down=1",
    )


def _mgmt_link(node: Node, index: int, state: State) -> None:
    host_if = f"gcm{index}"
    if not _link_exists("mgmt0", node.netns):
        state.record("host_links", host_if)
        _run(
            "ip",
            "link",
            "add",
            host_if,
            "type",
            "veth",
            "peer",
            "name",
            "mgmt0",
            "netns",
            node.netns,
        )
    in_netns(node.netns, "sysctl", "-qw", "net.ipv6.conf.mgmt0.disable_ipv6=1")
    _run("sysctl", "-qw", f"net.ipv6.conf.{host_if}.disable_ipv6=1")
    _run("ip", "link", "set", host_if, "master", BRIDGE, "up")
    addr = f"{node.mgmt}/{MGMT_NET.prefixlen}"
    if addr not in _run("ip", "-n", node.netns, "-br", "addr", "show", "dev", "mgmt0").stdout:
        _run("ip", "-n", node.netns, "addr", "add", addr, "dev", "mgmt0")
    _run("ip", "-n", node.netns, "link", "set", "mgmt0", "up")


def initial_config(node: Node, topo: Topology) -> str:
    """The IPv4-only frr.conf a node boots with the first time: the extranet before IPv6.

    Zebra installs routes with plain multipath nexthops instead of kernel nexthop groups: FRR
    8.4 does not repair a kernel group that lost a member when a link went down, so after a
    dual link flaps the route would keep only one of its two equal-cost paths."""
    lines = [
        "frr defaults traditional",
        f"hostname {node.name}",
        "service integrated-vtysh-config",
        "no zebra nexthop kernel enable",
        "!",
        "interface lo",
        f" ip address {node.loopback_ipv4}/32",
        "exit",
        "!",
    ]
    for lk in topo.links_of(node.name):
        net = ipaddress.IPv4Network(lk.ipv4)
        ifname, addr = (lk.child_if, net[1]) if lk.child == node.name else (lk.parent_if, net[0])
        lines += [f"interface {ifname}", f" ip address {addr}/31", "exit", "!"]
    return "\n".join(lines) + "\n"


def _frr(node: Node, topo: Topology, state: State) -> None:
    etc, run = FRR_ETC / node.netns, FRR_RUN / node.netns
    for d in (etc, run):
        if not d.exists():
            state.record("paths", str(d))
            d.mkdir()
            shutil.chown(d, "frr", "frr")
            d.chmod(0o775)  # group frr: the login user saves the config here
    if not (etc / "frr.conf").exists():
        for name, text in (
            ("vtysh.conf", "service integrated-vtysh-config\n"),
            ("frr.conf", initial_config(node, topo)),
        ):
            (etc / name).write_text(text)
            shutil.chown(etc / name, LOGIN_USER, "frr")
            (etc / name).chmod(0o660)
    started = []
    for daemon in DAEMONS:
        if state.running(node.netns, daemon):
            continue
        in_netns(
            node.netns,
            str(FRR_BIN / daemon),
            "-d",
            "-N",
            node.netns,
            "-P",
            "0",
            "-F",
            "traditional",
            "-i",
            str(run / f"{daemon}.pid"),
            hostname=node.name,
        )
        started.append(daemon)
    for daemon in started:  # `-d`: forked away, its PID is in the pid file
        _adopt_daemon(state, node.netns, daemon, run / f"{daemon}.pid", daemon)
    if started:
        _wait(lambda: all((run / f"{d}.vty").exists() for d in DAEMONS), f"FRR in {node.netns}")
        in_netns(node.netns, "vtysh", "-N", node.netns, "-b", hostname=node.name)


def _sshd(node: Node, lab_dir: Path, state: State) -> None:
    home = lab_dir / "nodes" / node.name
    if not home.exists():
        state.record("paths", str(lab_dir / "nodes"))
        home.mkdir(parents=True, mode=0o755)
    key = home / "ssh_host_ed25519_key"
    if not key.exists():
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", node.name, "-f", str(key))
    config = home / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"ListenAddress {node.mgmt}:22",
                f"HostKey {key}",
                f"PidFile {home / 'sshd.pid'}",
                f"AuthorizedKeysFile {AUTHORIZED_KEYS}",
                f"AllowUsers {LOGIN_USER}",
                f"SetEnv GC_PATHSPACE={node.netns}",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PermitRootLogin no",
                "UsePAM no",
                "PrintMotd no",
                "PrintLastLog no",
                "X11Forwarding no",
                "AllowTcpForwarding no",
                "MaxStartups 200",
                "MaxSessions 50",
                "LogLevel ERROR",
                "",
            ]
        )
    )
    if not state.running(node.netns, "sshd"):
        in_netns(node.netns, "/usr/sbin/sshd", "-f", str(config), hostname=node.name)
        # It daemonized and wrote its PID file before the command returned.
        _adopt_daemon(state, node.netns, "sshd", home / "sshd.pid", "sshd")


def ports(node: Node, topo: Topology) -> dict[str, str]:
    """A twin's interfaces: vendor name -> the kernel interface in its namespace."""
    from lab.topology import model_platform
    from network.platforms import FAMILIES, facts

    out = {facts(node.platform).loopback: "lo"}
    if node.level in LAN_LEVELS:
        out[FAMILIES[model_platform(node.platform).value, node.family].lan] = LAN_IF
    for lk in topo.links_of(node.name):
        if lk.child == node.name:
            out[lk.child_vif] = lk.child_if
        else:
            out[lk.parent_vif] = lk.parent_if
    return out


def twin_initial(node: Node, topo: Topology) -> str:
    """A twin's IPv4-only boot configuration, in its platform's layout (the FRR underneath
    boots from `initial_config`, the same addresses on the kernel names)."""
    from lab.topology import model_platform
    from lab.twins.profiles import initial_config as vendor_initial
    from network.platforms import FAMILIES, facts

    fam = FAMILIES[model_platform(node.platform).value, node.family]
    rows: list[tuple[str, str | None, str | None, str | None]] = []
    for lk in topo.links_of(node.name):
        net = ipaddress.IPv4Network(lk.ipv4)
        name, addr = (lk.child_vif, net[1]) if lk.child == node.name else (lk.parent_vif, net[0])
        rows.append((name, str(addr), str(net.netmask), fam.routed_port))
    rows.append((facts(node.platform).loopback, node.loopback_ipv4, "255.255.255.255", None))
    # A switch shows every front port, configured or not: the host ports a rendered
    # `port-group` / `interface range` configures are there before the rollout.
    taken = {r[0] for r in rows}
    rows += [(p, None, None, None) for p in host_ports(fam) if p not in taken]
    return vendor_initial(node.platform, node.name, rows)


def host_ports(fam) -> list[str]:
    """The member ports of a family's host-port range (the grammar's group members)."""
    from network import grammar

    if not fam.host_ports:
        return []
    g = grammar.load(fam.variant)
    hit = g.lookup(grammar.normalise(fam.host_ports), g.config, fam.name)
    if hit is None or hit[3] is not None:
        raise LabError(f"{fam.platform}/{fam.name}: host ports {fam.host_ports!r} not a range")
    return [args["ifname"] for _line, args in g.members(hit[0].id, hit[1])]


def _twin(node: Node, topo: Topology, lab_dir: Path, state: State) -> None:
    """The node's vendor twin (`lab.twins`) in place of sshd: the platform's CLI over SSH on
    the management address, over the node's kernel and FRR."""
    home = lab_dir / "nodes" / node.name
    if not home.exists():
        state.record("paths", str(lab_dir / "nodes"))
        home.mkdir(parents=True, mode=0o755)
    key = home / "ssh_host_ed25519_key"
    if not key.exists():
        _run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", node.name, "-f", str(key))
    twin_dir = home / "twin"
    twin_dir.mkdir(exist_ok=True)
    write_atomic(twin_dir / "ports.json", dumps_json(ports(node, topo), indent=1))
    if not (twin_dir / "initial.cfg").exists():
        write_atomic(twin_dir / "initial.cfg", twin_initial(node, topo))
    if state.running(node.netns, "twin"):
        return
    pidfile = twin_dir / "twin.pid"
    pidfile.unlink(missing_ok=True)
    python = sys.executable
    script = 'hostname "$0" && exec "$@"'
    supervisor.spawn(
        [
            "ip", "netns", "exec", node.netns, "unshare", "--uts", "sh", "-c", script, node.name,
            python, "-m", "lab.twins",
            "--platform", node.platform, "--family", node.family,
            "--hostname", node.name, "--listen", node.mgmt,
            "--host-key", str(key), "--authorized-keys", str(AUTHORIZED_KEYS),
            "--user", LOGIN_USER, "--state", str(twin_dir), "--portmap", str(twin_dir / "ports.json"),
            "--pathspace", node.netns, "--pidfile", str(pidfile),
        ],
        twin_dir / "twin.log",
        exe=Path(python).name,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    _adopt_daemon(state, node.netns, "twin", pidfile, Path(python).name)


def _wait(ready: Callable[[], bool], what: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise LabError(f"{what} did not come up within {timeout:.0f} s")
        time.sleep(0.05)


def _wait_ssh(topo: Topology) -> None:
    def listening(addr: str) -> bool:
        try:
            with socket.create_connection((addr, 22), timeout=0.5):
                return True
        except OSError:
            return False

    for node in topo.nodes:
        _wait(functools.partial(listening, node.mgmt), f"sshd of {node.name} ({node.mgmt})")


# --- status and down ----------------------------------------------------------------------


def node_health(node: Node, state: State | None) -> dict:
    ns = node.netns
    present = os.path.exists(f"/run/netns/{ns}")
    login = "twin" if node.twin else "sshd"
    daemons = {d: bool(present and state and state.running(ns, d)) for d in (*DAEMONS, login)}
    return {
        "netns_present": present,
        "daemons": daemons,
        "healthy": present and all(daemons.values()),
    }


def status(topo: Topology, lab_dir: Path = DEFAULT_LAB_DIR) -> dict:
    lab_dir = Path(lab_dir).resolve()
    state = State(lab_dir) if (lab_dir / STATE_FILE).exists() else None
    nodes = []
    for n in topo.nodes:
        nodes.append(
            {
                "name": n.name,
                "netns": n.netns,
                "level": n.level,
                "mgmt": n.mgmt,
                "parent": n.parent,
                **node_health(n, state),
            }
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "up": bool(state) and all(n["healthy"] for n in nodes),
        "topology": state.data["spec"] if state else None,
        "inventory": str(lab_dir / "inventory.yml"),
        "nodes": nodes,
    }


def down(lab_dir: Path = DEFAULT_LAB_DIR, progress: Progress | None = None) -> dict:
    """Delete exactly what `up` recorded. Returns what was removed."""
    _require()
    say = progress or (lambda _msg: None)
    lab_dir = Path(lab_dir).resolve()
    if not (lab_dir / STATE_FILE).exists():
        return {
            "removed": {
                "netns": [],
                "host_links": [],
                "paths": [],
                "user": None,
                "bridge": None,
                "processes": 0,
                "strays": 0,
            }
        }
    state = State(lab_dir)
    d = state.data
    # The daemons up() started, all at once (FRR takes a moment to stop), by their records.
    supervisor.stop([r for daemons in d["processes"].values() for r in daemons.values()], grace=5.0)
    present = [ns for ns in d["netns"] if ns in _netns_list()]
    # What is left inside the lab's own namespaces was started there through the lab (a login
    # session of its sshd, an `ip netns exec` shell) and would keep the namespace and its
    # links alive after `ip netns del`; it goes with the namespace.
    strays = [
        int(p)
        for ns in present
        for p in _run("ip", "netns", "pids", ns, check=False).stdout.split()
    ]
    _kill_all(strays)
    for ns in present:
        say(ns)
        _run("ip", "netns", "del", ns, check=False)
    for name in d["host_links"]:
        if _link_exists(name):
            _run("ip", "link", "del", name, check=False)
    if d["bridge"] and _link_exists(d["bridge"]):
        _run("ip", "link", "del", d["bridge"], check=False)
    if d["user"]:
        _run("userdel", d["user"], check=False)
    for p in sorted(d["paths"], key=len, reverse=True):
        path = Path(p)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        elif path.exists():
            path.unlink()
    for name in ("known_hosts", "inventory.yml"):
        (lab_dir / name).unlink(missing_ok=True)
    removed = {k: d[k] for k in ("netns", "host_links", "paths", "user", "bridge")}
    removed["processes"] = sum(len(daemons) for daemons in d["processes"].values())
    removed["strays"] = len(strays)
    state.remove()
    return {"removed": removed}


def _kill_all(pids: list[int], timeout: float = 5.0) -> None:
    """SIGTERM the processes, wait for them together, SIGKILL whatever is left."""

    def alive(pid: int) -> bool:  # a zombie has stopped: only its parent's reaping is left
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except (OSError, IndexError):
            return False

    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while (pids := [p for p in pids if alive(p)]) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not pids:
            return


def write_inventory(lab_dir: Path, inventory: dict) -> Path:
    path = Path(lab_dir) / "inventory.yml"
    write_atomic(
        path,
        "# Written by `govctl lab up`: the namespace lab as an Ansible inventory.\n"
        + dump_yaml(inventory),
    )
    return path


# --- the plan, the configs and the inventory ---------------------------------------------


def lab_plan(topo: Topology, lab_dir: Path):
    """The lab's IPv6 plan (its own lock in `<lab>/ipam.lock.yaml`), and the links wired to
    the interface names the renderer gives the parents' ends."""
    from lab.topology import wire
    from network.lock import open_lock
    from network.plan import plan_city
    from network.render import device_context

    with open_lock(Path(lab_dir) / "ipam.lock.yaml", topo.model, update=True) as opened:
        plan = plan_city(topo.model, None, opened.lock)
        opened.write(plan.lock)
    if not all(lk.parent_if for lk in topo.links):
        wire(
            topo,
            {
                n.name: {
                    (d["peer"], d["n"]): d["name"]
                    for d in device_context(topo.model, plan, n.name)["downlinks"]
                }
                for n in topo.nodes
            },
        )
    return plan


def _host_vars(node: Node) -> dict:
    """What the inventory says of a lab node beyond the model: its namespace and the
    platform it speaks (the device type comes from the model's platform and family)."""
    return {"lab_netns": node.netns, "lab_platform": node.platform}


def prepare(topo: Topology, lab_dir: Path = DEFAULT_LAB_DIR) -> dict:
    """Plan the lab's IPv6 (own lock), render every node's config, write the inventory.

    The same planner and renderer as a real city: `.lab/plan.json`, `.lab/configs/<host>.cfg`
    (+ `.rollback.cfg`) and `.lab/inventory.yml` (the inventory builder of `playbooks/`).
    """
    from network.render import RenderSettings, render_device
    from playbooks.inventory import build_inventory

    lab_dir = Path(lab_dir).resolve()
    plan = lab_plan(topo, lab_dir)
    write_atomic(lab_dir / "plan.json", dumps_json(plan.to_json(), indent=2))
    for node in topo.nodes:
        rendered = render_device(topo.model, plan, node.name, RenderSettings(**OSPF_TIMERS))
        write_atomic(lab_dir / "configs" / f"{node.name}.cfg", rendered.config)
        write_atomic(lab_dir / "configs" / f"{node.name}.rollback.cfg", rendered.rollback)
    inventory = build_inventory(
        topo.model,
        plan,
        host_vars={n.name: _host_vars(n) for n in topo.nodes},
        group_vars={
            "net_username": LOGIN_USER,
            "net_key_file": str(lab_dir / "ssh" / "id_ed25519"),
            "net_known_hosts": str(lab_dir / "known_hosts"),
            "config_dir": str(lab_dir / "configs"),
            "backup_dir": str(lab_dir / "backups"),
            "lab_dir": str(lab_dir),
        },
    )
    return {
        "inventory": str(write_inventory(lab_dir, inventory)),
        "plan": str(lab_dir / "plan.json"),
        "configs": str(lab_dir / "configs"),
    }
