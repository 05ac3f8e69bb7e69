"""The cluster ingest script (Sources/Cluster/ingest.lua) on a private redis-server.

Every rule of the ingest script in the cluster contract (docs/CLUSTER.md): new ids, duplicates,
conflicts that refuse only their own request, duplicates and conflicts inside one request, ids
accepted by an earlier request of the same call, the empty id, message entries, no append when
everything is skipped, the exact skip list, the reply shape, expiry, and atomicity. Payloads are
opaque bytes (CR LF, NUL, invalid UTF-8): the script stores them without parsing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterator, Sequence, Union

import pytest

from conftest import HOST
from redis_support import RedisProcess

redis = pytest.importorskip("redis")

SCRIPT_PATH = Path(__file__).resolve().parents[2] / "Sources" / "Cluster" / "ingest.lua"
STREAM = "{syndicast}:stream"
TTL = 600

# A request: a list of (id, fingerprint) pairs (a transactions entry), or None (a message entry).
Request = Union[Sequence[tuple[bytes, bytes]], None]


@pytest.fixture(scope="module")
def redis_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A private redis-server (AOF always, as cluster mode requires) on a free loopback port."""
    process = RedisProcess(tmp_path_factory.mktemp("redis")).start()
    try:
        yield process.port
    finally:
        process.stop()


@pytest.fixture
def client(redis_port: int) -> Iterator["redis.Redis"]:
    """A client on an emptied database."""
    connection = redis.Redis(host=HOST, port=redis_port, socket_timeout=10)
    connection.flushall()
    yield connection
    connection.close()


def opaque_payload(size: int = 64) -> bytes:
    """Bytes no text parser would accept: CR LF, NUL, invalid UTF-8, a Lua pattern character."""
    return (b"\x02\r\n\x00\xff\xfe%s" + os.urandom(size))


def call(client: "redis.Redis", requests: Sequence[Request], payload: bytes | None = None, ttl: int = TTL,
         stream: str = STREAM) -> tuple[bytes | None, list[list[int]], bytes]:
    """Run the script once (EVALSHA, EVAL on NOSCRIPT); returns (entry id, results, payload sent)."""
    payload = payload if payload is not None else opaque_payload()
    arguments: list[bytes | str | int] = [ttl, payload, len(requests)]
    for request in requests:
        if request is None:
            arguments.append(0)
        else:
            arguments.append(len(request))
            for identifier, fingerprint in request:
                arguments += [identifier, fingerprint]
    source = SCRIPT_PATH.read_bytes()
    script = client.register_script(source)
    reply = script(keys=[stream], args=arguments)
    assert isinstance(reply, list) and len(reply) == 2, f"reply is not a two-element array: {reply!r}"
    entry, results = reply
    assert entry is None or isinstance(entry, bytes), f"entry id is not a bulk string or nil: {entry!r}"
    assert isinstance(results, list) and len(results) == len(requests), f"one result per request: {results!r}"
    for result in results:
        assert isinstance(result, list) and result and all(isinstance(value, int) for value in result), result
    return entry, results, payload


def entries(client: "redis.Redis") -> list[tuple[bytes, dict[bytes, bytes]]]:
    return client.xrange(STREAM)


def only_entry(client: "redis.Redis") -> dict[bytes, bytes]:
    stored = entries(client)
    assert len(stored) == 1, f"expected one stream entry, found {len(stored)}"
    return stored[0][1]


def ids_remembered(client: "redis.Redis", entry_fingerprint_pairs: Sequence[tuple[bytes, bytes]]) -> list[bool]:
    """Whether each id would now be a duplicate: a probe call with the same fingerprints (then undone)."""
    length_before = client.xlen(STREAM)
    entry, results, _ = call(client, [[pair] for pair in entry_fingerprint_pairs])
    assert client.xlen(STREAM) == length_before + (1 if entry else 0)
    return [result == [0, 1] for result in results]


def test_new_transactions_append_one_entry_with_the_payload_untouched(client: "redis.Redis") -> None:
    entry, results, payload = call(client, [[(b"t-1", b"f1"), (b"t-2", b"f2")]])
    assert entry is not None and b"-" in entry
    assert results == [[0, 0]]
    stored = entries(client)
    assert [stream_id for stream_id, _ in stored] == [entry]
    assert list(stored[0][1].keys()) == [b"p", b"s"]
    assert stored[0][1][b"p"] == payload
    assert stored[0][1][b"s"] == b""


def test_a_resent_batch_is_all_duplicates_and_appends_nothing(client: "redis.Redis") -> None:
    call(client, [[(b"t-1", b"f1"), (b"t-2", b"f2")]])
    entry, results, _ = call(client, [[(b"t-1", b"f1"), (b"t-2", b"f2")]])
    assert entry is None
    assert results == [[0, 2]]
    assert client.xlen(STREAM) == 1


def test_a_known_id_among_new_ones_is_skipped_by_index(client: "redis.Redis") -> None:
    call(client, [[(b"t-1", b"f1")]])
    entry, results, _ = call(client, [[(b"t-0", b"f0"), (b"t-1", b"f1"), (b"t-2", b"f2")]])
    assert entry is not None
    assert results == [[0, 1]]
    assert client.xrange(STREAM)[-1][1][b"s"] == b"0.1"


def test_a_conflict_refuses_only_its_own_request(client: "redis.Redis") -> None:
    call(client, [[(b"known", b"A")]])
    entry, results, _ = call(client, [
        [(b"fresh-in-refused", b"x"), (b"known", b"B")],
        [(b"fresh-ok", b"y")],
    ])
    assert entry is not None, "the second request still appends"
    assert results == [[1, 1], [0, 0]]
    assert client.xrange(STREAM)[-1][1][b"s"] == b"0"
    # The refused request's new id is not remembered (a later post of it is new); the other one is.
    assert ids_remembered(client, [(b"fresh-in-refused", b"x"), (b"fresh-ok", b"y"), (b"known", b"A")]) == [False, True, True]


def test_a_refused_request_stores_nothing_when_it_is_the_only_one(client: "redis.Redis") -> None:
    call(client, [[(b"known", b"A")]])
    keys_before = set(client.keys("*"))
    aof_entries = client.xlen(STREAM)
    entry, results, _ = call(client, [[(b"new-1", b"x"), (b"known", b"B"), (b"new-2", b"z"), (b"known", b"C")]])
    assert entry is None
    assert results == [[1, 1, 3]], "every conflicting index is listed"
    assert client.xlen(STREAM) == aof_entries
    assert set(client.keys("*")) == keys_before
    assert ids_remembered(client, [(b"new-1", b"x"), (b"new-2", b"z")]) == [False, False]


def test_a_duplicate_inside_one_request_counts_the_first_occurrence(client: "redis.Redis") -> None:
    entry, results, _ = call(client, [[(b"a", b"F"), (b"b", b"G"), (b"a", b"F")]])
    assert entry is not None
    assert results == [[0, 1]]
    assert only_entry(client)[b"s"] == b"0.2"


def test_a_conflict_inside_one_request_refuses_it(client: "redis.Redis") -> None:
    entry, results, _ = call(client, [[(b"a", b"F"), (b"b", b"G"), (b"a", b"other")]])
    assert entry is None
    assert results == [[1, 2]]
    assert client.xlen(STREAM) == 0
    assert ids_remembered(client, [(b"a", b"F"), (b"b", b"G")]) == [False, False]


def test_ids_of_an_earlier_request_in_the_same_call_count_as_stored(client: "redis.Redis") -> None:
    entry, results, _ = call(client, [
        [(b"a", b"F")],
        [(b"a", b"F"), (b"c", b"H")],
        [(b"a", b"different")],
        [(b"c", b"H")],
    ])
    assert entry is not None
    assert results == [[0, 0], [0, 1], [1, 0], [0, 1]]
    assert only_entry(client)[b"s"] == b"1.0 2 3.0"


def test_ids_of_a_refused_earlier_request_do_not_count(client: "redis.Redis") -> None:
    call(client, [[(b"k", b"K")]])
    entry, results, _ = call(client, [
        [(b"x", b"F"), (b"k", b"other")],
        [(b"x", b"G")],
    ])
    assert entry is not None
    assert results == [[1, 1], [0, 0]], "x of the refused request must not make the second a conflict"
    assert client.xrange(STREAM)[-1][1][b"s"] == b"0"


def test_the_empty_id_is_never_a_duplicate_and_never_stored(client: "redis.Redis") -> None:
    entry, results, _ = call(client, [[(b"", b"F"), (b"", b"F"), (b"", b"other")]])
    assert entry is not None
    assert results == [[0, 0]]
    assert only_entry(client)[b"s"] == b""
    entry, results, _ = call(client, [[(b"", b"F")]])
    assert entry is not None and results == [[0, 0]]
    for key in client.keys("*"):
        if client.type(key) == b"hash":
            assert b"" not in client.hkeys(key)
        else:
            assert not key.endswith(b":id:"), key


def test_a_message_entry_is_always_appended(client: "redis.Redis") -> None:
    entry, results, payload = call(client, [None])
    assert entry is not None
    assert results == [[0, 0]]
    assert only_entry(client) == {b"p": payload, b"s": b""}


def test_a_message_appends_even_beside_an_all_duplicate_and_a_refused_request(client: "redis.Redis") -> None:
    call(client, [[(b"a", b"F"), (b"b", b"G")]])
    entry, results, _ = call(client, [
        [(b"a", b"F"), (b"b", b"G")],
        [(b"c", b"H"), (b"a", b"other")],
        None,
    ])
    assert entry is not None
    assert results == [[0, 2], [1, 1], [0, 0]]
    assert client.xrange(STREAM)[-1][1][b"s"] == b"0.0 0.1 1"


def test_nothing_is_appended_when_every_request_is_skipped(client: "redis.Redis") -> None:
    call(client, [[(b"a", b"F"), (b"b", b"G")]])
    keys_before = {key: client.type(key) for key in client.keys("*")}
    entry, results, _ = call(client, [
        [(b"a", b"F")],
        [(b"b", b"other")],
        [(b"b", b"G"), (b"a", b"F")],
    ])
    assert entry is None
    assert results == [[0, 1], [1, 0], [0, 2]]
    assert client.xlen(STREAM) == 1
    assert {key: client.type(key) for key in client.keys("*")} == keys_before


def test_the_skip_list_is_exact_ascending_text(client: "redis.Redis") -> None:
    call(client, [[(b"d1", b"1"), (b"d3", b"3"), (b"k", b"K")]])
    _, results, _ = call(client, [
        [(b"n0", b"0"), (b"d1", b"1"), (b"n2", b"2"), (b"d3", b"3")],
        [(b"k", b"other")],
        [(b"d1", b"1")],
        [(b"n3", b"x")],
        None,
        [(b"n10", b"x")] + [(b"n%d" % index, b"y") for index in range(11, 21)] + [(b"d3", b"3")],
    ])
    assert results == [[0, 2], [1, 0], [0, 1], [0, 0], [0, 0], [0, 1]]
    assert client.xrange(STREAM)[-1][1][b"s"] == b"0.1 0.3 1 2.0 5.11"


def test_ids_are_remembered_with_an_expiry(client: "redis.Redis") -> None:
    call(client, [[(b"a", b"F")]], ttl=TTL)
    id_keys = [key for key in client.keys("*") if key != STREAM.encode()]
    assert id_keys, "no idempotency key was written"
    for key in id_keys:
        assert key.startswith(b"{syndicast}:"), f"{key!r} is outside the stream's hash slot"
        remaining = client.ttl(key)
        assert 0 < remaining <= 2 * TTL, f"{key!r} has TTL {remaining}, expected 1…{2 * TTL}"
    assert client.ttl(STREAM) == -1, "the stream itself must not expire"


def test_an_id_is_forgotten_after_at_most_twice_the_ttl_and_kept_within_it(client: "redis.Redis") -> None:
    call(client, [[(b"short", b"F")]], ttl=1)
    _, results, _ = call(client, [[(b"short", b"F")]], ttl=1)
    assert results == [[0, 1]], "within the ttl the id is a duplicate"
    time.sleep(2.2)
    entry, results, _ = call(client, [[(b"short", b"F")]], ttl=1)
    assert entry is not None and results == [[0, 0]], "past 2 x ttl the id is new again"


def test_large_requests_cross_the_lookup_chunks(client: "redis.Redis") -> None:
    batch = [(b"bulk-%d" % index, b"f%d" % index) for index in range(2500)]
    entry, results, _ = call(client, [batch])
    assert entry is not None and results == [[0, 0]]
    entry, results, _ = call(client, [batch[1200:] + [(b"bulk-new", b"n")]])
    assert entry is not None and results == [[0, 1300]]
    skips = client.xrange(STREAM)[-1][1][b"s"].split(b" ")
    assert skips == [b"0.%d" % index for index in range(1300)]
    _, results, _ = call(client, [batch[:1999] + [(b"bulk-1999", b"changed")]])
    assert results == [[1, 1999]]


def test_a_malformed_call_is_an_error_and_writes_nothing(client: "redis.Redis") -> None:
    script = client.register_script(SCRIPT_PATH.read_bytes())
    for arguments in (
        [TTL, b"p", 1, 2, b"a", b"F"],                  # fewer pairs than the count
        [TTL, b"p", 1, 1, b"a", b"F", b"extra"],        # arguments after the last request
        [TTL, b"p", b"x"],                              # request count not a number
        [TTL, b"p", 2, 1, b"a", b"F", -1],              # negative count
        [0, b"p", 1, 1, b"a", b"F"],                    # ttl not positive
    ):
        with pytest.raises(redis.exceptions.ResponseError):
            script(keys=[STREAM], args=arguments)
    assert client.keys("*") == []


def test_noscript_falls_back_to_eval(client: "redis.Redis") -> None:
    client.script_flush()
    entry, results, _ = call(client, [[(b"a", b"F")]])
    assert entry is not None and results == [[0, 0]]


def test_requests_larger_than_a_store_chunk_keep_every_id_and_fingerprint(client: "redis.Redis") -> None:
    # 7,000 ids: more than one HSET (3,000 pairs) and one HMGET (3,000 fields) per request, on
    # both the all-new path (pairs straight from ARGV) and the path with a duplicate among them.
    batch = [(b"big-%d" % index, b"g%d" % index) for index in range(7000)]
    entry, results, _ = call(client, [batch[:3500], batch[3500:] + [(b"big-0", b"g0")]])
    assert entry is not None and results == [[0, 0], [0, 1]]
    _, results, _ = call(client, [batch])
    assert results == [[0, 7000]], "every id of both requests is remembered"
    changed = [(identifier, b"changed") for identifier, _ in batch]
    _, results, _ = call(client, [changed])
    assert results == [[1] + list(range(7000))], "every id is remembered with its own fingerprint"


def test_an_id_of_a_refused_request_repeated_inside_it_does_not_count_later(client: "redis.Redis") -> None:
    call(client, [[(b"k", b"K")]])
    entry, results, _ = call(client, [
        [(b"x", b"F"), (b"x", b"F"), (b"k", b"other")],
        [(b"x", b"G"), (b"y", b"Y")],
        [(b"y", b"Y")],
    ])
    assert entry is not None
    assert results == [[1, 2], [0, 0], [0, 1]]
    assert ids_remembered(client, [(b"x", b"G"), (b"y", b"Y")]) == [True, True]


def test_an_id_in_the_previous_bucket_is_still_a_duplicate(client: "redis.Redis") -> None:
    ttl = 2
    seconds, micros = client.time()
    time.sleep(ttl - (seconds % ttl) - micros / 1e6 + 0.05)  # just after a bucket starts
    entry, _, _ = call(client, [[(b"old", b"F"), (b"gone", b"G")]], ttl=ttl)
    assert entry is not None
    time.sleep(ttl)  # the next bucket: the ids are only in the previous one
    _, results, _ = call(client, [[(b"old", b"F")], [(b"gone", b"other")], [(b"new", b"N")]], ttl=ttl)
    assert results == [[0, 1], [1, 0], [0, 0]]
    assert len([key for key in client.keys("{syndicast}:ids:*")]) == 2, "the previous and the current bucket"
