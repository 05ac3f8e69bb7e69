"""Holds 10,000 concurrent WebSocket connections on the real binary and reports the server's
memory per idle connection (RSS over the empty server, from /proc). Bounded: one pass, 120 s max.
"""

from __future__ import annotations

import base64
import os
import resource
import selectors
import socket
import time
from pathlib import Path

CONNECTIONS = int(os.environ.get("SYNDICAST_SCALE_CONNECTIONS", "10000"))
REPORT = Path(os.environ.get("SYNDICAST_SCALE_REPORT", "/tmp/syndicast-scale.txt"))


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(needed, soft)), hard))


def open_websockets(port: int, count: int, deadline: float) -> list[socket.socket]:
    """Connects `count` sockets (source addresses spread over 127.0.0.x), sends each a handshake,
    and waits until every one has its 101 response and the hello message."""
    request = (
        "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    selector = selectors.DefaultSelector()
    sockets: list[socket.socket] = []
    received: dict[int, bytes] = {}
    for index in range(count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((f"127.0.0.{2 + index % 200}", 0))
        sock.connect(("127.0.0.1", port))
        sock.sendall(request)
        sock.setblocking(False)
        sockets.append(sock)
        received[sock.fileno()] = b""
        selector.register(sock, selectors.EVENT_READ)
    done = 0
    while done < count and time.monotonic() < deadline:
        for key, _ in selector.select(timeout=1):
            sock = key.fileobj
            data = sock.recv(4096)
            assert data, "server closed a connection during the scale test"
            buffer = received[sock.fileno()] + data
            received[sock.fileno()] = buffer
            head_end = buffer.find(b"\r\n\r\n")
            if head_end >= 0 and b'"type":"hello"' in buffer[head_end:]:
                assert buffer.startswith(b"HTTP/1.1 101"), buffer[:80]
                selector.unregister(sock)
                done += 1
    selector.close()
    assert done == count, f"only {done} of {count} connections completed the handshake in time"
    return sockets


def test_ten_thousand_idle_websockets(start_server) -> None:
    raise_fd_limit(CONNECTIONS + 1000)
    server = start_server(extra_args=["--connection-limit", str(CONNECTIONS + 100)], echo=False)
    pid = server.process.pid
    time.sleep(0.3)
    baseline = rss_kib(pid)
    started = time.monotonic()
    sockets = open_websockets(server.port, CONNECTIONS, deadline=started + 120)
    elapsed = time.monotonic() - started
    time.sleep(0.5)
    loaded = rss_kib(pid)
    per_connection = (loaded - baseline) * 1024 / CONNECTIONS
    report = (
        f"{CONNECTIONS} WebSocket connections opened in {elapsed:.2f} s; server RSS {baseline} KiB empty, "
        f"{loaded} KiB loaded: {per_connection:.0f} bytes per idle connection\n"
    )
    REPORT.write_text(report)
    print(report)
    # Still serving while holding them all.
    import urllib.request

    with urllib.request.urlopen(f"{server.base_url}/healthz", timeout=5) as response:
        assert response.status == 200
    # Bound: well under the 33 KiB per connection of task-per-connection servers.
    assert per_connection < 4096, report
    for sock in sockets:
        sock.close()
