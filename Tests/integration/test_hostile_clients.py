"""Clients that send without reading cannot grow the server's memory (issue 12, DESIGN.md §6).

Every connection has one outbound rule: once its queued output passes a soft bound (256 KiB,
at most half of `--outbound-limit`), the server stops reading from it until the queue drains.
Each attack below runs against a fresh release binary and checks

- the growth of the server's resident memory (VmRSS from /proc/<pid>/status) stays small,
- another client's `GET /healthz` keeps being answered promptly while the attack runs,
- nothing is lost: a pipelining client that finally reads gets every response, in order,
- a paused connection whose peer half-closes does not make the loop spin (CPU time from
  /proc/<pid>/stat stays near zero).

The worst figures are printed (run with `-s` to see them).
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import threading
import time
import urllib.request
from dataclasses import dataclass, field

from conftest import RunningServer, StartServer
from raw_websocket import PING, TEXT, frame

HOST = "127.0.0.1"
RSS_GROWTH_BOUND_KIB = 16 * 1024
ATTACK_SECONDS = 2.0
# The target is 100 ms; the bound asserted leaves room for a 2-core box shared with
# other work (the measured worst is printed).
HEALTHZ_WORST_BOUND_SECONDS = 0.5
HEALTHZ_MEDIAN_BOUND_SECONDS = 0.1
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    """The process's resident set size in KiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("VmRSS missing")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    # After the command: state is field 3, utime field 14, stime field 15 (1-based).
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def seed_investors(server: RunningServer, count: int) -> None:
    lines = [
        json.dumps({"investorId": f"investor-{index:04d}", "syndicateId": f"s{index % 7}", "amount": "10.00"})
        for index in range(count)
    ]
    request = urllib.request.Request(
        f"{server.base_url}/api/transactions", data=("\n".join(lines) + "\n").encode(),
        headers={"Content-Type": "application/x-ndjson"}, method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201


def connect(port: int, receive_buffer: int | None = None) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.settimeout(10)
    sock.connect((HOST, port))
    return sock


def healthz_once(port: int) -> float:
    """Seconds for one GET /healthz on a new connection (fails on anything but 200)."""
    started = time.monotonic()
    with socket.create_connection((HOST, port), timeout=5) as sock:
        sock.sendall(f"GET /healthz HTTP/1.1\r\nHost: {HOST}:{port}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    assert data.startswith(b"HTTP/1.1 200"), data[:200]
    return time.monotonic() - started


@dataclass
class Observation:
    """What the server looked like while an attack ran."""

    baseline_kib: int
    peak_kib: int = 0
    healthz: list[float] = field(default_factory=list)

    @property
    def growth_kib(self) -> int:
        return self.peak_kib - self.baseline_kib


def observe(server: RunningServer, seconds: float, baseline_kib: int) -> Observation:
    """Samples RSS and probes /healthz (a new connection every ~20 ms) for `seconds`."""
    observation = Observation(baseline_kib=baseline_kib, peak_kib=baseline_kib)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        observation.healthz.append(healthz_once(server.port))
        observation.peak_kib = max(observation.peak_kib, rss_kib(server.process.pid))
        time.sleep(0.02)
    return observation


def report(name: str, observation: Observation) -> None:
    worst = max(observation.healthz)
    median = statistics.median(observation.healthz)
    print(
        f"\n{name}: RSS growth {observation.growth_kib} KiB (baseline {observation.baseline_kib} KiB); "
        f"/healthz during the attack: {len(observation.healthz)} probes, median {median * 1000:.1f} ms, "
        f"worst {worst * 1000:.1f} ms"
    )
    assert observation.growth_kib < RSS_GROWTH_BOUND_KIB, f"{name}: RSS grew by {observation.growth_kib} KiB"
    assert median < HEALTHZ_MEDIAN_BOUND_SECONDS, f"{name}: /healthz median {median * 1000:.1f} ms"
    assert worst < HEALTHZ_WORST_BOUND_SECONDS, f"{name}: /healthz worst {worst * 1000:.1f} ms"


def send_in_background(sock: socket.socket, data: bytes) -> threading.Thread:
    """Writes `data` from a thread (the server stops reading, so this blocks for a while)."""

    def run() -> None:
        try:
            sock.sendall(data)
        except OSError:
            pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def warm_baseline(server: RunningServer) -> int:
    """RSS after the server has served a little of everything once."""
    for _ in range(20):
        healthz_once(server.port)
    time.sleep(0.2)
    return rss_kib(server.process.pid)


# MARK: HTTP pipelining


PIPELINED = 20_000
# With 1,000 investors one answer is several KiB: the 10,000 of them far exceed what the kernel's
# socket buffers hold (a few MiB), so without the bound the rest would wait in the server's memory.
RANKINGS = "/api/rankings?limit=100"
SEEDED_INVESTORS = 1_000
# A live top list as long as the largest `limit`, so these queries stay cheap and uncapped.
SERVER_ARGS = ["--top-k", "1000"]


def pipelined_requests(port: int) -> tuple[bytes, list[str]]:
    host = f"Host: {HOST}:{port}\r\n"
    requests = []
    kinds = []
    for index in range(PIPELINED):
        if index % 2 == 0:
            requests.append(f"GET {RANKINGS} HTTP/1.1\r\n{host}\r\n")
            kinds.append("rankings")
        else:
            requests.append(f"GET /healthz HTTP/1.1\r\n{host}\r\n")
            kinds.append("healthz")
    return "".join(requests).encode(), kinds


def read_responses(sock: socket.socket, count: int) -> list[tuple[int, int, bool]]:
    """Reads `count` Content-Length-framed responses: (status, body length, whether the body is
    a rankings answer) in arrival order."""
    buffer = bytearray()
    responses: list[tuple[int, int, bool]] = []
    sock.settimeout(30)
    while len(responses) < count:
        end = buffer.find(b"\r\n\r\n")
        if end >= 0:
            head = bytes(buffer[:end]).decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value.strip())
            if len(buffer) >= end + 4 + length:
                status = int(head.split(" ", 2)[1])
                body = bytes(buffer[end + 4:end + 4 + length])
                responses.append((status, length, body.startswith(b'{"seq"') and b'"top"' in body))
                del buffer[:end + 4 + length]
                continue
        chunk = sock.recv(1 << 20)
        assert chunk, f"connection closed after {len(responses)} of {count} responses"
        buffer += chunk
    return responses


def test_pipelining_client_that_never_reads_is_paused_and_loses_nothing(start_server: StartServer) -> None:
    server = start_server(extra_args=SERVER_ARGS, echo=False)
    seed_investors(server, SEEDED_INVESTORS)
    baseline = warm_baseline(server)
    data, kinds = pipelined_requests(server.port)
    sock = connect(server.port, receive_buffer=16_384)
    sender = send_in_background(sock, data)

    observation = observe(server, ATTACK_SECONDS, baseline)
    responses = read_responses(sock, PIPELINED)
    sender.join(timeout=10)
    sock.close()

    answered = sum(length for _, length, _ in responses)
    report(f"{PIPELINED} pipelined GETs ({len(data)} bytes, {answered} bytes of answers)", observation)
    assert [status for status, _, _ in responses] == [200] * PIPELINED
    assert [is_rankings for _, _, is_rankings in responses] == [kind == "rankings" for kind in kinds]
    assert answered > 40 << 20, "the answers are too small to test the bound"


# MARK: WebSocket control floods


def stream_socket(port: int) -> socket.socket:
    """A /ws subscriber (default topics) with a small receive buffer; handshake done."""
    sock = connect(port, receive_buffer=16_384)
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    sock.sendall(
        (
            f"GET /ws HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


# A pong is 6–17 bytes: a million of them are more than the kernel buffers hold, and each queued
# reply costs a chunk object besides its bytes.
FLOOD_MESSAGES = 1_000_000


def flood(start_server: StartServer, name: str, one_message: bytes) -> None:
    server = start_server(echo=False)
    baseline = warm_baseline(server)
    sock = stream_socket(server.port)
    sender = send_in_background(sock, one_message * FLOOD_MESSAGES)
    observation = observe(server, ATTACK_SECONDS, baseline)
    sock.close()
    sender.join(timeout=10)
    report(f"/ws flood of {FLOOD_MESSAGES} {name}", observation)


def test_websocket_client_flooding_ping_operations_is_paused(start_server: StartServer) -> None:
    flood(start_server, '{"op":"ping"} messages', frame(TEXT, b'{"op":"ping"}'))


def test_websocket_client_flooding_ping_frames_is_paused(start_server: StartServer) -> None:
    flood(start_server, "ping frames", frame(PING, b"ping"))


def test_websocket_client_flooding_subscribe_operations_is_paused(start_server: StartServer) -> None:
    subscribe = json.dumps({"op": "subscribe", "topics": [f"topic-{index}" for index in range(40)]}).encode()
    flood(start_server, "subscribe operations", frame(TEXT, subscribe))


# MARK: No busy spin


def test_half_closed_paused_connection_does_not_spin(start_server: StartServer) -> None:
    server = start_server(extra_args=SERVER_ARGS, echo=False)
    seed_investors(server, SEEDED_INVESTORS)
    rankings = "/api/rankings?limit=1000"
    with urllib.request.urlopen(f"{server.base_url}{rankings}", timeout=10) as response:
        answer_size = len(response.read())
    # Enough answers to fill the kernel's buffers and pass the soft bound several times over,
    # from requests small enough to sit entirely in the server's receive buffer: then the FIN
    # reaches the server while its reading is paused (EPOLLRDHUP set, EPOLLIN off).
    count = (24 << 20) // answer_size + 1
    data = f"GET {rankings} HTTP/1.1\r\nHost: {HOST}:{server.port}\r\n\r\n".encode() * count
    assert len(data) < 32_768, f"answers of {answer_size} bytes need too many requests"
    sock = connect(server.port, receive_buffer=16_384)
    sock.sendall(data)
    time.sleep(1.0)
    sock.shutdown(socket.SHUT_WR)
    time.sleep(0.2)
    before = cpu_seconds(server.process.pid)
    time.sleep(1.5)
    used = cpu_seconds(server.process.pid) - before
    print(f"\nCPU used in 1.5 s with a half-closed paused connection ({count} requests pending): {used:.3f} s")
    assert used < 0.15, f"the server used {used:.2f} s of CPU in 1.5 s (busy spin?)"
    assert healthz_once(server.port) < HEALTHZ_WORST_BOUND_SECONDS
    sock.close()
