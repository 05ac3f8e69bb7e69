"""A tiny client-side RFC 6455 / RFC 7692 implementation over a raw socket, for conformance tests.

It builds exact (masked) frames, sends them whole or split across TCP writes, and parses what the
server sends back, checking the server's side of the framing rules (no mask, no stray RSV bits).
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
import threading
import time
import zlib
from dataclasses import dataclass

IO_TIMEOUT_SECONDS = 5.0
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
DEFLATE_TAIL = b"\x00\x00\xff\xff"

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
OPCODE_NAMES = {CONTINUATION: "continuation", TEXT: "text", BINARY: "binary", CLOSE: "close", PING: "ping", PONG: "pong"}


def frame(
    opcode: int,
    payload: bytes = b"",
    fin: bool = True,
    rsv: int = 0,
    masked: bool = True,
    mask_key: bytes | None = None,
    declared_length: int | None = None,
) -> bytes:
    """Serialise one frame. `rsv` is a 3-bit value (4 = RSV1, 2 = RSV2, 1 = RSV3).

    `declared_length` overrides the length field (the payload written stays `payload`), to send a
    header that announces more than is sent.
    """
    first = (0x80 if fin else 0) | ((rsv & 0x7) << 4) | (opcode & 0xF)
    length = len(payload) if declared_length is None else declared_length
    mask_bit = 0x80 if masked else 0
    if length < 126:
        header = struct.pack("!BB", first, mask_bit | length)
    elif length < 65536:
        header = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, length)
    if not masked:
        return header + payload
    key = mask_key if mask_key is not None else os.urandom(4)
    return header + key + mask(payload, key)


def mask(payload: bytes, key: bytes) -> bytes:
    """XOR `payload` with the repeating 4-byte `key` (RFC 6455 §5.3)."""
    if not payload:
        return b""
    repeated = (key * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(payload), "big")


def close_payload(code: int | None, reason: bytes = b"") -> bytes:
    return b"" if code is None else struct.pack("!H", code) + reason


def deflate(data: bytes, compressor: "zlib._Compress | None" = None) -> bytes:
    """Compress one message for permessage-deflate: sync flush, then drop the 00 00 ff ff tail."""
    compressor = compressor or zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    output = compressor.compress(data) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert output.endswith(DEFLATE_TAIL)
    return output[:-4]


def inflate(payload: bytes, window_bits: int = 15) -> bytes:
    """Inflate one message compressed without context takeover (a fresh inflater)."""
    inflater = zlib.decompressobj(-window_bits)
    return inflater.decompress(payload + DEFLATE_TAIL) + inflater.flush()


def parse_extensions(header: str | None) -> list[tuple[str, dict[str, str | None]]]:
    """Parse a Sec-WebSocket-Extensions value into [(name, {param: value-or-None})]."""
    result: list[tuple[str, dict[str, str | None]]] = []
    if not header:
        return result
    for offer in header.split(","):
        parts = [part.strip() for part in offer.split(";")]
        if not parts[0]:
            continue
        params: dict[str, str | None] = {}
        for part in parts[1:]:
            if not part:
                continue
            name, equals, value = part.partition("=")
            params[name.strip().lower()] = value.strip().strip('"') if equals else None
        result.append((parts[0].lower(), params))
    return result


@dataclass
class Frame:
    fin: bool
    rsv: int
    opcode: int
    payload: bytes

    @property
    def close_code(self) -> int | None:
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None

    def describe(self) -> str:
        name = OPCODE_NAMES.get(self.opcode, f"opcode {self.opcode:#x}")
        shown = self.payload[:60]
        extra = f" code={self.close_code}" if self.opcode == CLOSE else ""
        return f"{name} frame fin={self.fin} rsv={self.rsv}{extra} payload[{len(self.payload)}]={shown!r}"


class PeerClosed(Exception):
    """The TCP connection ended (EOF or reset) while a frame was expected."""


class RawWebSocket:
    """A WebSocket connection driven byte by byte."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = IO_TIMEOUT_SECONDS):
        self.host, self.port, self.timeout = host, port, timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = bytearray()
        self.status = 0
        self.response_headers: list[tuple[str, str]] = []
        self.deflate = False
        self.server_window_bits = 15

    # MARK: Handshake

    def handshake(
        self, path: str = "/echo", extensions: str | list[str] | None = None, headers: dict[str, str] | None = None,
        key: str | None = None, version: str = "13",
    ) -> int:
        """Send the opening handshake and read the response head; returns the status code."""
        key = key if key is not None else base64.b64encode(os.urandom(16)).decode()
        lines = [
            f"GET {path} HTTP/1.1", f"Host: {self.host}:{self.port}", "Upgrade: websocket", "Connection: Upgrade",
            f"Sec-WebSocket-Key: {key}", f"Sec-WebSocket-Version: {version}",
        ]
        if isinstance(extensions, str):
            lines.append(f"Sec-WebSocket-Extensions: {extensions}")
        elif extensions:
            lines += [f"Sec-WebSocket-Extensions: {value}" for value in extensions]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                raise PeerClosed(f"EOF during handshake; got {self.buffer[:300]!r}")
        head, rest = bytes(self.buffer).split(b"\r\n\r\n", 1)
        self.buffer = bytearray(rest)
        head_lines = head.decode("latin-1").split("\r\n")
        self.status = int(head_lines[0].split(" ")[1])
        self.response_headers = []
        for line in head_lines[1:]:
            name, _, value = line.partition(":")
            self.response_headers.append((name.strip(), value.strip()))
        if self.status == 101:
            expected = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
            assert self.header("Sec-WebSocket-Accept") == expected, "wrong Sec-WebSocket-Accept"
            assert (self.header("Upgrade") or "").lower() == "websocket"
            assert "upgrade" in (self.header("Connection") or "").lower()
            for name, params in self.negotiated_extensions():
                if name == "permessage-deflate":
                    self.deflate = True
                    bits = params.get("server_max_window_bits")
                    self.server_window_bits = int(bits) if bits else 15
        return self.status

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.response_headers if key.lower() == name.lower()]
        return ", ".join(values) if values else None

    def negotiated_extensions(self) -> list[tuple[str, dict[str, str | None]]]:
        return parse_extensions(self.header("Sec-WebSocket-Extensions"))

    # MARK: Sending

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_frame(self, opcode: int, payload: bytes = b"", **options: object) -> None:
        self.sock.sendall(frame(opcode, payload, **options))  # type: ignore[arg-type]

    def send_split(self, data: bytes, chunk: int = 1, delay: float = 0.0) -> None:
        """Write `data` in pieces of `chunk` bytes, sleeping `delay` between writes."""
        for start in range(0, len(data), chunk):
            self.sock.sendall(data[start:start + chunk])
            if delay:
                time.sleep(delay)

    def send_in_background(self, data: bytes, chunk: int = 1 << 20) -> threading.Thread:
        """Write `data` from a thread, so a big upload cannot deadlock against the echo."""
        def run() -> None:
            try:
                for start in range(0, len(data), chunk):
                    self.sock.sendall(data[start:start + chunk])
            except OSError:
                pass
        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        return thread

    # MARK: Receiving

    def _fill(self) -> bool:
        try:
            chunk = self.sock.recv(1 << 20)
        except (ConnectionResetError, BrokenPipeError):
            return False
        except socket.timeout:
            raise AssertionError(
                f"nothing received within {self.sock.gettimeout()}s (buffered {len(self.buffer)} bytes: {bytes(self.buffer[:40])!r})"
            ) from None
        if not chunk:
            return False
        self.buffer += chunk
        return True

    def _need(self, count: int) -> None:
        while len(self.buffer) < count:
            if not self._fill():
                raise PeerClosed(f"connection ended with {len(self.buffer)} of {count} bytes of a frame")

    def read_frame(self) -> Frame:
        """Read one frame; asserts the server-side framing rules."""
        self._need(2)
        first, second = self.buffer[0], self.buffer[1]
        assert second & 0x80 == 0, "server frame is masked (RFC 6455 §5.1: a server MUST NOT mask)"
        length = second & 0x7F
        offset = 2
        if length == 126:
            self._need(4)
            length = struct.unpack("!H", self.buffer[2:4])[0]
            offset = 4
        elif length == 127:
            self._need(10)
            length = struct.unpack("!Q", self.buffer[2:10])[0]
            offset = 10
        self._need(offset + length)
        payload = bytes(self.buffer[offset:offset + length])
        del self.buffer[:offset + length]
        result = Frame(bool(first & 0x80), (first >> 4) & 0x7, first & 0x0F, payload)
        allowed_rsv = 4 if self.deflate and result.opcode in (TEXT, BINARY) else 0
        assert result.rsv & ~allowed_rsv == 0, f"server sent reserved bits: {result.describe()}"
        return result

    def read_message(self) -> tuple[int, bytes]:
        """Read one data message (fragments joined, RSV1 inflated); control frames are not expected."""
        first = self.read_frame()
        assert first.opcode in (TEXT, BINARY), f"expected a data message, got {first.describe()}"
        compressed = bool(first.rsv & 4)
        parts = [first.payload]
        current = first
        while not current.fin:
            current = self.read_frame()
            assert current.opcode == CONTINUATION, f"expected continuation, got {current.describe()}"
            assert current.rsv == 0, f"RSV set on a continuation frame: {current.describe()}"
            parts.append(current.payload)
        payload = b"".join(parts)
        if compressed:
            payload = inflate(payload, self.server_window_bits)
        return first.opcode, payload

    def expect_message(self, opcode: int, payload: bytes) -> None:
        got_opcode, got_payload = self.read_message()
        assert got_opcode == opcode, f"expected {OPCODE_NAMES[opcode]}, got {OPCODE_NAMES.get(got_opcode)}"
        assert got_payload == payload, (
            f"echo differs: expected {len(payload)} bytes {payload[:40]!r}…, got {len(got_payload)} bytes {got_payload[:40]!r}…"
        )

    def expect_frame(self, opcode: int, payload: bytes) -> None:
        got = self.read_frame()
        assert (got.opcode, got.payload, got.fin) == (opcode, payload, True), (
            f"expected {OPCODE_NAMES[opcode]} {payload[:60]!r}, got {got.describe()}"
        )

    def expect_close(self, code: int | set[int], reply: bool = True) -> Frame:
        """The next frame must be a close with `code`; then reply and expect the server to close TCP."""
        try:
            got = self.read_frame()
        except PeerClosed as error:
            raise AssertionError(f"expected close {code}, but the connection ended without a close frame ({error})")
        codes = code if isinstance(code, set) else {code}
        assert got.opcode == CLOSE, f"expected close {code}, got {got.describe()}"
        assert got.close_code in codes, f"expected close {code}, got {got.describe()}"
        if len(got.payload) > 2:
            got.payload[2:].decode("utf-8")  # the server's reason must be valid UTF-8 too
        if reply:
            try:
                self.send_frame(CLOSE, got.payload[:2])
            except OSError:
                pass
        self.expect_tcp_closed()
        return got

    def expect_tcp_closed(self, timeout: float | None = None) -> None:
        """The server closes the TCP connection within `timeout`, sending nothing more."""
        self.sock.settimeout(timeout or self.timeout)
        deadline = time.monotonic() + (timeout or self.timeout)
        try:
            while time.monotonic() < deadline:
                try:
                    chunk = self.sock.recv(65536)
                except (ConnectionResetError, BrokenPipeError):
                    return
                except socket.timeout:
                    break
                if not chunk:
                    assert not self.buffer, f"unexpected bytes before EOF: {self.buffer[:100]!r}"
                    return
                self.buffer += chunk
                raise AssertionError(f"data after close: {self.buffer[:100]!r}")
        finally:
            self.sock.settimeout(self.timeout)
        raise AssertionError(f"server did not close the TCP connection within {timeout or self.timeout}s")

    def expect_nothing(self, duration: float = 0.3) -> None:
        """Nothing arrives (and the connection stays open) for `duration` seconds."""
        self.sock.settimeout(duration)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return
        finally:
            self.sock.settimeout(self.timeout)
        raise AssertionError(f"expected silence, got {chunk[:100]!r}" if chunk else "expected silence, got EOF")

    def close_handshake(self, code: int = 1000, reason: bytes = b"") -> None:
        """Client-initiated close: the server echoes the code and closes TCP first."""
        self.send_frame(CLOSE, close_payload(code, reason))
        got = self.read_frame()
        assert got.opcode == CLOSE and got.close_code == code, f"expected close {code}, got {got.describe()}"
        self.expect_tcp_closed()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "RawWebSocket":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_websocket(port: int, path: str = "/echo", extensions: str | list[str] | None = None) -> RawWebSocket:
    """Connect and complete the handshake (asserting 101)."""
    connection = RawWebSocket(port)
    status = connection.handshake(path, extensions)
    assert status == 101, f"handshake to {path} answered {status}"
    return connection
