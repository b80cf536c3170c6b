"""The twin's SSH server: a paramiko server in the node's namespace, one `Cli` per login.

Started by the lab (`lab.extranet`) in place of the node's sshd, inside the node's network
and UTS namespaces:

    python -m lab.twins --platform huawei_vrp --hostname c01-agg-01 --listen 198.19.252.3 \\
        --host-key KEY --authorized-keys FILE --state DIR --pathspace gc-c01-agg-01 --pidfile F

Authentication is the lab's: the login user and its public key (no passwords). The
terminal behaves as a device's does for a Netmiko client: it echoes what is typed, ends
lines with CR LF, prints the prompt of the current view, asks its questions (save, V8's
uncommitted changes) and stops a running `ping` on Ctrl-C.
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import os
import queue
import signal
import socket
import threading
from pathlib import Path

import paramiko

from lab.twins.device import Cli, Twin

ETX = "\x03"


class _Auth(paramiko.ServerInterface):
    def __init__(self, user: str, keys: list[paramiko.PKey]):
        self.user, self.keys = user, keys
        self.shell = threading.Event()

    def get_allowed_auths(self, username: str) -> str:
        return "publickey"

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        if username == self.user and any(key == k for k in self.keys):
            return paramiko.AUTH_SUCCESSFUL
        return paramiko.AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        return (
            paramiko.OPEN_SUCCEEDED
            if kind == "session"
            else paramiko.OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED
        )

    def check_channel_pty_request(self, *args) -> bool:
        return True

    def check_channel_shell_request(self, channel) -> bool:
        self.shell.set()
        return True

    def check_channel_window_change_request(self, *args) -> bool:
        return True


class Terminal:
    """Characters in (echoed), lines out; Ctrl-C sets the Cli's stop event."""

    def __init__(self, chan: paramiko.Channel, cli: Cli):
        self.chan, self.cli = chan, cli
        self.chars: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._reader, daemon=True).start()
        self.after_cr = False

    def _reader(self) -> None:
        while True:
            try:
                data = self.chan.recv(4096)
            except (OSError, EOFError):
                data = b""
            if not data:
                self.chars.put(None)
                return
            for ch in data.decode("utf-8", "replace"):
                if ch == ETX:
                    self.cli.stop.set()
                self.chars.put(ch)

    def write(self, text: str) -> None:
        if text:
            self.chan.sendall(text.encode())

    def readline(self) -> str | None:
        buf: list[str] = []
        while True:
            ch = self.chars.get()
            if ch is None:
                return None
            if ch == "\n" and self.after_cr:
                self.after_cr = False
                continue
            self.after_cr = ch == "\r"
            if ch in "\r\n":
                self.write("\r\n")
                return "".join(buf)
            if ch == ETX:
                buf = []
                continue
            if ch in "\x7f\b":
                if buf:
                    buf.pop()
                    self.write("\b \b")
                continue
            if ch == "\t" or ord(ch) < 32:
                continue
            buf.append(ch)
            self.write(ch)

    def ask(self, question: str) -> str:
        self.write(question)
        return self.readline() or ""

    def run(self) -> None:
        self.write("\r\n" + self.cli.prompt())
        while True:
            line = self.readline()
            if line is None:
                break
            if line.strip() in ("quit", "exit", "logout") and not self.cli.in_config():
                break
            out = self.cli.feed(line, self.ask)
            self.write(out + self.cli.prompt())
        if self.cli.in_config() and not self.cli.two_stage:
            self.cli.twin.flush()


def serve(twin: Twin, listen: str, port: int, host_key: Path, authorized: Path, user: str) -> None:
    key = paramiko.Ed25519Key.from_private_key_file(str(host_key))
    keys = []
    for row in authorized.read_text().splitlines():
        parts = row.split()
        if len(parts) >= 2 and parts[0] == "ssh-ed25519":
            keys.append(paramiko.Ed25519Key(data=base64.b64decode(parts[1])))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((listen, port))
    sock.listen(100)
    while True:
        client, _ = sock.accept()
        threading.Thread(target=_session, args=(twin, client, key, keys, user), daemon=True).start()


def _session(twin: Twin, client: socket.socket, key, keys, user: str) -> None:
    transport = paramiko.Transport(client)
    transport.add_server_key(key)
    auth = _Auth(user, keys)
    try:
        transport.start_server(server=auth)
        chan = transport.accept(20)
        if chan is None or not auth.shell.wait(10):
            return
        Terminal(chan, Cli(twin)).run()
        chan.close()
    except (paramiko.SSHException, OSError, EOFError):
        pass
    finally:
        transport.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m lab.twins", description=__doc__.splitlines()[0])
    ap.add_argument("--platform", required=True)
    ap.add_argument("--family", help="device family (switch ports are Layer 2 until made routed)")
    ap.add_argument("--hostname", required=True)
    ap.add_argument("--listen", required=True)
    ap.add_argument("--port", type=int, default=22)
    ap.add_argument("--host-key", type=Path, required=True)
    ap.add_argument("--authorized-keys", type=Path, required=True)
    ap.add_argument("--user", default="gcnet")
    ap.add_argument("--state", type=Path, required=True)
    ap.add_argument(
        "--portmap", type=Path, required=True, help="JSON {vendor interface: kernel interface}"
    )
    ap.add_argument("--pathspace")
    ap.add_argument("--pidfile", type=Path)
    ap.add_argument("--dry", action="store_true", help="no data plane (CLI tests without root)")
    a = ap.parse_args(argv)
    logging.getLogger("paramiko").setLevel(logging.CRITICAL)  # probes that only connect
    if a.pidfile:
        a.pidfile.write_text(f"{os.getpid()}\n")
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    twin = Twin(
        a.platform, a.hostname, a.state, json.loads(a.portmap.read_text()), a.pathspace, a.dry
    )
    serve(twin, a.listen, a.port, a.host_key, a.authorized_keys, a.user)
