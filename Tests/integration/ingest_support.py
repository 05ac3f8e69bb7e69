"""Helpers for the ingest tests (issue 3): a keep-alive JSON API client, stream recorders for
/ws and /events, a reference model of DESIGN.md §3–§4 written independently of the server, and
seeded dataset generators.

The reference model decides every batch exactly as the contract says (validation → 400,
id reuse with different content → 409, duplicates, atomic batches) and produces the sequenced
event stream the server must produce: per accepted transaction a `transaction` event, then its
alerts (amount, then spike); per batch at most one `rankings` event, only when the top K changed.
"""

from __future__ import annotations

import bisect
import http.client
import json
import random
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Callable

from websockets.sync.client import ClientConnection, connect

HOST = "127.0.0.1"
TIMEOUT = 10.0


# MARK: - HTTP


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def describe(self) -> str:
        return f"{self.status} {self.body[:600]!r}"


class Api:
    """One persistent HTTP/1.1 keep-alive connection (http.client) to the server."""

    def __init__(self, port: int, timeout: float = TIMEOUT) -> None:
        self.port = port
        self.timeout = timeout
        self.connection = http.client.HTTPConnection(HOST, port, timeout=timeout)

    def close(self) -> None:
        self.connection.close()

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> Reply:
        self.connection.request(method, path, body=body, headers=headers or {})
        response = self.connection.getresponse()
        data = response.read()
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
        return Reply(response.status, {name.lower(): value for name, value in response.getheaders()}, data)

    def post(self, path: str, payload: Any, content_type: str = "application/json", headers: dict[str, str] | None = None) -> Reply:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        all_headers = {"Content-Type": content_type}
        all_headers.update(headers or {})
        return self.request("POST", path, body, all_headers)

    def post_ndjson(self, rows: list[Any]) -> Reply:
        body = "".join(json.dumps(row) + "\n" for row in rows).encode()
        return self.post("/api/transactions", body, "application/x-ndjson")

    def get_json(self, path: str) -> Any:
        reply = self.request("GET", path)
        assert reply.status == 200, f"GET {path}: {reply.describe()}"
        return reply.json()

    def stats(self) -> dict[str, Any]:
        return self.get_json("/api/stats")


# MARK: - Stream clients


class StreamRecorder:
    """Reads a /ws stream on a thread, keeping every message with its arrival time (perf_counter)."""

    def __init__(self, url: str, **options: Any) -> None:
        self.url = url
        self.socket: ClientConnection = connect(url, open_timeout=TIMEOUT, max_size=None, max_queue=None, **options).__enter__()
        self.messages: list[tuple[float, dict[str, Any]]] = []
        self.closed: Exception | None = None
        self.condition = threading.Condition()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            while True:
                text = self.socket.recv()
                arrived = time.perf_counter()
                message = json.loads(text)
                with self.condition:
                    self.messages.append((arrived, message))
                    self.condition.notify_all()
        except Exception as error:  # noqa: BLE001 - any end of the stream is recorded
            with self.condition:
                self.closed = error
                self.condition.notify_all()

    def send(self, message: Any) -> None:
        self.socket.send(json.dumps(message))

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = TIMEOUT, start: int = 0) -> int:
        """Index of the first message from `start` matching `predicate`; fails after `timeout`."""
        deadline = time.monotonic() + timeout
        with self.condition:
            while True:
                for index in range(start, len(self.messages)):
                    if predicate(self.messages[index][1]):
                        return index
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed is not None:
                    recent = [message for _, message in self.messages[-5:]]
                    raise AssertionError(
                        f"{self.url}: no matching message within {timeout}s (closed: {self.closed!r}); last: {recent}")
                self.condition.wait(remaining)

    def wait_for_seq(self, seq: int, timeout: float = TIMEOUT) -> None:
        self.wait_for(lambda message: message.get("seq", -1) >= seq and message.get("type") not in ("hello", "snapshot"), timeout)

    def events(self) -> list[dict[str, Any]]:
        with self.condition:
            return [message for _, message in self.messages]

    def close(self) -> None:
        try:
            self.socket.close()
        except Exception:  # noqa: BLE001
            pass
        self.thread.join(timeout=5)


class ServerSentEventsRecorder:
    """Reads /events over a raw socket on a thread: (arrival, id, data) per record."""

    def __init__(self, port: int, path: str = "/events", headers: dict[str, str] | None = None) -> None:
        self.socket = socket.create_connection((HOST, port), timeout=TIMEOUT)
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        self.socket.sendall(f"GET {path} HTTP/1.1\r\nHost: {HOST}\r\nAccept: text/event-stream\r\n{extra}\r\n".encode())
        # (arrival time, the record's id, its JSON); a sequenced event's id is "<epoch>-<seq>".
        self.records: list[tuple[float, str | None, dict[str, Any]]] = []
        self.head = b""
        self.closed = False
        self.condition = threading.Condition()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        buffer = b""
        head_done = False
        self.socket.settimeout(None)
        try:
            while True:
                chunk = self.socket.recv(65536)
                arrived = time.perf_counter()
                if not chunk:
                    break
                buffer += chunk
                if not head_done:
                    if b"\r\n\r\n" not in buffer:
                        continue
                    self.head, buffer = buffer.split(b"\r\n\r\n", 1)
                    head_done = True
                while b"\n\n" in buffer:
                    record, buffer = buffer.split(b"\n\n", 1)
                    record_id: str | None = None
                    data_lines = []
                    for line in record.decode().split("\n"):
                        if line.startswith("id:"):
                            record_id = line[3:].strip()
                        elif line.startswith("data:"):
                            data_lines.append(line[5:].lstrip(" "))
                    if data_lines:
                        with self.condition:
                            self.records.append((arrived, record_id, json.loads("\n".join(data_lines))))
                            self.condition.notify_all()
        except OSError:
            pass
        with self.condition:
            self.closed = True
            self.condition.notify_all()

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = TIMEOUT, start: int = 0) -> int:
        deadline = time.monotonic() + timeout
        with self.condition:
            while True:
                for index in range(start, len(self.records)):
                    if predicate(self.records[index][2]):
                        return index
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self.closed:
                    raise AssertionError(
                        f"/events: no matching record within {timeout}s (closed: {self.closed}); "
                        f"head {self.head[:200]!r}; last: {self.records[-5:]}")
                self.condition.wait(remaining)

    def close(self) -> None:
        try:
            self.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.socket.close()
        self.thread.join(timeout=5)


# MARK: - Values


def cents_text(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def rfc3339(milliseconds: int, offset_minutes: int = 0) -> str:
    zone = timezone(timedelta(minutes=offset_minutes))
    moment = datetime.fromtimestamp(milliseconds / 1000, tz=timezone.utc).astimezone(zone)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{milliseconds % 1000:03d}"
    if offset_minutes == 0:
        return text + "Z"
    sign = "+" if offset_minutes > 0 else "-"
    return text + f"{sign}{abs(offset_minutes) // 60:02d}:{abs(offset_minutes) % 60:02d}"


def parse_time(value: str) -> int:
    """Epoch milliseconds of an RFC 3339 string as the server writes it."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return round(moment.timestamp() * 1000)


def parse_amount(value: Any) -> int | None:
    """Cents of a valid amount (JSON number or decimal string, > 0, ≤ 2 fraction digits), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    text = value if isinstance(value, str) else json.dumps(value)
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    if not number.is_finite() or number <= 0 or number.as_tuple().exponent < -2:
        return None
    return int(number * 100)


def parse_timestamp(value: Any, received: int) -> int | None:
    if value is None:
        return received
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None or "T" not in value:
            return None
        return round(moment.timestamp() * 1000)
    return None


def valid_identifier(value: Any, nullable: bool = False) -> bool:
    if value is None:
        return nullable
    return isinstance(value, str) and 0 < len(value.encode()) <= 128 and not any(ord(c) < 0x20 for c in value)


# MARK: - Reference model


@dataclass
class Outcome:
    status: int
    accepted: int = 0
    duplicates: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    error_indices: list[int] = field(default_factory=list)


@dataclass
class Investor:
    total: int = 0
    syndicates: set[str] = field(default_factory=set)
    count: int = 0


@dataclass
class Syndicate:
    timestamps: list[int] = field(default_factory=list)
    newest: int | None = None
    spiking: bool = False
    total: int = 0
    count: int = 0


class ReferenceModel:
    """DESIGN.md §3–§4 in plain Python: rankings, amount rule, spike rule, idempotency, seqs."""

    def __init__(self, amount_threshold_cents: int, window_seconds: int, spike_threshold: int, top_k: int = 5,
                 clock_margin_seconds: int = 300) -> None:
        self.amount_threshold = amount_threshold_cents
        self.window_seconds = window_seconds
        self.window = window_seconds * 1000
        # M, the rule clock's margin: the server's --max-clock-skew (300 s by default).
        self.margin = clock_margin_seconds * 1000
        self.spike_threshold = spike_threshold
        self.top_k = top_k
        self.investors: dict[str, Investor] = {}
        self.syndicates: dict[str, Syndicate] = {}
        self.known_ids: dict[str, tuple[str, str, int]] = {}
        self.seq = 0
        self.events: list[tuple] = []
        self.transactions = 0
        self.spike_paths = {"evaluated": 0, "joined_late": 0, "ignored": 0, "cleared": 0}
        # The spike rule's clock G: the newest timestamp accepted for any syndicate (docs/SPIKE-RULE.md).
        self.clock: int | None = None

    # Rankings

    def ranking(self) -> list[tuple[str, int, int]]:
        """Every investor as (id, distinct syndicates, total cents), best first."""
        rows = [(investor_id, len(state.syndicates), state.total) for investor_id, state in self.investors.items()]
        return sorted(rows, key=lambda row: (-row[1], -row[2], row[0]))

    def top(self, limit: int | None = None) -> list[tuple[str, int, int]]:
        return self.ranking()[: self.top_k if limit is None else limit]

    # Batches

    def validate(self, row: Any) -> bool:
        if not isinstance(row, dict):
            return False
        if not valid_identifier(row.get("id"), nullable=True):
            return False
        if not valid_identifier(row.get("investorId")) or not valid_identifier(row.get("syndicateId")):
            return False
        if "amount" not in row or parse_amount(row["amount"]) is None:
            return False
        return parse_timestamp(row.get("timestamp"), 0) is not None

    def post(self, rows: list[Any]) -> Outcome:
        invalid = [index for index, row in enumerate(rows) if not self.validate(row)]
        if invalid or not rows:
            return Outcome(400, error_indices=invalid)
        fresh = []
        duplicates = 0
        conflicts = []
        seen: dict[str, tuple[str, str, int]] = {}
        for index, row in enumerate(rows):
            identifier = row.get("id")
            fingerprint = (row["investorId"], row["syndicateId"], parse_amount(row["amount"]))
            if identifier is not None:
                known = self.known_ids.get(identifier) or seen.get(identifier)
                if known is not None:
                    if known == fingerprint:
                        duplicates += 1
                    else:
                        conflicts.append(index)
                    continue
                seen[identifier] = fingerprint
            fresh.append(row)
        if conflicts:
            return Outcome(409, error_indices=conflicts)
        self.known_ids.update(seen)
        if not fresh:
            return Outcome(201, 0, duplicates)
        top_before = self.top()
        first = self.seq + 1
        last = first
        for row in fresh:
            self.seq += 1
            last = self.seq
            self.apply(row)
        top_after = self.top()
        if top_after != top_before:
            self.seq += 1
            self.events.append(("rankings", self.seq, tuple(top_after)))
        return Outcome(201, len(fresh), duplicates, first, last)

    def publish(self, topic: str, data: Any) -> int:
        """`POST /api/publish`: one sequenced `message` event."""
        self.seq += 1
        self.events.append(("message", self.seq, topic, json.dumps(data, sort_keys=True)))
        return self.seq

    def apply(self, row: dict[str, Any]) -> None:
        identifier = row.get("id")
        investor_id, syndicate_id = row["investorId"], row["syndicateId"]
        cents = parse_amount(row["amount"])
        timestamp = parse_timestamp(row.get("timestamp"), 0)
        assert cents is not None and timestamp is not None
        self.transactions += 1
        self.events.append(("transaction", self.seq, identifier, investor_id, syndicate_id, cents, timestamp))
        investor = self.investors.setdefault(investor_id, Investor())
        investor.total += cents
        investor.syndicates.add(syndicate_id)
        investor.count += 1
        if cents > self.amount_threshold:
            self.seq += 1
            self.events.append(
                ("alert", self.seq, "amount_threshold", syndicate_id, investor_id, identifier, cents, self.amount_threshold, timestamp))
        syndicate = self.syndicates.setdefault(syndicate_id, Syndicate())
        syndicate.total += cents
        syndicate.count += 1
        count = self.spike(syndicate, timestamp)
        if count is not None:
            self.seq += 1
            self.events.append(
                ("alert", self.seq, "syndicate_spike", syndicate_id, investor_id, identifier, count,
                 self.window_seconds, self.spike_threshold, timestamp))

    def spike(self, syndicate: Syndicate, timestamp: int) -> int | None:
        """The spike rule of DESIGN.md §4 with the rule clock of docs/SPIKE-RULE.md; returns the count
        when an alert is raised."""
        clock = self.clock
        self.clock = timestamp if clock is None else max(clock, timestamp)
        if clock is not None and timestamp <= clock - self.window - self.margin:
            self.spike_paths["ignored"] += 1
            return None
        if syndicate.newest is None or timestamp >= syndicate.newest:
            syndicate.newest = timestamp
            bisect.insort(syndicate.timestamps, timestamp)
            count = bisect.bisect_right(syndicate.timestamps, timestamp) - bisect.bisect_right(
                syndicate.timestamps, timestamp - self.window)
            self.spike_paths["evaluated"] += 1
            if count > self.spike_threshold:
                if not syndicate.spiking:
                    syndicate.spiking = True
                    return count
            else:
                if syndicate.spiking:
                    self.spike_paths["cleared"] += 1
                syndicate.spiking = False
            return None
        if timestamp > syndicate.newest - self.window:
            bisect.insort(syndicate.timestamps, timestamp)
            self.spike_paths["joined_late"] += 1
        else:
            self.spike_paths["ignored"] += 1
        return None

    def window_count(self, syndicate_id: str) -> int:
        state = self.syndicates[syndicate_id]
        if state.newest is None or (self.clock is not None and state.newest <= self.clock - 2 * self.window - self.margin):
            return 0
        return bisect.bisect_right(state.timestamps, state.newest) - bisect.bisect_right(
            state.timestamps, state.newest - self.window)

    def alerts(self) -> list[tuple]:
        return [event for event in self.events if event[0] == "alert"]


def normalize_event(message: dict[str, Any]) -> tuple:
    """A server stream event in the reference model's tuple shape."""
    kind = message["type"]
    if kind == "transaction":
        transaction = message["transaction"]
        return ("transaction", message["seq"], transaction["id"], transaction["investorId"], transaction["syndicateId"],
                parse_amount(transaction["amount"]), parse_time(transaction["timestamp"]))
    if kind == "alert":
        alert = message["alert"]
        if alert["rule"] == "amount_threshold":
            return ("alert", message["seq"], alert["rule"], alert["syndicateId"], alert["investorId"], alert["transactionId"],
                    parse_amount(alert["amount"]), parse_amount(alert["threshold"]), parse_time(alert["at"]))
        return ("alert", message["seq"], alert["rule"], alert["syndicateId"], alert["investorId"], alert["transactionId"],
                alert["count"], alert["windowSeconds"], alert["threshold"], parse_time(alert["at"]))
    if kind == "rankings":
        return ("rankings", message["seq"], ranking_tuples(message["top"]))
    if kind == "message":
        return ("message", message["seq"], message["topic"], json.dumps(message["data"], sort_keys=True))
    return (kind, message.get("seq"))


def ranking_tuples(top: list[dict[str, Any]]) -> tuple:
    for position, entry in enumerate(top, start=1):
        assert entry["rank"] == position, f"rank {entry['rank']} at position {position}: {top}"
    return tuple((entry["investorId"], entry["syndicateCount"], parse_amount(entry["totalInvested"])) for entry in top)


def first_difference(expected: list, actual: list) -> str:
    for index, (wanted, got) in enumerate(zip(expected, actual)):
        if wanted != got:
            return f"first difference at #{index}:\n  expected {wanted}\n  actual   {got}"
    return f"lengths differ: expected {len(expected)}, actual {len(actual)}; extra: {(expected + actual)[min(len(expected), len(actual)):][:3]}"


# MARK: - Datasets


BASE_TIME = 1_767_225_600_000  # 2026-01-01T00:00:00Z


def encode_timestamp(random_source: random.Random, milliseconds: int) -> Any:
    choice = random_source.random()
    if choice < 0.5:
        return milliseconds
    if choice < 0.8:
        return rfc3339(milliseconds)
    return rfc3339(milliseconds, random_source.choice([120, -300, 330]))


def encode_amount(random_source: random.Random, cents: int) -> Any:
    if random_source.random() < 0.5:
        return cents_text(cents)
    return cents // 100 if cents % 100 == 0 else float(cents_text(cents))


def generated_rows(seed: int, count: int, investors: int, syndicates: int, in_order: bool) -> list[dict[str, Any]]:
    """`count` valid transactions with explicit timestamps, ids t-<seed>-<n>, skewed syndicates,
    bursts (equal and close timestamps), amounts from a small set (ties), and — unless `in_order` —
    runs of out-of-order timestamps, some inside the spike window and some far behind it. With
    `in_order` the timestamps never decrease from row to row (a burst moves the clock on), so the
    spike rule's clock G never puts a row at or before G − W (docs/SPIKE-RULE.md)."""
    rng = random.Random(seed)
    amounts = [10000, 25050, 50000, 99999, 100000, 100001, 150025, 1000000]
    weights = [1.0 / (rank + 1) for rank in range(syndicates)]
    syndicate_ids = [f"s{number:02d}" for number in range(syndicates)]
    investor_ids = [f"inv-{number:03d}" for number in range(investors)]
    clock = BASE_TIME
    metronome = BASE_TIME
    rows = []
    late_run = 0
    burst = 0
    for number in range(count):
        clock += rng.choice([0, 0, 0, 10, 100, 500, 1000, 2000, 5000, 20_000, 60_000])
        timestamp = clock
        syndicate = rng.choices(syndicate_ids, weights)[0]
        if burst == 0 and rng.random() < 0.01:
            burst = rng.randint(4, 8)
            metronome = max(metronome, clock) + 120_000
            tick = rng.choice([12_000, 15_000, 15_000, 20_000])
        if burst > 0:
            # Syndicate "metro" ticks every 12, 15 or 20 s: windows of 60 s then hold exactly
            # 5, 4 or 3 transactions, with one exactly on t − W (outside): the window-edge case.
            burst -= 1
            syndicate = "metro"
            metronome += tick
            timestamp = metronome
        if in_order:
            clock = max(clock, timestamp)
        if not in_order:
            if late_run == 0 and rng.random() < 0.03:
                late_run = rng.randint(2, 8)
            if late_run > 0:
                late_run -= 1
                timestamp = clock - rng.choice([1, 500, 5_000, 30_000, 59_999, 60_000, 61_000, 300_000])
        investor = rng.randrange(investors)
        # A third of the investors always invest the same amount, so totals tie often.
        cents = 50000 if investor < investors // 3 else rng.choice(amounts)
        rows.append({
            "id": f"t-{seed}-{number}",
            "investorId": investor_ids[investor],
            "syndicateId": syndicate,
            "amount": encode_amount(rng, cents),
            "timestamp": encode_timestamp(rng, timestamp),
        })
    return rows


INVALID_ROWS: list[Any] = [
    {"id": "bad-amount-zero", "investorId": "i", "syndicateId": "s", "amount": 0, "timestamp": BASE_TIME},
    {"id": "bad-amount-negative", "investorId": "i", "syndicateId": "s", "amount": "-5.00", "timestamp": BASE_TIME},
    {"id": "bad-amount-fraction", "investorId": "i", "syndicateId": "s", "amount": "1.005", "timestamp": BASE_TIME},
    {"id": "bad-amount-text", "investorId": "i", "syndicateId": "s", "amount": "ten", "timestamp": BASE_TIME},
    {"id": "bad-no-investor", "syndicateId": "s", "amount": 5, "timestamp": BASE_TIME},
    {"id": "bad-empty-syndicate", "investorId": "i", "syndicateId": "", "amount": 5, "timestamp": BASE_TIME},
    {"id": "bad-long-investor", "investorId": "x" * 129, "syndicateId": "s", "amount": 5, "timestamp": BASE_TIME},
    {"id": "bad-timestamp", "investorId": "i", "syndicateId": "s", "amount": 5, "timestamp": "yesterday"},
    {"id": "bad-number-investor", "investorId": 7, "syndicateId": "s", "amount": 5, "timestamp": BASE_TIME},
    "not an object",
]


def mixed_batches(seed: int, rows: list[dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    """Splits `rows` into batches of 1–40 (encoded as object, array or NDJSON) and mixes in
    re-sent duplicates (same id, same content, sometimes another timestamp), id conflicts
    (409: the whole batch is refused and re-sent later without the conflict) and invalid
    rows (400: likewise re-sent later without them)."""
    rng = random.Random(seed ^ 0x5EED)
    batches: list[tuple[str, list[Any]]] = []
    sent: list[dict[str, Any]] = []
    position = 0
    while position < len(rows):
        size = rng.choice([1, 1, 2, 5, 10, 20, 40])
        chunk = [dict(row) for row in rows[position: position + size]]
        position += size
        kind = rng.random()
        if sent and kind < 0.15:
            original = dict(rng.choice(sent))
            if rng.random() < 0.5:
                original["timestamp"] = BASE_TIME + rng.randint(0, 10**9)  # not compared: still a duplicate
            chunk.insert(rng.randint(0, len(chunk)), original)
        elif sent and kind < 0.22:
            conflict = dict(rng.choice(sent))
            conflict["amount"] = cents_text((parse_amount(conflict["amount"]) or 0) + 1)
            batches.append((rng.choice(["json", "ndjson"]), chunk[:] + [conflict]))
        elif kind < 0.29:
            broken = chunk[:]
            broken.insert(rng.randint(0, len(broken)), rng.choice(INVALID_ROWS))
            batches.append((rng.choice(["json", "ndjson"]), broken))
        elif len(chunk) >= 2 and kind < 0.33:
            chunk.append(dict(chunk[0]))  # duplicate inside one batch
        encoding = "object" if len(chunk) == 1 and rng.random() < 0.5 else rng.choice(["json", "ndjson"])
        batches.append((encoding, chunk))
        sent.extend(row for row in chunk if isinstance(row, dict))
    return batches


def post_batch(api: Api, encoding: str, rows: list[Any]) -> Reply:
    if encoding == "object":
        assert len(rows) == 1
        return api.post("/api/transactions", rows[0])
    if encoding == "ndjson":
        return api.post_ndjson(rows)
    return api.post("/api/transactions", rows)


def check_reply(expected: Outcome, reply: Reply, context: str) -> None:
    """The server's answer to one batch matches the reference's decision."""
    assert reply.status == expected.status, f"{context}: expected {expected.status}, got {reply.describe()}"
    body = reply.json()
    if expected.status == 201:
        wanted = {"accepted": expected.accepted, "duplicates": expected.duplicates,
                  "firstSeq": expected.first_seq, "lastSeq": expected.last_seq}
        assert body == wanted, f"{context}: expected {wanted}, got {body}"
    else:
        error = body.get("error", {})
        assert isinstance(error.get("code"), str) and error["code"], f"{context}: no error code in {body}"
        assert isinstance(error.get("message"), str) and error["message"], f"{context}: no message in {body}"
        indices = sorted({detail["index"] for detail in error.get("details", [])})
        assert indices == sorted(set(expected.error_indices)), \
            f"{context}: error details name indices {indices}, expected {expected.error_indices}: {body}"
