#!/usr/bin/env python3
"""Redis's time per transaction in the cluster ingest script, for calls shaped like real ones.

`serve --redis` under `syndicast-loadtest ingest --batch 1000` sends ~30 requests of 1,000
transactions per call, ids `lt-<counter>-<ns>` and a distinct 8-byte fingerprint digest per
transaction. This sends such calls (every id new: the append-and-store path) with 4 in flight and
prints, per transaction, the script's time in Redis (`INFO commandstats` usec_per_call) and the
redis-server process's CPU time (user + system from /proc, which includes command parsing and the
AOF write; needs `--redis-pid`, a redis-server on this machine).

    python3 loadtest/redis/ingest_call_cost.py --port 6390 --redis-pid PID --calls 40
    python3 loadtest/redis/ingest_call_cost.py --port 6390 --script /tmp/other.lua
    python3 loadtest/redis/ingest_call_cost.py --port 6390 --previous-bucket-fields 1000000

Start redis-server yourself (`--appendonly yes --appendfsync always`); the keys it writes are
left in place, so `FLUSHALL` between runs that should start from an empty bucket.
"""

from __future__ import annotations

import argparse
import os
import socket
import time
from pathlib import Path

from ingest_script_bench import SCRIPT, command, encode_command, run


# Fills {syndicast}:ids:<bucket - 1> (ttl 86400, as build_calls) with ARGV[1] ids and 8-byte values.
FILL_PREVIOUS_BUCKET = b"""
local bucket = math.floor(tonumber(redis.call('TIME')[1]) / 86400) - 1
local key = '{syndicast}:ids:' .. bucket
for first = 1, tonumber(ARGV[1]), 1000 do
  local fields = {}
  for index = first, math.min(first + 999, tonumber(ARGV[1])) do
    fields[#fields + 1] = 'previous-' .. index
    fields[#fields + 1] = 'fingerpr'
  end
  redis.call('HSET', key, unpack(fields))
end
redis.call('EXPIRE', key, 86400)
return redis.call('HLEN', key)
"""


def build_calls(sha: bytes, calls: int, requests: int, transactions: int, first: int) -> list[bytes]:
    """`calls` EVALSHA commands of `requests` x `transactions` new ids, counting from `first`."""
    run_stamp = time.time_ns()
    payload = os.urandom(20 * requests * transactions)
    encoded = []
    counter = first
    for _ in range(calls):
        arguments = [b"EVALSHA", sha, b"1", b"{syndicast}:stream", b"86400", payload, b"%d" % requests]
        for _ in range(requests):
            arguments.append(b"%d" % transactions)
            for _ in range(transactions):
                counter += 1
                arguments.append(b"lt-%d-%d" % (counter, run_stamp))
                arguments.append(os.urandom(8))
        encoded.append(encode_command(arguments))
    return encoded


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
    parser.add_argument("--previous-bucket-fields", type=int, default=0,
                        help="first fill the previous id bucket with this many ids (the steady state, past one ttl)")
    options = parser.parse_args()

    connection = socket.create_connection((options.host, options.port))
    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sha = command(connection, [b"SCRIPT", b"LOAD", options.script.read_bytes()]).split(b"\r\n")[1]
    if options.previous_bucket_fields:
        command(connection, [b"EVAL", FILL_PREVIOUS_BUCKET, b"0", b"%d" % options.previous_bucket_fields])
    calls = build_calls(sha, options.calls, options.requests, options.transactions, 0)
    command(connection, [b"CONFIG", b"RESETSTAT"])
    cpu_before = process_cpu_seconds(options.redis_pid) if options.redis_pid else 0.0
    seconds = run(connection, calls, 4)
    cpu = process_cpu_seconds(options.redis_pid) - cpu_before if options.redis_pid else float("nan")
    stats = command(connection, [b"INFO", b"commandstats"]).decode()
    line = next(text for text in stats.split("\r\n") if text.startswith("cmdstat_evalsha"))
    per_call = float(line.split("usec_per_call=")[1].split(",")[0])
    transactions = options.calls * options.requests * options.transactions
    print(f"{options.script.name}: {options.calls} calls x {options.requests} x {options.transactions} tx: "
          f"{per_call / (options.requests * options.transactions):.2f} us/tx in the script, "
          f"{cpu * 1e6 / transactions:.2f} us/tx redis-server CPU, {transactions / seconds:,.0f} tx/s")


if __name__ == "__main__":
    main()
