"""Cluster mode's idempotency window: built from the stream, the same on every instance.

Each stream entry carries its ids' digests (field `i`); every instance builds its window from them in
stream order, bounded by `--idempotency-window` ids and `--redis-idempotency-ttl` seconds of stream
time, and a snapshot carries it. These tests check what a user sees: the same duplicates and
conflicts on every instance, also for an instance started from a snapshot, racing posts of the same
ids through two instances storing each id once, both bounds forgetting alike everywhere, and
instances with other bounds refused at start.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time
from pathlib import Path

from conftest import StartServer, binary_path
from ingest_support import BASE_TIME, Api
from redis_support import RedisProcess
from test_cluster import post, redis_process, row, same_state, start_instance, wait_until  # noqa: F401 (fixture)


def test_an_instance_started_from_a_snapshot_knows_the_ids_before_it(
        start_server: StartServer, redis_process: RedisProcess) -> None:
    a = start_instance(start_server, redis_process, ["--redis-snapshot-interval", "1"])
    api_a = Api(a.port, timeout=30)
    try:
        for start in range(0, 3_000, 1_000):
            body = "".join(
                f'{{"id":"old{n}","investorId":"i{n % 7}","syndicateId":"s{n % 3}","amount":"1.00",'
                f'"timestamp":{BASE_TIME + n}}}\n' for n in range(start, start + 1_000)).encode()
            assert api_a.post("/api/transactions", body, "application/x-ndjson").status == 201
        client = redis_process.client()
        # Small posts and snapshots go on until the stream is trimmed past the entries of those
        # ids (each held 1,000 records of 24 bytes): then only the snapshot knows them.
        def trimmed() -> bool:
            post(api_a, [row(f"tick{time.monotonic_ns()}")])
            return all(len(fields.get(b"i", b"")) < 24_000 for _, fields in client.xrange("{syndicast}:stream"))
        wait_until(trimmed, timeout=30, what="the stream trimmed past the posts")
        fresh = start_instance(start_server, redis_process)
        api_fresh = Api(fresh.port)
        try:
            wait_until(lambda: api_fresh.request("GET", "/readyz").status == 200, what="/readyz on the fresh instance")
            again = post(api_fresh, [{"id": "old5", "investorId": "i5", "syndicateId": "s2", "amount": "1.00",
                                      "timestamp": BASE_TIME + 5}])
            assert again["accepted"] == 0 and again["duplicates"] == 1, again
            other = api_fresh.post("/api/transactions", [{"id": "old6", "investorId": "i6", "syndicateId": "s0",
                                                          "amount": "2.00", "timestamp": BASE_TIME + 6}])
            assert other.status == 409 and "old6" in other.body.decode(), other.describe()
            assert api_fresh.stats()["transactions"] == api_a.stats()["transactions"]
            assert same_state([api_a, api_fresh])
        finally:
            api_fresh.close()
    finally:
        api_a.close()


def test_racing_posts_of_the_same_ids_through_two_instances_store_each_id_once(
        start_server: StartServer, redis_process: RedisProcess) -> None:
    a, b = start_instance(start_server, redis_process), start_instance(start_server, redis_process)
    ids = [f"race{n}" for n in range(600)]
    totals = {"accepted": 0, "duplicates": 0}
    lock = threading.Lock()
    failures: list[str] = []

    def poster(port: int, seed: int) -> None:
        api = Api(port, timeout=20)
        order = ids[:]
        random.Random(seed).shuffle(order)
        try:
            for start in range(0, len(order), 20):
                rows = [row(identifier, investor=f"i{identifier}", amount="3.00") for identifier in order[start:start + 20]]
                reply = api.post("/api/transactions", rows)
                if reply.status != 201:
                    failures.append(reply.describe())
                    continue
                body = reply.json()
                with lock:
                    totals["accepted"] += body["accepted"]
                    totals["duplicates"] += body["duplicates"]
        finally:
            api.close()

    threads = [threading.Thread(target=poster, args=(server.port, seed))
               for seed, server in enumerate([a, b, a, b, a, b])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures[:3]
    assert totals == {"accepted": len(ids), "duplicates": 5 * len(ids)}, totals
    api_a, api_b = Api(a.port), Api(b.port)
    try:
        wait_until(lambda: same_state([api_a, api_b]), what="the instances to agree")
        assert api_a.stats()["transactions"] == len(ids)
    finally:
        api_a.close()
        api_b.close()


def test_the_id_count_bound_forgets_alike_on_every_instance(start_server: StartServer, redis_process: RedisProcess) -> None:
    a = start_instance(start_server, redis_process, ["--idempotency-window", "3"])
    b = start_instance(start_server, redis_process, ["--idempotency-window", "3"])
    api_a, api_b = Api(a.port), Api(b.port)
    try:
        post(api_a, [row("w1"), row("w2")])
        assert post(api_b, [row("w1")])["duplicates"] == 1, "within the window on the other instance"
        post(api_a, [row("w3"), row("w4")])
        wait_until(lambda: same_state([api_a, api_b]), what="B to apply A's entries")
        # w1 is the fourth id back: forgotten by both, so it is new again.
        assert post(api_b, [row("w1")])["accepted"] == 1
        assert post(api_a, [row("w4")])["duplicates"] == 1
        wait_until(lambda: same_state([api_a, api_b]), what="the instances to agree")
        assert api_a.stats()["transactions"] == 5
    finally:
        api_a.close()
        api_b.close()


def test_the_time_bound_forgets_by_stream_time_on_every_instance(
        start_server: StartServer, redis_process: RedisProcess) -> None:
    a = start_instance(start_server, redis_process, ["--redis-idempotency-ttl", "1"])
    b = start_instance(start_server, redis_process, ["--redis-idempotency-ttl", "1"])
    api_a, api_b = Api(a.port), Api(b.port)
    try:
        post(api_a, [row("t1")])
        assert post(api_b, [row("t1")])["duplicates"] == 1, "within the ttl"
        time.sleep(2.2)
        # An entry more than the ttl later moves the stream's time past t1's.
        post(api_a, [row("later")])
        wait_until(lambda: same_state([api_a, api_b]), what="B to apply the later entry")
        assert post(api_b, [row("t1")])["accepted"] == 1, "forgotten after the ttl"
        wait_until(lambda: same_state([api_a, api_b]), what="the instances to agree")
        assert api_a.stats()["transactions"] == 3
    finally:
        api_a.close()
        api_b.close()


def test_an_instance_with_other_window_bounds_is_refused_at_start(
        start_server: StartServer, redis_process: RedisProcess, tmp_path: Path) -> None:
    first = start_instance(start_server, redis_process)
    api = Api(first.port)
    try:
        wait_until(lambda: api.request("GET", "/readyz").status == 200, what="/readyz")
    finally:
        api.close()
    for flags in (["--idempotency-window", "500"], ["--redis-idempotency-ttl", "60"]):
        result = subprocess.run(
            [str(binary_path()), "serve", "--port", "0", "--redis", redis_process.url, *flags],
            capture_output=True, text=True, timeout=30, cwd=tmp_path)
        assert result.returncode == 1, result
        assert "--idempotency-window 1000000 --redis-idempotency-ttl 86400" in result.stderr, result.stderr
        assert f"started with --idempotency-window {flags[1] if flags[0] == '--idempotency-window' else '1000000'}" \
            in result.stderr, result.stderr
