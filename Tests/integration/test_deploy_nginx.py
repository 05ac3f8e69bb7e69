"""deploy/: the nginx template in front of two instances, try-cluster.sh, and the systemd unit.

nginx (Debian's package; Tests/run.sh installs it) runs on loopback with the config that
`deploy/try-cluster.sh --print-nginx-config` renders from deploy/nginx/syndicast.conf, in front of
TWO plain single-node instances (in memory: this checks the proxy, not cluster mode). Through nginx:
GET /healthz, POST /api/transactions (both instances serve), a WebSocket and an SSE stream receive
an event, SSE without buffering (under 1 s), and the streams' read timeout is the template's (a
quiet stream outlives a shortened copy's timeout only with the template's value).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from websockets.sync.client import connect

from conftest import HOST, RunningServer, binary_path, free_port, make_static_dir, start_server_process, stop_and_check

ROOT = Path(__file__).resolve().parents[2]
TRY_CLUSTER = ROOT / "deploy" / "try-cluster.sh"
UNIT = ROOT / "deploy" / "systemd" / "syndicast.service"
ENVIRONMENT_FILE = ROOT / "deploy" / "systemd" / "syndicast.env"
# No keepalive bytes on a quiet stream during the timeout test (WebSocket pings, SSE comments).
QUIET_PING_INTERVAL = "300"


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found is None:
        pytest.fail("nginx is not installed (Debian package nginx; Tests/run.sh installs it)")
    return found


def render_config(prefix: Path, listen: int, port_a: int, port_b: int) -> str:
    result = subprocess.run([str(TRY_CLUSTER), "--print-nginx-config", str(prefix), str(listen), str(port_a), str(port_b)],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    return result.stdout


@dataclass
class Nginx:
    process: subprocess.Popen
    port: int
    prefix: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGQUIT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def start_nginx(prefix: Path, config: str, port: int) -> Nginx:
    prefix.mkdir(parents=True, exist_ok=True)
    (prefix / "nginx.conf").write_text(config, encoding="utf-8")
    check = subprocess.run([nginx_binary(), "-t", "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                           capture_output=True, text=True, timeout=30)
    assert check.returncode == 0, f"nginx -t refused the rendered config:\n{check.stderr}\n{config}"
    process = subprocess.Popen([nginx_binary(), "-p", str(prefix), "-c", str(prefix / "nginx.conf")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    nginx = Nginx(process, port, prefix)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{nginx.base_url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return nginx
        except OSError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.05)
    nginx.stop()
    error_log = (prefix / "error.log").read_text(errors="replace") if (prefix / "error.log").exists() else ""
    pytest.fail(f"nginx did not serve /healthz within 10 s:\n{error_log[-3000:]}")


@dataclass
class Deployment:
    nginx: Nginx
    instances: list[RunningServer]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("deploy")
    instances = []
    for name in ("a", "b"):
        static = make_static_dir(root / name)
        instances.append(start_server_process(static, root / name / "server.log", echo=False,
                                              extra_args=["--ping-interval", QUIET_PING_INTERVAL]))
    port = free_port()
    nginx = start_nginx(root / "nginx", render_config(root / "nginx", port, instances[0].port, instances[1].port), port)
    try:
        yield Deployment(nginx, instances)
    finally:
        nginx.stop()
        for instance in instances:
            stop_and_check(instance)


def post_json(url: str, body: object) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


def alert_transaction(identifier: str) -> dict:
    return {"id": identifier, "investorId": "inv-nginx", "syndicateId": "syn-nginx", "amount": 20000}


def post_to_both(deployment: Deployment, identifier: str) -> None:
    """The instances share nothing here: whichever holds the proxied stream must see the event."""
    for instance in deployment.instances:
        status, _ = post_json(f"{instance.base_url}/api/transactions", alert_transaction(identifier))
        assert status == 201


def accepted_count(instance: RunningServer) -> float:
    with urllib.request.urlopen(f"{instance.base_url}/metrics", timeout=5) as response:
        text = response.read().decode()
    match = re.search(r"^syndicast_transactions_accepted(?:_total)?(?:\{[^}]*\})? ([0-9.e+]+)$", text, re.MULTILINE)
    assert match, "no syndicast_transactions_accepted in /metrics"
    return float(match.group(1))


def test_healthz_and_ingest_go_through_nginx_to_both_instances(deployment: Deployment) -> None:
    with urllib.request.urlopen(f"{deployment.nginx.base_url}/healthz", timeout=5) as response:
        assert response.status == 200
        assert json.loads(response.read()) == {"status": "ok"}
    before = [accepted_count(instance) for instance in deployment.instances]
    for index in range(8):
        status, body = post_json(f"{deployment.nginx.base_url}/api/transactions",
                                 {"id": f"via-nginx-{index}", "investorId": "i1", "syndicateId": "s1", "amount": 5})
        assert status == 201 and body["accepted"] == 1
    gained = [accepted_count(instance) - before[index] for index, instance in enumerate(deployment.instances)]
    assert sum(gained) == 8
    assert all(count > 0 for count in gained), f"nginx sent every POST to one instance: {gained}"


def test_a_websocket_through_nginx_receives_an_event(deployment: Deployment) -> None:
    with connect(f"ws://{HOST}:{deployment.nginx.port}/ws?topics=alerts", open_timeout=10) as websocket:
        hello = json.loads(websocket.recv(timeout=5))
        assert hello["type"] == "hello"
        post_to_both(deployment, "ws-alert-1")
        deadline = time.monotonic() + 5
        while True:
            message = json.loads(websocket.recv(timeout=max(deadline - time.monotonic(), 0.01)))
            if message["type"] == "alert":
                assert message["alert"]["syndicateId"] == "syn-nginx"
                break


def open_sse(port: int, path: str = "/events?topics=alerts") -> tuple[socket.socket, bytes]:
    stream = socket.create_connection((HOST, port), timeout=5)
    stream.sendall(f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: text/event-stream\r\n\r\n".encode())
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = stream.recv(65536)
        assert chunk, f"stream closed before the response head: {received!r}"
        received += chunk
    head, _, rest = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    assert b"text/event-stream" in head
    return stream, rest


def test_sse_through_nginx_delivers_an_event_within_a_second(deployment: Deployment) -> None:
    stream, received = open_sse(deployment.nginx.port)
    with stream:
        # The hello event arrives unprompted: nothing waits for a buffer to fill.
        deadline = time.monotonic() + 5
        while b"hello" not in received:
            stream.settimeout(max(deadline - time.monotonic(), 0.01))
            received += stream.recv(65536)
        posted = time.monotonic()
        post_to_both(deployment, "sse-alert-1")
        received = b""
        stream.settimeout(1.0)
        while b'"type":"alert"' not in received:
            try:
                chunk = stream.recv(65536)
            except socket.timeout:
                pytest.fail(f"no alert through nginx within 1 s of the POST (buffered?): {received!r}")
            assert chunk, "nginx closed the SSE stream"
            received += chunk
        assert time.monotonic() - posted < 1.0


def quiet_stream_lifetime(port: int, limit: float) -> float:
    """Seconds until the proxy closes a quiet SSE stream, or `limit` if it is still open then."""
    stream, received = open_sse(port)
    start = time.monotonic()
    with stream:
        while time.monotonic() - start < limit:
            stream.settimeout(max(limit - (time.monotonic() - start), 0.01))
            try:
                if not stream.recv(65536):
                    return time.monotonic() - start
            except socket.timeout:
                break
            except ConnectionResetError:
                return time.monotonic() - start
    return limit


def test_streams_use_the_templates_read_timeout(deployment: Deployment, tmp_path: Path) -> None:
    config = (deployment.nginx.prefix / "nginx.conf").read_text()
    stream_locations = re.findall(r"location (?:~ \^/\(ws\|echo\|broadcast\)\$|= /events) \{(.*?)\}", config, re.DOTALL)
    assert len(stream_locations) == 2
    for body in stream_locations:
        assert "proxy_read_timeout 1h;" in body and "proxy_buffering off;" in body
    # The same config with the streams' timeout at 2 s closes a quiet stream after ~2 s, so the
    # directive in that location is what governs the stream; with the template's 1 h it stays open.
    port = free_port()
    shortened = config.replace("proxy_read_timeout 1h;", "proxy_read_timeout 2s;").replace(
        f"listen {HOST}:{deployment.nginx.port};", f"listen {HOST}:{port};").replace(
        str(deployment.nginx.prefix), str(tmp_path / "nginx"))
    short = start_nginx(tmp_path / "nginx", shortened, port)
    try:
        assert quiet_stream_lifetime(short.port, limit=8) < 5, "the shortened timeout did not close the stream"
    finally:
        short.stop()
    assert quiet_stream_lifetime(deployment.nginx.port, limit=5) == 5, "the template's stream was closed early"


def test_try_cluster_help_and_dry_run() -> None:
    help_text = subprocess.run([str(TRY_CLUSTER), "--help"], capture_output=True, text=True, timeout=30)
    assert help_text.returncode == 0 and "Usage: deploy/try-cluster.sh" in help_text.stdout
    dry = subprocess.run([str(TRY_CLUSTER), "--dry-run", "--port", "18080"], capture_output=True, text=True, timeout=30,
                         env={**os.environ, "SYNDICAST_BIN": str(binary_path())})
    assert dry.returncode == 0, dry.stderr
    assert re.search(r"redis-server --port \d+ --bind 127\.0\.0\.1 --appendonly yes --appendfsync always", dry.stdout)
    assert len(re.findall(r"serve --redis redis://127\.0\.0\.1:\d+ --host 127\.0\.0\.1 --port \d+", dry.stdout)) == 2
    assert "listen 127.0.0.1:18080;" in dry.stdout
    unknown = subprocess.run([str(TRY_CLUSTER), "--bogus"], capture_output=True, text=True, timeout=30)
    assert unknown.returncode == 64


def test_try_cluster_starts_redis_two_instances_and_nginx_and_stops_them(tmp_path: Path) -> None:
    """The script's cluster: a POST to A is then read on B and through nginx; Ctrl-C stops it all."""
    binary = binary_path()
    output = tmp_path / "try-cluster.out"
    with open(output, "wb") as sink:
        process = subprocess.Popen([str(TRY_CLUSTER)], stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env={**os.environ, "SYNDICAST_BIN": str(binary), "TMPDIR": str(tmp_path)})
    try:
        deadline = time.monotonic() + 30
        while "Ctrl-C stops everything" not in output.read_text(errors="replace"):
            assert process.poll() is None, output.read_text(errors="replace")
            assert time.monotonic() < deadline, output.read_text(errors="replace")
            time.sleep(0.1)
        text = output.read_text()
        ports = [int(port) for port in re.findall(r"http://127\.0\.0\.1:(\d+)/\s", text)]
        redis_port = int(re.search(r"redis-cli -p (\d+)", text).group(1))
        assert len(ports) == 3
        for port in ports:
            with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=5) as response:
                assert response.status == 200
        work = Path(re.search(r"logs in (\S+)\)", text).group(1))
        assert (work / "redis" / "appendonlydir").exists(), "redis-server runs without its AOF"
        nginx_port, port_a, port_b = ports
        status, _ = post_json(f"http://{HOST}:{port_a}/api/transactions",
                              {"id": "try-1", "investorId": "i-try", "syndicateId": "s-try", "amount": 7})
        assert status == 201
        for port in (port_b, nginx_port):
            deadline = time.monotonic() + 10
            while True:
                try:
                    with urllib.request.urlopen(f"http://{HOST}:{port}/api/investors/i-try", timeout=5) as response:
                        assert response.status == 200
                        break
                except urllib.error.HTTPError as error:
                    assert error.code == 404 and time.monotonic() < deadline, f"port {port}: {error}"
                    time.sleep(0.1)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
    for port in ports + [redis_port]:
        with pytest.raises(OSError):
            socket.create_connection((HOST, port), timeout=1).close()
    assert not work.exists(), "the temp dir was not removed"


def test_systemd_unit_verifies_and_matches_the_shutdown_timeout(tmp_path: Path) -> None:
    unit = UNIT.read_text()
    settings = dict(line.split("=", 1) for line in ENVIRONMENT_FILE.read_text().splitlines()
                    if line and not line.startswith("#"))
    stop_seconds = int(re.search(r"^TimeoutStopSec=(\d+)$", unit, re.MULTILINE).group(1))
    assert stop_seconds > int(settings["SYNDICAST_SHUTDOWN_TIMEOUT"]), "systemd would SIGKILL a graceful stop"
    for directive in ("DynamicUser=yes", "ProtectSystem=strict", "StateDirectory=syndicast", "Restart=on-failure",
                      "ExecReload=/bin/kill -HUP $MAINPID", "EnvironmentFile=/etc/syndicast/syndicast.env"):
        assert re.search(rf"^{re.escape(directive)}$", unit, re.MULTILINE), directive
    assert re.search(r"^LimitNOFILE=\d+$", unit, re.MULTILINE)
    assert all(key.startswith("SYNDICAST_") for key in settings)
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed: the unit's syntax is not verified here")
    # Verify a copy that names the binary under test (verify checks that ExecStart exists).
    copy = tmp_path / "syndicast.service"
    copy.write_text(unit.replace("/usr/local/bin/syndicast", str(binary_path())))
    result = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "syndicast.service" not in result.stderr, result.stderr
