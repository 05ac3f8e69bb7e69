"""Issue 3: the event stream seen by real clients — custom topics from /api/publish, subscribe /
unsubscribe / ping ops, bad client ops, resume (WebSocket since/epoch, SSE Last-Event-ID), and the
terminal clients `websocat ws://…/ws` and `curl -N …/events` showing hello and a fresh alert.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import RunningServer, StartServer
from ingest_support import BASE_TIME, Api, ServerSentEventsRecorder, StreamRecorder, ranking_tuples

TIMEOUT = 10.0


def alert_row(identifier: str, hour: int = 0, investor: str = "inv") -> dict[str, Any]:
    """A transaction that raises exactly one amount alert (threshold 1000) and no spike."""
    return {"id": identifier, "investorId": investor, "syndicateId": f"syn-{identifier}", "amount": "5000.00",
            "timestamp": BASE_TIME + hour * 3_600_000}


def after_snapshot(recorder: StreamRecorder) -> list[dict[str, Any]]:
    events = recorder.events()
    start = next(index for index, message in enumerate(events) if message["type"] == "snapshot") + 1
    return events[start:]


@pytest.fixture
def live(start_server: StartServer) -> tuple[RunningServer, Api]:
    server = start_server(["--amount-threshold", "1000"])
    api = Api(server.port)
    yield server, api
    api.close()


def publish(api: Api, topic: str, data: Any) -> int:
    reply = api.post("/api/publish", {"topic": topic, "data": data})
    assert reply.status == 201, reply.describe()
    body = reply.json()
    assert body["topic"] == topic and isinstance(body["seq"], int), body
    return body["seq"]


def test_publish_reaches_subscribers_of_that_topic_only(live) -> None:
    server, api = live
    orders = StreamRecorder(f"{server.ws_url}/ws?topics=orders")
    default = StreamRecorder(f"{server.ws_url}/ws")
    news = StreamRecorder(f"{server.ws_url}/ws?topics=news,alerts")
    orders_sse = ServerSentEventsRecorder(server.port, "/events?topics=orders")
    try:
        for client in (orders, default, news):
            client.wait_for(lambda message: message["type"] == "snapshot")
        orders_sse.wait_for(lambda message: message["type"] == "snapshot")
        assert orders.events()[0]["topics"] == ["orders"] and default.events()[0]["topics"] == ["alerts", "rankings"]
        payload = {"orderId": 7, "items": ["a", "b"], "note": "caf\u00e9 \u00b5", "nested": {"ok": True, "n": None}}
        seq = publish(api, "orders", payload)
        publish(api, "news", "headline")
        reply = api.post("/api/transactions", alert_row("pub-1"))
        assert reply.status == 201, reply.describe()
        marker = publish(api, "orders", {"marker": True})

        orders.wait_for(lambda message: message.get("seq") == marker)
        assert after_snapshot(orders) == [
            {"type": "message", "topic": "orders", "seq": seq, "data": payload},
            {"type": "message", "topic": "orders", "seq": marker, "data": {"marker": True}},
        ], "the orders subscriber got other topics, or the message changed"
        orders_sse.wait_for(lambda message: message.get("seq") == marker)
        epoch = api.stats()["epoch"]
        assert [(record_id, message) for _, record_id, message in orders_sse.records[2:]] == [
            (f"{epoch}-{seq}", {"type": "message", "topic": "orders", "seq": seq, "data": payload}),
            (f"{epoch}-{marker}", {"type": "message", "topic": "orders", "seq": marker, "data": {"marker": True}}),
        ]
        default.wait_for(lambda message: message["type"] == "alert")
        news.wait_for(lambda message: message["type"] == "alert")
        time.sleep(0.2)
        assert all(message["type"] in ("alert", "rankings") for message in after_snapshot(default)), after_snapshot(default)
        assert [message["type"] for message in after_snapshot(news)] == ["message", "alert"], after_snapshot(news)
        assert after_snapshot(news)[0]["data"] == "headline"
    finally:
        for client in (orders, default, news):
            client.close()
        orders_sse.close()


def test_subscribe_and_unsubscribe_ops_change_what_arrives(live) -> None:
    server, api = live
    client = StreamRecorder(f"{server.ws_url}/ws")
    try:
        client.wait_for(lambda message: message["type"] == "snapshot")
        client.send({"op": "subscribe", "topics": ["transactions", "orders"]})
        index = client.wait_for(lambda message: message["type"] == "subscribed")
        assert client.events()[index]["topics"] == ["alerts", "orders", "rankings", "transactions"]
        assert api.post("/api/transactions", alert_row("sub-1")).status == 201
        publish(api, "orders", 1)
        client.wait_for(lambda message: message["type"] == "message", start=index)
        kinds = [message["type"] for message in client.events()[index + 1:]]
        assert kinds[:2] == ["transaction", "alert"] and "message" in kinds, kinds

        client.send({"op": "unsubscribe", "topics": ["alerts", "transactions", "never-subscribed"]})
        index = client.wait_for(lambda message: message["type"] == "subscribed", start=index + 1)
        assert client.events()[index]["topics"] == ["orders", "rankings"]
        assert api.post("/api/transactions", alert_row("sub-2", hour=1, investor="richer")).status == 201
        marker = publish(api, "orders", "marker")
        client.wait_for(lambda message: message.get("seq") == marker, start=index)
        after = [message["type"] for message in client.events()[index + 1:]]
        assert "alert" not in after and "transaction" not in after, f"unsubscribed topics still arrive: {after}"
    finally:
        client.close()


BAD_OPS = [
    pytest.param("not json", id="not-json"),
    pytest.param("[1,2]", id="array"),
    pytest.param("{}", id="missing-op"),
    pytest.param('{"op":42}', id="op-number"),
    pytest.param('{"op":"dance"}', id="unknown-op"),
    pytest.param('{"op":"subscribe"}', id="subscribe-without-topics"),
    pytest.param('{"op":"subscribe","topics":"alerts"}', id="topics-string"),
    pytest.param('{"op":"subscribe","topics":[]}', id="topics-empty"),
    pytest.param('{"op":"subscribe","topics":[1]}', id="topics-number"),
    pytest.param('{"op":"subscribe","topics":["bad topic!"]}', id="topic-invalid-name"),
    pytest.param('{"op":"unsubscribe"}', id="unsubscribe-without-topics"),
    pytest.param(b"\x01\x02", id="binary-message"),
]


@pytest.mark.parametrize("bad", BAD_OPS)
def test_bad_client_op_gets_an_error_and_the_connection_stays(live, bad: str | bytes) -> None:
    server, api = live
    client = StreamRecorder(f"{server.ws_url}/ws")
    try:
        client.wait_for(lambda message: message["type"] == "snapshot")
        client.socket.send(bad)
        index = client.wait_for(lambda message: message["type"] in ("error", "subscribed"))
        error = client.events()[index]
        assert error["type"] == "error", f"{bad!r} was accepted: {error}"
        assert isinstance(error.get("code"), str) and error["code"] and isinstance(error.get("message"), str) and error["message"], error
        client.send({"op": "ping"})
        client.wait_for(lambda message: message["type"] == "pong", start=index)
        assert api.post("/api/transactions", alert_row("after-bad-op")).status == 201
        client.wait_for(lambda message: message["type"] == "alert", start=index)
        assert client.closed is None
    finally:
        client.close()


def test_websocket_resume_since_epoch_replays_exactly_and_foreign_epoch_gets_snapshot(live) -> None:
    server, api = live
    epoch = api.stats()["epoch"]
    for number in range(5):
        assert api.post("/api/transactions", alert_row(f"r{number}", hour=number, investor=f"i{number}")).status == 201
    seq = api.stats()["seq"]
    resumed = StreamRecorder(f"{server.ws_url}/ws?topics=alerts,rankings,transactions&since=3&epoch={epoch}")
    foreign = StreamRecorder(f"{server.ws_url}/ws?since=3&epoch=not-{epoch}")
    future = StreamRecorder(f"{server.ws_url}/ws?since={seq + 100}&epoch={epoch}")
    try:
        resumed.wait_for_seq(seq)
        events = resumed.events()
        assert events[0] == {"type": "hello", "epoch": epoch, "seq": seq, "topics": ["alerts", "rankings", "transactions"]}
        assert [message["seq"] for message in events[1:]] == list(range(4, seq + 1)), events[1:]
        for client in (foreign, future):
            index = client.wait_for(lambda message: message["type"] == "snapshot")
            snapshot = client.events()[index]
            assert index == 1 and snapshot["recovered"] is False and snapshot["seq"] == seq, snapshot
            assert ranking_tuples(snapshot["rankings"]) == ranking_tuples(api.get_json("/api/rankings")["top"])
            assert [alert["transactionId"] for alert in snapshot["alerts"]] == [f"r{number}" for number in reversed(range(5))]
    finally:
        for client in (resumed, foreign, future):
            client.close()


def test_sse_resume_with_last_event_id_and_since(live) -> None:
    server, api = live
    epoch = api.stats()["epoch"]
    for number in range(4):
        assert api.post("/api/transactions", alert_row(f"e{number}", hour=number, investor=f"i{number}")).status == 201
    seq = api.stats()["seq"]
    path = "/events?topics=alerts,rankings,transactions"
    by_header = ServerSentEventsRecorder(server.port, path, {"Last-Event-ID": f"{epoch}-2"})
    by_query = ServerSentEventsRecorder(server.port, f"{path}&since=2&epoch={epoch}")
    # The header is newer than the URL an EventSource resends: it wins over ?since.
    header_wins = ServerSentEventsRecorder(server.port, f"{path}&since=0&epoch=other", {"Last-Event-ID": f"{epoch}-2"})
    try:
        for client in (by_header, by_query, header_wins):
            client.wait_for(lambda message: message.get("seq") == seq and message["type"] != "hello")
            assert client.records[0][1] is None and client.records[0][2]["type"] == "hello"
            replayed = client.records[1:]
            assert [record_id for _, record_id, _ in replayed] == [f"{epoch}-{number}" for number in range(3, seq + 1)]
            assert all(record_id == f"{epoch}-{message['seq']}" for _, record_id, message in replayed), replayed
        assert b"text/event-stream" in by_header.head, by_header.head
        assert api.post("/api/transactions", alert_row("e-live", hour=9)).status == 201
        index = by_header.wait_for(lambda message: message["type"] == "alert" and message["alert"]["transactionId"] == "e-live")
        live_id = by_header.records[index][1]
        assert live_id == f"{epoch}-{by_header.records[index][2]['seq']}", f"live SSE record id is not epoch-seq: {live_id}"
    finally:
        for client in (by_header, by_query, header_wins):
            client.close()


@pytest.mark.parametrize("last_event_id", ["2", "0000000000000000-2", "garbage"])
def test_sse_resume_that_names_no_or_another_epoch_gets_a_snapshot(live, last_event_id: str) -> None:
    """A bare sequence number (the id of no epoch), another epoch's id, or an id of another form
    cannot be matched to this history: the resume is answered with `recovered:false`."""
    server, api = live
    assert api.post("/api/transactions", alert_row("stale-id")).status == 201
    seq = api.stats()["seq"]
    client = ServerSentEventsRecorder(server.port, "/events", {"Last-Event-ID": last_event_id})
    try:
        index = client.wait_for(lambda message: message["type"] != "hello")
        snapshot = client.records[index][2]
        assert index == 1 and snapshot["type"] == "snapshot" and snapshot["recovered"] is False, client.records
        assert snapshot["seq"] == seq
    finally:
        client.close()


def test_websocket_resume_without_epoch_gets_a_snapshot(live) -> None:
    server, api = live
    assert api.post("/api/transactions", alert_row("no-epoch")).status == 201
    client = StreamRecorder(f"{server.ws_url}/ws?since=1")
    try:
        index = client.wait_for(lambda message: message["type"] != "hello")
        snapshot = client.events()[index]
        assert index == 1 and snapshot["type"] == "snapshot" and snapshot["recovered"] is False, snapshot
    finally:
        client.close()


# MARK: - Terminal clients


class LineReader:
    """A subprocess whose stdout is read line by line with a timeout."""

    def __init__(self, arguments: list[str]) -> None:
        self.process = subprocess.Popen(arguments, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.pending = b""
        self.arguments = arguments

    def read_line(self, timeout: float = TIMEOUT) -> str:
        assert self.process.stdout is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"{self.arguments[0]} printed no line within {timeout}s (so far {self.pending!r})")
            ready, _, _ = select.select([self.process.stdout], [], [], remaining)
            if ready:
                chunk = os.read(self.process.stdout.fileno(), 65536)
                if not chunk:
                    stderr = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                    raise AssertionError(f"{self.arguments[0]} exited: {stderr}")
                self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line.decode()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def tool(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed")
    return found


def test_websocat_shows_hello_snapshot_and_a_fresh_alert(live) -> None:
    server, api = live
    websocat = LineReader([tool("websocat"), "-t", f"{server.ws_url}/ws"])
    try:
        hello = json.loads(websocat.read_line())
        assert hello["type"] == "hello" and hello["topics"] == ["alerts", "rankings"], hello
        assert json.loads(websocat.read_line())["type"] == "snapshot"
        assert api.post("/api/transactions", alert_row("websocat-1")).status == 201
        alert = json.loads(websocat.read_line())
        assert alert["type"] == "alert" and alert["alert"]["transactionId"] == "websocat-1", alert
        assert alert["alert"]["rule"] == "amount_threshold" and alert["alert"]["amount"] == "5000.00"
        assert alert["alert"]["threshold"] == "1000.00"
        assert json.loads(websocat.read_line())["type"] == "rankings"
    finally:
        websocat.stop()


def test_curl_n_events_shows_hello_and_a_fresh_alert(live) -> None:
    server, api = live
    curl = LineReader([tool("curl"), "-sN", f"{server.base_url}/events"])
    try:
        assert json.loads(curl.read_line().removeprefix("data: "))["type"] == "hello"
        assert curl.read_line() == ""
        snapshot_id = curl.read_line()
        snapshot = json.loads(curl.read_line().removeprefix("data: "))
        epoch = api.stats()["epoch"]
        assert snapshot["type"] == "snapshot" and snapshot_id == f"id: {epoch}-{snapshot['seq']}", (snapshot_id, snapshot)
        assert curl.read_line() == ""
        assert api.post("/api/transactions", alert_row("curl-1")).status == 201
        record_id = curl.read_line()
        data = curl.read_line()
        assert data.startswith("data: "), data
        alert = json.loads(data.removeprefix("data: "))
        assert alert["type"] == "alert" and alert["alert"]["transactionId"] == "curl-1", alert
        assert record_id == f"id: {epoch}-{alert['seq']}", record_id
    finally:
        curl.stop()


def test_resume_older_than_the_history_gets_a_snapshot(start_server: StartServer) -> None:
    server = start_server(["--amount-threshold", "1000", "--history", "10"])
    api = Api(server.port)
    try:
        for number in range(15):
            assert api.post("/api/transactions", alert_row(f"h{number}", hour=number, investor=f"i{number}")).status == 201
        stats = api.stats()
        assert stats["historyOldestSeq"] > 2, stats
        client = StreamRecorder(f"{server.ws_url}/ws?since=1&epoch={stats['epoch']}")
        try:
            index = client.wait_for(lambda message: message["type"] == "snapshot")
            assert index == 1 and client.events()[index]["recovered"] is False, client.events()[:2]
        finally:
            client.close()
        # Inside the history it replays.
        since = stats["seq"] - 3
        client = StreamRecorder(f"{server.ws_url}/ws?topics=alerts,rankings,transactions&since={since}&epoch={stats['epoch']}")
        try:
            client.wait_for_seq(stats["seq"])
            assert [message["seq"] for message in client.events()[1:]] == list(range(since + 1, stats["seq"] + 1))
        finally:
            client.close()
    finally:
        api.close()
