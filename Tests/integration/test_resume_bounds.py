"""The resume history is bounded in bytes as well as events (`--history-bytes`), and a resume
whose replay would pass the outbound bound (`--outbound-limit`) gets a snapshot instead.

Without the byte bound, 2,000 published 60 KiB messages stay in the default 10,000-event
history: ~120 MB pinned. With `--history-bytes 8388608` the server's RSS (VmRSS from /proc) must
stay far below that, and a resume from before the retained range must get `"recovered":false`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from conftest import StartServer
from ingest_support import Api, ServerSentEventsRecorder, StreamRecorder

MESSAGE_DATA = "x" * 60_000
MESSAGES = 2_000
HISTORY_BYTES = 8 << 20


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def publish(api: Api, count: int) -> None:
    body = json.dumps({"topic": "orders", "data": MESSAGE_DATA}).encode()
    for _ in range(count):
        reply = api.post("/api/publish", body)
        assert reply.status in (200, 201, 202), reply.describe()


def first_stream_reply(url: str) -> dict:
    client = StreamRecorder(url)
    try:
        index = client.wait_for(lambda message: message["type"] != "hello")
        return client.events()[index]
    finally:
        client.close()


def test_history_bytes_bound_rss_and_resume_before_the_retained_range(start_server: StartServer) -> None:
    server = start_server(["--history-bytes", str(HISTORY_BYTES)])
    api = Api(server.port)
    try:
        publish(api, 50)
        baseline = rss_bytes(server.process.pid)
        started = time.monotonic()
        publish(api, MESSAGES - 50)
        assert time.monotonic() - started < 120
        grown = rss_bytes(server.process.pid) - baseline
        unbounded = MESSAGES * len(MESSAGE_DATA)
        # The history keeps at most ~8 MiB of messages; allocator slack and buffers come on top.
        assert grown < unbounded // 4, f"RSS grew {grown >> 20} MiB (unbounded history would pin {unbounded >> 20} MiB)"
        stats = api.stats()
        assert stats["seq"] == MESSAGES
        retained = stats["seq"] - stats["historyOldestSeq"] + 1
        assert 100 <= retained <= HISTORY_BYTES // len(MESSAGE_DATA), stats
        epoch = stats["epoch"]
        before = first_stream_reply(f"{server.ws_url}/ws?topics=orders&since=1&epoch={epoch}")
        assert before["type"] == "snapshot" and before["recovered"] is False, before
        # Inside the retained range it replays.
        since = stats["seq"] - 3
        client = StreamRecorder(f"{server.ws_url}/ws?topics=orders&since={since}&epoch={epoch}")
        try:
            client.wait_for_seq(stats["seq"])
            assert [message["seq"] for message in client.events()[1:]] == list(range(since + 1, stats["seq"] + 1))
        finally:
            client.close()
    finally:
        api.close()


def test_a_replay_past_the_outbound_limit_gets_a_snapshot(start_server: StartServer) -> None:
    server = start_server(["--outbound-limit", str(256 << 10)])
    api = Api(server.port)
    try:
        publish(api, 10)
        stats = api.stats()
        assert stats["historyOldestSeq"] == 1, stats
        epoch = stats["epoch"]
        # Ten 60 KB messages (600 KB) are all in the history but exceed the 256 KiB bound.
        whole = first_stream_reply(f"{server.ws_url}/ws?topics=orders&since=0&epoch={epoch}")
        assert whole["type"] == "snapshot" and whole["recovered"] is False, whole
        sse = ServerSentEventsRecorder(server.port, "/events?topics=orders", {"Last-Event-ID": f"{epoch}-0"})
        try:
            index = sse.wait_for(lambda message: message["type"] != "hello")
            assert sse.records[index][2]["type"] == "snapshot" and sse.records[index][2]["recovered"] is False
        finally:
            sse.close()
        # Three (180 KB) fit and are replayed.
        since = stats["seq"] - 3
        replayed = first_stream_reply(f"{server.ws_url}/ws?topics=orders&since={since}&epoch={epoch}")
        assert replayed["type"] == "message" and replayed["seq"] == since + 1, replayed
    finally:
        api.close()
