"""The HAProxy configuration viz/cluster.py writes (`make cluster`): sticky by cookie, websockets tunnelled, replicas
health-checked; and HAProxy itself (Debian's, installed by `make test`) accepts it."""

import re
import shutil
import subprocess

import pytest

from viz.cluster import haproxy_config, replica_command

PORTS = {"r1": 41001, "r2": 41002, "r3": 41003}


@pytest.fixture
def config(tmp_path) -> str:
    return haproxy_config(8500, PORTS, tmp_path / "haproxy.sock")


def directives(config: str) -> list[str]:
    """Each line without comments or indentation, spaces collapsed."""
    lines = (re.sub(r"\s+", " ", line.split("#", 1)[0]).strip() for line in config.splitlines())
    return [line for line in lines if line]


def test_sticky_sessions_by_an_inserted_cookie_one_server_line_per_replica(config):
    lines = directives(config)
    assert "balance roundrobin" in lines
    assert any(line.startswith("cookie SERVERID insert indirect nocache") for line in lines)
    servers = [line for line in lines if line.startswith("server ")]
    assert servers == [f"server {name} 127.0.0.1:{port} check cookie {name}" for name, port in PORTS.items()]
    assert "bind 127.0.0.1:8500" in lines  # loopback only


def test_websockets_are_tunnelled_and_replicas_health_checked(config):
    lines = directives(config)
    assert "mode http" in lines
    assert "timeout tunnel 1h" in lines
    assert not any("http-server-close" in line or "httpclose" in line for line in lines)
    assert "option httpchk GET /_stcore/health" in lines
    assert "option redispatch" in lines  # a pinned browser whose replica died is sent to another one
    assert {"timeout client 60s", "timeout server 60s", "timeout connect 2s"} <= set(lines)


def test_haproxy_accepts_the_configuration(config, tmp_path):
    assert shutil.which("haproxy"), "HAProxy is missing: `make test` installs Debian's haproxy"
    path = tmp_path / "haproxy.cfg"
    path.write_text(config)
    checked = subprocess.run(["haproxy", "-c", "-f", str(path)], capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Configuration file is valid" in checked.stdout + checked.stderr


def test_replicas_run_the_documented_command_on_loopback():
    command = replica_command(41001, python="python")
    assert command[:5] == ["python", "-m", "streamlit", "run", "app.py"]
    options = dict(zip(command[5::2], command[6::2], strict=True))
    assert options["--server.port"] == "41001" and options["--server.address"] == "127.0.0.1"
    assert options["--server.enableXsrfProtection"] == "true"  # uploads keep their XSRF check behind the proxy
