"""Fixtures that run the real `syndicast` binary on loopback for the integration tests.

The binary comes from the environment variable SYNDICAST_BIN (default: .build/debug/syndicast
at the repository root). Every server is started on 127.0.0.1 with a port picked here, waited for
(its "listening on" line, then GET /healthz, at most 10 s), and stopped with SIGTERM; the fixture
asserts that the process exits 0 after a graceful stop.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pytest

from raw_websocket import RawWebSocket, open_websocket

REPOSITORY_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BINARY = REPOSITORY_ROOT / ".build" / "debug" / "syndicast"
HOST = "127.0.0.1"
READY_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 10.0

INDEX_HTML = (
    "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>Syndicast test</title></head>\n"
    "<body><h1>Syndicast integration fixture \u00b5</h1></body></html>\n"
)
STYLE_CSS = "body { font-family: sans-serif; }\n"
SECRET_MARKER = "SYNDICAST-SECRET-OUTSIDE-STATIC-DIR"


def binary_path() -> Path:
    """The server binary under test."""
    return Path(os.environ.get("SYNDICAST_BIN", str(DEFAULT_BINARY)))


def free_port() -> int:
    """A currently free TCP port on loopback (bind to port 0, read it, close it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def make_static_dir(root: Path) -> Path:
    """Create `root/static` with index.html and style.css, and a secret file beside it (outside)."""
    static = root / "static"
    static.mkdir(parents=True, exist_ok=True)
    (static / "index.html").write_text(INDEX_HTML, encoding="utf-8")
    (static / "style.css").write_text(STYLE_CSS, encoding="utf-8")
    (root / "secret.txt").write_text(SECRET_MARKER + "\n", encoding="utf-8")
    return static


@dataclass
class RunningServer:
    """One running server process and how to reach it."""

    process: subprocess.Popen
    port: int
    static_dir: Path
    log_path: Path
    args: list[str]
    host: str = HOST
    exit_code: int | None = field(default=None)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://{self.host}:{self.port}"

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def send_signal(self, sig: int) -> None:
        """Send `sig` once (a test of graceful shutdown then calls `wait_for_exit`)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)

    def wait_for_exit(self, timeout: float = STOP_TIMEOUT_SECONDS) -> int:
        """Wait for the process to exit on its own; kill and fail if it does not in time."""
        return self.stop(sig=None, timeout=timeout)

    def stop(self, sig: int | None = signal.SIGTERM, timeout: float = STOP_TIMEOUT_SECONDS) -> int:
        """Send `sig` (unless None) and wait for the exit; kill and fail if it does not exit in time."""
        if self.exit_code is not None:
            return self.exit_code
        if sig is not None and self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            self.exit_code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.exit_code = self.process.wait(timeout=5)
            pytest.fail(
                f"server did not exit within {timeout}s of signal {sig}; killed.\n"
                f"--- server log ---\n{self.log()[-4000:]}"
            )
        return self.exit_code


def healthz_ok(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def start_server_process(
    static_dir: Path, log_path: Path, extra_args: list[str] | None = None, echo: bool = True,
    in_memory: bool = True, port: int | None = None,
) -> RunningServer:
    """Start `syndicast serve` on a free loopback port and wait until it is ready.

    With `in_memory=False` no `--in-memory` is passed (give `--data DIR` in `extra_args`); `port`
    reuses a known port (a restart that clients reconnect to).
    """
    binary = binary_path()
    if not binary.exists():
        pytest.fail(f"server binary not found at {binary} (set SYNDICAST_BIN)")
    port = port or free_port()
    args = [
        str(binary), "serve",
        "--host", HOST, "--port", str(port),
        "--static-dir", str(static_dir),
        "--threads", "2",
    ]
    if in_memory:
        args.append("--in-memory")
    if echo:
        args.append("--echo")
    args += list(extra_args or [])
    log_file = open(log_path, "wb")
    process = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log_file.close()
    server = RunningServer(process=process, port=port, static_dir=static_dir, log_path=log_path, args=args)
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"server exited early with code {process.returncode}: {' '.join(args)}\n"
                f"--- server log ---\n{server.log()[-4000:]}"
            )
        if "listening on" in server.log() and healthz_ok(port):
            return server
        time.sleep(0.05)
    process.kill()
    process.wait(timeout=5)
    pytest.fail(
        f"server not ready within {READY_TIMEOUT_SECONDS}s (needs a 'listening on' line and "
        f"GET /healthz 200): {' '.join(args)}\n--- server log ---\n{server.log()[-4000:]}"
    )


def stop_and_check(server: RunningServer) -> None:
    code = server.stop()
    assert code == 0, f"server exited with {code} after SIGTERM\n--- log ---\n{server.log()[-4000:]}"


@pytest.fixture(scope="module")
def static_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding `static/` (served) and `secret.txt` (outside the static dir)."""
    root = tmp_path_factory.mktemp("syndicast-root")
    make_static_dir(root)
    return root


@pytest.fixture(scope="module")
def server(static_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """A server with --echo shared by the tests of one module; stopped with SIGTERM, must exit 0."""
    log_path = tmp_path_factory.mktemp("syndicast-log") / "server.log"
    running = start_server_process(static_root / "static", log_path)
    yield running
    stop_and_check(running)


StartServer = Callable[..., RunningServer]


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[StartServer]:
    """Factory: `start_server(extra_args=[...], echo=True)` starts a fresh server for one test.

    Servers still running at the end of the test are stopped with SIGTERM and must exit 0.
    """
    started: list[RunningServer] = []

    def start(
        extra_args: list[str] | None = None, echo: bool = True, in_memory: bool = True, port: int | None = None
    ) -> RunningServer:
        index = len(started)
        root = tmp_path / f"server-{index}"
        static = make_static_dir(root)
        running = start_server_process(static, root / "server.log", extra_args, echo, in_memory, port)
        started.append(running)
        return running

    yield start
    for running in started:
        stop_and_check(running)


@pytest.fixture
def ws(server: RunningServer) -> Iterator[RawWebSocket]:
    """A WebSocket to /echo without extensions."""
    connection = open_websocket(server.port)
    assert not connection.deflate
    yield connection
    connection.close()


@pytest.fixture
def deflate_ws(server: RunningServer) -> Iterator[RawWebSocket]:
    """A WebSocket to /echo with plain permessage-deflate negotiated."""
    connection = open_websocket(server.port, extensions="permessage-deflate")
    assert connection.deflate, "permessage-deflate offered but not negotiated"
    yield connection
    connection.close()
