"""Cluster mode (`--redis`): several instances on one real redis-server agree on every event.

Each test starts its own redis-server (append-only file, `appendfsync always`) on a free loopback
port and two or three `syndicast serve --redis …` instances. The checks are the issue's: a POST to
A reaches the WebSocket and SSE clients of B and C with the same sequence numbers; a client moved
from A to B resumes without a gap; the same id through A and B is stored once; killing an instance
loses nothing acknowledged; restarting Redis under the instances loses nothing and they carry on;
a fresh instance started after a long history catches up from the snapshot.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import RunningServer, StartServer
from ingest_support import BASE_TIME, Api, ServerSentEventsRecorder, StreamRecorder
from redis_support import RedisProcess

TIMEOUT = 20.0
RULES = ["--amount-threshold", "1000", "--spike-threshold", "3", "--spike-window", "60"]
# Every sequenced topic: a stream's default topics leave transactions out, and the checks compare
# complete sequences.
ALL = "topics=alerts,rankings,transactions"


@pytest.fixture
def redis_process(tmp_path: Path):
    process = RedisProcess(tmp_path / "redis").start()
    yield process
    process.stop()


def start_instance(start_server: StartServer, redis: RedisProcess, extra: list[str] | None = None,
                   port: int | None = None) -> RunningServer:
    return start_server(["--redis", redis.url, *RULES, *(extra or [])], in_memory=False, port=port)


def row(identifier: str, investor: str = "inv", syndicate: str = "syn", amount: str = "10.00", second: int = 0) -> dict[str, Any]:
    return {"id": identifier, "investorId": investor, "syndicateId": syndicate, "amount": amount,
            "timestamp": BASE_TIME + second * 1000}


def post(api: Api, rows: list[dict[str, Any]]) -> dict[str, Any]:
    reply = api.post("/api/transactions", rows)
    assert reply.status == 201, reply.describe()
    return reply.json()


def wait_until(predicate, timeout: float = TIMEOUT, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.05)


def sequenced(events: list[dict[str, Any]]) -> list[tuple]:
    """The sequenced events of a stream, as comparable (seq, type, content) tuples."""
    result = []
    for message in events:
        if message.get("type") in ("hello", "snapshot") or "seq" not in message:
            continue
        body = {key: value for key, value in message.items() if key not in ("seq",)}
        result.append((message["seq"], message["type"], json.dumps(body, sort_keys=True)))
    return result


def same_state(apis: list[Api]) -> bool:
    views = [(api.stats()["seq"], api.stats()["transactions"], json.dumps(api.get_json("/api/rankings"), sort_keys=True))
             for api in apis]
    return all(view == views[0] for view in views)


def test_a_post_to_one_instance_reaches_every_instance_with_the_same_sequence_numbers(
        start_server: StartServer, redis_process: RedisProcess) -> None:
    a, b, c = (start_instance(start_server, redis_process) for _ in range(3))
    epochs = {Api(server.port).stats()["epoch"] for server in (a, b, c)}
    assert len(epochs) == 1, f"instances on one Redis report different epochs: {epochs}"
    on_a = StreamRecorder(f"{a.ws_url}/ws?{ALL}")
    on_b = StreamRecorder(f"{b.ws_url}/ws?{ALL}")
    sse_c = ServerSentEventsRecorder(c.port, "/events")
    api = Api(a.port)
    try:
        reply = post(api, [row("t1", amount="5000.00")])
        assert reply["accepted"] == 1 and reply["duplicates"] == 0, reply
        first, last = reply["firstSeq"], reply["lastSeq"]
        for recorder in (on_a, on_b):
            recorder.wait_for(lambda message: message.get("type") == "alert")
        sse_c.wait_for(lambda message: message.get("type") == "alert")
        on_b.wait_for_seq(last)
        seen_a, seen_b = sequenced(on_a.events()), sequenced(on_b.events())
        assert seen_a == seen_b and seen_a, f"A saw {seen_a}\nB saw {seen_b}"
        assert first in [entry[0] for entry in seen_b], f"firstSeq {first} not among B's events {seen_b}"
        sse_ids = [record_id for _, record_id, data in sse_c.records if data.get("type") == "alert"]
        alert_seq = next(entry[0] for entry in seen_b if entry[1] == "alert")
        assert sse_ids and sse_ids[0].endswith(f"-{alert_seq}"), f"SSE alert id {sse_ids} vs WebSocket seq {alert_seq}"
        # A spike (threshold 3 in 60 s) raised through B is seen by A with the same alert.
        api_b = Api(b.port)
        for index in range(4):
            post(api_b, [row(f"s{index}", investor=f"i{index}", syndicate="hot", second=index)])
        on_a.wait_for(lambda message: message.get("type") == "alert" and message["alert"]["rule"] != "amount_threshold")
        wait_until(lambda: same_state([Api(server.port) for server in (a, b, c)]), what="the three instances to agree")
        api_b.close()
    finally:
        for client in (on_a, on_b, sse_c):
            client.close()
        api.close()


def test_publish_goes_through_the_stream(start_server: StartServer, redis_process: RedisProcess) -> None:
    a, b = (start_instance(start_server, redis_process) for _ in range(2))
    listener = StreamRecorder(f"{a.ws_url}/ws?topics=orders")
    api = Api(b.port)
    try:
        reply = api.post("/api/publish", {"topic": "orders", "data": {"n": 1}})
        assert reply.status == 201, reply.describe()
        seq = reply.json()["seq"]
        index = listener.wait_for(lambda message: message.get("type") == "message")
        message = listener.events()[index]
        assert message["seq"] == seq and message["data"] == {"n": 1}, message
    finally:
        listener.close()
        api.close()


def test_a_client_moved_to_another_instance_resumes_without_a_gap(
        start_server: StartServer, redis_process: RedisProcess) -> None:
    a, b = (start_instance(start_server, redis_process) for _ in range(2))
    api_a, api_b = Api(a.port), Api(b.port)
    try:
        first = StreamRecorder(f"{a.ws_url}/ws?{ALL}")
        last = post(api_a, [row(f"m{index}", investor=f"i{index}", second=index) for index in range(5)])["lastSeq"]
        first.wait_for_seq(last)
        epoch = api_a.stats()["epoch"]
        first.close()
        post(api_a, [row("m5", second=10)])
        final = post(api_b, [row("m6", second=11)])["lastSeq"]
        moved = StreamRecorder(f"{b.ws_url}/ws?{ALL}&since={last}&epoch={epoch}")
        try:
            moved.wait_for_seq(final)
            events = moved.events()
            snapshots = [message for message in events if message.get("type") == "snapshot"]
            assert not snapshots or snapshots[0].get("recovered") is not False, f"resume on B was not recovered: {snapshots}"
            seqs = [entry[0] for entry in sequenced(events)]
            # Contiguous from last + 1 through final; a rankings event after final's transaction
            # may follow it.
            assert seqs[:final - last] == list(range(last + 1, final + 1)), f"resume since {last} on B gave {seqs}"
            assert seqs == list(range(last + 1, last + 1 + len(seqs))), f"resume since {last} on B gave {seqs}"
        finally:
            moved.close()
    finally:
        api_a.close()
        api_b.close()


def test_the_same_id_through_two_instances_is_stored_once(start_server: StartServer, redis_process: RedisProcess) -> None:
    a, b, c = (start_instance(start_server, redis_process) for _ in range(3))
    api_a, api_b, api_c = Api(a.port), Api(b.port), Api(c.port)
    try:
        assert post(api_a, [row("dup", amount="20.00")])["accepted"] == 1
        again = post(api_b, [row("dup", amount="20.00")])
        assert again["accepted"] == 0 and again["duplicates"] == 1, again
        conflict = api_c.post("/api/transactions", [row("other", second=1), row("dup", amount="21.00")])
        assert conflict.status == 409, conflict.describe()
        assert "dup" in conflict.body.decode() or b'"index":1' in conflict.body, conflict.describe()
        wait_until(lambda: same_state([api_a, api_b, api_c]), what="the instances to agree")
        for api in (api_a, api_b, api_c):
            assert api.stats()["transactions"] == 1, api.stats()
        # The refused request stored nothing: its first id is still new.
        assert post(api_c, [row("other", second=1)])["accepted"] == 1
    finally:
        for api in (api_a, api_b, api_c):
            api.close()


def post_until_stopped(port: int, prefix: str, acknowledged: list[str], stop: threading.Event) -> None:
    api = Api(port, timeout=5)
    counter = 0
    while not stop.is_set():
        identifier = f"{prefix}-{counter}"
        counter += 1
        try:
            reply = api.post("/api/transactions", [row(identifier, investor=f"{prefix}{counter % 7}", second=counter % 50)])
        except OSError:
            return
        if reply.status == 201:
            acknowledged.append(identifier)
        elif reply.status != 503:
            raise AssertionError(reply.describe())
    api.close()


def stored_ids(server: RunningServer, upto_seq: int) -> set[str]:
    recorder = StreamRecorder(f"{server.ws_url}/ws?{ALL}&since=0&epoch={Api(server.port).stats()['epoch']}")
    try:
        recorder.wait_for_seq(upto_seq, timeout=60)
        return {message["transaction"]["id"] for message in recorder.events() if message.get("type") == "transaction"}
    finally:
        recorder.close()


def test_killing_an_instance_loses_nothing_acknowledged(start_server: StartServer, redis_process: RedisProcess) -> None:
    a, b = (start_instance(start_server, redis_process) for _ in range(2))
    acknowledged: list[str] = []
    stop = threading.Event()
    posters = [threading.Thread(target=post_until_stopped, args=(a.port, f"k{n}", acknowledged, stop)) for n in range(4)]
    for poster in posters:
        poster.start()
    wait_until(lambda: len(acknowledged) >= 200, what="200 acknowledged POSTs")
    a.process.kill()
    a.process.wait(timeout=10)
    a.exit_code = 0
    stop.set()
    for poster in posters:
        poster.join(timeout=10)
    api_b = Api(b.port)
    try:
        time.sleep(0.5)
        seq = api_b.stats()["seq"]
        missing = set(acknowledged) - stored_ids(b, seq)
        assert not missing, f"{len(missing)} acknowledged transactions are not on B: {sorted(missing)[:5]}"
        # A restarted instance catches up to the same state.
        restarted = start_instance(start_server, redis_process)
        api_r = Api(restarted.port)
        wait_until(lambda: same_state([api_b, api_r]), what="the restarted instance to catch up")
        api_r.close()
    finally:
        api_b.close()


def test_restarting_redis_loses_nothing_and_the_instances_carry_on(
        start_server: StartServer, redis_process: RedisProcess) -> None:
    a, b = (start_instance(start_server, redis_process) for _ in range(2))
    api_a, api_b = Api(a.port, timeout=30), Api(b.port, timeout=30)
    listener = StreamRecorder(f"{b.ws_url}/ws?{ALL}")
    try:
        before = post(api_a, [row("r1")])
        listener.wait_for_seq(before["lastSeq"])
        redis_process.kill()
        # While Redis is down a write is refused with 503 (safe to retry), never accepted unstored.
        down = api_a.post("/api/transactions", [row("r2", second=1)])
        assert down.status == 503, down.describe()
        redis_process.start()
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = api_a.post("/api/transactions", [row("r2", second=1)])
            if reply.status == 201:
                break
            assert reply.status == 503 and time.monotonic() < deadline, reply.describe()
            time.sleep(0.2)
        listener.wait_for(lambda message: message.get("type") == "transaction" and message["transaction"]["id"] == "r2")
        wait_until(lambda: same_state([api_a, api_b]), what="both instances to agree after the restart")
        assert api_b.stats()["transactions"] == 2
    finally:
        listener.close()
        api_a.close()
        api_b.close()


def test_a_fresh_instance_catches_up_from_the_snapshot(start_server: StartServer, redis_process: RedisProcess) -> None:
    a = start_instance(start_server, redis_process, ["--redis-snapshot-interval", "1"])
    api_a = Api(a.port, timeout=60)
    total = 1_000_000
    batch = 1_000
    try:
        for start in range(0, total, batch):
            body = "".join(
                f'{{"id":"h{n}","investorId":"i{n % 50_000}","syndicateId":"s{n % 1_000}","amount":"1.00",'
                f'"timestamp":{BASE_TIME + n}}}\n' for n in range(start, start + batch)).encode()
            reply = api_a.post("/api/transactions", body, "application/x-ndjson")
            assert reply.status == 201, reply.describe()
        client = redis_process.client()
        wait_until(lambda: client.exists("{syndicast}:snapshot") == 1, timeout=60, what="a snapshot in Redis")
        time.sleep(2.5)  # a snapshot taken after the last POST, so the stream after it is short
        remaining = client.xlen("{syndicast}:stream")
        assert remaining < total // batch, f"the stream was not trimmed after the snapshot: {remaining} entries"
        started = time.monotonic()
        fresh = start_instance(start_server, redis_process)
        api_fresh = Api(fresh.port, timeout=60)
        wait_until(lambda: api_fresh.request("GET", "/readyz").status == 200, timeout=30, what="/readyz on the fresh instance")
        caught_up = time.monotonic() - started
        assert caught_up < 10, f"catching up took {caught_up:.1f} s"
        assert same_state([api_a, api_fresh])
        assert api_fresh.stats()["transactions"] == total
        api_fresh.close()
    finally:
        api_a.close()


def test_stats_and_metrics_report_the_shared_log(start_server: StartServer, redis_process: RedisProcess) -> None:
    server = start_instance(start_server, redis_process)
    api = Api(server.port)
    try:
        wait_until(lambda: api.request("GET", "/readyz").status == 200, what="/readyz")
        post(api, [row("m1"), row("m2", second=1)])
        cluster = api.stats()["cluster"]
        assert cluster["redis"] == f"redis://127.0.0.1:{redis_process.port}/0", cluster
        assert cluster["connected"] is True and cluster["appends"] >= 1 and cluster["appendFailures"] == 0, cluster
        assert cluster["appliedEntries"] >= 1 and "-" in cluster["position"], cluster
        metrics = api.request("GET", "/metrics").body.decode()
        for line in ("syndicast_cluster_appends_total", "syndicast_cluster_append_failures_total 0",
                     "syndicast_cluster_entries_applied_total", "syndicast_redis_connected 1"):
            assert line in metrics, f"{line} missing from /metrics"
    finally:
        api.close()


def test_an_unreachable_redis_at_start_is_an_error_naming_it(tmp_path: Path) -> None:
    import subprocess

    from conftest import binary_path, free_port

    port = free_port()
    result = subprocess.run(
        [str(binary_path()), "serve", "--port", "0", "--redis", f"redis://user:secret@127.0.0.1:{port}/1"],
        capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert result.returncode == 1, result
    assert f"127.0.0.1:{port}" in result.stderr and "cannot be reached" in result.stderr, result.stderr
    assert "secret" not in result.stderr, "the password must not be logged"
    assert not (tmp_path / "data").exists(), "--redis opens no local journal"


def test_sigterm_under_ingest_answers_or_refuses_in_flight_posts_and_exits_0(
        start_server: StartServer, redis_process: RedisProcess) -> None:
    a, b = (start_instance(start_server, redis_process, ["--shutdown-timeout", "5"]) for _ in range(2))
    acknowledged: list[str] = []
    unexpected: list[str] = []
    stop = threading.Event()

    def poster_thread(prefix: str) -> None:
        try:
            post_until_stopped(a.port, prefix, acknowledged, stop)
        except AssertionError as error:  # a status other than 201 or 503
            unexpected.append(str(error))

    posters = [threading.Thread(target=poster_thread, args=(f"t{n}",)) for n in range(4)]
    for poster in posters:
        poster.start()
    wait_until(lambda: len(acknowledged) >= 100, what="100 acknowledged POSTs")
    started = time.monotonic()
    assert a.stop(signal.SIGTERM, timeout=10) == 0, a.log()[-2000:]
    assert time.monotonic() - started < 6, "stop exceeded --shutdown-timeout"
    stop.set()
    for poster in posters:
        poster.join(timeout=10)
    assert not unexpected, f"in-flight POSTs got other answers than 201 or 503: {unexpected[:3]}"
    api_b = Api(b.port)
    try:
        time.sleep(0.5)
        missing = set(acknowledged) - stored_ids(b, api_b.stats()["seq"])
        assert not missing, f"{len(missing)} acknowledged before SIGTERM are not on B: {sorted(missing)[:5]}"
    finally:
        api_b.close()


def test_an_instance_that_cannot_read_across_a_trimmed_gap_exits_1(
        start_server: StartServer, redis_process: RedisProcess, tmp_path: Path) -> None:
    import subprocess

    from conftest import binary_path, free_port

    a = start_instance(start_server, redis_process)
    api = Api(a.port)
    try:
        for index in range(3):
            post(api, [row(f"g{index}", second=index)])
    finally:
        api.close()
    redis_process.client().xtrim("{syndicast}:stream", maxlen=1, approximate=False)
    # A new instance (no snapshot) would have to start from the first entry, which is gone.
    result = subprocess.run(
        [str(binary_path()), "serve", "--port", str(free_port()), "--redis", redis_process.url],
        capture_output=True, text=True, timeout=30, cwd=tmp_path)
    assert result.returncode == 1, result
    assert "critical" in result.stderr and "trimmed" in result.stderr, result.stderr
