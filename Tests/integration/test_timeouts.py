"""Nobody can hold a connection for free: a request that never completes (slowloris) gets 408
and is closed, an idle keep-alive connection is closed, and a WebSocket peer that ignores pings
is closed after two unanswered ones."""

from __future__ import annotations

import socket
import time

from raw_websocket import PING, PeerClosed, RawWebSocket


def read_until_closed(sock: socket.socket, limit: float) -> tuple[bytes, float]:
    started = time.monotonic()
    sock.settimeout(limit)
    data = b""
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    return data, time.monotonic() - started


def test_an_incomplete_request_gets_408_and_is_closed(start_server) -> None:
    server = start_server(extra_args=["--request-timeout", "1"], echo=False)
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    data, elapsed = read_until_closed(sock, 6)
    assert data.startswith(b"HTTP/1.1 408"), data[:80]
    assert 0.8 <= elapsed < 4, elapsed
    sock.close()


def test_an_idle_keep_alive_connection_is_closed(start_server) -> None:
    server = start_server(extra_args=["--keep-alive-timeout", "1"], echo=False)
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    data, elapsed = read_until_closed(sock, 6)
    assert data.startswith(b"HTTP/1.1 200"), data[:80]
    assert 0.8 <= elapsed < 4, elapsed
    sock.close()


def test_a_websocket_peer_that_ignores_pings_is_closed(start_server) -> None:
    server = start_server(extra_args=["--ping-interval", "1"], echo=True)
    with RawWebSocket(server.port, timeout=8) as ws:
        assert ws.handshake("/echo") == 101
        pings = 0
        started = time.monotonic()
        try:
            while time.monotonic() - started < 8:
                frame = ws.read_frame()
                if frame.opcode == PING:
                    pings += 1
        except PeerClosed:
            pass
        elapsed = time.monotonic() - started
        assert pings == 2, pings
        assert 2 <= elapsed < 6, elapsed
