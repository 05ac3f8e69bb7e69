"""`/metrics` parsed by a Prometheus text parser (prometheus_client's): every family is there with
its type, the counters count what clients did, the histograms move under load, and
`--metrics-port` moves the exposition to a loopback listener of its own."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from conftest import StartServer, free_port
from ingest_support import Api
from raw_websocket import RawWebSocket

COUNTERS = [
    "syndicast_http_requests", "syndicast_transactions_accepted", "syndicast_transactions_duplicate",
    "syndicast_ingest_refused", "syndicast_messages_published", "syndicast_websockets_opened",
    "syndicast_slow_consumers_closed", "syndicast_stream_messages_sent", "syndicast_stream_sent_bytes",
    "syndicast_resumes", "syndicast_alerts",
]
GAUGES = [
    "syndicast_connections", "syndicast_open_connections", "syndicast_stream_subscribers", "syndicast_sequence",
    "syndicast_investors", "syndicast_syndicates", "syndicast_spike_window_entries", "syndicast_history_events",
    "syndicast_history_bytes", "syndicast_idempotency_ids",
]
HISTOGRAMS = [
    "syndicast_ingest_request_duration_seconds", "syndicast_journal_commit_duration_seconds",
    "syndicast_journal_commit_group_transactions", "syndicast_fanout_pass_duration_seconds",
    "syndicast_event_loop_lag_seconds",
]


class Scrape:
    """One parsed exposition: families by name, sample values by (name, labels)."""

    def __init__(self, text: str) -> None:
        self.types: dict[str, str] = {}
        self.values: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
        for family in text_string_to_metric_families(text):
            self.types[family.name] = family.type
            for sample in family.samples:
                self.values[(sample.name, frozenset(sample.labels.items()))] = sample.value

    def value(self, name: str, **labels: str) -> float:
        return self.values[(name, frozenset(labels.items()))]


def scrape(url: str) -> Scrape:
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        return Scrape(response.read().decode())


def transaction(index: int, amount: str = "10.00") -> dict[str, object]:
    return {"id": f"t-{index}", "investorId": f"i-{index % 50}", "syndicateId": f"s-{index % 7}", "amount": amount}


def test_every_family_parses_and_the_histograms_move_under_load(start_server: StartServer, tmp_path: Path) -> None:
    server = start_server(["--amount-threshold", "1000", "--data", str(tmp_path / "journal")], in_memory=False)
    api = Api(server.port)
    url = f"{server.base_url}/metrics"
    try:
        subscriber = RawWebSocket(server.port)
        subscriber.handshake("/ws?topics=alerts")
        time.sleep(1.3)  # a loop tick counts the connections by kind
        first = scrape(url)
        # prometheus_client names counter families without `_total`; the samples keep it.
        for name in COUNTERS:
            assert first.types.get(name) == "counter", (name, first.types)
        for name in GAUGES:
            assert first.types.get(name) == "gauge", (name, first.types)
        for name in HISTOGRAMS:
            assert first.types.get(name) == "histogram", (name, first.types)
        assert first.value("syndicast_connections", kind="websocket") == 1
        assert first.value("syndicast_stream_subscribers", kind="websocket") == 1
        assert first.value("syndicast_stream_subscribers", kind="sse") == 0
        assert first.value("syndicast_event_loop_lag_seconds_count") >= 1

        # A few hundred NDJSON batches (one alert each), one duplicate batch, one refused body.
        batches = 300
        for batch in range(batches):
            rows = [transaction(batch * 10 + index, "5000.00" if index == 0 else "10.00") for index in range(10)]
            reply = api.post_ndjson(rows)
            assert reply.status == 201, reply.describe()
        assert api.post_ndjson([transaction(0, "5000.00")]).json()["duplicates"] == 1
        assert api.request("POST", "/api/transactions", b"[{", {"Content-Type": "application/json"}).status == 400
        deadline = time.monotonic() + 5
        while True:
            second = scrape(url)
            published = second.value("syndicast_stream_messages_sent_total")
            if published >= batches or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert second.value("syndicast_transactions_accepted_total") == batches * 10
        assert second.value("syndicast_transactions_duplicate_total") == 1
        assert second.value("syndicast_ingest_refused_total", reason="invalid") == 1
        assert second.value("syndicast_alerts_total", rule="amount_threshold") == batches
        alerts = batches + second.value("syndicast_alerts_total", rule="syndicate_spike")
        assert second.value("syndicast_stream_messages_sent_total") == alerts, "each alert event to the one subscriber"
        assert second.value("syndicast_stream_sent_bytes_total") > batches * 100
        for name in ["syndicast_ingest_request_duration_seconds", "syndicast_journal_commit_duration_seconds",
                     "syndicast_journal_commit_group_transactions", "syndicast_fanout_pass_duration_seconds"]:
            before_count = first.value(f"{name}_count")
            after_count = second.value(f"{name}_count")
            assert after_count > before_count, name
            assert second.value(f"{name}_sum") > first.value(f"{name}_sum"), name
            assert second.value(f"{name}_bucket", le="+Inf") == after_count, name
        assert second.value("syndicast_ingest_request_duration_seconds_count") >= batches
        assert second.value("syndicast_journal_commit_group_transactions_sum") == batches * 10
        # The subscriber got those alerts.
        received = 0
        subscriber.sock.settimeout(5)
        while received < alerts:
            opcode, payload = subscriber.read_message()
            if opcode == 1 and json.loads(payload).get("type") == "alert":
                received += 1
        subscriber.close()
    finally:
        api.close()


def test_metrics_port_serves_metrics_on_loopback_only(start_server: StartServer) -> None:
    metrics_port = free_port()
    server = start_server(["--metrics-port", str(metrics_port)])
    api = Api(server.port)
    try:
        assert api.request("GET", "/metrics").status == 404, "not on the main port"
        assert api.post_ndjson([transaction(1)]).status == 201
        exposition = scrape(f"http://127.0.0.1:{metrics_port}/metrics")
        assert exposition.value("syndicast_transactions_accepted_total") == 1
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/api/stats", timeout=5)
            raise AssertionError("the metrics listener served another route")
        except urllib.error.HTTPError as error:
            assert error.code == 404
        # Bound to loopback: the listener's address is 127.0.0.1, not the wildcard.
        with open("/proc/net/tcp") as table:
            listening = [line.split() for line in table.read().splitlines()[1:] if line.split()[3] == "0A"]
        addresses = {fields[1] for fields in listening if int(fields[1].split(":")[1], 16) == metrics_port}
        assert addresses == {f"0100007F:{metrics_port:04X}"}, addresses
        with socket.create_connection(("127.0.0.1", metrics_port), timeout=5) as connection:
            connection.sendall(b"POST /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
            assert connection.recv(64).startswith(b"HTTP/1.1 405")
    finally:
        api.close()
