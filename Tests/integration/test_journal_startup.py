"""Start-up of a durable server: the epoch is bound to the journal and the rule flags, and a
damaged journal makes `serve` exit non-zero with a message naming the file and SQLite's error
instead of serving part of the state.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from conftest import HOST, StartServer, binary_path, free_port, make_static_dir, start_server_process
from ingest_support import Api, StreamRecorder

JOURNAL_FILE = "syndicast.sqlite3"
EXIT_TIMEOUT_SECONDS = 10.0


def rows(prefix: str, count: int) -> list[dict]:
    return [
        {"id": f"{prefix}-{index}", "investorId": f"i{index % 50}", "syndicateId": f"s{index % 7}", "amount": "12.50"}
        for index in range(count)
    ]


def fill_journal(start_server: StartServer, data: Path, batches: int) -> None:
    server = start_server(["--data", str(data)], in_memory=False)
    api = Api(server.port)
    try:
        for number in range(batches):
            assert api.post_ndjson(rows(f"b{number}", 300)).status == 201
    finally:
        api.close()
    assert server.stop() == 0


def run_serve(data: Path, timeout: float = EXIT_TIMEOUT_SECONDS) -> tuple[int, str, str, float]:
    """Runs `syndicast serve --data DATA` directly; returns (exit code, stdout, stderr, seconds)."""
    args = [str(binary_path()), "serve", "--host", HOST, "--port", str(free_port()), "--data", str(data), "--threads", "1"]
    started = time.monotonic()
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, stderr = process.communicate(timeout=5)
        raise AssertionError(f"serve kept running on a damaged journal; stdout {stdout[-600:]!r} stderr {stderr[-600:]!r}")
    return process.returncode, stdout.decode(errors="replace"), stderr.decode(errors="replace"), time.monotonic() - started


def test_a_file_that_is_not_a_database_stops_serve_with_its_name(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    journal = data / JOURNAL_FILE
    journal.write_bytes(bytes(range(256)) * 400)
    code, stdout, stderr, seconds = run_serve(data)
    assert code != 0, (stdout, stderr)
    assert str(journal) in stderr and "file is not a database" in stderr, stderr
    assert seconds < 5, seconds


@pytest.mark.parametrize("damage", ["payload", "table"])
def test_a_damaged_page_stops_serve(start_server: StartServer, tmp_path: Path, damage: str) -> None:
    """`payload`: pages in the middle of the file (group payloads) are overwritten, which the
    replay finds; `table`: the groups table's root page, which SQLite itself reports."""
    data = tmp_path / "data"
    fill_journal(start_server, data, batches=40)
    journal = data / JOURNAL_FILE
    size = journal.stat().st_size
    assert size > 32 * 4096, size
    with sqlite3.connect(journal) as database:
        page_size = database.execute("PRAGMA page_size").fetchone()[0]
        root = database.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'groups'").fetchone()[0]
    offset = size // 2 // page_size * page_size if damage == "payload" else (root - 1) * page_size
    with journal.open("r+b") as file:
        file.seek(offset)
        file.write(b"\x55" * page_size * (4 if damage == "payload" else 1))
    code, stdout, stderr, seconds = run_serve(data)
    assert code != 0, (stdout, stderr)
    assert str(journal) in stderr, stderr
    if damage == "payload":
        assert "journal replay failed" in stderr and "damaged" in stderr, stderr
    else:
        assert "malformed" in stderr and "SQLite code 11" in stderr, stderr
    assert "listening on" not in stdout or "journal replay failed" in stderr
    assert seconds < 5, seconds


def test_damage_inside_the_write_ahead_log_stops_serve(start_server: StartServer, tmp_path: Path) -> None:
    """A frame in the middle of the WAL damaged after its group was answered: SQLite's recovery
    would stop there and drop every later group silently, so `serve` refuses to start and says
    how to proceed; with the log moved aside it starts from the state before the damage."""
    data = tmp_path / "data"
    server = start_server_process(make_static_dir(tmp_path / "killed"), tmp_path / "server.log", ["--data", str(data)], in_memory=False)
    try:
        api = Api(server.port)
        for number in range(8):
            assert api.post_ndjson(rows(f"w{number}", 40)).status == 201
        api.close()
    finally:
        server.process.send_signal(signal.SIGKILL)  # no checkpoint at exit: the groups are still in the log
        server.process.wait(timeout=10)
    log = data / (JOURNAL_FILE + "-wal")
    content = bytearray(log.read_bytes())
    page_size = int.from_bytes(content[8:12], "big")
    frames = (len(content) - 32) // (24 + page_size)
    assert frames >= 8, frames
    content[32 + 2 * (24 + page_size) + 24 + 64] ^= 0xFF  # frame 3's page, several commits before the end
    log.write_bytes(bytes(content))
    code, stdout, stderr, seconds = run_serve(data)
    assert code != 0, (stdout, stderr)
    assert f"the write-ahead log {log} is damaged at frame 3" in stderr, stderr
    assert seconds < 5, seconds
    log.rename(data / "damaged-wal")
    restarted = start_server(["--data", str(data)], in_memory=False)
    api = Api(restarted.port)
    try:
        assert api.get_json("/api/stats")["transactions"] < 8 * 40
    finally:
        api.close()


def hello_and_first(url: str) -> tuple[dict, dict]:
    client = StreamRecorder(url)
    try:
        index = client.wait_for(lambda message: message["type"] != "hello")
        events = client.events()
        return events[0], events[index]
    finally:
        client.close()


def test_the_epoch_is_kept_with_the_same_rules_and_changes_with_others(start_server: StartServer, tmp_path: Path) -> None:
    data = tmp_path / "data"
    flags = ["--data", str(data), "--spike-threshold", "100"]
    first = start_server(flags, in_memory=False)
    api = Api(first.port)
    try:
        assert api.post_ndjson(rows("e", 20)).status == 201
        stats = api.stats()
    finally:
        api.close()
    assert first.stop() == 0
    epoch, seq = stats["epoch"], stats["seq"]

    same = start_server(flags, in_memory=False)
    try:
        api = Api(same.port)
        assert api.stats()["epoch"] == epoch, "the same journal and rules must keep the epoch"
        api.close()
        hello, replayed = hello_and_first(f"{same.ws_url}/ws?topics=transactions&since={seq - 2}&epoch={epoch}")
        assert hello["epoch"] == epoch and replayed["type"] == "transaction" and replayed["seq"] == seq - 1, replayed
    finally:
        assert same.stop() == 0

    other = start_server(["--data", str(data), "--spike-threshold", "3"], in_memory=False)
    try:
        api = Api(other.port)
        other_stats = api.stats()
        api.close()
        assert other_stats["epoch"] != epoch, "another rule set replays into other events: it needs another epoch"
        assert other_stats["transactions"] == 20
        hello, snapshot = hello_and_first(f"{other.ws_url}/ws?topics=transactions&since={seq - 2}&epoch={epoch}")
        assert hello["epoch"] == other_stats["epoch"]
        assert snapshot["type"] == "snapshot" and snapshot["recovered"] is False, snapshot
    finally:
        assert other.stop() == 0
