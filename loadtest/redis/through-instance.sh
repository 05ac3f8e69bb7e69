#!/usr/bin/env bash
# Ingest through one cluster-mode instance (`serve --redis`) against the same load on a single-node
# server (`serve --data`, SQLite, --sync full), alternating, in one run: single POSTs and NDJSON
# requests of 1,000 transactions, 64 connections, every id new. Each round starts a fresh
# redis-server (appendonly yes, appendfsync always, a temp dir on the local disk, loopback) and
# fresh servers; prints each measurement and the medians.
# Usage: loadtest/redis/through-instance.sh [rounds] [seconds]   (default 3 rounds of 5 s)
# MODES (default "redis data"): redis = one --redis instance, data = the single-node server, pair =
# two --redis instances on one Redis loaded at once (their sum). SYNDICAST_SERVER_BIN: another build.
# Needs release builds: swift build -c release --product syndicast, and
# swift build -c release --product syndicast-loadtest --package-path loadtest.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
seconds=${2:-5}
server=${SYNDICAST_SERVER_BIN:-$PWD/.build/release/syndicast}
load=$PWD/loadtest/.build/release/syndicast-loadtest
directory=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$directory"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() { for _ in $(seq 200); do curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && return 0; sleep 0.05; done; return 1; }
rules=(--amount-threshold 1 --spike-threshold 1000000000)
# One measurement: prints the rate (transactions/s) of a 64-connection ingest run against $1.
measure() {
    local port=$1 batch=$2
    "$load" ingest --url "http://127.0.0.1:$port/" --duration "$seconds" --batch "$batch" \
        --json "$directory/report-$port.json" >/dev/null 2>&1
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(round(r["runs"][0]["acceptedPerSecond"]))' \
        "$directory/report-$port.json"
}
echo "$(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), redis-server $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/')"
declare -A results
for round in $(seq "$rounds"); do
    for mode in ${MODES:-redis data}; do
        for batch in 1 1000; do
            rm -rf "$directory/run" && mkdir -p "$directory/run"
            port=$(free_port)
            if [ "$mode" = data ]; then
                "$server" serve --port "$port" --data "$directory/run/data" --sync full "${rules[@]}" \
                    >"$directory/run/server.log" 2>&1 &
                pids+=($!)
                wait_ready "$port"
                rate=$(measure "$port" "$batch")
            else
                redis_port=$(free_port)
                redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly yes --appendfsync always \
                    --dir "$directory/run" >"$directory/run/redis.log" 2>&1 &
                pids+=($!)
                for _ in $(seq 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
                "$server" serve --port "$port" --redis "redis://127.0.0.1:$redis_port" "${rules[@]}" \
                    >"$directory/run/server.log" 2>&1 &
                pids+=($!)
                wait_ready "$port"
                if [ "$mode" = redis ]; then
                    rate=$(measure "$port" "$batch")
                else
                    # pair: a second instance on the same Redis, both loaded at once; the sum.
                    second=$(free_port)
                    "$server" serve --port "$second" --redis "redis://127.0.0.1:$redis_port" "${rules[@]}" \
                        >"$directory/run/server2.log" 2>&1 &
                    pids+=($!)
                    wait_ready "$second"
                    measure "$second" "$batch" >"$directory/run/second.rate" &
                    first_rate=$(measure "$port" "$batch")
                    wait $!
                    rate=$((first_rate + $(cat "$directory/run/second.rate")))
                fi
            fi
            results["$mode-$batch"]+="$rate "
            printf 'round %d  %-5s batch %-4s %10s tx/s\n' "$round" "$mode" "$batch" "$rate"
            for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
            wait 2>/dev/null || true
            pids=()
        done
    done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for batch in 1 1000; do
    line="median batch $batch:"
    for mode in ${MODES:-redis data}; do line+="  $mode $(echo "${results[$mode-$batch]}" | median) tx/s"; done
    if [ -n "${results[redis-$batch]:-}" ] && [ -n "${results[data-$batch]:-}" ]; then
        line+="  redis/data $(python3 -c "print(round($(echo "${results[redis-$batch]}" | median) / $(echo "${results[data-$batch]}" | median), 2))")"
    fi
    echo "$line"
done
