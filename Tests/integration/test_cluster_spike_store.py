"""`--spike-store redis`: the spike rule evaluated in Redis gives the single-node server's alerts.

The same POSTs go into a single-node in-memory server and, alternately, into two `syndicast serve
--redis … --spike-store redis` instances on one private redis-server. The sequenced events (every
transaction, alert and rankings event, with its seq and alert id) must be the same on the single
node and on each instance; the spike windows must live in Redis with their expiry.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from conftest import StartServer
from ingest_support import BASE_TIME, Api, StreamRecorder
from redis_support import RedisProcess
from test_cluster import RULES, post, sequenced, wait_until

WINDOW_SECONDS = 60
MARGIN_SECONDS = 300


@pytest.fixture
def redis_process(tmp_path: Path):
    process = RedisProcess(tmp_path / "redis").start()
    yield process
    process.stop()


def random_requests(seed: int, count: int) -> list[list[dict[str, Any]]]:
    """Requests over three syndicates: bursts at one second, late ones, far behind (> W + M), ahead,
    jumps past the window, rows without id and re-sent ids (duplicates)."""
    generator = random.Random(seed)
    now = 0
    sent: list[dict[str, Any]] = []
    requests = []
    for number in range(count):
        rows = []
        for index in range(generator.randint(1, 4)):
            kind = generator.random()
            if kind < 0.5:
                now += generator.choice([0, 0, 1, 5])
                second = now
            elif kind < 0.7:
                second = now - generator.randint(0, WINDOW_SECONDS + 5)
            elif kind < 0.8:
                second = now - generator.randint(WINDOW_SECONDS + MARGIN_SECONDS, 3 * WINDOW_SECONDS + MARGIN_SECONDS)
            elif kind < 0.9:
                second = now + generator.randint(1, 20)
            else:
                now += generator.randint(WINDOW_SECONDS, 2 * WINDOW_SECONDS)
                second = now
            if sent and generator.random() < 0.07:
                rows.append(dict(generator.choice(sent)))
                continue
            row = {"investorId": f"i{generator.randint(0, 5)}", "syndicateId": generator.choice(["s-a", "s-b", "s-c"]),
                   "amount": f"{generator.randint(1, 2000)}.00", "timestamp": BASE_TIME + second * 1000}
            if generator.random() < 0.8:
                row["id"] = f"t{number}-{index}"
                sent.append(row)
            rows.append(row)
        requests.append(rows)
    return requests


def test_alerts_with_the_spike_rule_in_redis_equal_the_single_node_alerts(
        start_server: StartServer, redis_process: RedisProcess) -> None:
    single = start_server([*RULES])
    instances = [start_server(["--redis", redis_process.url, "--spike-store", "redis", *RULES], in_memory=False)
                 for _ in range(2)]
    recorders = [StreamRecorder(f"{server.ws_url}/ws") for server in (single, *instances)]
    apis = [Api(server.port) for server in (single, *instances)]
    try:
        last = 0
        for number, rows in enumerate(random_requests(11, 120)):
            expected = post(apis[0], rows)
            reply = post(apis[1 + number % 2], rows)
            assert {key: reply.get(key) for key in ("accepted", "duplicates", "firstSeq", "lastSeq")} == \
                {key: expected.get(key) for key in ("accepted", "duplicates", "firstSeq", "lastSeq")}, (number, rows)
            last = max(last, expected.get("lastSeq") or 0)
        for recorder in recorders:
            recorder.wait_for_seq(last)
        wait_until(lambda: all(api.stats()["seq"] == apis[0].stats()["seq"] for api in apis), what="every seq to agree")
        reference = sequenced(recorders[0].events())
        spikes = [entry for entry in reference if entry[1] == "alert" and "syndicate_spike" in entry[2]]
        assert len(spikes) >= 3, f"the input raised only {len(spikes)} spike alerts"
        for recorder in recorders[1:]:
            assert sequenced(recorder.events()) == reference
        for syndicate in ("s-a", "s-b", "s-c"):
            views = [api.get_json(f"/api/syndicates/{syndicate}") for api in apis]
            assert all(view.get("spiking") == views[0].get("spiking") for view in views), views
        client = redis_process.client()
        windows = client.keys("{syndicast}:spike:w:*")
        assert windows, "no spike window in Redis"
        assert all(0 < client.pttl(key) <= (2 * WINDOW_SECONDS + MARGIN_SECONDS) * 1000 for key in windows)
        assert any(b"k" in fields for _, fields in client.xrange("{syndicast}:stream"))
    finally:
        for recorder in recorders:
            recorder.close()
        for api in apis:
            api.close()
