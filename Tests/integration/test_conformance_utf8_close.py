"""RFC 6455 conformance of `/echo`, Autobahn-style cases 6.x (UTF-8, incremental and fail-fast)
and 7.x (close handshake, close codes and reasons).
"""

from __future__ import annotations

import pytest

from raw_websocket import BINARY, CLOSE, CONTINUATION, PING, TEXT, RawWebSocket, close_payload, frame


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



@pytest.mark.parametrize("opcode", [TEXT, BINARY], ids=["text", "binary"])
def test_7_x_message_then_close_in_one_write_is_echoed_before_close(ws: RawWebSocket, opcode: int) -> None:
    """Frames are processed in arrival order: the message before the close is still echoed."""
    ws.send(frame(opcode, b"last words") + frame(CLOSE, close_payload(1000)))
    ws.expect_message(opcode, b"last words")
    got = ws.read_frame()
    assert got.opcode == CLOSE and got.close_code == 1000, got.describe()
    ws.expect_tcp_closed()

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
