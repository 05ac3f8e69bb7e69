"""A stream subscriber that stops reading is closed with 4008 once its outbound queue passes
`--outbound-limit` (DESIGN.md §3), while a subscriber that keeps reading is unaffected."""

from __future__ import annotations

import base64
import json
import os
import socket
import time
import urllib.request

from raw_websocket import CLOSE, RawWebSocket


def post_ndjson(base_url: str, lines: list[str]) -> dict:
    request = urllib.request.Request(
        f"{base_url}/api/transactions",
        data=("\n".join(lines) + "\n").encode(),
        headers={"Content-Type": "application/x-ndjson"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 201
        return json.loads(response.read())


def metric(base_url: str, name: str) -> int:
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + " "):
                return int(line.split()[1])
    raise AssertionError(f"metric {name} missing")


def parse_server_frames(data: bytes) -> list[tuple[int, bytes]]:
    """The complete unmasked server frames at the start of `data` (a partial tail is ignored)."""
    frames: list[tuple[int, bytes]] = []
    offset = 0
    while offset + 2 <= len(data):
        opcode = data[offset] & 0x0F
        length = data[offset + 1] & 0x7F
        header = 2
        if length == 126:
            if offset + 4 > len(data):
                break
            length = int.from_bytes(data[offset + 2 : offset + 4], "big")
            header = 4
        elif length == 127:
            if offset + 10 > len(data):
                break
            length = int.from_bytes(data[offset + 2 : offset + 10], "big")
            header = 10
        if offset + header + length > len(data):
            break
        frames.append((opcode, data[offset + header : offset + header + length]))
        offset += header + length
    return frames


def stalled_subscriber(port: int) -> socket.socket:
    """A /ws subscriber to `transactions` with a tiny receive buffer that never reads."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(5)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            "GET /ws?topics=transactions HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


def test_a_stalled_subscriber_is_closed_with_4008_and_a_reader_is_not(start_server) -> None:
    server = start_server(extra_args=["--outbound-limit", "65536"], echo=False)
    stalled = stalled_subscriber(server.port)
    healthy = RawWebSocket(server.port)
    healthy.handshake("/ws?topics=alerts")
    before = metric(server.base_url, "syndicast_slow_consumers_closed_total")
    # ~200-byte transaction events: 60,000 of them are ~12 MB, far past the kernel's socket
    # buffers plus the 64 KiB queue limit.
    for batch in range(6):
        post_ndjson(
            server.base_url,
            [
                json.dumps({"investorId": f"i{batch}-{index}", "syndicateId": "s1", "amount": "1.00"})
                for index in range(10_000)
            ],
        )
    deadline = time.monotonic() + 10
    while metric(server.base_url, "syndicast_slow_consumers_closed_total") == before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert metric(server.base_url, "syndicast_slow_consumers_closed_total") == before + 1
    # Drain what the stalled client was sent: the stream ends with close 4008 (or a reset if the
    # close could not be flushed in time), never with more events after it.
    data = b""
    stalled.settimeout(5)
    try:
        while True:
            chunk = stalled.recv(1 << 20)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    frames = parse_server_frames(data)
    closes = [index for index, (opcode, _) in enumerate(frames) if opcode == CLOSE]
    if closes:
        # Nothing follows the close, and it carries 4008.
        assert closes == [len(frames) - 1], f"frames after the close: {len(frames) - 1 - closes[0]}"
        assert int.from_bytes(frames[-1][1][:2], "big") == 4008
    # The healthy subscriber still gets its messages and pongs.
    healthy.send_frame(0x1, b'{"op":"ping"}')
    opcode, payload = healthy.read_message()
    while b'"pong"' not in payload:
        opcode, payload = healthy.read_message()
    assert json.loads(payload) == {"type": "pong"}
    healthy.close()
    stalled.close()
