"""The load tools, run the way the README runs them, at a tiny scale: every scenario of
`syndicast-loadtest` against the real server binary, and the independent C client `wsfanout`.

Each run is bounded (1 s of load, ≤ 200 connections, loopback only) and must report what a real
run reports: subscribers ready, transactions accepted or messages delivered, and nothing lost or
duplicated. Needs `loadtest/.build/debug/syndicast-loadtest` (Tests/run.sh builds it with
`swift test --package-path loadtest`) and a C compiler.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import RunningServer, StartServer, binary_path, free_port

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = ROOT / "loadtest" / ".build" / "debug" / "syndicast-loadtest"
TIMEOUT = 120


def generator() -> Path:
    if not GENERATOR.exists():
        pytest.fail(f"{GENERATOR} is missing: run `swift build --package-path loadtest` (Tests/run.sh does)")
    return GENERATOR


def run_scenario(tmp_path: Path, scenario: str, *options: str) -> dict:
    report = tmp_path / f"{scenario}.json"
    completed = subprocess.run(
        [str(generator()), scenario, "--server-bin", str(binary_path()), "--duration", "1", "--json", str(report), *options],
        cwd=ROOT, capture_output=True, text=True, timeout=TIMEOUT,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    runs = json.loads(report.read_text())["runs"]
    assert runs, "the report holds no run"
    return runs[0]


def test_fanout_delivers_every_alert_to_every_subscriber(tmp_path: Path) -> None:
    run = run_scenario(tmp_path, "fanout", "--subscribers", "50", "--publishers", "2")
    assert run["subscribersReady"] == 50
    assert run["accepted"] > 0 and set(run["statusCounts"]) == {"201"}, run["statusCounts"]
    assert run["messagesDelivered"] >= run["accepted"] * 50 * 0.9, run
    assert run["lost"] == 0 and run["duplicates"] == 0


def test_broadcast_against_ours(tmp_path: Path) -> None:
    run = run_scenario(tmp_path, "broadcast", "--subscribers", "50", "--peers", "ours")
    assert run["subscribersReady"] == 50
    assert run["messagesDelivered"] > 0
    assert run["lost"] == 0 and run["duplicates"] == 0


@pytest.mark.parametrize("batch", ["1", "100"])
def test_ingest_single_and_ndjson(tmp_path: Path, batch: str) -> None:
    run = run_scenario(tmp_path, "ingest", "--connections", "4", "--batch", batch)
    assert run["accepted"] > 0 and set(run["statusCounts"]) == {"201"}, run["statusCounts"]
    assert run["accepted"] % int(batch) == 0


def test_connect_measures_idle_memory(tmp_path: Path) -> None:
    run = run_scenario(tmp_path, "connect", "--connections", "200")
    assert run["subscribersReady"] == 200, run
    assert run["serverPeakRSSBytes"] > 0


def test_mixed_dashboards_and_ingest(tmp_path: Path) -> None:
    run = run_scenario(tmp_path, "mixed", "--subscribers", "20", "--rate", "200")
    assert run["subscribersReady"] == 20
    assert run["accepted"] > 0
    assert run["lost"] == 0


def compile_wsfanout(tmp_path: Path) -> Path:
    compiler = os.environ.get("CC") or shutil.which("cc") or shutil.which("clang") or shutil.which("gcc")
    assert compiler, "no C compiler"
    output = tmp_path / "wsfanout"
    subprocess.run(
        [compiler, "-O2", "-Wall", "-Wextra", "-Werror", "-o", str(output), str(ROOT / "loadtest" / "c" / "wsfanout.c"),
         "-lpthread", "-lm", "-lssl", "-lcrypto"],
        check=True, timeout=TIMEOUT,
    )
    return output


def test_wsfanout_checks_its_handshake_code_and_measures_our_broadcast(
    tmp_path: Path, start_server: StartServer
) -> None:
    wsfanout = compile_wsfanout(tmp_path)
    self_test = subprocess.run([str(wsfanout), "--self-test"], capture_output=True, text=True, timeout=TIMEOUT)
    assert self_test.returncode == 0 and "ok" in self_test.stdout, self_test.stdout + self_test.stderr
    server: RunningServer = start_server(["--broadcast"])
    report = tmp_path / "wsfanout.json"
    completed = subprocess.run(
        [str(wsfanout), "--port", str(server.port), "--subscribers", "100", "--duration", "1", "--quiet",
         "--json", str(report)],
        capture_output=True, text=True, timeout=TIMEOUT,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    result = json.loads(report.read_text())
    assert result["connected"] == 100 and result["connect_failed"] == 0
    assert result["published"] > 0
    assert result["deliveries"] == result["expected_deliveries"] == result["published"] * 100
    assert result["lost"] == 0 and result["duplicates"] == 0 and result["malformed"] == 0


# --- wsfanout over TLS (--tls, --tls-ca) and its idle-memory mode (--idle-seconds) ---------------

WEBSOCKETS_TLS_BROADCAST = '''
import asyncio, ssl, sys
from websockets.asyncio.server import broadcast, serve

async def main(port, certificate, key):
    clients = set()

    async def handler(connection):
        clients.add(connection)
        try:
            async for message in connection:
                if isinstance(message, str):
                    broadcast(clients, message)
        finally:
            clients.discard(connection)

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate, key)
    async with serve(handler, "127.0.0.1", port, ssl=context, compression=None, ping_interval=None):
        print("listening on", port, flush=True)
        await asyncio.Future()

asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3]))
'''


def make_test_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a P-256 server certificate for 127.0.0.1 (the openssl CLI): (ca, cert, key)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed (needed to make a test certificate)")
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / "ca.pem", directory / "ca.key"
    certificate, key, request = directory / "server.pem", directory / "server.key", directory / "server.csr"
    extensions = directory / "server.ext"
    extensions.write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    for command in (
        ["openssl", "req", "-x509", *ec, "-days", "1", "-subj", "/CN=test CA", "-keyout", str(ca_key), "-out", str(ca)],
        ["openssl", "req", *ec, "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(request)],
        ["openssl", "x509", "-req", "-days", "1", "-in", str(request), "-CA", str(ca), "-CAkey", str(ca_key),
         "-CAcreateserial", "-extfile", str(extensions), "-out", str(certificate)],
    ):
        subprocess.run(command, check=True, capture_output=True, timeout=TIMEOUT)
    return ca, certificate, key


def wait_for_listening(process: subprocess.Popen, log: Path, port: int) -> None:
    """Waits until the process printed "listening on" and accepts a TCP connection on the port."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, f"server exited with {process.returncode}:\n{log.read_text()[-2000:]}"
        if "listening on" in log.read_text():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return
            except OSError:
                pass
        time.sleep(0.05)
    pytest.fail(f"server not listening on {port} within 30 s:\n{log.read_text()[-2000:]}")


def run_wsfanout(wsfanout: Path, report: Path, *options: str) -> tuple[subprocess.CompletedProcess, dict]:
    completed = subprocess.run(
        [str(wsfanout), *options, "--quiet", "--json", str(report)], capture_output=True, text=True, timeout=TIMEOUT,
    )
    result = json.loads(report.read_text()) if report.exists() else {}
    return completed, result


def test_wsfanout_tls_options_are_checked(tmp_path: Path) -> None:
    wsfanout = compile_wsfanout(tmp_path)
    help_text = subprocess.run([str(wsfanout), "--help"], capture_output=True, text=True, timeout=TIMEOUT).stdout
    assert "--tls " in help_text and "--tls-ca PEM" in help_text and "--idle-seconds S" in help_text
    missing_ca = subprocess.run(
        [str(wsfanout), "--port", "9", "--tls-ca", str(tmp_path / "absent.pem")], capture_output=True, text=True,
        timeout=TIMEOUT,
    )
    assert missing_ca.returncode == 1 and "--tls-ca" in missing_ca.stderr and "cannot load" in missing_ca.stderr
    no_pid = subprocess.run(
        [str(wsfanout), "--port", "9", "--idle-seconds", "1"], capture_output=True, text=True, timeout=TIMEOUT,
    )
    assert no_pid.returncode == 1 and "--idle-seconds needs --pid" in no_pid.stderr


def test_wsfanout_measures_idle_memory_per_connection_of_ours(tmp_path: Path, start_server: StartServer) -> None:
    wsfanout = compile_wsfanout(tmp_path)
    server: RunningServer = start_server(["--broadcast"])
    completed, result = run_wsfanout(
        wsfanout, tmp_path / "idle.json", "--port", str(server.port), "--subscribers", "200", "--idle-seconds", "1",
        "--pid", str(server.process.pid),
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert result["mode"] == "idle" and result["tls"] == 0
    assert result["connected"] == 200 and result["connect_failed"] == 0
    assert result["server_rss_kib_before"] > 0 and result["server_rss_kib_after"] > 0
    per_connection = (result["server_rss_kib_after"] - result["server_rss_kib_before"]) * 1024 / 200
    assert abs(result["rss_bytes_per_connection"] - per_connection) < 1


def test_wsfanout_tls_broadcast_and_idle_memory_against_a_tls_websocket_server(tmp_path: Path) -> None:
    """A real wss:// run (verified against the test CA) against Python websockets over TLS."""
    try:
        import websockets  # noqa: F401
    except ImportError:
        pytest.skip("Python websockets is not installed (the venv of Tests/integration has it)")
    wsfanout = compile_wsfanout(tmp_path)
    ca, certificate, key = make_test_certificates(tmp_path)
    script = tmp_path / "tls_broadcast.py"
    script.write_text(WEBSOCKETS_TLS_BROADCAST)
    port = free_port()
    log = tmp_path / "tls_broadcast.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [sys.executable, str(script), str(port), str(certificate), str(key)], stdout=output, stderr=subprocess.STDOUT,
        )
    try:
        wait_for_listening(process, log, port)
        completed, result = run_wsfanout(
            wsfanout, tmp_path / "tls.json", "--port", str(port), "--tls-ca", str(ca), "--subscribers", "20",
            "--duration", "1", "--rate", "100", "--sources", "0", "--pid", str(process.pid),
        )
        assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
        assert "wss://127.0.0.1" in completed.stdout
        assert result["tls"] == 1 and result["connected"] == 20 and result["connect_failed"] == 0
        assert result["published"] > 0
        assert result["deliveries"] == result["expected_deliveries"] == result["published"] * 20
        assert result["lost"] == 0 and result["duplicates"] == 0 and result["malformed"] == 0
        completed, idle = run_wsfanout(
            wsfanout, tmp_path / "idle.json", "--port", str(port), "--tls-ca", str(ca), "--subscribers", "20",
            "--idle-seconds", "0.5", "--sources", "0", "--pid", str(process.pid),
        )
        assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
        assert idle["mode"] == "idle" and idle["tls"] == 1 and idle["connected"] == 20
        assert idle["server_rss_kib_after"] > 0 and idle["server_pss_kib_after"] > 0
        # A CA that did not sign the server's certificate: every handshake is refused, none retried.
        other_ca, _, _ = make_test_certificates(tmp_path / "other")
        completed, refused = run_wsfanout(
            wsfanout, tmp_path / "refused.json", "--port", str(port), "--tls-ca", str(other_ca), "--subscribers", "3",
            "--duration", "1", "--sources", "0",
        )
        assert completed.returncode == 2 and refused["connected"] == 0
        assert "certificate" in completed.stdout, completed.stdout
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_wsfanout_tls_broadcast_against_ours_over_tls(tmp_path: Path) -> None:
    if not binary_path().exists():
        pytest.fail(f"server binary not found at {binary_path()} (set SYNDICAST_BIN)")
    wsfanout = compile_wsfanout(tmp_path)
    ca, certificate, key = make_test_certificates(tmp_path)
    port = free_port()
    log = tmp_path / "server.log"
    with open(log, "wb") as output:
        process = subprocess.Popen(
            [str(binary_path()), "serve", "--host", "127.0.0.1", "--port", str(port), "--in-memory", "--broadcast",
             "--tls-cert", str(certificate), "--tls-key", str(key)],
            stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
    try:
        wait_for_listening(process, log, port)
        completed, result = run_wsfanout(
            wsfanout, tmp_path / "tls.json", "--port", str(port), "--tls-ca", str(ca), "--subscribers", "100",
            "--duration", "1", "--pid", str(process.pid),
        )
        assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
        assert result["tls"] == 1 and result["connected"] == 100 and result["connect_failed"] == 0
        assert result["published"] > 0
        assert result["deliveries"] == result["expected_deliveries"] == result["published"] * 100
        assert result["lost"] == 0 and result["duplicates"] == 0 and result["malformed"] == 0
        completed, idle = run_wsfanout(
            wsfanout, tmp_path / "idle.json", "--port", str(port), "--tls-ca", str(ca), "--subscribers", "100",
            "--idle-seconds", "0.5", "--pid", str(process.pid),
        )
        assert completed.returncode == 0 and idle["connected"] == 100, completed.stdout + completed.stderr
    finally:
        process.terminate()
        assert process.wait(timeout=15) == 0, log.read_text()[-2000:]
