"""`python -m viz.cluster --replicas N --port P`: N copies of the app behind HAProxy on one loopback port.

Streamlit keeps a session's state in the process its websocket (/_stcore/stream) reached, and a file upload is a
separate HTTP request (PUT /_stcore/upload_file/<session>/<file>) that must reach that same process; otherwise the
replica answers 400 "Invalid session_id". So HAProxy pins each browser to one replica with a cookie it inserts
(SERVERID=rN, removed again before the request reaches the app), and tunnels the websocket after the upgrade
(`timeout tunnel` bounds an idle one). When a replica stops, its health check fails and its browsers are sent to
another replica (`option redispatch`), where their next page load starts a new session from the link.

Streamlit needs no proxy settings here: the proxy is on the same origin and passes the Host header through, so the
websocket's same-origin check and the upload's XSRF check (a double-submit cookie, the same on every replica) pass
with the defaults, which stay on. Files: .cache/cluster/ (haproxy.cfg, haproxy.log, one log per replica).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / ".cache" / "cluster"
HOST = "127.0.0.1"
START_TIMEOUT = 120.0

TEMPLATE = Template("""\
# Written by viz/cluster.py; regenerated on every start.
global
    maxconn 2000
    log stdout format raw local0 info
    stats socket $socket mode 600 level user

defaults
    mode http
    log global
    option httplog
    option dontlognull
    option forwardfor
    # A request pinned to a replica that no longer answers goes to another one.
    option redispatch
    retries 2
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-request 10s
    # After the websocket upgrade the connection is a tunnel; an idle one stays open this long.
    timeout tunnel 1h
    timeout client-fin 30s

frontend app
    bind $host:$port
    default_backend replicas

backend replicas
    balance roundrobin
    cookie SERVERID insert indirect nocache httponly attr "SameSite=Lax"
    option httpchk GET /_stcore/health
    http-check expect status 200
    default-server inter 1s fall 2 rise 2
$servers
""")


def haproxy_config(port: int, replica_ports: dict[str, int], socket_path: Path | str, bind: str = HOST) -> str:
    """The HAProxy configuration for these replicas (name -> port, on loopback), listening on bind:port."""
    servers = "\n".join(f"    server {name} {HOST}:{replica} check cookie {name}"
                        for name, replica in replica_ports.items())
    return TEMPLATE.substitute(host=bind, port=port, servers=servers, socket=socket_path)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def replica_command(port: int, python: str = sys.executable) -> list[str]:
    """`streamlit run app.py` as `make run` starts it, on a loopback port. XSRF protection and CORS stay on (the
    defaults, written out): behind a same-origin proxy they need no change."""
    return [python, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address", HOST,
            "--server.headless", "true", "--server.enableXsrfProtection", "true", "--server.enableCORS", "true"]


def wait_healthy(url: str, process: subprocess.Popen, log: Path, timeout: float = START_TIMEOUT) -> float:
    """Poll url until it answers 200; returns the seconds waited. Fails early if the process has exited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: process exited with code {process.returncode}; see {log}")
        with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
            if response.status == 200:
                return time.monotonic() - started
        time.sleep(0.3)
    raise TimeoutError(f"{url} not healthy after {timeout:.0f} s; see {log}")


def stop_group(process: subprocess.Popen | None, kill: bool = False, timeout: float = 10) -> None:
    """Stop a process started in its own session, with its children: SIGTERM (or SIGKILL), then SIGKILL."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)


def rss_bytes(pid: int) -> int:
    """Resident memory of one process (0 once it is gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


@dataclass
class Replica:
    name: str
    port: int
    log: Path
    process: subprocess.Popen | None = None
    ready_s: float = 0.0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


@dataclass
class Cluster:
    """N replicas and HAProxy, all on loopback; a context manager that stops everything it started."""

    replicas: int = 2
    port: int = 8500
    bind: str = HOST  # where HAProxy listens: 0.0.0.0 lets the students' laptops in; replicas stay on loopback
    folder: Path = FOLDER
    env: dict = field(default_factory=dict)
    python: str = sys.executable
    members: list[Replica] = field(default_factory=list)
    haproxy: subprocess.Popen | None = None
    started_s: float = 0.0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.folder / "haproxy.cfg"

    @property
    def socket_path(self) -> Path:
        return self.folder / "haproxy.sock"

    def replica(self, name: str) -> Replica:
        return next(member for member in self.members if member.name == name)

    def _spawn(self, command: list[str], log: Path) -> subprocess.Popen:
        return subprocess.Popen(command, cwd=ROOT, env={**os.environ, **self.env}, stdin=subprocess.DEVNULL,
                                stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)

    def start(self) -> Cluster:
        """Start the replicas together, wait for each one's health check, then HAProxy; stop all on failure."""
        began = time.monotonic()
        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            for index in range(1, self.replicas + 1):
                member = Replica(f"r{index}", free_port(), self.folder / f"replica-r{index}.log")
                member.process = self._spawn(replica_command(member.port, self.python), member.log)
                self.members.append(member)
            for member in self.members:
                wait_healthy(f"{member.url}/_stcore/health", member.process, member.log)
                member.ready_s = time.monotonic() - began
            ports = {member.name: member.port for member in self.members}
            self.config_path.write_text(haproxy_config(self.port, ports, self.socket_path, self.bind))
            command = ["haproxy", "-f", str(self.config_path), "-db"]
            self.haproxy = self._spawn(command, self.folder / "haproxy.log")
            wait_healthy(f"{self.url}/_stcore/health", self.haproxy, self.folder / "haproxy.log", timeout=20)
        except BaseException:
            self.stop()
            raise
        self.started_s = time.monotonic() - began
        return self

    def stop_replica(self, name: str, kill: bool = True) -> None:
        """Stop one replica (SIGKILL by default, as a crash would); HAProxy sends its browsers elsewhere."""
        stop_group(self.replica(name).process, kill=kill)

    def stop(self) -> None:
        stop_group(self.haproxy)
        for member in self.members:
            stop_group(member.process)

    def server_states(self) -> dict[str, str]:
        """HAProxy's view of each replica ("UP", "DOWN", ...), read from its stats socket."""
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(5)
            sock.connect(str(self.socket_path))
            sock.sendall(b"show stat\n")
            text = b"".join(iter(lambda: sock.recv(65536), b"")).decode()
        header, *rows = [line.split(",") for line in text.splitlines() if line.strip()]
        column = {name.lstrip("# "): index for index, name in enumerate(header)}
        return {row[column["svname"]]: row[column["status"]] for row in rows
                if row[column["pxname"]] == "replicas" and row[column["svname"]] not in ("FRONTEND", "BACKEND")}

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m viz.cluster", description=__doc__.split("\n")[0])
    parser.add_argument("--replicas", type=int, default=2, help="app processes (default 2)")
    parser.add_argument("--port", type=int, default=8500, help="HAProxy's port (default 8500)")
    parser.add_argument("--bind", default=HOST, help="HAProxy's address (default 127.0.0.1; 0.0.0.0 for a class)")
    args = parser.parse_args(argv)
    if args.replicas < 1:
        parser.error("--replicas must be at least 1")
    # The replicas and HAProxy run in their own sessions, so a Ctrl+C, a kill or a closed terminal reaches only this
    # process; each of them stops everything (SIGINT set explicitly: a shell's background job inherits it ignored).
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _raise_interrupt)
    cluster = Cluster(replicas=args.replicas, port=args.port, bind=args.bind)
    try:
        cluster.start()
        for member in cluster.members:
            print(f"{member.name}: {member.url} (healthy after {member.ready_s:.1f} s, log {member.log})")
        print(f"HAProxy: {cluster.url} ({args.replicas} replicas, {cluster.started_s:.1f} s; "
              f"config {cluster.config_path}). Ctrl+C stops all.", flush=True)
        code = cluster.haproxy.wait()
        print(f"HAProxy exited with code {code}; see {cluster.folder / 'haproxy.log'}", file=sys.stderr)
        return code or 1
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
