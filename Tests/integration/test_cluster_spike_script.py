"""The ingest script's spike section (--spike-store redis) on a private redis-server.

The script evaluates the spike rule (docs/SPIKE-RULE.md) in Redis sorted sets for every applied
transaction of a call, in stream order, and writes its decisions as field `k` of the entry. These
tests check that the decisions equal the reference model's (Tests/integration/ingest_support.py,
the in-process rule in plain Python) on random input: in order, out of order, far behind, ahead
within the margin, several syndicates, spikes starting and ending, equal timestamps, duplicates and
refused requests in the same calls. Also: the keys' expiry, a re-applied id counted twice, and a
malformed section refused without writes.
"""

from __future__ import annotations

import random
from typing import Sequence

import pytest

from ingest_support import ReferenceModel, Syndicate
from test_cluster_script import STREAM, arguments_for, client, opaque_payload, record, redis_port  # noqa: F401 (fixtures)

redis = pytest.importorskip("redis")

SCRIPT = (__import__("test_cluster_script").SCRIPT_PATH).read_bytes()
WINDOW_MS = 10_000
THRESHOLD = 3
MARGIN_MS = 5_000

# A transaction: (id, fingerprint, syndicate, timestamp ms); a request: a list of them.
Row = tuple[bytes, bytes, bytes, int]


def spike_call(client: "redis.Redis", requests: Sequence[Sequence[Row]], window: int = WINDOW_MS,
               threshold: int = THRESHOLD, margin: int | None = MARGIN_MS,
               after: bytes = b"0-0") -> tuple[bytes | None, list]:
    """One script call with the spike section; returns (entry id, per-request results).

    P defaults to "0-0": the script checks the ids against every entry, as one window would."""
    pairs = [[(identifier, fingerprint) for identifier, fingerprint, _, _ in request] for request in requests]
    arguments = arguments_for(pairs, opaque_payload(8), after)
    arguments += ["spike", window, threshold, "-" if margin is None else margin]
    for request in requests:
        for identifier, _, syndicate, timestamp in request:
            arguments += [syndicate, timestamp, identifier]
    entry, results = client.register_script(SCRIPT)(keys=[STREAM], args=arguments)
    return entry, results


class Expected:
    """The reference model's spike rule fed the applied transactions; `tokens` is the `k` text it implies."""

    def __init__(self, window: int = WINDOW_MS, threshold: int = THRESHOLD, margin: int = MARGIN_MS) -> None:
        self.model = ReferenceModel(amount_threshold_cents=10**15, window_seconds=1, spike_threshold=threshold,
                                    clock_margin_seconds=0)
        self.model.window = window
        self.model.margin = margin

    def apply(self, requests: Sequence[Sequence[Row]], skip_text: bytes) -> str:
        refused: set[int] = set()
        duplicates: set[tuple[int, int]] = set()
        for token in skip_text.decode().split():
            parts = token.split(".")
            if len(parts) == 1:
                refused.add(int(parts[0]))
            else:
                duplicates.add((int(parts[0]), int(parts[1])))
        tokens = []
        for request_index, request in enumerate(requests):
            if request_index in refused:
                continue
            for index, (_, _, syndicate_id, timestamp) in enumerate(request):
                if (request_index, index) in duplicates:
                    continue
                state = self.model.syndicates.setdefault(syndicate_id.decode(), Syndicate())
                was_spiking = state.spiking
                count = self.model.spike(state, timestamp)
                if count is not None:
                    tokens.append(f"{request_index}.{index}:{count}")
                elif was_spiking and not state.spiking:
                    tokens.append(f"{request_index}.{index}-")
        return " ".join(tokens)


def random_calls(seed: int, calls: int) -> list[list[list[Row]]]:
    """Random calls over 3 syndicates: bursts (spikes), equal timestamps, late, far behind, ahead within M,
    re-sent ids (duplicates) and reused ids with other content (conflicts refusing their request)."""
    generator = random.Random(seed)
    now = 1_700_000_000_000
    used: list[tuple[bytes, bytes]] = []
    serial = 0
    result = []
    for _ in range(calls):
        requests = []
        for _ in range(generator.randint(1, 3)):
            request = []
            for _ in range(generator.randint(1, 5)):
                kind = generator.random()
                if kind < 0.5:
                    now += generator.choice([0, 0, 1, 50, 400, 2_000])
                    timestamp = now
                elif kind < 0.7:
                    timestamp = now - generator.randint(0, WINDOW_MS + 1_000)
                elif kind < 0.8:
                    timestamp = now - generator.randint(WINDOW_MS, 3 * WINDOW_MS + MARGIN_MS)
                elif kind < 0.9:
                    timestamp = now + generator.randint(0, MARGIN_MS)
                else:
                    now += generator.randint(WINDOW_MS, 3 * WINDOW_MS)
                    timestamp = now
                syndicate = generator.choice([b"s-a", b"s-b", b"s\xc3\xa9 c"])
                choice = generator.random()
                if used and choice < 0.08:
                    identifier, fingerprint = generator.choice(used)
                elif used and choice < 0.11:
                    identifier, fingerprint = generator.choice(used)[0], b"other"
                elif choice < 0.3:
                    identifier, fingerprint = b"", b"f"
                else:
                    serial += 1
                    identifier, fingerprint = f"t-{serial}".encode(), f"f-{serial}".encode()
                    used.append((identifier, fingerprint))
                request.append((identifier, fingerprint, syndicate, timestamp))
            requests.append(request)
        result.append(requests)
    return result


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_the_scripts_decisions_equal_the_reference_model_on_random_input(client: "redis.Redis", seed: int) -> None:
    expected = Expected()
    alerts = ends = 0
    for requests in random_calls(seed, 250):
        entry, _ = spike_call(client, requests)
        if entry is None:
            continue
        fields = client.xrange(STREAM, entry, entry)[0][1]
        want = expected.apply(requests, fields[b"s"])
        assert fields[b"k"].decode() == want, f"call {requests!r}"
        alerts += want.count(":")
        ends += want.count("-")
    # The input exercised the rule: spikes started and ended, every path was taken.
    assert alerts >= 3 and ends >= 3, (alerts, ends)
    paths = expected.model.spike_paths
    assert paths["evaluated"] and paths["joined_late"] and paths["ignored"] and paths["cleared"], paths


def test_the_spike_state_survives_across_calls_and_alerts_once_per_spike(client: "redis.Redis") -> None:
    rows = [(f"t{index}".encode(), b"f", b"s1", 1_000 + index) for index in range(6)]
    keys = []
    for row in rows:
        entry, _ = spike_call(client, [[row]])
        keys.append(client.xrange(STREAM, entry, entry)[0][1][b"k"])
    # The fourth transaction in the window (count 4 > 3) alerts; the fifth and sixth do not again.
    assert keys == [b"", b"", b"", b"0.0:4", b"", b""]
    # Much later: the window holds one, the spike ends.
    entry, _ = spike_call(client, [[(b"t9", b"f", b"s1", 100_000)]])
    assert client.xrange(STREAM, entry, entry)[0][1][b"k"] == b"0.0-"


def test_window_keys_expire_after_twice_the_window_plus_the_margin(client: "redis.Redis") -> None:
    spike_call(client, [[(b"t1", b"f", b"s1", 5_000), (b"", b"f", b"s2", 5_001)]])
    for syndicate in (b"s1", b"s2"):
        ttl = client.pttl(b"{syndicast}:spike:w:" + syndicate)
        assert 0 < ttl <= 2 * WINDOW_MS + MARGIN_MS
    assert client.zrange(b"{syndicast}:spike:w:s1", 0, -1, withscores=True) == [(b"t1", 5_000.0)]
    # The clock and the per-syndicate state are O(syndicates), kept without expiry.
    assert client.get(b"{syndicast}:spike:clock") == b"5001"
    assert client.hgetall(b"{syndicast}:spike:state") == {b"s1": b"5000 0", b"s2": b"5001 0"}
    assert client.pttl(b"{syndicast}:spike:state") == -1
    # Without a margin (M unbounded) nothing expires and nothing is ignored by the clock.
    client.flushall()
    spike_call(client, [[(b"t1", b"f", b"s1", 5_000)]], margin=None)
    assert client.pttl(b"{syndicast}:spike:w:s1") == -1


def test_an_id_applied_again_after_the_idempotency_window_counts_twice(client: "redis.Redis") -> None:
    first, _ = spike_call(client, [[(b"t1", b"f", b"s1", 1_000), (b"t2", b"f", b"s1", 1_001)]])
    # The caller applied the first entry and its window forgot t1 and t2 (ttl or size): it sends them
    # again with P past that entry, so the script has no entry to find them in.
    entry, results = spike_call(client, [[(b"t1", b"f", b"s1", 1_002), (b"t2", b"f", b"s1", 1_003)]], after=first)
    assert results == [[0, 0]]
    # Four transactions in the window (not two members): count 4 > 3 alerts, as in process.
    assert client.xrange(STREAM, entry, entry)[0][1][b"k"] == b"0.1:4"
    assert client.zcard(b"{syndicast}:spike:w:s1") == 4


def test_nothing_is_evaluated_when_nothing_is_appended(client: "redis.Redis") -> None:
    spike_call(client, [[(b"t1", b"f", b"s1", 1_000)]])
    before = client.zcard(b"{syndicast}:spike:w:s1")
    entry, results = spike_call(client, [[(b"t1", b"f", b"s1", 2_000)], [(b"t1", b"g", b"s1", 3_000)]])
    assert entry is None and results == [[0, 1], [1, 0]]
    assert client.zcard(b"{syndicast}:spike:w:s1") == before
    assert client.get(b"{syndicast}:spike:clock") == b"1000"


@pytest.mark.parametrize("tail", [
    ["spike", 0, 3, 5000, b"s1", 1, b"t1"], ["spike", 10, -1, 5000, b"s1", 1, b"t1"],
    ["spike", 10, 3, "x", b"s1", 1, b"t1"], ["spike", 10, 3, 5000, b"s1", 1], ["spike", 10, 3, 5000, b"s1"],
    ["spike", 10, 3, 5000, b"s1", "1.5", b"t1"], ["spike", 10, 3, 5000, b"s1", 1, b"t1", b"extra"],
])
def test_a_malformed_spike_section_is_an_error_and_writes_nothing(client: "redis.Redis", tail: list) -> None:
    script = client.register_script(SCRIPT)
    with pytest.raises(redis.exceptions.ResponseError):
        script(keys=[STREAM], args=[b"0-0", b"p", b"0", 1, 1, record(b"t1", b"f"), b"", *tail])
    assert client.dbsize() == 0
