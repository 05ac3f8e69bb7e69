#!/usr/bin/env bash
# Measures the cluster ingest script against one private redis-server with appendonly yes and
# appendfsync always (loopback, a temp dir, a free port), next to the issue's anchors: XADD with
# AOF always from redis-benchmark, unpipelined (1 and 50 clients) and 16 in flight (-P 16).
# Usage: loadtest/redis/run.sh [rounds]   (default 3; each round: 1,000-transaction calls with 0 and 1
# entries after the caller's P, then 1-transaction calls)
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
directory=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly yes --appendfsync always \
    --dir "$directory" >"$directory/redis.log" 2>&1 &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; rm -rf "$directory"' EXIT
for _ in $(seq 100); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.05; done
echo "redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on port $port, appendfsync always, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq "$rounds"); do
    echo "== round $round"
    for clients in "-n 5000 -c 1 -P 1" "-n 50000 -c 50 -P 1" "-n 50000 -c 1 -P 16"; do
        redis-cli -p "$port" flushall >/dev/null
        printf 'XADD anchor %-20s ' "$clients"
        redis-benchmark -p "$port" $clients -q XADD '{bench}:s' '*' f v 2>&1 | tr '\r' '\n' | tail -1
    done
    for after in 0 1; do
        redis-cli -p "$port" flushall >/dev/null
        python3 loadtest/redis/ingest_script_bench.py --port "$port" --transactions 1000 --calls 600 --after-entries "$after"
    done
    redis-cli -p "$port" flushall >/dev/null
    python3 loadtest/redis/ingest_script_bench.py --port "$port" --transactions 1 --calls 30000
done
