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
import subprocess
from pathlib import Path

import pytest

from conftest import RunningServer, StartServer, binary_path

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
