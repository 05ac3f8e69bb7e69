"""A tiny HTTP/1.1 client over a raw socket: exact request bytes in, parsed responses out.

Used to test keep-alive, pipelining and malformed input, which ordinary clients cannot send.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

IO_TIMEOUT_SECONDS = 5.0


@dataclass
class Response:
    """One parsed HTTP response."""

    version: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """The first value of header `name` (case-insensitive), or None."""
        lowered = name.lower()
        for key, value in self.headers:
            if key.lower() == lowered:
                return value
        return None

    def header_values(self, name: str) -> list[str]:
        lowered = name.lower()
        return [value for key, value in self.headers if key.lower() == lowered]


class ConnectionClosed(Exception):
    """The peer closed the connection before a complete response arrived."""


class RawHTTPConnection:
    """One TCP connection on which requests are written as bytes and responses read in order."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = IO_TIMEOUT_SECONDS):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buffer = b""

    def __enter__(self) -> "RawHTTPConnection":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        """Read more bytes into the buffer; False on EOF (or reset)."""
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            return False
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def _read_line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            if not self._fill():
                raise ConnectionClosed(f"EOF while reading a line; buffered {self.buffer[:200]!r}")
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def _read_exact(self, count: int) -> bytes:
        while len(self.buffer) < count:
            if not self._fill():
                raise ConnectionClosed(f"EOF after {len(self.buffer)} of {count} body bytes")
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def read_response(self, request_method: str = "GET") -> Response:
        """Read exactly one response (Content-Length, chunked, or no body for 1xx/204/304/HEAD)."""
        status_line = self._read_line().decode("latin-1")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise AssertionError(f"malformed status line: {status_line!r}")
        version, status = parts[0], int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers: list[tuple[str, str]] = []
        while True:
            line = self._read_line()
            if not line:
                break
            name, _, value = line.decode("latin-1").partition(":")
            headers.append((name.strip(), value.strip()))
        response = Response(version, status, reason, headers, b"")
        if request_method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return response
        transfer_encoding = (response.header("Transfer-Encoding") or "").lower()
        if "chunked" in transfer_encoding:
            body = b""
            while True:
                size = int(self._read_line().split(b";")[0], 16)
                if size == 0:
                    while self._read_line():
                        pass
                    break
                body += self._read_exact(size)
                self._read_line()
            response.body = body
        elif response.header("Content-Length") is not None:
            response.body = self._read_exact(int(response.header("Content-Length") or "0"))
        else:
            while self._fill():
                pass
            response.body, self.buffer = self.buffer, b""
        return response

    def is_closed_by_peer(self, timeout: float = IO_TIMEOUT_SECONDS) -> bool:
        """True if the peer closes the connection (EOF or reset) within `timeout` with no more data."""
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False
        if chunk:
            self.buffer += chunk
            return False
        return True


def request_bytes(
    method: str,
    target: str,
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    host: str = "127.0.0.1",
) -> bytes:
    """Serialise a request; adds Host and, for a body, Content-Length."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    all_headers = dict(headers or {})
    if body and not any(key.lower() == "content-length" for key in all_headers):
        all_headers["Content-Length"] = str(len(body))
    for key, value in all_headers.items():
        lines.append(f"{key}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def exchange(port: int, data: bytes, request_method: str = "GET") -> Response:
    """Open a connection, send `data`, read one response."""
    with RawHTTPConnection(port) as connection:
        connection.send(data)
        return connection.read_response(request_method)
