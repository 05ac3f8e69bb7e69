"""A journal that cannot be written: the server stops ingest (fail-stop) instead of crashing or
acknowledging anything it did not store, keeps serving reads, turns /readyz to 503
(`journal_failed`), and after a restart holds exactly the transactions it acknowledged.

The failure is real: the running server's file size limit (RLIMIT_FSIZE, set with prlimit) stops
SQLite's WAL from growing, so a commit's write fails with EFBIG (the server ignores SIGXFSZ, which
would otherwise kill it). Both append paths are covered: batches of 500 transactions go through
the journal thread (groups of 256 or more, see `Broker.inlineAppendLimit`), single transactions
are appended on the broker thread.
"""

from __future__ import annotations

import resource
from pathlib import Path

import pytest

from conftest import StartServer
from ingest_support import Api

LIMIT_BYTES = 3 * 1024 * 1024


def rows(prefix: str, count: int) -> list[dict]:
    return [
        {"id": f"{prefix}-{index}", "investorId": f"i{index % 50}", "syndicateId": f"s{index % 7}", "amount": "12.50"}
        for index in range(count)
    ]


def post(api: Api, prefix: str, size: int):
    if size == 1:
        return api.post("/api/transactions", rows(prefix, 1)[0])
    return api.post_ndjson(rows(prefix, size))


# 500: appended on the journal thread; 1: on the broker thread (each commit adds a 4 KiB WAL frame).
@pytest.mark.parametrize("size", [500, 1])
def test_a_full_journal_stops_ingest_and_loses_nothing_acknowledged(
    start_server: StartServer, tmp_path: Path, size: int
) -> None:
    data = tmp_path / "data"
    flags = ["--data", str(data), "--amount-threshold", "1000000"]
    server = start_server(flags, in_memory=False)
    resource.prlimit(server.process.pid, resource.RLIMIT_FSIZE, (LIMIT_BYTES, LIMIT_BYTES))
    api = Api(server.port)
    acknowledged = 0
    refusal = None
    try:
        for number in range(5_000):  # the 3 MiB limit is reached well before
            reply = post(api, f"b{number}", size)
            if reply.status == 201:
                assert reply.json()["accepted"] == size, reply.describe()
                acknowledged += size
                continue
            refusal = reply
            break
        assert refusal is not None, "the journal never filled up"
        assert acknowledged > 0, "the first batch already failed"
        assert refusal.status == 503, refusal.describe()
        assert "journal" in refusal.body.decode(), refusal.describe()
        # Fail-stop: every later write is refused, small or large, even though the state in
        # memory could take it.
        for reply in (post(api, "after", 500), post(api, "one", 1)):
            assert reply.status == 503, reply.describe()
        # Reads keep working. The state in memory may hold the refused batch (it is applied
        # before its append, and there is no undo); /readyz says the server must be restarted.
        assert acknowledged <= api.stats()["transactions"] <= acknowledged + size
        assert api.request("GET", "/healthz").status == 200
        ready = api.request("GET", "/readyz")
        assert ready.status == 503 and ready.json()["error"]["code"] == "journal_failed", ready.describe()
    finally:
        api.close()
    assert server.process.poll() is None, "the server died"
    server.stop()

    restarted = start_server(flags, in_memory=False)
    api = Api(restarted.port)
    try:
        assert api.stats()["transactions"] == acknowledged, "the journal holds exactly the acknowledged batches"
        reply = api.post_ndjson(rows("fresh", 10))
        assert reply.status == 201, reply.describe()
    finally:
        api.close()
