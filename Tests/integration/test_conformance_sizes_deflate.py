"""RFC 6455 / RFC 7692 conformance of `/echo`, Autobahn-style cases 9.x (sizes, bounded in time)
and 12.x/13.x (permessage-deflate negotiation and compressed messages).
"""

from __future__ import annotations

import os
import random
import zlib

import pytest

from conftest import RunningServer
from conformance_support import KIB, MIB, MESSAGE_LIMIT, text_payload
from raw_websocket import (
    BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, RawWebSocket, close_payload, deflate, frame, inflate,
    open_websocket,
)


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


@pytest.mark.parametrize("limit", [9, 10, 14])
def test_13_x_stream_declines_an_offer_limiting_the_server_window(server: RunningServer, limit: int) -> None:
    """`/ws` compresses each event once with a 15-bit window for every client, so it declines an
    offer that limits the server window (RFC 7692 §5.1) and takes the next one; `/echo` (above)
    honours such offers."""
    offer = f"permessage-deflate; server_max_window_bits={limit}"
    with open_websocket(server.port, path="/ws", extensions=offer) as connection:
        assert connection.negotiated_extensions() == [], connection.header("Sec-WebSocket-Extensions")
        connection.close()
    fallback = "permessage-deflate; client_max_window_bits"
    with open_websocket(server.port, path="/ws", extensions=f"{offer}, {fallback}") as connection:
        params = assert_deflate_accepted(connection, offered_client_bits=True)
        assert params.get("server_max_window_bits") is None, f"answered the declined offer: {params}"
        connection.close()
    with open_websocket(server.port, path="/ws", extensions="permessage-deflate; server_max_window_bits=15") as connection:
        assert_deflate_accepted(connection)
        connection.close()


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
