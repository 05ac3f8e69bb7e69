"""With a small descriptor limit the server caps its connection limit below it: connections past
the cap are reset at once, the server does not spin or crash, and it serves again when they go."""

from __future__ import annotations

import resource
import signal
import socket
import subprocess
import time
from pathlib import Path

from conftest import HOST, binary_path, free_port, healthz_ok


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100.0


def test_connections_past_the_descriptor_limit_are_shed_without_spinning(tmp_path: Path) -> None:
    port = free_port()

    def limit_descriptors() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (128, 128))

    log = open(tmp_path / "server.log", "wb")
    process = subprocess.Popen(
        [str(binary_path()), "serve", "--host", HOST, "--port", str(port), "--in-memory", "--threads", "2"],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=limit_descriptors,
    )
    try:
        deadline = time.monotonic() + 10
        while not healthz_ok(port):
            assert process.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.05)
        clients = []
        refused_at_connect = 0
        for _ in range(200):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.settimeout(2)
            try:
                sock.connect((HOST, port))
            except OSError:
                refused_at_connect += 1
                sock.close()
                continue
            clients.append(sock)
        time.sleep(0.5)
        # Idle while holding the excess: the loops must not spin on a readable listener.
        before = cpu_seconds(process.pid)
        time.sleep(1.0)
        assert cpu_seconds(process.pid) - before < 0.3, "the server spins while descriptors are exhausted"
        # Most of the 200 were reset (128 descriptors, 64 kept in reserve).
        reset = refused_at_connect
        for sock in clients:
            try:
                sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                if not sock.recv(64):
                    reset += 1
            except OSError:
                reset += 1
        assert reset >= 100, f"only {reset} connections were refused"
        assert process.poll() is None, "the server died"
        for sock in clients:
            sock.close()
        time.sleep(0.3)
        assert healthz_ok(port), "the server does not serve after the excess connections went away"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        log.close()
