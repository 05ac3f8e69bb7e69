"""Issue 3: `kill -9` in the middle of a stream of POSTs loses no acknowledged transaction and
stores none twice; after a restart on the same `--data` directory the state equals the reference
model over exactly the stored batches, the epoch is unchanged, and a WebSocket client that
resumes with `since`/`epoch` gets exactly the events it missed.
"""

from __future__ import annotations

import http.client
import signal
import threading
import time
from pathlib import Path

import pytest

from conftest import StartServer, make_static_dir, start_server_process
from ingest_support import (
    Api, ReferenceModel, StreamRecorder, check_reply, first_difference, generated_rows, normalize_event, parse_amount,
    post_batch, ranking_tuples,
)

FLAGS = ["--amount-threshold", "1000", "--spike-window", "60", "--spike-threshold", "4"]
TOPICS = "alerts,rankings,transactions,orders"
SENDERS = 3
MESSAGE_EVERY = 7  # every 7th unit of work is a POST /api/publish to "orders" (journaled too)


class Sender(threading.Thread):
    """Posts its units (a transaction batch, or a message when the rows are None) one after
    another on one keep-alive connection until the server dies."""

    def __init__(self, port: int, batches: list[tuple[int, list[dict] | None]]) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.batches = batches
        self.sent: list[int] = []
        self.acknowledged: list[int] = []
        self.failures: list[str] = []
        self.finished_all = False

    def run(self) -> None:
        api = Api(self.port, timeout=10)
        try:
            for number, rows in self.batches:
                self.sent.append(number)
                try:
                    if rows is None:
                        reply = api.post("/api/publish", {"topic": "orders", "data": {"unit": number}})
                    else:
                        reply = post_batch(api, "json" if number % 2 else "ndjson", rows)
                except (OSError, http.client.HTTPException):
                    return
                if reply.status == 201 and (rows is None or reply.json()["accepted"] == len(rows)):
                    self.acknowledged.append(number)
                else:
                    self.failures.append(f"batch {number}: {reply.describe()}")
                    return
            self.finished_all = True
        finally:
            api.close()


@pytest.mark.timeout(180)
@pytest.mark.parametrize("sync", ["full", "normal"])
def test_sigkill_mid_stream_loses_nothing_acknowledged_and_resume_is_exact(
        tmp_path: Path, start_server: StartServer, sync: str) -> None:
    data = tmp_path / "data"
    root = tmp_path / "killed"
    static = make_static_dir(root)
    rows = generated_rows(seed=23, count=30000, investors=300, syndicates=40, in_order=False)
    batches: list[tuple[int, list[dict] | None]] = []  # sizes 1…20, every row in exactly one batch
    position = 0
    while position < len(rows):
        if len(batches) % MESSAGE_EVERY == MESSAGE_EVERY - 1:
            batches.append((len(batches), None))
            continue
        size = 1 + len(batches) % 20
        batches.append((len(batches), rows[position: position + size]))
        position += size
    rows_of = {number: batch for number, batch in batches}
    batch_of_id = {row["id"]: number for number, batch in batches if batch for row in batch}
    data_flags = FLAGS + ["--data", str(data), "--sync", sync]

    first = start_server_process(static, root / "server.log", data_flags, echo=False, in_memory=False)
    try:
        api = Api(first.port)
        epoch = api.stats()["epoch"]
        api.close()
        before = StreamRecorder(f"{first.ws_url}/ws?topics={TOPICS}")
        before.wait_for(lambda message: message["type"] == "snapshot")
        senders = [Sender(first.port, batches[index::SENDERS]) for index in range(SENDERS)]
        for sender in senders:
            sender.start()
        deadline = time.monotonic() + 30
        # The client leaves after 100 acknowledged batches (it will miss the rest), the kill
        # comes after 200, while every sender still has batches to post.
        for goal, action in ((100, before.close), (200, lambda: first.process.send_signal(signal.SIGKILL))):
            while sum(len(sender.acknowledged) for sender in senders) < goal and time.monotonic() < deadline:
                time.sleep(0.005)
            action()
        first.process.wait(timeout=10)
        for sender in senders:
            sender.join(timeout=15)
    finally:
        if first.process.poll() is None:
            first.process.kill()
            first.process.wait(timeout=10)

    failures = [failure for sender in senders for failure in sender.failures]
    assert not failures, f"non-2xx answers before the kill: {failures[:3]}"
    assert not any(sender.finished_all for sender in senders), "a sender finished before the kill: not mid-stream"
    acknowledged = {number for sender in senders for number in sender.acknowledged}
    sent = {number for sender in senders for number in sender.sent}
    assert len(acknowledged) >= 200, f"only {len(acknowledged)} batches acknowledged before the kill"

    seen_before = [message for message in before.events()[2:]]
    last_seen = max((message["seq"] for message in seen_before), default=0)

    second = start_server(data_flags, echo=False, in_memory=False)
    api = Api(second.port)
    try:
        # Queries that arrive during the replay queue behind it: even this one sees it all.
        early = api.stats()
        deadline = time.monotonic() + 30
        while (ready := api.request("GET", "/readyz")).status != 200:
            assert ready.status == 503 and ready.json()["error"]["code"] == "starting", ready.describe()
            assert time.monotonic() < deadline, "journal replay took more than 30 s"
            time.sleep(0.05)
        stats = api.stats()
        assert stats["epoch"] == epoch, f"epoch changed across restart: {epoch} → {stats['epoch']}"
        assert (early["seq"], early["transactions"]) == (stats["seq"], stats["transactions"]), \
            f"/api/stats answered before the journal replay finished: {early} vs {stats}"

        # Resume from the last event the client saw before the kill.
        after = StreamRecorder(f"{second.ws_url}/ws?topics={TOPICS}&since={last_seen}&epoch={epoch}")
        try:
            assert after.wait_for(lambda message: True) == 0
            hello = after.events()[0]
            assert hello["type"] == "hello" and hello["epoch"] == epoch and hello["seq"] == stats["seq"], hello
            if stats["seq"] > last_seen:
                after.wait_for_seq(stats["seq"], timeout=30)
            else:
                time.sleep(0.3)
            resumed = after.events()[1:]
        finally:
            after.close()
        assert all(message["type"] != "snapshot" for message in resumed), \
            f"resume within the history answered with a snapshot: {resumed[:1]}"
        resumed_seqs = [message["seq"] for message in resumed]
        assert resumed_seqs == list(range(last_seen + 1, stats["seq"] + 1)), (
            f"resume since {last_seen}: expected seqs {last_seen + 1}…{stats['seq']} exactly once, got "
            f"{resumed_seqs[:5]}…{resumed_seqs[-5:]} ({len(resumed_seqs)} events)")
        stream = seen_before + resumed
        assert [message["seq"] for message in stream] == list(range(1, stats["seq"] + 1)), "gap or duplicate seq"

        # The stored batches, in commit order, from the transaction events.
        stored_order: list[int] = []
        stored_ids: list[str] = []
        for message in stream:
            if message["type"] == "message":
                stored_order.append(message["data"]["unit"])
            elif message["type"] == "transaction":
                identifier = message["transaction"]["id"]
                stored_ids.append(identifier)
                number = batch_of_id[identifier]
                if not stored_order or stored_order[-1] != number:
                    stored_order.append(number)
        assert len(stored_ids) == len(set(stored_ids)), "a transaction was stored twice"
        stored = set(stored_order)
        assert len(stored) == len(stored_order), "a batch's transactions are not contiguous in the journal"
        missing = sorted(acknowledged - stored)
        assert not missing, f"{len(missing)} acknowledged batches lost after kill -9: {missing[:10]}"
        assert stored <= sent, f"stored batches never sent: {sorted(stored - sent)[:10]}"
        for number in stored:
            if rows_of[number] is None:
                continue
            batch_ids = [row["id"] for row in rows_of[number]]
            assert all(identifier in set(stored_ids) for identifier in batch_ids), f"batch {number} stored partially"
        print(f"kill -9: {len(acknowledged)} batches acknowledged, {len(sent - acknowledged)} in flight "
              f"({len(stored - acknowledged)} of them stored), {len(stored_ids)} transactions, seq {stats['seq']}, "
              f"client resumed from {last_seen}")
        assert stats["transactions"] == len(stored_ids), f"/api/stats transactions {stats['transactions']}, stream {len(stored_ids)}"

        # The reference over exactly the stored batches, in the journal's order.
        model = ReferenceModel(amount_threshold_cents=100000, window_seconds=60, spike_threshold=4)
        for number in stored_order:
            if rows_of[number] is None:
                model.publish("orders", {"unit": number})
            else:
                assert model.post(rows_of[number]).status == 201
        events = [normalize_event(message) for message in stream]
        assert events == model.events, "events after restart " + first_difference(model.events, events)
        assert stats["seq"] == model.seq and stats["transactions"] == model.transactions
        ranking = ranking_tuples(api.get_json("/api/rankings")["top"])
        assert ranking == tuple(model.top()), "rankings after restart " + first_difference(model.top(), list(ranking))
        for investor_id, state in model.investors.items():
            body = api.get_json(f"/api/investors/{investor_id}")
            assert (parse_amount(body["totalInvested"]), body["transactionCount"]) == (state.total, state.count), \
                f"investor {investor_id} after restart: {body}, expected total {state.total} count {state.count}"

        # Idempotency survives the restart: acknowledged batches re-sent are all duplicates;
        # batches in flight at the kill are duplicates exactly when they were stored.
        assert any(rows_of[number] is None for number in acknowledged), "no message was journaled"
        for number in [unit for unit in sorted(acknowledged)[:40] + sorted(sent - acknowledged) if rows_of[unit] is not None]:
            reply = post_batch(api, "json", rows_of[number])
            expected = model.post(rows_of[number])
            check_reply(expected, reply, f"re-sent batch {number} (stored: {number in stored})")
            if number in stored:
                assert reply.json()["duplicates"] == len(rows_of[number])
    finally:
        api.close()
