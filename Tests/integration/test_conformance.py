"""RFC 6455 / RFC 7692 conformance of `/echo`, in the spirit of the Autobahn testsuite.

Cases are grouped like Autobahn's (1.x framing, 2.x ping/pong, 3.x reserved bits, 4.x opcodes,
5.x fragmentation, 6.x UTF-8, 7.x close, 9.x sizes, 12.x/13.x permessage-deflate) plus the rules of
/work/shared/CONFORMANCE.md. A raw client sends exact bytes, often split across TCP writes, and checks
the exact frames that come back and that the server closes TCP after a close handshake.
"""

from __future__ import annotations

import os
import random
import struct
import time
import zlib

import pytest

from conftest import RunningServer
from raw_websocket import (
    BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, RawWebSocket, close_payload, deflate, frame, inflate,
    mask, open_websocket,
)

KIB, MIB = 1024, 1024 * 1024
MESSAGE_LIMIT = 32 * MIB


@pytest.fixture
def ws(server: RunningServer):
    connection = open_websocket(server.port)
    assert not connection.deflate
    yield connection
    connection.close()


@pytest.fixture
def deflate_ws(server: RunningServer):
    connection = open_websocket(server.port, extensions="permessage-deflate")
    assert connection.deflate, "permessage-deflate offered but not negotiated"
    yield connection
    connection.close()


def text_payload(length: int) -> bytes:
    return (b"Hello, Syndicast! " * (length // 18 + 1))[:length]


def assert_protocol_error_pattern(ws: RawWebSocket, bad: bytes, code: int, one_write: bool) -> None:
    """Send a valid message, the bad bytes, then another valid message.

    Expect the first echoed, then a close with `code`, and the message after the bad frame never
    echoed (frames are processed in arrival order and nothing after a protocol error is acted on).
    """
    before = frame(TEXT, b"before")
    after = frame(TEXT, b"after") + frame(PING, b"after-ping")
    if one_write:
        ws.send(before + bad + after)
        ws.expect_message(TEXT, b"before")
    else:
        ws.send(before)
        ws.expect_message(TEXT, b"before")
        ws.send(bad)
        time.sleep(0.05)
        try:
            ws.send(after)
        except OSError:
            pass
    ws.expect_close(code)


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


# MARK: - 6.x UTF-8


VALID_UTF8 = [
    pytest.param("Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!".encode(), id="latin"),
    pytest.param("\u03ba\u1f79\u03c3\u03bc\u03b5".encode(), id="kosme"),
    pytest.param("\u0080\u07ff\u0800\uffff".encode(), id="bmp-boundaries"),
    pytest.param("\U00010000\U0010ffff".encode(), id="supplementary-boundaries"),
    pytest.param("\ud7ff\ue000\ufffd\ufeff\ufffe".encode("utf-8", "surrogatepass"), id="around-surrogates"),
    pytest.param("emoji \U0001F600 and \u20ac".encode(), id="emoji-euro"),
    pytest.param(b"\x00\x7f", id="ascii-ends"),
]


@pytest.mark.parametrize("mode", ["whole", "fragment-per-byte", "tcp-byte-by-byte"])
@pytest.mark.parametrize("payload", VALID_UTF8)
def test_6_x_valid_utf8_is_echoed(ws: RawWebSocket, payload: bytes, mode: str) -> None:
    if mode == "whole":
        ws.send_frame(TEXT, payload)
    elif mode == "fragment-per-byte":
        ws.send(b"".join(
            frame(TEXT if index == 0 else CONTINUATION, payload[index:index + 1], fin=index == len(payload) - 1)
            for index in range(len(payload))
        ))
    else:
        ws.send_split(frame(TEXT, payload), chunk=1, delay=0.002)
    ws.expect_message(TEXT, payload)
    ws.close_handshake()


INVALID_UTF8 = [
    pytest.param(b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64", id="surrogate-mid-text"),
    pytest.param(b"\x80", id="lone-continuation-80"),
    pytest.param(b"\xbf", id="lone-continuation-bf"),
    pytest.param(b"\x80\xbf\x80\xbf", id="continuations-only"),
    pytest.param(b"\xc0\xaf", id="overlong-2-byte-c0"),
    pytest.param(b"\xc1\xbf", id="overlong-2-byte-c1"),
    pytest.param(b"\xe0\x80\xaf", id="overlong-3-byte"),
    pytest.param(b"\xe0\x9f\xbf", id="overlong-3-byte-max"),
    pytest.param(b"\xf0\x80\x80\xaf", id="overlong-4-byte"),
    pytest.param(b"\xf0\x8f\xbf\xbf", id="overlong-4-byte-max"),
    pytest.param(b"\xf8\x88\x80\x80\x80", id="5-byte-form"),
    pytest.param(b"\xfc\x84\x80\x80\x80\x80", id="6-byte-form"),
    pytest.param(b"\xfe", id="byte-fe"),
    pytest.param(b"\xff", id="byte-ff"),
    pytest.param(b"\xfe\xfe\xff\xff", id="bom-like-fe-ff"),
    pytest.param(b"\xed\xa0\x80", id="surrogate-d800"),
    pytest.param(b"\xed\xbf\xbf", id="surrogate-dfff"),
    pytest.param(b"\xed\xa0\x80\xed\xb0\x80", id="surrogate-pair"),
    pytest.param(b"\xf4\x90\x80\x80", id="above-10ffff"),
    pytest.param(b"\xf5\x80\x80\x80", id="lead-f5"),
    pytest.param(b"\xf7\xbf\xbf\xbf", id="lead-f7"),
    pytest.param(b"\xc3\x28", id="bad-continuation-2"),
    pytest.param(b"\xe2\x28\xa1", id="bad-continuation-3a"),
    pytest.param(b"\xe2\x82\x28", id="bad-continuation-3b"),
    pytest.param(b"\xf0\x28\x8c\xbc", id="bad-continuation-4"),
    pytest.param(b"\xce", id="truncated-2-byte"),
    pytest.param(b"\xe1\xbd", id="truncated-3-byte"),
    pytest.param(b"\xf0\x90\x80", id="truncated-4-byte"),
    pytest.param(b"Hello \xc3", id="truncated-after-ascii"),
]


@pytest.mark.parametrize("mode", ["whole", "fragment-per-byte", "tcp-byte-by-byte"])
@pytest.mark.parametrize("payload", INVALID_UTF8)
def test_6_x_invalid_utf8_fails_with_1007(ws: RawWebSocket, payload: bytes, mode: str) -> None:
    if mode == "whole":
        ws.send_frame(TEXT, payload)
    elif mode == "fragment-per-byte":
        data = b"".join(
            frame(TEXT if index == 0 else CONTINUATION, payload[index:index + 1], fin=index == len(payload) - 1)
            for index in range(len(payload))
        )
        try:
            ws.send(data)
        except OSError:
            pass
    else:
        try:
            ws.send_split(frame(TEXT, payload), chunk=1, delay=0.002)
        except OSError:
            pass
    ws.expect_close(1007)


def test_6_x_invalid_utf8_in_binary_message_is_echoed(ws: RawWebSocket) -> None:
    payload = b"\xed\xa0\x80\xff\xc0\xaf"
    ws.send_frame(BINARY, payload)
    ws.expect_message(BINARY, payload)
    ws.close_handshake()


def test_6_x_message_ending_in_incomplete_sequence_after_empty_final_fragment_fails(ws: RawWebSocket) -> None:
    ws.send(frame(TEXT, b"abc\xe2\x82", fin=False) + frame(CONTINUATION, b""))
    ws.expect_close(1007)


FAIL_FAST_PREFIXES = [
    pytest.param(b"Hello\xc0", id="c0"),
    pytest.param(b"Hello\xc1", id="c1"),
    pytest.param(b"Hello\xf5", id="f5"),
    pytest.param(b"Hello\xff", id="ff"),
    pytest.param(b"Hello\x80", id="lone-continuation"),
    pytest.param(b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0", id="surrogate-start"),
    pytest.param(b"Hello\xe0\x80", id="overlong-3-byte-start"),
    pytest.param(b"Hello\xf0\x80", id="overlong-4-byte-start"),
    pytest.param(b"Hello\xf4\x90", id="above-10ffff-start"),
    pytest.param(b"Hello\xc3\x28", id="bad-continuation"),
]


@pytest.mark.parametrize("prefix", FAIL_FAST_PREFIXES)
def test_6_x_invalid_utf8_fails_fast_inside_one_frame(ws: RawWebSocket, prefix: bytes) -> None:
    """The frame announces 1000 more bytes than are sent: the server must not wait for them."""
    payload = prefix + b"a" * 1000
    key = b"\x11\x22\x33\x44"
    whole = frame(TEXT, payload, mask_key=key)
    header_length = len(whole) - len(payload)
    ws.send(whole[: header_length + len(prefix)])
    ws.expect_close(1007)


@pytest.mark.parametrize("prefix", FAIL_FAST_PREFIXES)
def test_6_x_invalid_utf8_fails_fast_in_first_fragment(ws: RawWebSocket, prefix: bytes) -> None:
    """The first fragment is already invalid: the server must not wait for the continuation."""
    ws.send(frame(TEXT, prefix, fin=False))
    ws.expect_close(1007)


def test_6_x_code_point_split_across_fragments_and_reads_is_not_a_false_alarm(ws: RawWebSocket) -> None:
    ws.send(frame(TEXT, b"price \xe2\x82", fin=False))
    ws.expect_nothing(0.3)
    key = b"\x0a\x0b\x0c\x0d"
    last = frame(CONTINUATION, b"\xac \xf0\x9f\x98\x80", mask_key=key)
    header_length = len(last) - 6
    ws.send(last[: header_length + 2])  # "\xac " then "\xf0" — a valid prefix so far
    ws.expect_nothing(0.3)
    ws.send(last[header_length + 2:])
    ws.expect_message(TEXT, "price \u20ac \U0001F600".encode())
    ws.close_handshake()


# MARK: - 7.x Close handshake


def test_7_x_echo_then_close(ws: RawWebSocket) -> None:
    ws.send_frame(TEXT, b"Hello World!")
    ws.expect_message(TEXT, b"Hello World!")
    ws.close_handshake(1000)


def test_7_x_empty_close_is_answered_with_1000(ws: RawWebSocket) -> None:
    ws.send_frame(CLOSE, b"")
    got = ws.read_frame()
    assert got.opcode == CLOSE and got.close_code == 1000, got.describe()
    ws.expect_tcp_closed()


def test_7_x_second_close_is_not_answered(ws: RawWebSocket) -> None:
    ws.send(frame(CLOSE, close_payload(1000)) + frame(CLOSE, close_payload(1001)))
    got = ws.read_frame()
    assert got.opcode == CLOSE and got.close_code == 1000, got.describe()
    ws.expect_tcp_closed()


@pytest.mark.parametrize(
    "after",
    [frame(PING, b"after close"), frame(TEXT, b"after close"), frame(TEXT, b"after", fin=False)],
    ids=["ping", "text", "fragment"],
)
def test_7_x_frames_after_close_are_ignored(ws: RawWebSocket, after: bytes) -> None:
    ws.send(frame(CLOSE, close_payload(1000)) + after)
    got = ws.read_frame()
    assert got.opcode == CLOSE and got.close_code == 1000, got.describe()
    ws.expect_tcp_closed()


@pytest.mark.parametrize("code", [1000, 4000])
def test_7_x_close_during_fragmented_message_is_answered_with_peer_code(ws: RawWebSocket, code: int) -> None:
    ws.send(frame(TEXT, b"fragment1", fin=False) + frame(CLOSE, close_payload(code)))
    got = ws.read_frame()
    assert got.opcode == CLOSE and got.close_code == code, f"expected close {code}, got {got.describe()}"
    ws.expect_tcp_closed()


def test_7_x_one_byte_close_payload_fails_with_1002(ws: RawWebSocket) -> None:
    ws.send_frame(CLOSE, b"\x03")
    ws.expect_close(1002)


@pytest.mark.parametrize("reason", [b"", b"Hello World!", "\u00b5\u20ac".encode(), b"r" * 123], ids=["none", "ascii", "utf8", "123-bytes"])
def test_7_x_close_with_valid_reason_is_echoed(ws: RawWebSocket, reason: bytes) -> None:
    ws.close_handshake(1000, reason)


@pytest.mark.parametrize(
    "reason",
    [b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64", b"bye \xff", b"bye \xe2\x82"],
    ids=["surrogate", "byte-ff", "truncated"],
)
def test_7_x_close_reason_with_invalid_utf8_fails_with_1007(ws: RawWebSocket, reason: bytes) -> None:
    ws.send_frame(CLOSE, close_payload(1000, reason))
    ws.expect_close(1007)


VALID_CLOSE_CODES = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999]
INVALID_CLOSE_CODES = [0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]


@pytest.mark.parametrize("code", VALID_CLOSE_CODES)
def test_7_x_valid_close_code_is_echoed(ws: RawWebSocket, code: int) -> None:
    ws.close_handshake(code)


@pytest.mark.parametrize("code", INVALID_CLOSE_CODES)
def test_7_x_invalid_close_code_fails_with_1002(ws: RawWebSocket, code: int) -> None:
    ws.send_frame(CLOSE, close_payload(code))
    ws.expect_close(1002)


def test_7_x_close_frame_split_across_tcp_writes(ws: RawWebSocket) -> None:
    ws.send_split(frame(CLOSE, close_payload(3000, b"split")), chunk=1, delay=0.002)
    got = ws.read_frame()
    assert got.opcode == CLOSE and got.close_code == 3000, got.describe()
    ws.expect_tcp_closed()


# MARK: - 9.x Sizes and throughput (bounded)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("size", [64 * KIB, 256 * KIB, 1 * MIB, 4 * MIB, 16 * MIB], ids=["64k", "256k", "1m", "4m", "16m"])
@pytest.mark.parametrize("opcode", [TEXT, BINARY], ids=["text", "binary"])
def test_9_x_large_single_frame_message_is_echoed(ws: RawWebSocket, opcode: int, size: int) -> None:
    payload = text_payload(size) if opcode == TEXT else os.urandom(size)
    thread = ws.send_in_background(frame(opcode, payload))
    ws.sock.settimeout(30)
    ws.expect_message(opcode, payload)
    thread.join(5)
    ws.close_handshake()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("fragment", [64, 256, 1 * KIB, 4 * KIB, 64 * KIB, 1 * MIB], ids=["64", "256", "1k", "4k", "64k", "1m"])
@pytest.mark.parametrize("opcode", [TEXT, BINARY], ids=["text", "binary"])
def test_9_x_4_mib_message_in_fragments_is_echoed(ws: RawWebSocket, opcode: int, fragment: int) -> None:
    size = 4 * MIB
    payload = text_payload(size) if opcode == TEXT else os.urandom(size)
    count = size // fragment
    data = b"".join(
        frame(opcode if index == 0 else CONTINUATION, payload[index * fragment:(index + 1) * fragment], fin=index == count - 1, mask_key=b"\x01\x02\x03\x04")
        for index in range(count)
    )
    thread = ws.send_in_background(data)
    ws.sock.settimeout(30)
    ws.expect_message(opcode, payload)
    thread.join(5)
    ws.close_handshake()


@pytest.mark.timeout(120)
def test_9_x_message_of_exactly_32_mib_is_accepted(ws: RawWebSocket) -> None:
    payload = os.urandom(MESSAGE_LIMIT)
    thread = ws.send_in_background(frame(BINARY, payload))
    ws.sock.settimeout(60)
    ws.expect_message(BINARY, payload)
    thread.join(5)
    ws.close_handshake()


def test_9_x_frame_announcing_more_than_32_mib_fails_with_1009_before_payload(ws: RawWebSocket) -> None:
    header = frame(BINARY, b"", declared_length=MESSAGE_LIMIT + 1)
    ws.send(header + b"\x00" * 1024)
    ws.expect_close(1009)


@pytest.mark.timeout(120)
def test_9_x_fragmented_message_over_32_mib_fails_with_1009(ws: RawWebSocket) -> None:
    chunk = os.urandom(MIB)
    data = frame(BINARY, chunk, fin=False) + b"".join(frame(CONTINUATION, chunk, fin=False) for _ in range(33))
    ws.send_in_background(data)
    ws.sock.settimeout(30)
    ws.expect_close(1009)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("count,size", [(1000, 16), (2000, 100), (100, 64 * KIB)], ids=["1000x16", "2000x100", "100x64k"])
def test_9_x_many_messages_in_one_write_are_echoed_in_order(ws: RawWebSocket, count: int, size: int) -> None:
    messages = [f"{index:08d}".encode() + text_payload(max(0, size - 8)) for index in range(count)]
    thread = ws.send_in_background(b"".join(frame(TEXT, message) for message in messages), chunk=256 * KIB)
    for message in messages:
        ws.expect_message(TEXT, message)
    thread.join(5)
    ws.close_handshake()


# MARK: - 12.x / 13.x permessage-deflate: negotiation


def assert_deflate_accepted(connection: RawWebSocket, offered_client_bits: bool = False) -> dict[str, str | None]:
    extensions = connection.negotiated_extensions()
    assert len(extensions) == 1 and extensions[0][0] == "permessage-deflate", f"got {connection.header('Sec-WebSocket-Extensions')!r}"
    params = extensions[0][1]
    assert "server_no_context_takeover" in params, f"no server_no_context_takeover in {params}"
    assert set(params) <= {"server_no_context_takeover", "client_no_context_takeover", "server_max_window_bits", "client_max_window_bits"}, params
    if "server_max_window_bits" in params:
        assert params["server_max_window_bits"] is not None and 9 <= int(params["server_max_window_bits"]) <= 15, params
    if "client_max_window_bits" in params:
        # RFC 7692 §7.1.2.2: the server MUST NOT include it unless the offer had it.
        assert offered_client_bits, "client_max_window_bits in the response but not in the offer"
        assert params["client_max_window_bits"] is not None and 8 <= int(params["client_max_window_bits"]) <= 15, params
    return params


def round_trip_compressed(connection: RawWebSocket, client_bits: int = 15) -> None:
    message = text_payload(3000)
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -client_bits)
    connection.send_frame(TEXT, deflate(message, compressor), rsv=4)
    connection.expect_message(TEXT, message)


ACCEPTED_OFFERS = [
    pytest.param("permessage-deflate", id="plain"),
    pytest.param("permessage-deflate; client_max_window_bits", id="client_max_window_bits-no-value"),
    pytest.param("permessage-deflate; client_max_window_bits=15", id="client_max_window_bits-15"),
    pytest.param("permessage-deflate; client_max_window_bits=9", id="client_max_window_bits-9"),
    pytest.param('permessage-deflate; client_max_window_bits="10"', id="client_max_window_bits-quoted"),
    pytest.param("permessage-deflate; server_no_context_takeover", id="server_no_context_takeover"),
    pytest.param("permessage-deflate; client_no_context_takeover", id="client_no_context_takeover"),
    pytest.param("permessage-deflate; server_max_window_bits=15", id="server_max_window_bits-15"),
    pytest.param("permessage-deflate; server_max_window_bits=9", id="server_max_window_bits-9"),
    pytest.param('permessage-deflate; server_max_window_bits="12"', id="server_max_window_bits-quoted"),
    pytest.param("permessage-deflate;client_max_window_bits;server_no_context_takeover", id="no-spaces"),
    pytest.param(
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=12",
        id="all-parameters",
    ),
    pytest.param("x-webkit-deflate-frame, permessage-deflate", id="after-unknown-extension"),
]


@pytest.mark.parametrize("offer", ACCEPTED_OFFERS)
def test_13_x_deflate_offer_is_accepted(server: RunningServer, offer: str) -> None:
    with open_websocket(server.port, extensions=offer) as connection:
        params = assert_deflate_accepted(connection, offered_client_bits="client_max_window_bits" in offer)
        if "server_max_window_bits" in offer:
            # RFC 7692 §7.1.2.1: accepted by including server_max_window_bits with the same or a smaller value.
            offered = int(offer.split("server_max_window_bits=")[1].split(";")[0].strip('"'))
            assert params.get("server_max_window_bits") is not None, "server_max_window_bits missing from response"
            assert int(params["server_max_window_bits"]) <= offered
        client_bits = 15
        if "client_max_window_bits=" in offer:
            client_bits = int(offer.split("client_max_window_bits=")[1].split(";")[0].strip('"'))
        if params.get("client_max_window_bits"):
            client_bits = min(client_bits, int(params["client_max_window_bits"] or "15"))
        round_trip_compressed(connection, max(9, client_bits))
        connection.close_handshake()


DECLINED_OFFERS = [
    pytest.param("permessage-deflate; server_max_window_bits=8", id="server_max_window_bits-8"),
    pytest.param("permessage-deflate; server_max_window_bits=7", id="server_max_window_bits-7"),
    pytest.param("permessage-deflate; server_max_window_bits=16", id="server_max_window_bits-16"),
    pytest.param("permessage-deflate; server_max_window_bits=abc", id="server_max_window_bits-text"),
    pytest.param("permessage-deflate; server_max_window_bits", id="server_max_window_bits-no-value"),
    pytest.param("permessage-deflate; client_max_window_bits=7", id="client_max_window_bits-7"),
    pytest.param("permessage-deflate; client_max_window_bits=16", id="client_max_window_bits-16"),
    pytest.param("permessage-deflate; client_max_window_bits=x", id="client_max_window_bits-text"),
    pytest.param("permessage-deflate; server_no_context_takeover=1", id="server_no_context_takeover-with-value"),
    pytest.param("permessage-deflate; client_no_context_takeover=yes", id="client_no_context_takeover-with-value"),
    pytest.param("permessage-deflate; server_no_context_takeover; server_no_context_takeover", id="duplicate-server_no_context_takeover"),
    pytest.param("permessage-deflate; client_no_context_takeover; client_no_context_takeover", id="duplicate-client_no_context_takeover"),
    pytest.param("permessage-deflate; client_max_window_bits; client_max_window_bits=10", id="duplicate-client_max_window_bits"),
    pytest.param("permessage-deflate; server_max_window_bits=10; server_max_window_bits=10", id="duplicate-server_max_window_bits"),
    pytest.param("permessage-deflate; foo=bar", id="unknown-parameter"),
    pytest.param("permessage-deflate; mux", id="unknown-flag"),
]


@pytest.mark.parametrize("offer", DECLINED_OFFERS)
def test_13_x_invalid_or_unhonourable_offer_is_declined_not_failed(server: RunningServer, offer: str) -> None:
    with open_websocket(server.port, extensions=offer) as connection:
        assert connection.negotiated_extensions() == [], f"{offer!r} answered {connection.header('Sec-WebSocket-Extensions')!r}"
        connection.send_frame(TEXT, b"plain")
        connection.expect_message(TEXT, b"plain")
        connection.close_handshake()


@pytest.mark.parametrize("offer", DECLINED_OFFERS)
def test_13_x_declined_offer_followed_by_valid_offer_accepts_the_next(server: RunningServer, offer: str) -> None:
    fallback = "permessage-deflate; client_max_window_bits"
    with open_websocket(server.port, extensions=f"{offer}, {fallback}") as connection:
        params = assert_deflate_accepted(connection, offered_client_bits=True)
        assert params.get("server_max_window_bits") is None, f"answered the declined offer: {params}"
        round_trip_compressed(connection)
        connection.close_handshake()


def test_13_x_offers_in_separate_header_lines(server: RunningServer) -> None:
    lines = ["permessage-deflate; server_max_window_bits=8", "permessage-deflate; client_max_window_bits"]
    with open_websocket(server.port, extensions=lines) as connection:
        params = assert_deflate_accepted(connection, offered_client_bits=True)
        assert params.get("server_max_window_bits") is None
        round_trip_compressed(connection)
        connection.close_handshake()


def test_13_x_only_unknown_extension_gets_none(server: RunningServer) -> None:
    with open_websocket(server.port, extensions="x-unknown-extension; a=1") as connection:
        assert connection.header("Sec-WebSocket-Extensions") is None
        connection.close_handshake()


# MARK: - 12.x / 13.x permessage-deflate: messages


@pytest.mark.parametrize("opcode", [TEXT, BINARY], ids=["text", "binary"])
def test_12_x_compressed_message_is_echoed(deflate_ws: RawWebSocket, opcode: int) -> None:
    message = b"Hello, compressed world! " * 20
    deflate_ws.send_frame(opcode, deflate(message), rsv=4)
    deflate_ws.expect_message(opcode, message)
    deflate_ws.close_handshake()


def test_12_x_uncompressed_message_on_deflate_connection_is_echoed(deflate_ws: RawWebSocket) -> None:
    deflate_ws.send_frame(TEXT, b"not compressed")
    deflate_ws.expect_message(TEXT, b"not compressed")
    deflate_ws.close_handshake()


@pytest.mark.parametrize("payload", [b"", b"\x00", b"\x02\x00"], ids=["empty-payload", "empty-stored-block", "empty-fixed-block"])
def test_12_x_compressed_empty_message(deflate_ws: RawWebSocket, payload: bytes) -> None:
    assert inflate(payload) == b""
    deflate_ws.send_frame(TEXT, payload, rsv=4)
    deflate_ws.expect_message(TEXT, b"")
    deflate_ws.close_handshake()


def test_12_x_client_context_takeover_is_kept_across_messages(deflate_ws: RawWebSocket) -> None:
    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    message = os.urandom(600).hex().encode()
    first = deflate(message, compressor)
    second = deflate(message, compressor)
    assert len(second) < len(first) // 4, "second message should refer back to the first"
    deflate_ws.send(frame(TEXT, first, rsv=4) + frame(TEXT, second, rsv=4))
    deflate_ws.expect_message(TEXT, message)
    deflate_ws.expect_message(TEXT, message)
    deflate_ws.close_handshake()


def test_12_x_server_uses_no_context_takeover(deflate_ws: RawWebSocket) -> None:
    """Every server message must inflate with a fresh inflater (read_message uses one per message)."""
    message = os.urandom(500).hex().encode()
    for _ in range(3):
        deflate_ws.send_frame(TEXT, deflate(message), rsv=4)
    for _ in range(3):
        deflate_ws.expect_message(TEXT, message)
    deflate_ws.close_handshake()


def test_12_x_client_no_context_takeover_messages(server: RunningServer) -> None:
    with open_websocket(server.port, extensions="permessage-deflate; client_no_context_takeover") as connection:
        assert_deflate_accepted(connection)
        message = text_payload(2000)
        for _ in range(5):
            connection.send_frame(TEXT, deflate(message), rsv=4)
            connection.expect_message(TEXT, message)
        connection.close_handshake()


def test_13_x_server_max_window_bits_is_honoured(server: RunningServer) -> None:
    """With server_max_window_bits=9, no back-reference may reach further than 512 bytes."""
    with open_websocket(server.port, extensions="permessage-deflate; server_max_window_bits=9") as connection:
        params = assert_deflate_accepted(connection)
        assert params.get("server_max_window_bits") == "9"
        block = os.urandom(1500).hex().encode()  # 3000 bytes, repeated at distance 3000
        message = block + block + block
        connection.send_frame(TEXT, deflate(message), rsv=4)
        try:
            connection.expect_message(TEXT, message)
        except zlib.error as error:
            raise AssertionError(f"server output needs a window larger than 2^9: {error}")
        connection.close_handshake()


@pytest.mark.parametrize("pieces", [2, 10, 100])
def test_12_x_compressed_fragmented_message_is_echoed(deflate_ws: RawWebSocket, pieces: int) -> None:
    message = text_payload(20000) + os.urandom(200).hex().encode()
    compressed = deflate(message)
    size = -(-len(compressed) // pieces)
    chunks = [compressed[index:index + size] for index in range(0, len(compressed), size)]
    data = b"".join(
        frame(TEXT if index == 0 else CONTINUATION, chunk, fin=index == len(chunks) - 1, rsv=4 if index == 0 else 0)
        for index, chunk in enumerate(chunks)
    )
    deflate_ws.send(data)
    deflate_ws.expect_message(TEXT, message)
    deflate_ws.close_handshake()


def test_12_x_compressed_fragments_with_pings_answered_in_place(deflate_ws: RawWebSocket) -> None:
    message = text_payload(5000)
    compressed = deflate(message)
    third = len(compressed) // 3
    chunks = [compressed[:third], compressed[third:2 * third], compressed[2 * third:]]
    for index, chunk in enumerate(chunks):
        last = index == 2
        deflate_ws.send(frame(TEXT if index == 0 else CONTINUATION, chunk, fin=last, rsv=4 if index == 0 else 0))
        if not last:
            deflate_ws.send_frame(PING, f"p{index}".encode())
            deflate_ws.expect_frame(PONG, f"p{index}".encode())
    deflate_ws.expect_message(TEXT, message)
    deflate_ws.close_handshake()


def test_12_x_rsv1_on_continuation_fails_with_1002(deflate_ws: RawWebSocket) -> None:
    compressed = deflate(text_payload(1000))
    half = len(compressed) // 2
    deflate_ws.send(frame(TEXT, compressed[:half], fin=False, rsv=4) + frame(CONTINUATION, compressed[half:], rsv=4))
    deflate_ws.expect_close(1002)


def test_12_x_rsv1_on_continuation_of_uncompressed_message_fails_with_1002(deflate_ws: RawWebSocket) -> None:
    deflate_ws.send(frame(TEXT, b"plain", fin=False) + frame(CONTINUATION, deflate(b"x"), rsv=4))
    deflate_ws.expect_close(1002)


@pytest.mark.parametrize("opcode", [PING, PONG, CLOSE], ids=["ping", "pong", "close"])
def test_12_x_rsv1_on_control_frame_fails_with_1002(deflate_ws: RawWebSocket, opcode: int) -> None:
    payload = close_payload(1000) if opcode == CLOSE else b"control"
    deflate_ws.send_frame(opcode, payload, rsv=4)
    deflate_ws.expect_close(1002)


@pytest.mark.parametrize("rsv", [2, 1, 6], ids=["rsv2", "rsv3", "rsv1+rsv2"])
def test_12_x_other_reserved_bits_still_fail_with_deflate(deflate_ws: RawWebSocket, rsv: int) -> None:
    deflate_ws.send_frame(TEXT, deflate(b"hello"), rsv=rsv)
    deflate_ws.expect_close(1002)


def test_12_x_compressed_invalid_utf8_fails_with_1007(deflate_ws: RawWebSocket) -> None:
    deflate_ws.send_frame(TEXT, deflate(b"Hello \xed\xa0\x80 world"), rsv=4)
    deflate_ws.expect_close(1007)


def test_12_x_corrupt_deflate_data_fails_the_connection(deflate_ws: RawWebSocket) -> None:
    # RFC 7692 does not name the code; 1007 (inconsistent data) or 1002 are both sensible.
    deflate_ws.send_frame(BINARY, b"\xff\xff\xff\xff\xff\xff", rsv=4)
    deflate_ws.expect_close({1002, 1007})


@pytest.mark.timeout(120)
def test_12_x_compressed_16_mib_message_is_echoed(deflate_ws: RawWebSocket) -> None:
    message = text_payload(16 * MIB)
    thread = deflate_ws.send_in_background(frame(TEXT, deflate(message), rsv=4))
    deflate_ws.sock.settimeout(60)
    deflate_ws.expect_message(TEXT, message)
    thread.join(5)
    deflate_ws.close_handshake()


@pytest.mark.timeout(60)
def test_12_x_decompression_bomb_over_limit_fails_with_1009(deflate_ws: RawWebSocket) -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"\x00" * MIB
    compressed = b"".join(compressor.compress(chunk) for _ in range(40)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    assert len(compressed) < 100 * KIB
    deflate_ws.send_frame(BINARY, compressed[:-4], rsv=4)
    deflate_ws.sock.settimeout(30)
    deflate_ws.expect_close(1009)


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    "offer,fresh_compressor,client_bits",
    [
        ("permessage-deflate", False, 15),
        ("permessage-deflate; client_no_context_takeover", True, 15),
        ("permessage-deflate; client_max_window_bits=9", False, 9),
        ("permessage-deflate; server_max_window_bits=9", False, 15),
    ],
    ids=["default", "client_no_context_takeover", "client_max_window_bits-9", "server_max_window_bits-9"],
)
def test_13_x_many_compressed_messages_of_many_sizes(server: RunningServer, offer: str, fresh_compressor: bool, client_bits: int) -> None:
    generator = random.Random(13)
    words = [b"alpha", b"syndicate", b"investor", b"ranking", b"alert", b"spike", b"\xc2\xb5", b"\xe2\x82\xac"]
    with open_websocket(server.port, extensions=offer) as connection:
        assert_deflate_accepted(connection, offered_client_bits="client_max_window_bits" in offer)
        compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -client_bits)
        messages: list[bytes] = []
        data = bytearray()
        for size in [16, 64, 256, 1024, 4096, 16384, 65536, 262144]:
            for _ in range(10):
                message = b" ".join(generator.choice(words) for _ in range(size // 6 + 1))
                messages.append(message)
                if fresh_compressor:
                    compressor = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -client_bits)
                data += frame(TEXT, deflate(message, compressor), rsv=4)
        thread = connection.send_in_background(bytes(data), chunk=64 * KIB)
        connection.sock.settimeout(30)
        for message in messages:
            connection.expect_message(TEXT, message)
        thread.join(5)
        connection.close_handshake()


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
    import base64

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
