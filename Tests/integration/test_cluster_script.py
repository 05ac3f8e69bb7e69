"""The cluster ingest script (Sources/Cluster/ingest.lua) on a private redis-server.

Every rule of the ingest script in the cluster contract (the script's header, docs/CLUSTER.md):
new ids, duplicates, conflicts that refuse only their own request, duplicates and conflicts inside
one request, ids accepted by an earlier request of the same call, the zero record (no id), message
entries, no append when everything is skipped, the exact skip list, field `i` (the records of the
requests not refused), the caller's applied position P (only entries after it are checked, at most
1,000 of them), the caller's known duplicates, the repeats flag, the reply shape, and atomicity.
Payloads and records are opaque bytes (CR LF, NUL, invalid UTF-8): the script stores them without
parsing.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterator, Mapping, Sequence, Union

import pytest

from conftest import HOST
from redis_support import RedisProcess

redis = pytest.importorskip("redis")

SCRIPT_PATH = Path(__file__).resolve().parents[2] / "Sources" / "Cluster" / "ingest.lua"
STREAM = "{syndicast}:stream"
ZERO_RECORD = bytes(24)

# A request: a list of (id, fingerprint) pairs (a transactions entry; id b"" = none), or None (a message entry).
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


def record(identifier: bytes, fingerprint: bytes) -> bytes:
    """A transaction's 24-byte record: 16-byte id digest + 8-byte fingerprint digest; zeros without id.

    The script compares records as opaque bytes, so any keyed 16 + 8 byte digests stand for the
    cluster's SipHash ones here."""
    if identifier == b"":
        return ZERO_RECORD
    return (hashlib.blake2b(identifier, digest_size=16).digest()
            + hashlib.blake2b(fingerprint, digest_size=8).digest())


def records_of(request: Request) -> bytes:
    return b"".join(record(identifier, fingerprint) for identifier, fingerprint in request or [])


def repeats_flag(requests: Sequence[Request], known: Mapping[int, Sequence[int]]) -> str:
    """What the caller sends: "1" when a non-zero id digest not known as a duplicate occurs twice in the call."""
    digests = [record(identifier, b"")[:16]
               for request_index, request in enumerate(requests)
               for index, (identifier, _) in enumerate(request or [])
               if identifier != b"" and index not in known.get(request_index, ())]
    return "1" if len(set(digests)) < len(digests) else "0"


def arguments_for(requests: Sequence[Request], payload: bytes, after: bytes | str = b"0-0",
                  repeats: str | None = None, known: Mapping[int, Sequence[int]] | None = None) -> list:
    """ARGV of one call: P, payload, repeats flag, R, then per request n, records, known indices."""
    known = known or {}
    flag = repeats if repeats is not None else repeats_flag(requests, known)
    arguments: list[bytes | str | int] = [after, payload, flag, len(requests)]
    for request_index, request in enumerate(requests):
        arguments += [len(request or []), records_of(request),
                      " ".join(str(index) for index in known.get(request_index, ()))]
    return arguments


def call(client: "redis.Redis", requests: Sequence[Request], payload: bytes | None = None,
         after: bytes | str = b"0-0", repeats: str | None = None, known: Mapping[int, Sequence[int]] | None = None,
         stream: str = STREAM) -> tuple[bytes | None, list[list[int]], bytes]:
    """Run the script once (EVALSHA, EVAL on NOSCRIPT); returns (entry id, results, payload sent).

    P defaults to "0-0" (every entry of the stream is after it, so the script checks against all of
    them); the repeats flag defaults to what a correct caller sends."""
    payload = payload if payload is not None else opaque_payload()
    script = client.register_script(SCRIPT_PATH.read_bytes())
    reply = script(keys=[stream], args=arguments_for(requests, payload, after, repeats, known))
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


def last_fields(client: "redis.Redis") -> dict[bytes, bytes]:
    return client.xrevrange(STREAM, count=1)[0][1]


def ids_remembered(client: "redis.Redis", entry_fingerprint_pairs: Sequence[tuple[bytes, bytes]]) -> list[bool]:
    """Whether each id is now a duplicate for a caller at P = "0-0": a probe call with the same fingerprints."""
    length_before = client.xlen(STREAM)
    entry, results, _ = call(client, [[pair] for pair in entry_fingerprint_pairs])
    assert client.xlen(STREAM) == length_before + (1 if entry else 0)
    return [result == [0, 1] for result in results]


def test_new_transactions_append_one_entry_with_the_payload_and_records_untouched(client: "redis.Redis") -> None:
    batch = [(b"t-1", b"f1"), (b"t-2", b"f2")]
    entry, results, payload = call(client, [batch])
    assert entry is not None and b"-" in entry
    assert results == [[0, 0]]
    stored = entries(client)
    assert [stream_id for stream_id, _ in stored] == [entry]
    assert list(stored[0][1].keys()) == [b"p", b"s", b"i"]
    assert stored[0][1][b"p"] == payload
    assert stored[0][1][b"s"] == b""
    assert stored[0][1][b"i"] == record(b"t-1", b"f1") + record(b"t-2", b"f2")
    assert client.keys("*") == [STREAM.encode()], "no id is stored outside the stream"


def test_a_resent_batch_is_all_duplicates_and_appends_nothing(client: "redis.Redis") -> None:
    call(client, [[(b"t-1", b"f1"), (b"t-2", b"f2")]])
    entry, results, _ = call(client, [[(b"t-1", b"f1"), (b"t-2", b"f2")]])
    assert entry is None
    assert results == [[0, 2]]
    assert client.xlen(STREAM) == 1


def test_a_known_id_among_new_ones_is_skipped_by_index_and_its_record_kept(client: "redis.Redis") -> None:
    call(client, [[(b"t-1", b"f1")]])
    batch = [(b"t-0", b"f0"), (b"t-1", b"f1"), (b"t-2", b"f2")]
    entry, results, _ = call(client, [batch])
    assert entry is not None
    assert results == [[0, 1]]
    assert last_fields(client)[b"s"] == b"0.1"
    assert last_fields(client)[b"i"] == records_of(batch), "a duplicate's record stays in i"


def test_a_conflict_refuses_only_its_own_request(client: "redis.Redis") -> None:
    call(client, [[(b"known", b"A")]])
    entry, results, _ = call(client, [
        [(b"fresh-in-refused", b"x"), (b"known", b"B")],
        [(b"fresh-ok", b"y")],
    ])
    assert entry is not None, "the second request still appends"
    assert results == [[1, 1], [0, 0]]
    assert last_fields(client)[b"s"] == b"0"
    assert last_fields(client)[b"i"] == record(b"fresh-ok", b"y"), "the refused request's records are not in i"
    # The refused request's new id is not remembered (a later post of it is new); the other one is.
    assert ids_remembered(client, [(b"fresh-in-refused", b"x"), (b"fresh-ok", b"y"), (b"known", b"A")]) == [False, True, True]


def test_a_refused_request_stores_nothing_when_it_is_the_only_one(client: "redis.Redis") -> None:
    call(client, [[(b"known", b"A")]])
    keys_before = set(client.keys("*"))
    length_before = client.xlen(STREAM)
    entry, results, _ = call(client, [[(b"new-1", b"x"), (b"known", b"B"), (b"new-2", b"z"), (b"known", b"C")]])
    assert entry is None
    assert results == [[1, 1, 3]], "every conflicting index is listed"
    assert client.xlen(STREAM) == length_before
    assert set(client.keys("*")) == keys_before
    assert ids_remembered(client, [(b"new-1", b"x"), (b"new-2", b"z")]) == [False, False]


def test_a_duplicate_inside_one_request_counts_the_first_occurrence(client: "redis.Redis") -> None:
    batch = [(b"a", b"F"), (b"b", b"G"), (b"a", b"F")]
    entry, results, _ = call(client, [batch])
    assert entry is not None
    assert results == [[0, 1]]
    assert only_entry(client)[b"s"] == b"0.2"
    assert only_entry(client)[b"i"] == records_of(batch)


def test_a_conflict_inside_one_request_refuses_it(client: "redis.Redis") -> None:
    entry, results, _ = call(client, [[(b"a", b"F"), (b"b", b"G"), (b"a", b"other")]])
    assert entry is None
    assert results == [[1, 2]]
    assert client.xlen(STREAM) == 0
    assert ids_remembered(client, [(b"a", b"F"), (b"b", b"G")]) == [False, False]


def test_ids_of_an_earlier_request_in_the_same_call_count_as_stored(client: "redis.Redis") -> None:
    requests = [
        [(b"a", b"F")],
        [(b"a", b"F"), (b"c", b"H")],
        [(b"a", b"different")],
        [(b"c", b"H")],
    ]
    entry, results, _ = call(client, requests)
    assert entry is not None
    assert results == [[0, 0], [0, 1], [1, 0], [0, 1]]
    assert only_entry(client)[b"s"] == b"1.0 2 3.0"
    assert only_entry(client)[b"i"] == records_of(requests[0]) + records_of(requests[1]) + records_of(requests[3])


def test_ids_of_a_refused_earlier_request_do_not_count(client: "redis.Redis") -> None:
    call(client, [[(b"k", b"K")]])
    entry, results, _ = call(client, [
        [(b"x", b"F"), (b"k", b"other")],
        [(b"x", b"G")],
    ])
    assert entry is not None
    assert results == [[1, 1], [0, 0]], "x of the refused request must not make the second a conflict"
    assert last_fields(client)[b"s"] == b"0"


def test_the_zero_record_is_never_a_duplicate_and_is_kept_in_i(client: "redis.Redis") -> None:
    entry, results, _ = call(client, [[(b"", b"F"), (b"", b"F"), (b"", b"other")]])
    assert entry is not None
    assert results == [[0, 0]]
    assert only_entry(client)[b"s"] == b""
    assert only_entry(client)[b"i"] == ZERO_RECORD * 3
    # Against an entry after P full of zero records, and inside a call with repeats = "1".
    entry, results, _ = call(client, [[(b"", b"F"), (b"a", b"A"), (b"", b"F"), (b"a", b"A")]], repeats="1")
    assert entry is not None and results == [[0, 1]]
    assert last_fields(client)[b"s"] == b"0.3"


def test_a_message_entry_is_always_appended(client: "redis.Redis") -> None:
    entry, results, payload = call(client, [None])
    assert entry is not None
    assert results == [[0, 0]]
    assert only_entry(client) == {b"p": payload, b"s": b"", b"i": b""}


def test_a_message_appends_even_beside_an_all_duplicate_and_a_refused_request(client: "redis.Redis") -> None:
    call(client, [[(b"a", b"F"), (b"b", b"G")]])
    entry, results, _ = call(client, [
        [(b"a", b"F"), (b"b", b"G")],
        [(b"c", b"H"), (b"a", b"other")],
        None,
    ])
    assert entry is not None
    assert results == [[0, 2], [1, 1], [0, 0]]
    assert last_fields(client)[b"s"] == b"0.0 0.1 1"
    assert last_fields(client)[b"i"] == record(b"a", b"F") + record(b"b", b"G"), "all-duplicate request: kept"


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
    assert last_fields(client)[b"s"] == b"0.1 0.3 1 2.0 5.11"


def test_large_requests_keep_every_id_and_fingerprint(client: "redis.Redis") -> None:
    batch = [(b"bulk-%d" % index, b"f%d" % index) for index in range(2500)]
    entry, results, _ = call(client, [batch])
    assert entry is not None and results == [[0, 0]]
    entry, results, _ = call(client, [batch[1200:] + [(b"bulk-new", b"n")]])
    assert entry is not None and results == [[0, 1300]]
    skips = last_fields(client)[b"s"].split(b" ")
    assert skips == [b"0.%d" % index for index in range(1300)]
    _, results, _ = call(client, [batch[:1999] + [(b"bulk-1999", b"changed")]])
    assert results == [[1, 1999]]


def test_two_large_requests_in_one_call_keep_every_id_and_fingerprint(client: "redis.Redis") -> None:
    batch = [(b"big-%d" % index, b"g%d" % index) for index in range(7000)]
    entry, results, _ = call(client, [batch[:3500], batch[3500:] + [(b"big-0", b"g0")]])
    assert entry is not None and results == [[0, 0], [0, 1]]
    assert len(only_entry(client)[b"i"]) == 24 * 7001
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


def test_only_the_entries_after_the_applied_position_are_checked(client: "redis.Redis") -> None:
    first, _, _ = call(client, [[(b"old", b"F")]])
    call(client, [[(b"recent", b"G")]])
    # P = the first entry: "old" is in the caller's window, not the script's; "recent" is after P.
    entry, results, _ = call(client, [[(b"old", b"another")], [(b"recent", b"G")], [(b"recent", b"other")],
                                      [(b"new", b"N")]], after=first)
    assert entry is not None
    assert results == [[0, 0], [0, 1], [1, 0], [0, 0]], "old is not the script's to check, recent is"
    assert last_fields(client)[b"s"] == b"1.0 2"
    # The caller applied everything: "recent" is in its window only, a second post is accepted here.
    entry, results, _ = call(client, [[(b"recent", b"G")]], after=entry)
    assert entry is not None and results == [[0, 0]]
    # The same id with P = "0-0": the script sees every entry.
    _, results, _ = call(client, [[(b"recent", b"G")], [(b"recent", b"other")]])
    assert results == [[0, 1], [1, 0]]


def test_the_callers_known_duplicates_are_skipped_counted_and_kept_in_i(client: "redis.Redis") -> None:
    call(client, [[(b"stored", b"S")]])
    # Index 3 is a duplicate the caller found in its window (the script has nothing to say about it);
    # index 1 is one the script finds after P. Both are in s, ascending, and in the count.
    batch = [(b"n0", b"0"), (b"stored", b"S"), (b"n2", b"2"), (b"caller-known", b"K")]
    entry, results, _ = call(client, [batch, [(b"m0", b"0"), (b"m1", b"1")]], known={0: [3], 1: [0]})
    assert entry is not None
    assert results == [[0, 2], [0, 1]]
    fields = last_fields(client)
    assert fields[b"s"] == b"0.1 0.3 1.0"
    assert fields[b"i"] == records_of(batch) + records_of([(b"m0", b"0"), (b"m1", b"1")])
    # A known index is not checked: even an id conflicting after P is skipped as the caller said.
    _, results, _ = call(client, [[(b"stored", b"different"), (b"n5", b"5")]], known={0: [0]})
    assert results == [[0, 1]]
    # Every transaction known: nothing to apply, nothing appended.
    length = client.xlen(STREAM)
    entry, results, _ = call(client, [[(b"x", b"1"), (b"y", b"2")]], known={0: [0, 1]})
    assert entry is None and results == [[0, 2]]
    assert client.xlen(STREAM) == length


def test_a_refused_requests_records_are_not_in_i_so_later_callers_do_not_see_them(client: "redis.Redis") -> None:
    before, _, _ = call(client, [[(b"k", b"K")]])
    entry, results, _ = call(client, [[(b"x", b"F"), (b"k", b"other")], [(b"", b"-"), (b"y", b"Y")]])
    assert results == [[1, 1], [0, 0]]
    assert last_fields(client)[b"i"] == ZERO_RECORD + record(b"y", b"Y")
    # Another caller at P = the entry before: x is unknown to it (new), y is in the entry after P.
    _, results, _ = call(client, [[(b"x", b"G")], [(b"y", b"other")]], after=before)
    assert results == [[0, 0], [1, 0]]
    assert entry is not None


def test_the_repeats_flag_decides_whether_a_repeat_inside_the_call_is_seen(client: "redis.Redis") -> None:
    # The caller's duty: with "0" and no entry after P the script does no per-transaction work, so
    # an id twice in the call is not detected; a correct caller sends "1" for such a call.
    entry, results, _ = call(client, [[(b"a", b"F"), (b"a", b"F")], [(b"a", b"other")]], repeats="0")
    assert entry is not None and results == [[0, 0], [0, 0]]
    assert only_entry(client)[b"s"] == b""
    last = entry
    entry, results, _ = call(client, [[(b"b", b"F"), (b"b", b"F")], [(b"b", b"other")]], after=last, repeats="1")
    assert entry is not None and results == [[0, 1], [1, 0]]
    assert last_fields(client)[b"s"] == b"0.1 1"
    assert repeats_flag([[(b"b", b"F"), (b"b", b"F")]], {}) == "1"
    assert repeats_flag([[(b"b", b"F"), (b"b", b"F")]], {0: [1]}) == "0"


def test_a_position_at_the_last_entry_appends_without_per_transaction_work(client: "redis.Redis") -> None:
    last, _, _ = call(client, [[(b"a", b"F")]])
    batch = [(b"a", b"other"), (b"b", b"G"), (b"", b"-")]
    entry, results, payload = call(client, [batch, None], after=last)
    assert entry is not None and results == [[0, 0], [0, 0]], "a is in the caller's window, not checked here"
    stored = entries(client)
    assert [stream_id for stream_id, _ in stored] == [last, entry]
    assert stored[1][1] == {b"p": payload, b"s": b"", b"i": records_of(batch)}
    # A P past the last entry (a caller that applied a trimmed stream's end) is the same: nothing after it.
    entry, results, _ = call(client, [[(b"c", b"H")]], after=b"99999999999999-0")
    assert entry is not None and results == [[0, 0]]


def fill_stream(client: "redis.Redis", count: int) -> list[bytes]:
    """`count` entries as the script writes them (p, s, i), one id each ("filler-<n>"); their stream ids."""
    pipeline = client.pipeline(transaction=False)
    for index in range(count):
        pipeline.xadd(STREAM, {b"p": b"x", b"s": b"", b"i": record(b"filler-%d" % index, b"F")})
    return pipeline.execute()


def test_more_than_1000_entries_after_the_position_is_an_error_and_writes_nothing(client: "redis.Redis") -> None:
    stream_ids = fill_stream(client, 1001)
    script = client.register_script(SCRIPT_PATH.read_bytes())
    with pytest.raises(redis.exceptions.ResponseError, match="more than 1000 entries behind"):
        script(keys=[STREAM], args=arguments_for([[(b"new", b"N")], None], b"p"))
    assert client.xlen(STREAM) == 1001
    assert client.keys("*") == [STREAM.encode()]
    # Exactly 1000 after P: checked, the oldest of them included.
    entry, results, _ = call(client, [[(b"filler-1", b"F")], [(b"filler-1000", b"other")], [(b"new", b"N")]],
                             after=stream_ids[0])
    assert entry is not None and results == [[0, 1], [1, 0], [0, 0]]


@pytest.mark.parametrize("arguments", [
    [b"0-0", b"p", b"0", 1, 2, record(b"a", b"F"), b""],                     # fewer records than the count
    [b"0-0", b"p", b"0", 1, 1, record(b"a", b"F") + b"x", b""],              # records not 24 x n bytes
    [b"0-0", b"p", b"0", 1, 1, record(b"a", b"F")],                          # no known-indices argument
    [b"0-0", b"p", b"0", 1, 1, record(b"a", b"F"), b"", b"extra"],           # arguments after the last request
    [b"0-0", b"p", b"0", b"x"],                                              # request count not a number
    [b"0-0", b"p", b"0", 2, 1, record(b"a", b"F"), b"", -1, b"", b""],       # negative count
    [b"0-0", b"p", b"0", 1, b"1.5", record(b"a", b"F"), b""],                # count not an integer
    [b"last", b"p", b"0", 1, 1, record(b"a", b"F"), b""],                    # P not a stream id
    [b"", b"p", b"0", 1, 1, record(b"a", b"F"), b""],                        # P empty
    [b"1-0 ", b"p", b"0", 1, 1, record(b"a", b"F"), b""],                    # P with a trailing space
    [b"0-0", b"p", b"2", 1, 1, record(b"a", b"F"), b""],                     # repeats flag not 0/1
    [b"0-0", b"p", b"", 1, 1, record(b"a", b"F"), b""],                      # repeats flag empty
    [b"0-0", b"p", b"0", 1, 2, record(b"a", b"F") * 2, b"1 0"],              # known not ascending
    [b"0-0", b"p", b"0", 1, 2, record(b"a", b"F") * 2, b"1 1"],              # known repeated
    [b"0-0", b"p", b"0", 1, 2, record(b"a", b"F") * 2, b"2"],                # known out of range
    [b"0-0", b"p", b"0", 1, 2, record(b"a", b"F") * 2, b"-1"],               # known negative
    [b"0-0", b"p", b"0", 1, 2, record(b"a", b"F") * 2, b"x"],                # known not a number
    [b"0-0", b"p", b"0", 1, 2, record(b"a", b"F") * 2, b"0.5"],              # known not an integer
    [b"0-0", b"p", b"0", 1, 0, b"", b"0"],                                   # known in a message
])
def test_a_malformed_call_is_an_error_and_writes_nothing(client: "redis.Redis", arguments: list) -> None:
    script = client.register_script(SCRIPT_PATH.read_bytes())
    with pytest.raises(redis.exceptions.ResponseError):
        script(keys=[STREAM], args=arguments)
    assert client.keys("*") == []


def test_a_malformed_later_request_writes_nothing_after_good_ones(client: "redis.Redis") -> None:
    call(client, [[(b"a", b"F")]])
    script = client.register_script(SCRIPT_PATH.read_bytes())
    good = [1, record(b"new", b"N"), b""]
    with pytest.raises(redis.exceptions.ResponseError):
        script(keys=[STREAM], args=[b"0-0", b"p", b"1", 2, *good, 1, record(b"b", b"G"), b"3"])
    assert client.xlen(STREAM) == 1


def test_noscript_falls_back_to_eval(client: "redis.Redis") -> None:
    client.script_flush()
    entry, results, _ = call(client, [[(b"a", b"F")]])
    assert entry is not None and results == [[0, 0]]
