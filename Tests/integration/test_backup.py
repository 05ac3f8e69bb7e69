"""`syndicast backup` of a live journal: a copy taken while a server keeps ingesting restores to
exactly the state of a prefix of the acknowledged history.

One sender posts batches in order (so the journal's order is the send order); the backup runs
mid-stream; the load goes on after it. A second server on the copy must then hold the first k
batches for some k — never a batch that was not acknowledged, never a partial one, every batch
acknowledged before the backup started — under an epoch of its own, and its /api/stats, rankings,
investors and alerts must equal the reference model fed exactly those k batches.
"""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

from conftest import StartServer, binary_path
from ingest_support import (
    Api, ReferenceModel, first_difference, generated_rows, normalize_event, parse_amount, ranking_tuples,
)

RULES = ["--amount-threshold", "1000", "--spike-window", "60", "--spike-threshold", "4"]
PRELOAD_BATCHES = 40
PRELOAD_SIZE = 1_000
BATCH_SIZE = 25


def reference_model() -> ReferenceModel:
    return ReferenceModel(amount_threshold_cents=100000, window_seconds=60, spike_threshold=4)


def make_batches() -> list[list[dict]]:
    """40 batches of 1,000 (a journal of a few hundred pages, copied in several steps) then
    batches of 25, timestamps in order."""
    rows = generated_rows(seed=14, count=PRELOAD_BATCHES * PRELOAD_SIZE + 2_000 * BATCH_SIZE, investors=300,
                          syndicates=20, in_order=True)
    preload = [rows[index:index + PRELOAD_SIZE] for index in range(0, PRELOAD_BATCHES * PRELOAD_SIZE, PRELOAD_SIZE)]
    rest = rows[PRELOAD_BATCHES * PRELOAD_SIZE:]
    return preload + [rest[index:index + BATCH_SIZE] for index in range(0, len(rest), BATCH_SIZE)]


class Sender(threading.Thread):
    """Posts the batches one after the other until stopped; records how many were acknowledged."""

    def __init__(self, port: int, batches: list[list[dict]], start_at: int) -> None:
        super().__init__(daemon=True)
        self.api = Api(port)
        self.batches = batches
        self.next = start_at
        self.acknowledged = start_at
        self.stop = threading.Event()
        self.failure: str | None = None

    def run(self) -> None:
        while not self.stop.is_set() and self.next < len(self.batches):
            reply = self.api.post_ndjson(self.batches[self.next])
            if reply.status != 201:
                self.failure = f"batch {self.next}: {reply.describe()}"
                return
            self.next += 1
            self.acknowledged = self.next


def run_backup(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary_path()), "backup", *arguments], capture_output=True, text=True, timeout=60)


def test_a_backup_under_load_restores_a_prefix_of_the_acknowledged_history(start_server: StartServer, tmp_path: Path):
    data = tmp_path / "data"
    copy = tmp_path / "copy"
    batches = make_batches()
    first = start_server(["--data", str(data), "--sync", "normal", *RULES], echo=False, in_memory=False)
    api = Api(first.port)
    for number in range(PRELOAD_BATCHES):
        assert api.post_ndjson(batches[number]).status == 201
    sender = Sender(first.port, batches, PRELOAD_BATCHES)
    sender.start()
    try:
        while sender.acknowledged < PRELOAD_BATCHES + 50 and sender.is_alive():
            time.sleep(0.01)
        acknowledged_before = sender.acknowledged
        # 16 pages per step: the copy of a few hundred pages takes many steps while commits go on.
        result = run_backup("--data", str(data), str(copy), "--pages-per-step", "16")
        acknowledged_after = sender.acknowledged
        assert result.returncode == 0, f"backup failed ({result.returncode}): {result.stderr}"
        # The load goes on after the copy: the copy must not be the whole history.
        target = acknowledged_after + 50
        while sender.acknowledged < target and sender.is_alive():
            time.sleep(0.01)
    finally:
        sender.stop.set()
        sender.join(timeout=30)
    assert sender.failure is None, sender.failure
    epoch = api.stats()["epoch"]
    total_acknowledged = sender.acknowledged
    assert " groups, " in result.stdout, result.stdout

    second = start_server(["--data", str(copy), *RULES], echo=False, in_memory=False)
    restored = Api(second.port)
    deadline = time.monotonic() + 30
    while restored.request("GET", "/readyz").status != 200:
        assert time.monotonic() < deadline, "replay of the copy took more than 30 s"
        time.sleep(0.05)
    stats = restored.stats()
    # A fork of the history: clients resuming from the original's numbers get a fresh snapshot.
    assert stats["epoch"] != epoch, f"the copy kept the journal's epoch {epoch}"

    # Which prefix: every batch is whole and of a known size, so the transaction count tells.
    preload_rows = PRELOAD_BATCHES * PRELOAD_SIZE
    assert stats["transactions"] >= preload_rows and (stats["transactions"] - preload_rows) % BATCH_SIZE == 0, \
        f"the copy holds {stats['transactions']} transactions: a partial batch"
    held = PRELOAD_BATCHES + (stats["transactions"] - preload_rows) // BATCH_SIZE
    # At least what was acknowledged before the backup started; at most what was acknowledged by
    # the time it returned, plus the one batch whose reply may have been in flight.
    assert acknowledged_before <= held <= acknowledged_after + 1, \
        f"the copy holds {held} batches; {acknowledged_before} were acknowledged before the backup, {acknowledged_after} after"
    assert held < total_acknowledged, \
        f"the copy holds {held} of {total_acknowledged} acknowledged batches: the load did not go on after it"
    print(f"backup under load: {acknowledged_before}…{acknowledged_after} batches acknowledged around the copy, "
          f"copy holds {held} ({stats['transactions']} transactions, seq {stats['seq']}), "
          f"{total_acknowledged} acknowledged in all; {result.stdout.strip()}")

    model = reference_model()
    for number in range(held):
        assert model.post(batches[number]).status == 201
    wanted = {"seq": model.seq, "transactions": model.transactions, "investors": len(model.investors),
              "syndicates": len(model.syndicates), "alerts": len(model.alerts())}
    assert {key: stats[key] for key in wanted} == wanted, f"/api/stats of the copy {stats}"
    ranking = ranking_tuples(restored.get_json("/api/rankings")["top"])
    assert ranking == tuple(model.top()), "rankings of the copy " + first_difference(model.top(), list(ranking))
    for investor_id, state in sorted(model.investors.items())[:50]:
        body = restored.get_json(f"/api/investors/{investor_id}")
        assert (parse_amount(body["totalInvested"]), body["transactionCount"]) == (state.total, state.count), investor_id
    recent = restored.get_json("/api/alerts?limit=1000")["alerts"]
    expected_alerts = list(reversed(model.alerts()))[:1000]
    assert len(recent) == len(expected_alerts), f"{len(recent)} alerts, expected {len(expected_alerts)}"
    actual_alerts = [normalize_event({"type": "alert", "seq": expected[1], "alert": alert})
                     for expected, alert in zip(expected_alerts, recent)]
    assert actual_alerts == expected_alerts, "alerts of the copy " + first_difference(expected_alerts, actual_alerts)

    # The restored server goes on from the copy's sequence number.
    reply = restored.post_ndjson(batches[total_acknowledged])
    assert reply.status == 201 and reply.json()["firstSeq"] == stats["seq"] + 1, reply.describe()


def test_backup_refusals_and_the_directory_lock(start_server: StartServer, tmp_path: Path):
    data = tmp_path / "data"
    copy = tmp_path / "copy"
    first = start_server(["--data", str(data)], echo=False, in_memory=False)
    assert Api(first.port).post_ndjson(make_batches()[PRELOAD_BATCHES]).status == 201

    assert run_backup("--data", str(data), str(copy)).returncode == 0
    again = run_backup("--data", str(data), str(copy))
    assert again.returncode == 1 and "--force" in again.stderr, (again.returncode, again.stderr)
    forced = run_backup("--data", str(data), str(copy), "--force")
    assert forced.returncode == 0, forced.stderr
    itself = run_backup("--data", str(data), str(data), "--force")
    assert itself.returncode == 1 and "own directory" in itself.stderr, (itself.returncode, itself.stderr)
    missing = run_backup("--data", str(tmp_path / "nothing"), str(tmp_path / "other"))
    assert missing.returncode == 1 and "no journal" in missing.stderr, (missing.returncode, missing.stderr)
    usage = run_backup("--data", str(data))
    assert usage.returncode == 64, (usage.returncode, usage.stderr)
    bad_step = run_backup("--data", str(data), str(copy), "--force", "--pages-per-step", "0")
    assert bad_step.returncode == 64, (bad_step.returncode, bad_step.stderr)

    # A second server on a directory in use fails at start and leaves the first one serving.
    second = subprocess.run(
        [str(binary_path()), "serve", "--port", "0", "--data", str(data)], capture_output=True, text=True, timeout=20)
    assert second.returncode == 1 and "is locked" in second.stderr, (second.returncode, second.stderr)
    assert Api(first.port).stats()["transactions"] == BATCH_SIZE
    # And a backup into a directory a server holds is refused.
    held = start_server(["--data", str(copy)], echo=False, in_memory=False)
    into_held = run_backup("--data", str(data), str(copy), "--force")
    assert into_held.returncode == 1 and "is locked" in into_held.stderr, (into_held.returncode, into_held.stderr)
    assert Api(held.port).stats()["transactions"] == BATCH_SIZE
