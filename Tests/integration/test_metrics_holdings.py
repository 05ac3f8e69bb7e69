"""`/metrics` reports what the process holds: investors, syndicates, spike-window entries,
resume-history events and bytes, and idempotency ids, as Prometheus gauges."""

from __future__ import annotations

import json
import time

from prometheus_client.parser import text_string_to_metric_families

from conftest import StartServer
from ingest_support import Api

GAUGES = [
    "syndicast_investors", "syndicast_syndicates", "syndicast_spike_window_entries", "syndicast_history_events",
    "syndicast_history_bytes", "syndicast_idempotency_ids",
]


def metrics(api: Api) -> dict[str, int]:
    reply = api.request("GET", "/metrics")
    assert reply.status == 200, reply.describe()
    text = reply.body.decode()
    values: dict[str, int] = {}
    for name in GAUGES:
        assert f"# HELP {name} " in text and f"# TYPE {name} gauge\n" in text, text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if not sample.labels:
                values[sample.name] = int(sample.value)
    return values


def test_holdings_gauges_count_what_was_ingested(start_server: StartServer) -> None:
    server = start_server(["--spike-window", "3600", "--spike-threshold", "1000"])
    api = Api(server.port)
    try:
        empty = metrics(api)
        assert all(empty[name] == 0 for name in GAUGES), empty
        start = int(time.time() * 1000) - 1_800_000
        # 1,000 transactions: 200 investors, 10 syndicates, 600 with ids; per syndicate 100
        # transactions at 50 distinct times (two share each millisecond), all inside one window.
        rows = []
        for index in range(1_000):
            row = {"investorId": f"investor-{index % 200}", "syndicateId": f"syndicate-{index % 10}", "amount": "12.50",
                   "timestamp": start + (index // 20) * 1_000}
            if index < 600:
                row["id"] = f"transaction-{index}"
            rows.append(row)
        reply = api.post_ndjson(rows)
        assert reply.status == 201 and reply.json()["accepted"] == 1_000, reply.describe()
        # Re-sent ids are duplicates: nothing more is held.
        assert api.post_ndjson(rows[:600]).json()["duplicates"] == 600
        held = metrics(api)
        seq = api.stats()["seq"]
        assert held["syndicast_investors"] == 200, held
        assert held["syndicast_syndicates"] == 10, held
        assert held["syndicast_spike_window_entries"] == 10 * 50, held
        assert held["syndicast_idempotency_ids"] == 600, held
        assert held["syndicast_history_events"] == seq, (held, seq)
        assert 64 * seq <= held["syndicast_history_bytes"] <= 1_024 * seq, held

        data = "x" * 60_000
        assert api.post("/api/publish", json.dumps({"topic": "orders", "data": data}).encode()).status in (200, 201, 202)
        after = metrics(api)
        assert after["syndicast_history_events"] == seq + 1, after
        grown = after["syndicast_history_bytes"] - held["syndicast_history_bytes"]
        assert 60_000 <= grown <= 61_000, grown
    finally:
        api.close()
