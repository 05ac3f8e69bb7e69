"""Issue 3: datasets POSTed to the real server, its rankings, alerts and event stream compared with
an independent Python reference model (DESIGN.md §3–§4) and, for the spike rule on in-order input,
with the seed's algorithm run on a real redis-server (ZADD / ZREMRANGEBYSCORE / ZCARD).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterator

import pytest

from conftest import HOST, StartServer
from ingest_support import (
    BASE_TIME, Api, ReferenceModel, StreamRecorder, check_reply, cents_text, first_difference, generated_rows,
    mixed_batches, normalize_event, parse_amount, parse_time, post_batch, ranking_tuples, rfc3339,
)
from redis_support import RedisProcess

STREAM_TOPICS = "alerts,rankings,transactions"
SECOND = 1000


def server_events(recorder: StreamRecorder, last_seq: int) -> list[tuple]:
    """Every sequenced event the stream client got after hello/snapshot, as reference tuples."""
    if last_seq > 0:
        recorder.wait_for_seq(last_seq, timeout=60)
    messages = recorder.events()
    assert messages[0]["type"] == "hello", messages[:2]
    assert messages[1]["type"] == "snapshot", messages[:2]
    return [normalize_event(message) for message in messages[2:]]


def compare_state(api: Api, model: ReferenceModel) -> None:
    """Rankings, every investor, every syndicate, stats and recent alerts equal the model's."""
    # `limit` is capped at --top-k (5 here): the ranking below the top is checked investor by
    # investor (totals and syndicate counts) further down.
    ranking = api.get_json("/api/rankings?limit=1000")
    assert ranking["seq"] == model.seq
    assert ranking_tuples(ranking["top"]) == tuple(model.top()), "a limit above --top-k answers the top K"
    top5 = api.get_json("/api/rankings")
    assert ranking_tuples(top5["top"]) == tuple(model.top()), "default limit is the top 5"

    for investor_id, state in sorted(model.investors.items()):
        body = api.get_json(f"/api/investors/{investor_id}")
        got = (body["investorId"], body["syndicateCount"], parse_amount(body["totalInvested"]), body["transactionCount"],
               sorted(body["syndicateIds"]))
        want = (investor_id, len(state.syndicates), state.total, state.count, sorted(state.syndicates))
        assert got == want, f"GET /api/investors/{investor_id}: expected {want}, got {got}"
    # A syndicate whose every transaction the spike rule ignored (docs/SPIKE-RULE.md) has no newest.
    for syndicate_id, state in sorted(model.syndicates.items()):
        body = api.get_json(f"/api/syndicates/{syndicate_id}")
        got = (parse_amount(body["totalInvested"]), body["transactionCount"], body["windowCount"], body["spiking"],
               None if body["newestTimestamp"] is None else parse_time(body["newestTimestamp"]))
        want = (state.total, state.count, model.window_count(syndicate_id), state.spiking, state.newest)
        assert got == want, f"GET /api/syndicates/{syndicate_id}: expected (total, count, window, spiking, newest) {want}, got {got}"

    stats = api.stats()
    wanted = {"seq": model.seq, "transactions": model.transactions, "investors": len(model.investors),
              "syndicates": len(model.syndicates), "alerts": len(model.alerts())}
    assert {key: stats[key] for key in wanted} == wanted, f"/api/stats {stats}"

    recent = api.get_json("/api/alerts?limit=1000")
    expected_alerts = list(reversed(model.alerts()))[:1000]
    actual_alerts = [normalize_event({"type": "alert", "seq": expected[1], "alert": alert})
                     for expected, alert in zip(expected_alerts, recent["alerts"])]
    assert len(recent["alerts"]) == len(expected_alerts), f"{len(recent['alerts'])} recent alerts, expected {len(expected_alerts)}"
    assert actual_alerts == expected_alerts, "GET /api/alerts (newest first) " + first_difference(expected_alerts, actual_alerts)
    assert len({alert["id"] for alert in recent["alerts"]}) == len(recent["alerts"]), "alert ids are not unique"


# MARK: - Hand-made dataset: every rule edge, stated explicitly


def handmade_batches() -> list[tuple[str, list[dict]]]:
    t = BASE_TIME
    early = iter(range(t - 10_000 * SECOND, t, 100 * SECOND))  # ranking rows: 100 s apart, no spikes

    def row(identifier: str, investor: str, syndicate: str, amount: object, at: object = None) -> dict:
        return {"id": identifier, "investorId": investor, "syndicateId": syndicate, "amount": amount,
                "timestamp": next(early) if at is None else at}

    return [
        # Ranking ties: dan (3 syndicates) first; eve before ann (same count, larger total);
        # ann, bob, cat tie on count and total → id ascending.
        ("json", [row("r1", "cat", "x1", "100.00"), row("r2", "cat", "x2", 50),
                  row("r3", "bob", "x2", "100.00"), row("r4", "bob", "x3", "50.00"),
                  row("r5", "ann", "x3", 149.5), row("r6", "ann", "x1", "0.50")]),
        ("json", [row("r8", "eve", "x1", "500"), row("r9", "eve", "x4", 1)]),
        ("ndjson", [row("r10", "dan", "x1", "1.00"), row("r11", "dan", "x2", "1.00"), row("r12", "dan", "x3", "1.00")]),
        # A sixth and seventh investor far below the top 5: no rankings event for this batch.
        ("object", [row("r13", "zed", "x9", "0.01")]),
        ("object", [row("r14", "yan", "x9", "0.01")]),
        # Amount rule is strictly greater: 1000.00 and 1000 do not alert, 1000.01 does.
        ("json", [row("m1", "amy", "y1", "1000.00"), row("m2", "amy", "y2", 1000), row("m3", "amy", "y3", "1000.01")]),
        # Spike rule (W = 60 s, S = 2) on syndicate alpha.
        ("json", [row("h1", "p1", "alpha", 1, t), row("h2", "p1", "alpha", 1, t + 10 * SECOND),
                  row("h3", "p1", "alpha", 1, t + 20 * SECOND)]),                      # 3 > 2: alert on h3
        ("object", [row("h4", "p1", "alpha", 1, t + 30 * SECOND)]),                     # still spiking: no alert
        ("object", [row("h5", "p1", "alpha", 1, t + 200 * SECOND)]),                    # count 1: clears
        ("object", [row("h6", "p1", "alpha", 1, t + 150 * SECOND)]),                    # late, inside: joins
        ("object", [row("h7", "p1", "alpha", 1, t + 100 * SECOND)]),                    # ≤ newest − W: ignored
        ("object", [row("h8", "p1", "alpha", 1, t + 205 * SECOND)]),                    # {150,200,205}: alert on h8
        ("object", [row("h9", "p1", "alpha", 1, t + 10 * SECOND)]),                     # ignored: must not clear
        ("object", [row("h10", "p1", "alpha", 1, t + 206 * SECOND)]),                   # still spiking: no alert
        ("object", [row("h11", "p1", "alpha", 1, t + 265 * SECOND)]),                   # (205,265] = {206,265}: clears
        ("object", [row("h12", "p1", "alpha", 1, t + 266 * SECOND)]),                   # {265,266}: no alert
        ("object", [row("h13", "p1", "alpha", 1, rfc3339(t + 266 * SECOND, 120))]),     # equal timestamp counts: alert
        # Late transactions must not be evaluated: b4's own window would hold 3 (> 2).
        ("json", [row("b1", "p2", "beta", 1, t + 400 * SECOND), row("b2", "p2", "beta", 1, t + 350 * SECOND),
                  row("b3", "p2", "beta", 1, t + 360 * SECOND), row("b4", "p2", "beta", 1, t + 355 * SECOND)]),
        ("object", [row("b5", "p2", "beta", 1, t + 401 * SECOND)]),                     # (341,401] holds 5: alert on b5
        # The rule clock G is now b5's time: gamma is in order for itself but at or before
        # G − W − M = t + 41 s (M = --max-clock-skew, 300 s; docs/SPIKE-RULE.md), so all three
        # are ignored by the spike rule (3 > 2, yet no alert).
        ("json", [row("g1", "p3", "gamma", 1, t + 20 * SECOND), row("g2", "p3", "gamma", 1, t + 30 * SECOND),
                  row("g3", "p3", "gamma", 1, t + 41 * SECOND)]),
        # Just after G − W − M: counted and evaluated, window (-18,42] holds only this one.
        ("object", [row("g4", "p3", "gamma", 1, t + 42 * SECOND)]),
    ]


def test_handmade_dataset_matches_reference_and_stated_expectations(start_server: StartServer) -> None:
    server = start_server(["--amount-threshold", "1000", "--spike-window", "60", "--spike-threshold", "2"])
    model = ReferenceModel(amount_threshold_cents=100000, window_seconds=60, spike_threshold=2)
    recorder = StreamRecorder(f"{server.ws_url}/ws?topics={STREAM_TOPICS}")
    api = Api(server.port)
    try:
        recorder.wait_for(lambda message: message["type"] == "snapshot")
        replies = {}
        for number, (encoding, rows) in enumerate(handmade_batches()):
            expected = model.post(rows)
            reply = post_batch(api, encoding, rows)
            check_reply(expected, reply, f"batch {number} {[row['id'] for row in rows]}")
            replies[rows[-1]["id"]] = reply.json()
        # The reference itself says what the contract says, explicitly:
        assert [event[5] for event in model.alerts() if event[2] == "syndicate_spike"] == ["h3", "h8", "h13", "b5"]
        assert [event[5] for event in model.alerts() if event[2] == "amount_threshold"] == ["m3"]
        assert [entry[0] for entry in model.ranking()[:6]] == ["amy", "dan", "eve", "ann", "bob", "cat"]
        assert model.spike_paths["joined_late"] == 4 and model.spike_paths["ignored"] == 5

        events = server_events(recorder, model.seq)
        assert events == model.events, "stream events " + first_difference(model.events, events)
        # The batches that only touched investors outside the top 5 published no rankings event.
        for quiet in ("r13", "r14"):
            seq = replies[quiet]["lastSeq"]
            assert not any(event[0] == "rankings" and event[1] == seq + 1 for event in events), \
                f"a rankings event followed {quiet}, which did not change the top 5"
        compare_state(api, model)
    finally:
        api.close()
        recorder.close()


# MARK: - Generated dataset: 5,000 transactions, 300 investors, 40 syndicates


@pytest.mark.timeout(240)
def test_generated_dataset_with_duplicates_conflicts_and_invalid_rows_matches_reference(start_server: StartServer) -> None:
    server = start_server(["--amount-threshold", "1000", "--spike-window", "60", "--spike-threshold", "4"])
    model = ReferenceModel(amount_threshold_cents=100000, window_seconds=60, spike_threshold=4)
    rows = generated_rows(seed=7, count=5000, investors=300, syndicates=40, in_order=False)
    batches = mixed_batches(7, rows)
    recorder = StreamRecorder(f"{server.ws_url}/ws?topics={STREAM_TOPICS}")
    api = Api(server.port)
    statuses: dict[int, int] = {}
    duplicates = 0
    try:
        recorder.wait_for(lambda message: message["type"] == "snapshot")
        for number, (encoding, batch) in enumerate(batches):
            expected = model.post(batch)
            statuses[expected.status] = statuses.get(expected.status, 0) + 1
            duplicates += expected.duplicates
            check_reply(expected, post_batch(api, encoding, batch), f"batch {number} ({encoding}, {len(batch)} rows)")
        # The dataset exercises what it claims to.
        assert model.transactions == 5000
        assert statuses.get(400, 0) >= 10 and statuses.get(409, 0) >= 10 and duplicates >= 50, (statuses, duplicates)
        assert model.spike_paths["joined_late"] >= 20 and model.spike_paths["ignored"] >= 20, model.spike_paths
        assert model.spike_paths["cleared"] >= 20 and len(model.alerts()) > 100, model.spike_paths
        ranking = model.ranking()
        assert sum(1 for a, b in zip(ranking, ranking[1:]) if a[1:] == b[1:]) >= 10, "too few ties to test the order"

        events = server_events(recorder, model.seq)
        assert events == model.events, "stream events " + first_difference(model.events, events)
        compare_state(api, model)
    finally:
        api.close()
        recorder.close()


# MARK: - The seed's algorithm on a real redis-server


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[int]:
    """A private redis-server on a free loopback port, no persistence; stopped afterwards."""
    process = RedisProcess(tmp_path / "redis", durable=False).start()
    try:
        yield process.port
    finally:
        process.stop()


def seed_spike_alerts_with_redis(port: int, rows: list[dict], window_seconds: int, threshold: int) -> set[tuple[str, str]]:
    """The seed's sliding window per syndicate, verbatim: ZADD key t txId; ZREMRANGEBYSCORE key
    -inf t−W; ZCARD key; alert when the count exceeds S and the syndicate was not spiking."""
    import redis

    client = redis.Redis(host=HOST, port=port, socket_timeout=10)
    client.flushall()
    spiking: dict[str, bool] = {}
    alerts = set()
    window = window_seconds * 1000
    for row in rows:
        key = f"syndicate:{row['syndicateId']}:tx"
        timestamp = row["timestamp"] if isinstance(row["timestamp"], int) else parse_time(row["timestamp"])
        pipeline = client.pipeline(transaction=False)
        pipeline.zadd(key, {row["id"]: timestamp})
        pipeline.zremrangebyscore(key, "-inf", timestamp - window)
        pipeline.zcard(key)
        count = pipeline.execute()[2]
        if count > threshold:
            if not spiking.get(key):
                alerts.add((row["syndicateId"], row["id"]))
            spiking[key] = True
        else:
            spiking[key] = False
    client.close()
    return alerts


@pytest.mark.timeout(240)
def test_spike_alerts_equal_the_seed_redis_algorithm_on_in_order_input(start_server: StartServer, redis_server: int) -> None:
    server = start_server(["--amount-threshold", "1000", "--spike-window", "60", "--spike-threshold", "4"])
    rows = generated_rows(seed=11, count=3000, investors=300, syndicates=40, in_order=True)
    expected = seed_spike_alerts_with_redis(redis_server, rows, window_seconds=60, threshold=4)
    model = ReferenceModel(amount_threshold_cents=100000, window_seconds=60, spike_threshold=4)
    recorder = StreamRecorder(f"{server.ws_url}/ws?topics=alerts")
    api = Api(server.port)
    try:
        recorder.wait_for(lambda message: message["type"] == "snapshot")
        for start in range(0, len(rows), 25):
            batch = rows[start: start + 25]
            check_reply(model.post(batch), post_batch(api, "json", batch), f"rows {start}…")
        reference = {(event[3], event[5]) for event in model.alerts() if event[2] == "syndicate_spike"}
        assert reference == expected, f"the Python reference and redis disagree: {sorted(reference ^ expected)[:10]}"
        assert len(expected) >= 30, f"only {len(expected)} spikes: the dataset does not exercise the rule"

        last_alert_seq = max(event[1] for event in model.alerts())
        recorder.wait_for_seq(last_alert_seq, timeout=60)
        streamed = {(message["alert"]["syndicateId"], message["alert"]["transactionId"])
                    for message in recorder.events() if message["type"] == "alert" and message["alert"]["rule"] == "syndicate_spike"}
        assert streamed == expected, (
            f"server spike alerts differ from redis: missing {sorted(expected - streamed)[:10]}, "
            f"extra {sorted(streamed - expected)[:10]}")
        recent = api.get_json("/api/alerts?limit=1000")["alerts"]
        from_api = {(alert["syndicateId"], alert["transactionId"]) for alert in recent if alert["rule"] == "syndicate_spike"}
        assert from_api == expected, f"GET /api/alerts spikes differ from redis: {sorted(from_api ^ expected)[:10]}"
    finally:
        api.close()
        recorder.close()


def test_cents_text_round_trip() -> None:
    """The helpers the comparisons rely on are exact (no float money)."""
    assert [cents_text(value) for value in (1, 10, 100, 100001)] == ["0.01", "0.10", "1.00", "1000.01"]
    assert parse_amount("1000.01") == 100001 and parse_amount(1000.01) == 100001 and parse_amount("1.005") is None
    assert parse_time(rfc3339(BASE_TIME + 1234, 120)) == BASE_TIME + 1234


# MARK: - Encodings, default timestamps, one large batch


def test_every_body_encoding_gives_the_same_result(start_server: StartServer) -> None:
    server = start_server(["--amount-threshold", "1000"])
    api = Api(server.port)
    try:
        rows = [{"id": f"enc-{number}", "investorId": f"i{number % 3}", "syndicateId": f"s{number % 4}",
                 "amount": ["12.50", 7, 1000.01, "3"][number % 4], "timestamp": BASE_TIME + number} for number in range(12)]
        encoded = [("application/json; charset=utf-8", json_bytes(rows[0])),
                   ("application/json", b"\xef\xbb\xbf" + json_bytes(rows[1:3])),  # byte order mark
                   ("application/x-ndjson", ndjson_bytes(rows[3:5], "\r\n")),
                   ("application/x-ndjson", b"\n\n" + ndjson_bytes(rows[5:7], "\n\n") + b"   \n"),
                   ("application/x-ndjson", ndjson_bytes(rows[7:9], "\n").rstrip(b"\n")),  # no final newline
                   ("Application/X-NDJSON", ndjson_bytes(rows[9:10], "\n")),
                   ("application/json", b" \r\n\t[ " + b" ,\n".join(json_bytes(row) for row in rows[10:12]) + b" ]\n")]
        model = ReferenceModel(amount_threshold_cents=100000, window_seconds=3600, spike_threshold=100)
        taken = 0
        for content_type, body in encoded:
            count = body.count(b'"investorId"')
            check_reply(model.post(rows[taken: taken + count]), api.post("/api/transactions", body, content_type),
                        f"{content_type} {body[:60]!r}")
            taken += count
        assert taken == len(rows)
        compare_state(api, model)
    finally:
        api.close()


def json_bytes(value: object) -> bytes:
    return json.dumps(value).encode()


def ndjson_bytes(rows: list[dict], separator: str) -> bytes:
    return "".join(json.dumps(row) + separator for row in rows).encode()


def test_missing_timestamp_is_the_receive_time_and_a_retry_is_a_duplicate(start_server: StartServer) -> None:
    server = start_server([])
    recorder = StreamRecorder(f"{server.ws_url}/ws?topics=transactions")
    api = Api(server.port)
    try:
        recorder.wait_for(lambda message: message["type"] == "snapshot")
        row = {"id": "no-time", "investorId": "i", "syndicateId": "s", "amount": "1.00"}
        before = time.time() * 1000
        reply = api.post("/api/transactions", row)
        after = time.time() * 1000
        assert reply.status == 201, reply.describe()
        index = recorder.wait_for(lambda message: message["type"] == "transaction")
        stamped = parse_time(recorder.events()[index]["transaction"]["timestamp"])
        assert before - 5 <= stamped <= after + 5, f"timestamp {stamped} not within the POST [{before:.0f}, {after:.0f}]"
        time.sleep(0.01)
        retry = api.post("/api/transactions", row)
        assert retry.json() == {"accepted": 0, "duplicates": 1, "firstSeq": None, "lastSeq": None}, retry.describe()
        null_time = api.post("/api/transactions", dict(row, id="null-time", timestamp=None))
        assert null_time.status == 201, null_time.describe()
    finally:
        api.close()
        recorder.close()


@pytest.mark.timeout(180)
def test_one_large_ndjson_batch_is_atomic_with_one_rankings_event(start_server: StartServer) -> None:
    server = start_server(["--amount-threshold", "1000", "--spike-window", "60", "--spike-threshold", "4"])
    rows = generated_rows(seed=31, count=20000, investors=300, syndicates=40, in_order=False)
    model = ReferenceModel(amount_threshold_cents=100000, window_seconds=60, spike_threshold=4)
    recorder = StreamRecorder(f"{server.ws_url}/ws?topics={STREAM_TOPICS}")
    api = Api(server.port, timeout=120)
    try:
        recorder.wait_for(lambda message: message["type"] == "snapshot")
        check_reply(model.post(rows), api.post_ndjson(rows), "20,000-row NDJSON batch")
        events = server_events(recorder, model.seq)
        assert [event[0] for event in events].count("rankings") == 1
        assert events == model.events, "stream events " + first_difference(model.events, events)
        compare_state(api, model)
    finally:
        api.close()
        recorder.close()


@pytest.mark.timeout(180)
def test_concurrent_posts_get_seqs_that_match_the_stream_and_the_reference(start_server: StartServer) -> None:
    """8 keep-alive connections post at once (group commit): every reply's firstSeq/lastSeq are
    its first and last transaction events, and the reference over the journal order agrees."""
    import threading

    server = start_server(["--amount-threshold", "1000", "--spike-window", "60", "--spike-threshold", "4"])
    rows = generated_rows(seed=41, count=4000, investors=300, syndicates=40, in_order=False)
    batches = [rows[start: start + 10] for start in range(0, len(rows), 10)]
    replies: dict[int, dict] = {}
    problems: list[str] = []
    recorder = StreamRecorder(f"{server.ws_url}/ws?topics={STREAM_TOPICS}")
    recorder.wait_for(lambda message: message["type"] == "snapshot")

    def send(numbers: list[int]) -> None:
        api = Api(server.port)
        try:
            for number in numbers:
                reply = post_batch(api, "json", batches[number])
                if reply.status != 201:
                    problems.append(reply.describe())
                replies[number] = reply.json()
        finally:
            api.close()

    threads = [threading.Thread(target=send, args=(list(range(index, len(batches), 8)),)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    api = Api(server.port)
    try:
        assert not problems, problems[:3]
        seq = api.stats()["seq"]
        recorder.wait_for_seq(seq, timeout=60)
        stream = recorder.events()[2:]
        by_seq = {message["seq"]: message for message in stream}
        assert sorted(by_seq) == list(range(1, seq + 1)), "gap or duplicate in the stream"
        order = []
        for number, reply in replies.items():
            first, last = by_seq[reply["firstSeq"]], by_seq[reply["lastSeq"]]
            assert first["type"] == "transaction" and first["transaction"]["id"] == batches[number][0]["id"], (reply, first)
            assert last["type"] == "transaction" and last["transaction"]["id"] == batches[number][-1]["id"], (reply, last)
            order.append((reply["firstSeq"], number))
        model = ReferenceModel(amount_threshold_cents=100000, window_seconds=60, spike_threshold=4)
        for _, number in sorted(order):
            model.post(batches[number])
        events = [normalize_event(message) for message in stream]
        assert events == model.events, "stream events " + first_difference(model.events, events)
        compare_state(api, model)
    finally:
        api.close()
        recorder.close()
