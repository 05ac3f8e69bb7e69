#!/usr/bin/env python3
"""Measures the server's memory per distinct investor, syndicate, idempotency id, spike-window
entry and history event (docs/MEMORY.md): for each kind, a fresh `--in-memory` release server
ingests COUNT transactions that add one of that kind each and nothing else that grows, and the
RSS growth (VmRSS from /proc) divided by COUNT is reported, beside the `/metrics` gauges.

    swift build -c release --product syndicast
    python3 loadtest/memory_per_id.py [--count 1000000] [--binary .build/release/syndicast]

Before the measured ingest each server takes a warm-up batch of the same size and shape that adds
nothing held (one investor, one syndicate, one timestamp, no ids), so that request buffers and
allocator arenas are already grown when the baseline is read.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import subprocess
import time
from pathlib import Path

HOST = "127.0.0.1"
BATCH = 50_000  # rows per NDJSON request (~5 MB, under the 8 MiB body limit)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def post(port: int, rows: list[str]) -> None:
    connection = http.client.HTTPConnection(HOST, port, timeout=120)
    connection.request("POST", "/api/transactions", body="".join(rows).encode(), headers={"Content-Type": "application/x-ndjson"})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    if response.status != 201:
        raise RuntimeError(f"{response.status} {body[:300]!r}")


def gauges(port: int) -> dict[str, int]:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    connection.request("GET", "/metrics")
    text = connection.getresponse().read().decode()
    connection.close()
    return {line.split()[0]: int(line.split()[1]) for line in text.splitlines() if line and not line.startswith("#")}


def row(investor: str, syndicate: str, timestamp: int, identifier: str | None = None) -> str:
    value = {"investorId": investor, "syndicateId": syndicate, "amount": "1.00", "timestamp": timestamp}
    if identifier is not None:
        value["id"] = identifier
    return json.dumps(value, separators=(",", ":")) + "\n"


def measure(binary: str, name: str, count: int, make_row, extra: list[str]) -> None:
    port = free_port()
    process = subprocess.Popen(
        [binary, "serve", "--in-memory", "--host", HOST, "--port", str(port), "--threads", "1", "--spike-threshold", "100000000",
         *extra], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        base = int(time.time() * 1000) - 1_000_000
        for _ in range(2):
            post(port, [row("warm-investor", "warm-syndicate", base) for _ in range(BATCH)])
        before = rss_bytes(process.pid)
        held_before = gauges(port)
        started = time.monotonic()
        for first in range(0, count, BATCH):
            post(port, [make_row(index, base) for index in range(first, min(first + BATCH, count))])
        seconds = time.monotonic() - started
        time.sleep(0.5)
        grown = rss_bytes(process.pid) - before
        held = gauges(port)
        changed = {key.removeprefix("syndicast_"): held[key] - held_before.get(key, 0) for key in held
                   if key in ("syndicast_investors", "syndicast_syndicates", "syndicast_spike_window_entries",
                              "syndicast_idempotency_ids", "syndicast_history_events", "syndicast_history_bytes")}
        print(f"{name:<22} {grown / count:7.1f} bytes each  (RSS +{grown / 2**20:.1f} MiB for {count:,}; ingest {seconds:.1f} s; "
              f"gauges changed: {changed})", flush=True)
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--binary", default=".build/release/syndicast")
    arguments = parser.parse_args()
    count, binary = arguments.count, arguments.binary
    # Ids are 16 bytes (e.g. "investor-0000042"): longer than Swift's 15-byte inline strings.
    measure(binary, "investor", count, lambda index, base: row(f"investor-{index:07d}", "syndicate", base), [])
    measure(binary, "investor + syndicate", count,
            lambda index, base: row(f"investor-{index:07d}", f"syndicate-{index:06d}", base), [])
    measure(binary, "idempotency id", count,
            lambda index, base: row("investor", "syndicate", base, f"transaction-{index:07d}"), [])
    measure(binary, "spike-window entry", count, lambda index, base: row("investor", "syndicate", base + index), [])
    measure(binary, "history event", count, lambda index, base: row("investor", "syndicate", base),
            ["--history", str(count), "--history-bytes", str(1 << 40)])


if __name__ == "__main__":
    main()
