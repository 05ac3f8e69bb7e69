#!/usr/bin/env python3
"""Redis's time per transaction in the cluster ingest script, for calls shaped like real ones.

`serve --redis` under `syndicast-loadtest ingest --batch 1000` sends ~30 requests of 1,000
transactions per call, one 24-byte record (id digest, fingerprint digest) per transaction. This
sends such calls (every id new: the append path) with 4 in flight and prints, per transaction, the
script's time in Redis (`INFO commandstats` usec_per_call) and the redis-server process's CPU time
(user + system from /proc, which includes command parsing and the AOF write; needs `--redis-pid`,
a redis-server on this machine). `--after-entries K`: every call sees K entries of the same size
after its P (ingest_script_bench.py explains how), 0 by default.

    python3 loadtest/redis/ingest_call_cost.py --port 6390 --redis-pid PID --calls 40
    python3 loadtest/redis/ingest_call_cost.py --port 6390 --script /tmp/other.lua
    python3 loadtest/redis/ingest_call_cost.py --port 6390 --after-entries 1

Start redis-server yourself (`--appendonly yes --appendfsync always`); the stream is deleted and
started again by every run.
"""

from __future__ import annotations

import argparse
import os
import socket
from pathlib import Path

from ingest_script_bench import SCRIPT, build_calls, command, prepare_stream, run


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--redis-pid", type=int, default=0, help="redis-server's pid, for its CPU time")
    parser.add_argument("--script", type=Path, default=SCRIPT)
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--requests", type=int, default=30, help="requests per call")
    parser.add_argument("--transactions", type=int, default=1000, help="transactions per request")
    parser.add_argument("--after-entries", type=int, default=0,
                        help="entries of the same size after the caller's P in every call (0: none)")
    options = parser.parse_args()

    connection = socket.create_connection((options.host, options.port))
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sha = command(connection, [b"SCRIPT", b"LOAD", options.script.read_bytes()]).split(b"\r\n")[1]
    prepare_stream(connection, options.after_entries, options.requests * options.transactions)
    calls = build_calls(sha, options.calls, options.transactions, 20, options.after_entries,
                        requests=options.requests)
    command(connection, [b"CONFIG", b"RESETSTAT"])
    cpu_before = process_cpu_seconds(options.redis_pid) if options.redis_pid else 0.0
    seconds = run(connection, calls, 4)
    cpu = process_cpu_seconds(options.redis_pid) - cpu_before if options.redis_pid else float("nan")
    stats = command(connection, [b"INFO", b"commandstats"]).decode()
    line = next(text for text in stats.split("\r\n") if text.startswith("cmdstat_evalsha"))
    per_call = float(line.split("usec_per_call=")[1].split(",")[0])
    transactions = options.calls * options.requests * options.transactions
    print(f"{options.script.name}: {options.calls} calls x {options.requests} x {options.transactions} tx, "
          f"{options.after_entries} after P: "
          f"{per_call / (options.requests * options.transactions):.2f} us/tx in the script, "
          f"{cpu * 1e6 / transactions:.2f} us/tx redis-server CPU, {transactions / seconds:,.0f} tx/s")


if __name__ == "__main__":
    main()
