"""Requests decided from their head, browser-origin protection, deadlines and in-order pipelining,
checked against the real binary (issue "Safe by default")."""

from __future__ import annotations

import json
import socket
import subprocess
import time

from raw_http import RawHTTPConnection, exchange, request_bytes
from raw_websocket import RawWebSocket


def post_bytes(path: str, body: bytes, headers: dict[str, str] | None = None, host: str = "127.0.0.1") -> bytes:
    return request_bytes("POST", path, headers=headers or {}, body=body, host=host)


def transaction(index: int, amount: str = "10.00") -> dict:
    return {"id": f"t{index}", "investorId": f"i{index % 7}", "syndicateId": f"s{index % 3}", "amount": amount}


def accepted_count(port: int) -> int:
    response = exchange(port, request_bytes("GET", "/api/stats"))
    assert response.status == 200
    return json.loads(response.body)["transactions"]


# MARK: Host and Origin


def test_a_foreign_host_is_refused_with_421_and_loopback_names_are_served(server) -> None:
    assert exchange(server.port, request_bytes("GET", "/api/stats", host="rebinding.example")).status == 421
    assert exchange(server.port, request_bytes("GET", "/api/stats", host=f"rebinding.example:{server.port}")).status == 421
    for host in ("127.0.0.1", f"127.0.0.1:{server.port}", f"localhost:{server.port}", "LOCALHOST"):
        assert exchange(server.port, request_bytes("GET", "/healthz", host=host)).status == 200, host


def test_allowed_host_names_are_served(start_server) -> None:
    server = start_server(extra_args=["--allowed-host", "syndicast.internal"])
    assert exchange(server.port, request_bytes("GET", "/healthz", host="syndicast.internal:443")).status == 200
    assert exchange(server.port, request_bytes("GET", "/healthz", host="other.internal")).status == 421


def test_a_write_from_a_foreign_origin_is_refused_and_stores_nothing(server) -> None:
    before = accepted_count(server.port)
    body = json.dumps(transaction(1)).encode()
    foreign = {"Content-Type": "application/json", "Origin": "http://evil.example"}
    response = exchange(server.port, post_bytes("/api/transactions", body, foreign))
    assert response.status == 403
    assert json.loads(response.body)["error"]["code"] == "origin_not_allowed"
    publish = json.dumps({"topic": "orders", "data": {"a": 1}}).encode()
    assert exchange(server.port, post_bytes("/api/publish", publish, foreign)).status == 403
    assert accepted_count(server.port) == before
    own = {"Content-Type": "application/json", "Origin": f"http://127.0.0.1:{server.port}"}
    # A browser's Host names the port, and its Origin is that same authority.
    assert exchange(server.port, post_bytes("/api/transactions", body, own, host=f"127.0.0.1:{server.port}")).status == 201
    assert exchange(server.port, post_bytes("/api/transactions", body, own, host="localhost")).status == 403
    no_origin = {"Content-Type": "application/json"}
    assert exchange(server.port, post_bytes("/api/transactions", json.dumps(transaction(2)).encode(), no_origin)).status == 201


def test_streams_refuse_foreign_origins(server) -> None:
    with RawWebSocket(server.port, timeout=5) as ws:
        assert ws.handshake("/ws", headers={"Origin": "http://evil.example"}) == 403
    with RawWebSocket(server.port, timeout=5) as ws:
        assert ws.handshake("/ws", headers={"Origin": f"http://127.0.0.1:{server.port}"}) == 101
    with RawWebSocket(server.port, timeout=5) as ws:
        assert ws.handshake("/ws") == 101
    response = exchange(server.port, request_bytes("GET", "/events", headers={"Origin": "http://evil.example"}))
    assert response.status == 403


def test_allowed_origins_may_write_and_read(start_server) -> None:
    server = start_server(extra_args=["--allowed-origin", "https://ops.example.com"])
    body = json.dumps(transaction(3)).encode()
    headers = {"Content-Type": "application/json", "Origin": "https://ops.example.com"}
    assert exchange(server.port, post_bytes("/api/transactions", body, headers)).status == 201
    with RawWebSocket(server.port, timeout=5) as ws:
        assert ws.handshake("/ws", headers={"Origin": "https://ops.example.com"}) == 101


def test_ingest_without_a_json_media_type_is_415(server) -> None:
    before = accepted_count(server.port)
    body = json.dumps(transaction(4)).encode()
    for headers in ({}, {"Content-Type": "text/plain"}, {"Content-Type": "application/x-www-form-urlencoded"}):
        response = exchange(server.port, post_bytes("/api/transactions", body, headers))
        assert response.status == 415, headers
    assert exchange(server.port, post_bytes("/api/publish", b'{"topic":"t","data":1}', {})).status == 415
    assert accepted_count(server.port) == before


# MARK: Decided from the head


def test_a_refused_write_is_answered_before_its_body_is_sent(start_server) -> None:
    server = start_server(extra_args=["--api-key", "k-123"])
    with RawHTTPConnection(server.port, timeout=5) as connection:
        head = (
            "POST /api/transactions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Content-Length: 8000000\r\nExpect: 100-continue\r\n\r\n"
        )
        connection.send(head.encode())
        response = connection.read_response("POST")
        assert response.status == 401  # no 100 Continue came first, and no body byte was sent
        assert response.header("WWW-Authenticate") == "Bearer"
        assert connection.is_closed_by_peer(5)


def test_publish_larger_than_its_limit_is_413_from_content_length(server) -> None:
    with RawHTTPConnection(server.port, timeout=5) as connection:
        head = (
            "POST /api/publish HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Content-Length: 2000000\r\n\r\n"
        )
        started = time.monotonic()
        connection.send(head.encode())
        response = connection.read_response("POST")
        assert response.status == 413
        assert time.monotonic() - started < 1.0


def test_a_chunked_publish_is_cut_off_at_its_limit(server) -> None:
    with RawHTTPConnection(server.port, timeout=5) as connection:
        head = (
            "POST /api/publish HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"8000\r\n" + b" " * 0x8000 + b"\r\n"
        connection.send(head.encode() + chunk * 3)
        assert connection.read_response("POST").status == 413


def test_unknown_methods_are_501_and_wrong_methods_405(server) -> None:
    assert exchange(server.port, request_bytes("BREW", "/api/rankings")).status == 501
    response = exchange(server.port, request_bytes("DELETE", "/api/rankings"))
    assert response.status == 405
    assert "GET" in (response.header("Allow") or "")
    response = exchange(server.port, request_bytes("PUT", "/index.html", body=b"x"))
    assert response.status == 405
    assert response.header("Allow") == "GET, HEAD"


def test_head_events_has_no_stream_and_keeps_the_connection(server) -> None:
    with RawHTTPConnection(server.port, timeout=5) as connection:
        connection.send(request_bytes("HEAD", "/events") + request_bytes("GET", "/healthz"))
        head = connection.read_response("HEAD")
        assert head.status == 200
        assert head.header("Content-Type") == "text/event-stream"
        after = connection.read_response()
        assert after.status == 200 and b"ok" in after.body


def test_rankings_limit_is_capped_at_top_k(server) -> None:
    for index in range(20):
        body = json.dumps({"investorId": f"cap{index}", "syndicateId": "s", "amount": "1.00"}).encode()
        assert exchange(server.port, post_bytes("/api/transactions", body, {"Content-Type": "application/json"})).status == 201
    response = exchange(server.port, request_bytes("GET", "/api/rankings?limit=1000"))
    assert response.status == 200
    assert len(json.loads(response.body)["top"]) == 5


# MARK: Deadlines


def test_empty_lines_do_not_extend_the_request_deadline(start_server) -> None:
    server = start_server(extra_args=["--request-timeout", "2", "--keep-alive-timeout", "3"], echo=False)
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    started = time.monotonic()
    closed_after = None
    try:
        while time.monotonic() - started < 8:
            try:
                sock.sendall(b"\r\n")
            except OSError:
                closed_after = time.monotonic() - started
                break
            sock.settimeout(0.5)
            try:
                if sock.recv(1024) == b"":
                    closed_after = time.monotonic() - started
                    break
            except socket.timeout:
                pass
            except OSError:
                closed_after = time.monotonic() - started
                break
    finally:
        sock.close()
    assert closed_after is not None, "a trickle of empty lines kept the connection open past both timeouts"
    assert closed_after < 4.0, closed_after


# MARK: Pipelining


def test_pipelined_requests_are_answered_in_order(server) -> None:
    requests = b""
    expected: list[str] = []
    for index in range(24):
        body = json.dumps(transaction(1000 + index)).encode()
        requests += post_bytes("/api/transactions", body, {"Content-Type": "application/json"})
        expected.append("ingest")
        if index % 4 == 0:
            requests += request_bytes("GET", "/healthz")
            expected.append("health")
            requests += request_bytes("GET", "/api/rankings")
            expected.append("rankings")
        if index % 5 == 0:
            requests += post_bytes("/api/transactions", b"{", {"Content-Type": "application/json"})
            expected.append("bad")
    with RawHTTPConnection(server.port, timeout=10) as connection:
        connection.send(requests)
        last_seq = 0
        for kind in expected:
            response = connection.read_response()
            if kind == "ingest":
                assert response.status == 201, response.body
                reply = json.loads(response.body)
                assert reply["firstSeq"] > last_seq
                last_seq = reply["lastSeq"]
            elif kind == "health":
                assert response.status == 200 and b'"ok"' in response.body
            elif kind == "rankings":
                assert response.status == 200 and json.loads(response.body)["seq"] >= last_seq
            else:
                assert response.status == 400


def test_a_websocket_upgrade_waits_for_earlier_pipelined_answers(server) -> None:
    body = json.dumps(transaction(2000)).encode()
    upgrade = request_bytes(
        "GET",
        "/ws",
        headers={
            "Upgrade": "websocket",
            "Connection": "Upgrade",
            "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
            "Sec-WebSocket-Version": "13",
        },
    )
    with RawHTTPConnection(server.port, timeout=10) as connection:
        connection.send(post_bytes("/api/transactions", body, {"Content-Type": "application/json"}) + upgrade)
        assert connection.read_response("POST").status == 201
        switched = connection.read_response()
        assert switched.status == 101


# MARK: Keys


def test_empty_or_blank_api_keys_are_refused_at_start(tmp_path) -> None:
    from conftest import binary_path

    for key in ("", "   ", "has space"):
        result = subprocess.run(
            [str(binary_path()), "serve", "--in-memory", "--port", "0", "--api-key", key],
            capture_output=True,
            timeout=10,
        )
        assert result.returncode != 0, key
        assert b"api-key" in result.stderr, result.stderr


def test_a_client_that_half_closes_after_pipelining_gets_every_answer(server) -> None:
    requests = b"".join(
        post_bytes("/api/transactions", json.dumps(transaction(3000 + index)).encode(), {"Content-Type": "application/json"})
        for index in range(5)
    ) + request_bytes("GET", "/api/rankings")
    with RawHTTPConnection(server.port, timeout=10) as connection:
        connection.send(requests)
        connection.sock.shutdown(socket.SHUT_WR)
        statuses = [connection.read_response().status for _ in range(6)]
        assert statuses == [201, 201, 201, 201, 201, 200]
        assert connection.is_closed_by_peer(5)
