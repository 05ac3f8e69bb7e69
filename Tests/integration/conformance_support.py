"""Shared pieces of the conformance tests: sizes, payloads and the protocol-error pattern."""

from __future__ import annotations

import time

from raw_websocket import PING, TEXT, RawWebSocket, frame

KIB, MIB = 1024, 1024 * 1024
MESSAGE_LIMIT = 32 * MIB


def text_payload(length: int) -> bytes:
    """`length` bytes of repeated ASCII text."""
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
