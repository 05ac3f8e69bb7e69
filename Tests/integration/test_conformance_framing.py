"""RFC 6455 conformance of `/echo`, Autobahn-style cases 1.x-5.x (framing, ping/pong, reserved
bits, opcodes, fragmentation) and the opening handshake (RFC 6455 §4.2).

A raw client sends exact bytes, often split across TCP writes, and checks the exact frames that
come back and that the server closes TCP after a close handshake (see conformance_support.py).
"""

from __future__ import annotations

import base64
import os
import random
import struct
import time

import pytest

from conftest import RunningServer
from conformance_support import KIB, assert_protocol_error_pattern, text_payload
from raw_websocket import (
    BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, RawWebSocket, close_payload, frame, mask,
)


# MARK: - 1.x Framing


FRAME_LENGTHS = [0, 1, 125, 126, 127, 128, 65535, 65536, 65537]


@pytest.mark.parametrize("length", FRAME_LENGTHS)
@pytest.mark.parametrize("opcode", [TEXT, BINARY], ids=["text", "binary"])
def test_1_x_payload_lengths_across_length_encodings_are_echoed(ws: RawWebSocket, opcode: int, length: int) -> None:
    payload = text_payload(length) if opcode == TEXT else os.urandom(length)
    ws.send_frame(opcode, payload)
    ws.expect_message(opcode, payload)
    ws.close_handshake()


@pytest.mark.parametrize("chunk", [1, 7, 997])
@pytest.mark.parametrize("opcode", [TEXT, BINARY], ids=["text", "binary"])
def test_1_x_frame_split_across_tcp_writes_is_echoed(ws: RawWebSocket, opcode: int, chunk: int) -> None:
    length = 300 if chunk < 100 else 65536
    payload = text_payload(length) if opcode == TEXT else os.urandom(length)
    ws.send_split(frame(opcode, payload), chunk=chunk, delay=0.001 if chunk == 1 else 0.0)
    ws.expect_message(opcode, payload)
    ws.close_handshake()


def test_1_x_mask_keys_including_zero_are_honoured(ws: RawWebSocket) -> None:
    for key in (b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\x01\x02\x03\x04"):
        ws.send_frame(BINARY, b"masked payload \x00\xff", mask_key=key)
        ws.expect_message(BINARY, b"masked payload \x00\xff")
    ws.close_handshake()


def test_1_x_unmasked_client_frame_fails_with_1002(ws: RawWebSocket) -> None:
    # RFC 6455 §5.1: "The server MUST close the connection upon receiving a frame that is not masked."
    assert_protocol_error_pattern(ws, frame(TEXT, b"unmasked", masked=False), 1002, one_write=True)


def test_1_x_unmasked_ping_fails_with_1002(ws: RawWebSocket) -> None:
    ws.send(frame(PING, b"unmasked", masked=False))
    ws.expect_close(1002)


def test_1_x_64_bit_length_with_most_significant_bit_set_fails(ws: RawWebSocket) -> None:
    # RFC 6455 §5.2: "the most significant bit MUST be 0" in the 64-bit length.
    header = struct.pack("!BBQ", 0x82, 0x80 | 127, 1 << 63) + b"\x00\x00\x00\x00"
    ws.send(header + b"x" * 16)
    ws.expect_close({1002, 1009})


# MARK: - 2.x Pings and pongs


@pytest.mark.parametrize(
    "payload",
    [b"", b"Hello, world!", bytes([0x00, 0xFF, 0xFE, 0xFD, 0xFC, 0xFB, 0x00, 0xFF]), b"\xfe" * 125],
    ids=["empty", "text", "binary", "125-bytes"],
)
def test_2_x_ping_is_answered_with_pong_of_same_payload(ws: RawWebSocket, payload: bytes) -> None:
    ws.send_frame(PING, payload)
    ws.expect_frame(PONG, payload)
    ws.close_handshake()


def test_2_x_ping_of_125_bytes_sent_byte_by_byte(ws: RawWebSocket) -> None:
    payload = bytes(range(125))
    ws.send_split(frame(PING, payload), chunk=1, delay=0.001)
    ws.expect_frame(PONG, payload)
    ws.close_handshake()


@pytest.mark.parametrize("length", [126, 65535])
def test_2_x_ping_longer_than_125_bytes_fails_with_1002(ws: RawWebSocket, length: int) -> None:
    ws.send_frame(PING, b"\xfe" * length)
    ws.expect_close(1002)


def test_2_x_close_longer_than_125_bytes_fails_with_1002(ws: RawWebSocket) -> None:
    ws.send_frame(CLOSE, close_payload(1000, b"r" * 124))
    ws.expect_close(1002)


def test_2_x_unsolicited_pongs_are_ignored(ws: RawWebSocket) -> None:
    ws.send(frame(PONG, b"") + frame(PONG, b"unsolicited pong payload") + frame(TEXT, b"after pongs"))
    ws.expect_message(TEXT, b"after pongs")
    ws.close_handshake()


def test_2_x_pong_then_ping_gets_only_the_ping_answered(ws: RawWebSocket) -> None:
    ws.send(frame(PONG, b"unsolicited") + frame(PING, b"solicited"))
    ws.expect_frame(PONG, b"solicited")
    ws.expect_nothing()
    ws.close_handshake()


@pytest.mark.parametrize("chunk", [0, 1], ids=["one-write", "byte-by-byte"])
def test_2_x_ten_pings_are_answered_in_order(ws: RawWebSocket, chunk: int) -> None:
    data = b"".join(frame(PING, f"payload-{index}".encode()) for index in range(10))
    if chunk:
        ws.send_split(data, chunk=1)
    else:
        ws.send(data)
    for index in range(10):
        ws.expect_frame(PONG, f"payload-{index}".encode())
    ws.close_handshake()


# MARK: - 3.x Reserved bits


RESERVED_BIT_CASES = [
    pytest.param(1, TEXT, b"rsv3", id="rsv3-text"),
    pytest.param(2, TEXT, b"rsv2", id="rsv2-text"),
    pytest.param(3, TEXT, b"rsv2+3", id="rsv2+3-text"),
    pytest.param(4, TEXT, b"rsv1-without-deflate", id="rsv1-text"),
    pytest.param(5, TEXT, b"rsv1+3", id="rsv1+3-text"),
    pytest.param(6, TEXT, b"rsv1+2", id="rsv1+2-text"),
    pytest.param(7, TEXT, b"all", id="rsv1+2+3-text"),
    pytest.param(4, BINARY, b"\x00\xff", id="rsv1-binary"),
    pytest.param(2, BINARY, b"\x00\xff", id="rsv2-binary"),
    pytest.param(1, PING, b"ping", id="rsv3-ping"),
    pytest.param(4, PING, b"ping", id="rsv1-ping"),
    pytest.param(2, PONG, b"pong", id="rsv2-pong"),
    pytest.param(4, CLOSE, close_payload(1000), id="rsv1-close"),
    pytest.param(1, CLOSE, close_payload(1000), id="rsv3-close"),
]


@pytest.mark.parametrize("one_write", [True, False], ids=["one-write", "separate-writes"])
@pytest.mark.parametrize("rsv,opcode,payload", RESERVED_BIT_CASES)
def test_3_x_reserved_bits_without_extension_fail_with_1002(
    ws: RawWebSocket, rsv: int, opcode: int, payload: bytes, one_write: bool
) -> None:
    assert_protocol_error_pattern(ws, frame(opcode, payload, rsv=rsv), 1002, one_write)


# MARK: - 4.x Opcodes


@pytest.mark.parametrize("payload", [b"", b"reserved opcode payload"], ids=["empty", "payload"])
@pytest.mark.parametrize("opcode", [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF], ids=lambda value: f"opcode-{value:#x}")
def test_4_x_reserved_opcodes_fail_with_1002(ws: RawWebSocket, opcode: int, payload: bytes) -> None:
    assert_protocol_error_pattern(ws, frame(opcode, payload), 1002, one_write=True)


def test_4_x_reserved_opcode_as_continuation_of_fragmented_message_fails(ws: RawWebSocket) -> None:
    ws.send(frame(TEXT, b"fragment1", fin=False) + frame(5, b"fragment2"))
    ws.expect_close(1002)


# MARK: - 5.x Fragmentation


@pytest.mark.parametrize("opcode", [PING, PONG, CLOSE], ids=["ping", "pong", "close"])
def test_5_x_fragmented_control_frame_fails_with_1002(ws: RawWebSocket, opcode: int) -> None:
    payload = close_payload(1000) if opcode == CLOSE else b"fragment1"
    bad = frame(opcode, payload, fin=False) + frame(CONTINUATION, b"fragment2")
    assert_protocol_error_pattern(ws, bad, 1002, one_write=True)


@pytest.mark.parametrize("delay", [0.0, 0.1], ids=["one-write", "with-pauses"])
@pytest.mark.parametrize("opcode", [TEXT, BINARY], ids=["text", "binary"])
def test_5_x_message_in_two_fragments_is_echoed_whole(ws: RawWebSocket, opcode: int, delay: float) -> None:
    first, second = frame(opcode, b"fragment1", fin=False), frame(CONTINUATION, b"fragment2")
    if delay:
        ws.send(first)
        time.sleep(delay)
        ws.expect_nothing(0.05)
        ws.send(second)
    else:
        ws.send(first + second)
    ws.expect_message(opcode, b"fragment1fragment2")
    ws.close_handshake()


def test_5_x_ping_between_fragments_is_answered_first(ws: RawWebSocket) -> None:
    ws.send(frame(TEXT, b"fragment1", fin=False) + frame(PING, b"between") + frame(CONTINUATION, b"fragment2"))
    ws.expect_frame(PONG, b"between")
    ws.expect_message(TEXT, b"fragment1fragment2")
    ws.close_handshake()


@pytest.mark.parametrize("opcode", [TEXT, BINARY], ids=["text", "binary"])
def test_5_x_pings_between_fragments_are_answered_in_place(ws: RawWebSocket, opcode: int) -> None:
    """Each pong arrives while the message is still incomplete (before the next fragment is sent)."""
    fragments = [f"fragment{index}".encode() for index in range(1, 6)]
    for index, fragment in enumerate(fragments):
        last = index == len(fragments) - 1
        ws.send(frame(opcode if index == 0 else CONTINUATION, fragment, fin=last))
        if not last:
            ws.send(frame(PING, f"ping{index}".encode()) + frame(PONG, b"unsolicited"))
            ws.expect_frame(PONG, f"ping{index}".encode())
            time.sleep(0.02)
    ws.expect_message(opcode, b"".join(fragments))
    ws.close_handshake()


@pytest.mark.parametrize("fin", [True, False], ids=["fin", "not-fin"])
def test_5_x_continuation_without_message_fails_with_1002(ws: RawWebSocket, fin: bool) -> None:
    assert_protocol_error_pattern(ws, frame(CONTINUATION, b"non-continuation payload", fin=fin), 1002, one_write=True)


def test_5_x_continuation_after_completed_message_fails_with_1002(ws: RawWebSocket) -> None:
    ws.send(frame(TEXT, b"complete") + frame(CONTINUATION, b"orphan") + frame(TEXT, b"after"))
    ws.expect_message(TEXT, b"complete")
    ws.expect_close(1002)


def test_5_x_fragmented_message_then_stray_continuations_fails(ws: RawWebSocket) -> None:
    # Autobahn 5.15: a complete fragmented message, then a continuation with no message in progress.
    ws.send(
        frame(TEXT, b"fragment1", fin=False) + frame(CONTINUATION, b"fragment2")
        + frame(CONTINUATION, b"fragment3", fin=False) + frame(TEXT, b"fragment4")
    )
    ws.expect_message(TEXT, b"fragment1fragment2")
    ws.expect_close(1002)


@pytest.mark.parametrize(
    "second",
    [(TEXT, True), (TEXT, False), (BINARY, True), (BINARY, False)],
    ids=["text-fin", "text-not-fin", "binary-fin", "binary-not-fin"],
)
def test_5_x_new_message_during_fragmented_message_fails_with_1002(ws: RawWebSocket, second: tuple[int, bool]) -> None:
    opcode, fin = second
    ws.send(frame(TEXT, b"fragment1", fin=False) + frame(opcode, b"fragment2", fin=fin) + frame(CONTINUATION, b"x"))
    ws.expect_close(1002)


@pytest.mark.parametrize(
    "parts,expected",
    [
        ([b"", b"", b""], b""),
        ([b"", b"abc", b""], b"abc"),
        ([b"abc", b"", b"def"], b"abcdef"),
        ([b""], b""),
    ],
    ids=["all-empty", "empty-first-and-last", "empty-middle", "empty-message"],
)
@pytest.mark.parametrize("opcode", [TEXT, BINARY], ids=["text", "binary"])
def test_5_x_zero_length_fragments_are_legal(ws: RawWebSocket, opcode: int, parts: list[bytes], expected: bytes) -> None:
    data = b"".join(
        frame(opcode if index == 0 else CONTINUATION, part, fin=index == len(parts) - 1)
        for index, part in enumerate(parts)
    )
    ws.send(data)
    ws.expect_message(opcode, expected)
    ws.close_handshake()


@pytest.mark.timeout(60)
@pytest.mark.parametrize("opcode", [TEXT, BINARY], ids=["text", "binary"])
def test_5_x_many_thousands_of_fragments(ws: RawWebSocket, opcode: int) -> None:
    generator = random.Random(5)
    message = bytearray()
    parts = []
    for index in range(20000):
        size = generator.choice([0, 1, 1, 2, 3, 7, 16])
        piece = text_payload(size) if opcode == TEXT else bytes(generator.randrange(256) for _ in range(size))
        message += piece
        parts.append(frame(opcode if index == 0 else CONTINUATION, piece, fin=False))
    parts.append(frame(CONTINUATION, b"end"))
    message += b"end"
    thread = ws.send_in_background(b"".join(parts), chunk=64 * KIB)
    ws.expect_message(opcode, bytes(message))
    thread.join(5)
    ws.close_handshake()


# MARK: - Opening handshake (RFC 6455 §4.2)


def test_handshake_with_unsupported_version_is_rejected_with_supported_version(server: RunningServer) -> None:
    with RawWebSocket(server.port) as connection:
        status = connection.handshake("/echo", version="8")
        assert status != 101
        assert 400 <= status < 500
        assert "13" in (connection.header("Sec-WebSocket-Version") or ""), "no Sec-WebSocket-Version: 13 in the rejection"


@pytest.mark.parametrize("key", ["", "abc", "AAAAAAAAAAAAAAAAAAAAAAAAAAAA"], ids=["empty", "short", "not-16-bytes"])
def test_handshake_with_bad_key_is_400(server: RunningServer, key: str) -> None:
    with RawWebSocket(server.port) as connection:
        status = connection.handshake("/echo", key=key)
        assert status == 400


def test_handshake_accept_is_derived_from_key(server: RunningServer) -> None:
    # The RFC 6455 §1.3 example: key dGhlIHNhbXBsZSBub25jZQ== gives s3pPLMBiTxaQ9kYGzzhZRbK+xOo=.
    with RawWebSocket(server.port) as connection:
        assert connection.handshake("/echo", key="dGhlIHNhbXBsZSBub25jZQ==") == 101
        assert connection.header("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        connection.close_handshake()


def test_frames_sent_with_the_handshake_are_processed(server: RunningServer) -> None:
    """Frames pipelined right behind the upgrade request must not be lost."""
    key = base64.b64encode(os.urandom(16)).decode()
    with RawWebSocket(server.port) as connection:
        request = (
            f"GET /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
        connection.send(request + frame(TEXT, b"early bird"))
        while b"\r\n\r\n" not in connection.buffer:
            assert connection._fill()
        head, rest = bytes(connection.buffer).split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101")
        connection.buffer = bytearray(rest)
        connection.expect_message(TEXT, b"early bird")
        connection.close_handshake()


def test_mask_helper_round_trips() -> None:
    key = b"\x37\xfa\x21\x3d"
    assert mask(mask(b"Hello", key), key) == b"Hello"
    assert frame(TEXT, b"Hello", mask_key=key) == b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58"
