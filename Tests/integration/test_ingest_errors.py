"""Issue 3: bad requests of every kind get the documented status and a clear JSON error
(`{"error":{"code","message","details"?}}`), and change nothing: after each, `/api/stats` shows
the same `seq` and transaction count and the rankings are the same.
"""

from __future__ import annotations

import json
import signal
import socket
import time
from typing import Any, Iterator

import pytest

from conftest import HOST, RunningServer, StartServer
from ingest_support import BASE_TIME, INVALID_ROWS, Api, Reply

GOOD = {"investorId": "seed-investor", "syndicateId": "seed-syndicate", "amount": "10.00", "timestamp": BASE_TIME}


def row(**fields: Any) -> dict[str, Any]:
    base = {"investorId": "new-investor", "syndicateId": "new-syndicate", "amount": "5.00", "timestamp": BASE_TIME}
    base.update(fields)
    return {key: value for key, value in base.items() if value is not ...}


class Guard:
    """Remembers the observable state and checks that a refused request left it unchanged."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.state = self.snapshot()

    def snapshot(self) -> tuple:
        stats = self.api.stats()
        rankings = self.api.get_json("/api/rankings?limit=5")
        return stats["seq"], stats["transactions"], stats["investors"], stats["alerts"], json.dumps(rankings["top"])

    def refused(self, reply: Reply, status: int, code: str, fields: list[tuple[int, str]] | None = None,
                lines: list[int] | None = None) -> dict[str, Any]:
        assert reply.status == status, f"expected {status} {code}, got {reply.describe()}"
        assert reply.headers.get("content-type", "").startswith("application/json"), reply.headers
        body = reply.json()
        error = body.get("error")
        assert isinstance(error, dict), body
        assert error.get("code") == code, f"expected code {code}: {body}"
        assert isinstance(error.get("message"), str) and len(error["message"]) > 5, f"no clear message: {body}"
        if fields is not None:
            named = [(detail["index"], detail["field"]) for detail in error.get("details", [])]
            for wanted in fields:
                assert wanted in named, f"details should name {wanted}: {error.get('details')}"
            for detail in error.get("details", []):
                assert isinstance(detail.get("reason"), str) and detail["reason"], detail
        if lines is not None:
            assert [detail.get("line") for detail in error.get("details", [])] == lines, error.get("details")
        after = self.snapshot()
        assert after == self.state, f"a refused request changed the state: {self.state} → {after}"
        return error


@pytest.fixture
def guarded(start_server: StartServer) -> Iterator[tuple[RunningServer, Api, Guard]]:
    server = start_server(["--amount-threshold", "1000"])
    api = Api(server.port)
    reply = api.post("/api/transactions", dict(GOOD, id="seed-1"))
    assert reply.status == 201, reply.describe()
    yield server, api, Guard(api)
    api.close()


BAD_JSON_BODIES = [
    pytest.param(b"", id="empty-body"),
    pytest.param(b"{\"investorId\":", id="truncated"),
    pytest.param(b"{'investorId':'a'}", id="single-quotes"),
    pytest.param(b"[{\"investorId\":\"a\",\"syndicateId\":\"s\",\"amount\":1},]", id="trailing-comma"),
    pytest.param(b"42", id="number"),
    pytest.param(b"{\"investorId\":\"a\",\"syndicateId\":\"s\",\"amount\":1} {}", id="two-values"),
    pytest.param(b"\xff\xfe{}", id="not-utf8"),
]


@pytest.mark.parametrize("body", BAD_JSON_BODIES)
def test_malformed_json_is_400_invalid_json(guarded, body: bytes) -> None:
    _, api, guard = guarded
    guard.refused(api.post("/api/transactions", body), 400, "invalid_json")


FIELD_CASES = [
    pytest.param(row(investorId=...), "investorId", id="missing-investor"),
    pytest.param(row(syndicateId=...), "syndicateId", id="missing-syndicate"),
    pytest.param(row(amount=...), "amount", id="missing-amount"),
    pytest.param(row(investorId=""), "investorId", id="empty-investor"),
    pytest.param(row(syndicateId="s" * 129), "syndicateId", id="syndicate-129-bytes"),
    pytest.param(row(investorId="\u00e9" * 65), "investorId", id="investor-130-utf8-bytes"),
    pytest.param(row(investorId="a\u0001b"), "investorId", id="control-character"),
    pytest.param(row(investorId=12), "investorId", id="investor-number"),
    pytest.param(row(id=5), "id", id="id-number"),
    pytest.param(row(id=""), "id", id="id-empty"),
    pytest.param(row(amount=0), "amount", id="amount-zero"),
    pytest.param(row(amount="0.00"), "amount", id="amount-zero-string"),
    pytest.param(row(amount=-1), "amount", id="amount-negative"),
    pytest.param(row(amount="1.005"), "amount", id="amount-three-decimals"),
    pytest.param(row(amount=1.005), "amount", id="amount-three-decimals-number"),
    pytest.param(row(amount="ten"), "amount", id="amount-text"),
    pytest.param(row(amount=True), "amount", id="amount-bool"),
    pytest.param(row(amount=None), "amount", id="amount-null"),
    pytest.param(row(amount="92233720368547758.08"), "amount", id="amount-over-int64-cents"),
    pytest.param(row(timestamp="yesterday"), "timestamp", id="timestamp-text"),
    pytest.param(row(timestamp="2026-01-01 10:00:00"), "timestamp", id="timestamp-no-T-no-zone"),
    pytest.param(row(timestamp="2026-13-01T00:00:00Z"), "timestamp", id="timestamp-month-13"),
    pytest.param(row(timestamp=1.5), "timestamp", id="timestamp-fraction"),
    pytest.param(row(timestamp=True), "timestamp", id="timestamp-bool"),
]


@pytest.mark.parametrize(("bad", "field"), FIELD_CASES)
def test_invalid_field_is_400_naming_index_and_field_and_the_batch_is_atomic(guarded, bad: dict, field: str) -> None:
    _, api, guard = guarded
    # Alone, as an object.
    guard.refused(api.post("/api/transactions", bad), 400, "invalid_fields", fields=[(0, field)])
    # Third in an array of otherwise valid rows: nothing of the batch is stored.
    batch = [row(id="ok-1"), row(id="ok-2", investorId="other"), bad, row(id="ok-3")]
    guard.refused(api.post("/api/transactions", batch), 400, "invalid_fields", fields=[(2, field)])
    # The same in NDJSON, with a blank line (not counted) and line numbers.
    body = (json.dumps(batch[0]) + "\n\n" + json.dumps(batch[1]) + "\n" + json.dumps(bad) + "\n").encode()
    guard.refused(api.post("/api/transactions", body, "application/x-ndjson"), 400, "invalid_fields",
                  fields=[(2, field)], lines=[4])


def test_every_problem_of_a_batch_is_reported(guarded) -> None:
    _, api, guard = guarded
    batch = [row(id="fine")] + INVALID_ROWS
    error = guard.refused(api.post("/api/transactions", batch), 400, "invalid_fields")
    assert sorted({detail["index"] for detail in error["details"]}) == list(range(1, len(batch))), error


def test_structural_problems(guarded) -> None:
    _, api, guard = guarded
    guard.refused(api.post("/api/transactions", []), 400, "invalid_fields")
    guard.refused(api.post("/api/transactions", [row(id="x1"), "text", 3]), 400, "invalid_fields", fields=[(1, ""), (2, "")])
    duplicate_field = b'{"investorId":"a","investorId":"b","syndicateId":"s","amount":1}'
    guard.refused(api.post("/api/transactions", duplicate_field), 400, "invalid_fields", fields=[(0, "investorId")])
    ndjson = b'{"investorId":"a","syndicateId":"s","amount":1}\n{"investorId":\n'
    guard.refused(api.post("/api/transactions", ndjson, "application/x-ndjson"), 400, "invalid_json", lines=[2])


def test_amount_above_the_maximum_is_400_and_stores_nothing(guarded) -> None:
    _, api, guard = guarded
    reply = api.post("/api/transactions", row(id="max-1", investorId="whale", amount="1000000000000.00"))
    assert reply.status == 201, f"the default --max-amount itself is accepted: {reply.describe()}"
    guard.state = guard.snapshot()
    error = guard.refused(
        api.post("/api/transactions", [row(id="tiny-ok", investorId="minnow"), row(id="huge-2", investorId="whale", amount="1000000000000.01")]),
        400, "invalid_fields", fields=[(1, "amount")])
    assert error["details"] == [{"index": 1, "field": "amount", "reason": "must be at most 1000000000000.00"}], error
    assert api.request("GET", "/api/investors/minnow").status == 404, "part of a refused batch was stored"


def test_id_reuse_with_different_content_is_409_for_the_whole_batch(guarded) -> None:
    _, api, guard = guarded
    for changed in ({"amount": "10.01"}, {"investorId": "someone-else"}, {"syndicateId": "elsewhere"}):
        conflicting = dict(GOOD, id="seed-1", **changed)
        guard.refused(api.post("/api/transactions", [row(id="fresh-1", investorId="fresh"), conflicting]), 409, "conflict",
                      fields=[(1, "id")])
        assert api.request("GET", "/api/investors/fresh").status == 404, "part of a 409 batch was stored"
    # Inside one batch: the same new id twice with different content.
    guard.refused(api.post("/api/transactions", [row(id="twice"), row(id="twice", amount="6.00")]), 409, "conflict",
                  fields=[(1, "id")])
    # Same content, another timestamp: a duplicate (201), not a conflict, and nothing new.
    reply = api.post("/api/transactions", dict(GOOD, id="seed-1", timestamp=BASE_TIME + 999_999))
    assert reply.status == 201 and reply.json() == {"accepted": 0, "duplicates": 1, "firstSeq": None, "lastSeq": None}, reply.describe()
    assert guard.snapshot() == guard.state


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"])
def test_unsupported_media_type_is_415(guarded, content_type: str) -> None:
    _, api, guard = guarded
    guard.refused(api.post("/api/transactions", row(id="m1"), content_type), 415, "unsupported_media_type")
    guard.refused(api.post("/api/publish", {"topic": "orders", "data": 1}, content_type), 415, "unsupported_media_type")


def complete_response(data: bytes) -> bool:
    if b"\r\n\r\n" not in data:
        return False
    head, body = data.split(b"\r\n\r\n", 1)
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value.strip())
    return False


def raw_request(port: int, head: bytes, body_size: int) -> tuple[int, bytes]:
    """Sends a head and up to `body_size` bytes of body, tolerating an early answer and close."""
    with socket.create_connection((HOST, port), timeout=10) as connection:
        connection.sendall(head)
        chunk = b"[" + b" " * 65535
        sent = 0
        try:
            while sent < body_size:
                piece = chunk[: min(len(chunk), body_size - sent)]
                connection.sendall(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        try:
            while not complete_response(data):
                piece = connection.recv(65536)
                if not piece:
                    break
                data += piece
        except (ConnectionResetError, socket.timeout):
            pass
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0
    return status, data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""


def test_body_over_8_mib_is_413(guarded) -> None:
    server, api, guard = guarded
    size = 8 * 1024 * 1024 + 1
    head = (f"POST /api/transactions HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {size}\r\n\r\n").encode()
    status, body = raw_request(server.port, head, size)
    assert status == 413, f"expected 413, got {status} {body[:300]!r}"
    error = json.loads(body)["error"]
    assert error["code"] and error["message"], error
    assert guard.snapshot() == guard.state


def test_publish_errors(guarded) -> None:
    _, api, guard = guarded
    guard.refused(api.post("/api/publish", b"{nope"), 400, "invalid_json")
    guard.refused(api.post("/api/publish", [1, 2]), 400, "invalid_json")
    for topic in ("alerts", "rankings", "transactions", "stats", "", "has space", "x" * 65, 7, None):
        guard.refused(api.post("/api/publish", {"topic": topic, "data": {}}), 400, "invalid_topic")
    guard.refused(api.post("/api/publish", {"topic": "orders"}), 400, "invalid_fields")
    guard.refused(api.post("/api/publish", {"topic": "orders", "data": "x" * (61 * 1024)}), 413, "payload_too_large")


@pytest.mark.parametrize("path", ["/api/rankings?limit=0", "/api/rankings?limit=1001", "/api/rankings?limit=abc",
                                  "/api/alerts?limit=-1", "/api/alerts?limit=1.5"])
def test_bad_query_limit_is_400(guarded, path: str) -> None:
    _, api, guard = guarded
    guard.refused(api.request("GET", path), 400, "invalid_limit")


def test_unknown_entities_are_404(guarded) -> None:
    _, api, guard = guarded
    guard.refused(api.request("GET", "/api/investors/nobody"), 404, "not_found")
    guard.refused(api.request("GET", "/api/syndicates/nothing"), 404, "not_found")


@pytest.mark.parametrize(("path", "code"), [("/events?since=abc", "invalid_since"), ("/events?topics=bad%20topic", "invalid_topic"),
                                           ("/events?since=-1", "invalid_since")])
def test_bad_stream_parameters_are_400(guarded, path: str, code: str) -> None:
    _, api, guard = guarded
    guard.refused(api.request("GET", path), 400, code)


@pytest.mark.parametrize(("query", "code"), [("since=abc", "invalid_since"), ("topics=bad!topic", "invalid_topic")])
def test_bad_websocket_parameters_are_400(guarded, query: str, code: str) -> None:
    server, api, guard = guarded
    handshake = (f"GET /ws?{query} HTTP/1.1\r\nHost: {HOST}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()
    status, body = raw_request(server.port, handshake, 0)
    assert status == 400 and json.loads(body)["error"]["code"] == code, f"{status} {body!r}"
    assert guard.snapshot() == guard.state


def test_api_key_is_required_when_configured(start_server: StartServer) -> None:
    server = start_server(["--api-key", "k-one", "--api-key", "k-two"])
    api = Api(server.port)
    try:
        guard = Guard(api)
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic k-one"}, {"Authorization": "k-one"},
                        {"Authorization": "Bearer k-one-and-more"}):
            reply = api.post("/api/transactions", row(id="auth-1"), headers=headers)
            guard.refused(reply, 401, "unauthorized")
            assert reply.headers.get("www-authenticate", "").startswith("Bearer"), reply.headers
            guard.refused(api.post("/api/publish", {"topic": "orders", "data": 1}, headers=headers), 401, "unauthorized")
        for key in ("k-one", "k-two"):
            reply = api.post("/api/transactions", row(id=f"auth-{key}"), headers={"Authorization": f"Bearer {key}"})
            assert reply.status == 201, reply.describe()
        assert api.request("GET", "/api/rankings").status == 200, "reads need no key"
    finally:
        api.close()


def test_request_in_flight_at_sigterm_is_answered_and_the_answer_is_true(start_server: StartServer, tmp_path) -> None:
    """A POST whose body is still arriving when SIGTERM comes is answered: 201 and stored, or
    503 `shutting_down` and not stored (checked after a restart on the same --data)."""
    data = ["--data", str(tmp_path / "data")]
    server = start_server(data, in_memory=False)
    body = json.dumps(row(id="during", investorId="late-investor")).encode()
    head = (f"POST /api/transactions HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with socket.create_connection((HOST, server.port), timeout=10) as connection:
        connection.sendall(head + body[:10])
        time.sleep(0.1)
        server.send_signal(signal.SIGTERM)
        time.sleep(0.1)
        try:
            connection.sendall(body[10:])
            data_in = b""
            while not complete_response(data_in):
                piece = connection.recv(65536)
                if not piece:
                    break
                data_in += piece
        except OSError as error:
            data_in = repr(error).encode()
    assert server.wait_for_exit() == 0
    assert data_in.startswith(b"HTTP/1.1 "), f"an in-flight request got no answer at shutdown: {data_in[:300]!r}"
    status = int(data_in.split(b" ", 2)[1])
    answer = json.loads(data_in.split(b"\r\n\r\n", 1)[1])
    print(f"in-flight POST at SIGTERM: {status} {answer}")
    restarted = start_server(data, in_memory=False)
    api = Api(restarted.port)
    try:
        deadline = time.monotonic() + 10
        while api.request("GET", "/readyz").status != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        stored = api.request("GET", "/api/investors/late-investor").status == 200
    finally:
        api.close()
    if status == 201:
        assert stored, "answered 201 at shutdown but not stored"
    else:
        assert status == 503 and answer["error"]["code"] == "shutting_down", f"{status} {answer}"
        assert not stored, "answered 503 but stored"
