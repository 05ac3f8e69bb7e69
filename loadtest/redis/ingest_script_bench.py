#!/usr/bin/env python3
"""Throughput of the cluster ingest script (Sources/Cluster/ingest.lua) alone, against one Redis.

Sends pre-encoded `EVALSHA` calls over one raw socket with a fixed number in flight and counts
replies, so the Python side neither encodes nor decodes much while the clock runs. Every id is
new (a random 16-byte digest per transaction, a random 8-byte fingerprint digest: the 24-byte
records of the cluster contract), so every call appends one stream entry. The payload is opaque
random bytes of `--payload-bytes-per-transaction` per transaction (the journal codec's ~20 B,
docs/CLUSTER.md).

`--after-entries K` is how far the caller's applied position P lags: every call sees exactly K
entries of `--transactions` records after P (0: none, so the script does no per-transaction work;
1: one other entry to check against, as with two instances taking turns). The stream is first
deleted and started at a far-future id T-0 with K such entries T-1…T-K, so every `XADD *` gets the
next sequence number of T and call i's P is T-i, known before the run.

    python3 loadtest/redis/ingest_script_bench.py --port 6390 --transactions 1000 --calls 1000
    python3 loadtest/redis/ingest_script_bench.py --port 6390 --transactions 1000 --after-entries 1
    python3 loadtest/redis/ingest_script_bench.py --port 6390 --transactions 1 --calls 50000

Start redis-server yourself (e.g. `--appendonly yes --appendfsync always`); the script is loaded
with SCRIPT LOAD and the keys it wrote are left in place.
"""

from __future__ import annotations

import argparse
import os
import socket
import time
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "Sources" / "Cluster" / "ingest.lua"


def encode_command(arguments: list[bytes]) -> bytes:
    """One RESP command (an array of bulk strings)."""
    parts = [b"*%d\r\n" % len(arguments)]
    for argument in arguments:
        parts.append(b"$%d\r\n" % len(argument))
        parts.append(argument)
        parts.append(b"\r\n")
    return b"".join(parts)


def skip_reply(buffer: bytes, position: int) -> int:
    """The position after one complete RESP reply starting at `position`, or -1 if incomplete."""
    end = buffer.find(b"\r\n", position)
    if end < 0:
        return -1
    kind = buffer[position:position + 1]
    if kind in (b"+", b":"):
        return end + 2
    if kind == b"-":
        raise RuntimeError(buffer[position:end].decode(errors="replace"))
    if kind == b"$":
        length = int(buffer[position + 1:end])
        if length < 0:
            return end + 2
        after = end + 2 + length + 2
        return after if after <= len(buffer) else -1
    if kind == b"*":
        count = int(buffer[position + 1:end])
        position = end + 2
        for _ in range(max(count, 0)):
            position = skip_reply(buffer, position)
            if position < 0:
                return -1
        return position
    raise RuntimeError(f"unexpected reply byte {kind!r}")


def command(connection: socket.socket, arguments: list[bytes]) -> bytes:
    """Send one command and return its raw reply (small replies only)."""
    connection.sendall(encode_command(arguments))
    buffer = b""
    while True:
        buffer += connection.recv(65536)
        end = skip_reply(buffer, 0)
        if end >= 0:
            return buffer[:end]


STREAM = b"{syndicast}:stream"
# The stream's first id's milliseconds (year 2255): later than any clock, so `XADD *` keeps them and
# counts the sequence up, one per entry.
FUTURE_MILLISECONDS = 9_000_000_000_000


def position(index: int) -> bytes:
    """The stream id of the entry `index` after the first (T-0)."""
    return b"%d-%d" % (FUTURE_MILLISECONDS, index)


def prepare_stream(connection: socket.socket, after_entries: int, transactions: int) -> None:
    """The stream from scratch: T-0 (no records), then `after_entries` entries of `transactions` new records."""
    command(connection, [b"DEL", STREAM])
    command(connection, [b"XADD", STREAM, position(0), b"p", b"", b"s", b"", b"i", b""])
    for index in range(1, after_entries + 1):
        command(connection, [b"XADD", STREAM, position(index), b"p", b"", b"s", b"", b"i",
                             os.urandom(24 * transactions)])


def build_calls(sha: bytes, calls: int, transactions: int, payload_bytes: int, after_entries: int,
                repeats: bool = False, spike_syndicates: int = 0, requests: int = 1) -> list[bytes]:
    """`calls` EVALSHA commands of `requests` x `transactions` new records; call i's P lags `after_entries`."""
    run = os.urandom(4).hex().encode()
    payload = os.urandom(max(payload_bytes * transactions * requests, 8))
    encoded = []
    counter = 0
    for call in range(calls):
        arguments = [b"EVALSHA", sha, b"1", STREAM, position(call), payload, b"1" if repeats else b"0",
                     b"%d" % requests]
        for _ in range(requests):
            arguments += [b"%d" % transactions, os.urandom(24 * transactions), b""]
        if spike_syndicates > 0:
            # The spike section (--spike-store redis): W 1 h, S 100, M 300 s; one event per ms.
            arguments += [b"spike", b"3600000", b"100", b"300000"]
            for _ in range(requests * transactions):
                counter += 1
                arguments += [b"s%d" % (counter % spike_syndicates), b"%d" % (1_767_225_600_000 + counter),
                              b"lt-%d-%s" % (counter, run)]
        encoded.append(encode_command(arguments))
    return encoded


def run(connection: socket.socket, calls: list[bytes], in_flight: int) -> float:
    """Send every call with at most `in_flight` unanswered; the elapsed seconds."""
    sent = 0
    answered = 0
    buffer = b""
    start = time.perf_counter()
    while answered < len(calls):
        while sent < len(calls) and sent - answered < in_flight:
            connection.sendall(calls[sent])
            sent += 1
        chunk = connection.recv(1 << 20)
        if not chunk:
            raise RuntimeError("redis closed the connection")
        buffer += chunk
        position = 0
        while True:
            end = skip_reply(buffer, position)
            if end < 0:
                break
            position = end
            answered += 1
        buffer = buffer[position:]
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--script", type=Path, default=SCRIPT)
    parser.add_argument("--transactions", type=int, default=1000, help="transactions per call (one request)")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--in-flight", type=int, default=16)
    parser.add_argument("--payload-bytes-per-transaction", type=int, default=20)
    parser.add_argument("--after-entries", type=int, default=0,
                        help="entries of the same size after the caller's P in every call (0: none)")
    parser.add_argument("--repeats", action="store_true", help="send the repeats flag 1 (per-transaction work)")
    parser.add_argument("--spike-syndicates", type=int, default=0,
                        help="add the spike section (--spike-store redis) over this many syndicates (0: none)")
    options = parser.parse_args()

    connection = socket.create_connection((options.host, options.port))
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    reply = command(connection, [b"SCRIPT", b"LOAD", options.script.read_bytes()])
    sha = reply.split(b"\r\n")[1]
    prepare_stream(connection, options.after_entries, options.transactions)
    calls = build_calls(sha, options.calls, options.transactions, options.payload_bytes_per_transaction,
                        options.after_entries, options.repeats, options.spike_syndicates)
    seconds = run(connection, calls, options.in_flight)
    call_rate = options.calls / seconds
    spike = f", spike section over {options.spike_syndicates} syndicates" if options.spike_syndicates else ""
    repeats = ", repeats 1" if options.repeats else ""
    print(f"script {options.script.name}{spike}{repeats}: {options.calls} calls x {options.transactions} tx, "
          f"{options.after_entries} after P, {options.in_flight} in flight: {seconds:.3f} s, {call_rate:,.0f} calls/s, "
          f"{call_rate * options.transactions:,.0f} tx/s")


if __name__ == "__main__":
    main()
