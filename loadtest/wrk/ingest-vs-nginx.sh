#!/usr/bin/env bash
# Single-transaction POSTs driven by wrk (a C client), ours against nginx `return 201`, alternating
# in one run; prints each run, the medians and the ratio.
#
#   loadtest/wrk/ingest-vs-nginx.sh [RUNS] [-- extra syndicast flags]
#
# Ours runs with its defaults (durable: SQLite in a fresh temporary directory, --sync full, so every
# 201 is fsynced); nginx with one worker (NGINX_WORKERS=auto for one per core). Each run: a fresh
# server, 1 s of warm-up, then `wrk -t1 -c64 -d5`. Loopback only; stops by itself.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
runs="${1:-5}"
shift || true
[ "${1:-}" = "--" ] && shift
command -v wrk >/dev/null || { echo "needs wrk (apt-get install -y wrk)" >&2; exit 1; }
swift build -c release --product syndicast --package-path "$repo" >&2
server="$(swift build -c release --package-path "$repo" --show-bin-path)/syndicast"
bash "$repo/loadtest/peers/peer.sh" install nginx >&2

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
# Each wrk invocation gets its own WRK_RUN, so the measured run's ids are not the warm-up's
# (a re-sent id is answered as a duplicate, without a journal write).
measure() {
    WRK_RUN="warm-$(date +%s%N)" wrk -t1 -c64 -d1 -s "$here/post-transaction.lua" "http://127.0.0.1:$1/" >/dev/null
    WRK_RUN="run-$(date +%s%N)" wrk -t1 -c64 -d5 -s "$here/post-transaction.lua" "http://127.0.0.1:$1/" |
        awk '/Requests\/sec/ {print int($2)}'
}

ours=() nginx=()
for run in $(seq 1 "$runs"); do
    data="$(mktemp -d /tmp/syndicast-wrk.XXXXXX)"
    port="$(free_port)"
    "$server" --port "$port" --data "$data" "$@" >/dev/null 2>&1 &
    pid=$!
    wait_port "$port"
    ours+=("$(measure "$port")")
    kill -TERM "$pid"; wait "$pid" || true
    rm -rf "$data"

    port="$(free_port)"
    NGINX_WORKERS="${NGINX_WORKERS:-1}" bash "$repo/loadtest/peers/peer.sh" start nginx "$port" >/dev/null 2>&1 &
    pid=$!
    wait_port "$port"
    nginx+=("$(measure "$port")")
    kill -TERM "$pid"; wait "$pid" || true
    echo "run $run: ours ${ours[-1]} req/s, nginx ${nginx[-1]} req/s" >&2
done
python3 - "${ours[*]}" "${nginx[*]}" "$*" <<'PY'
import statistics, sys
ours = statistics.median(map(int, sys.argv[1].split()))
nginx = statistics.median(map(int, sys.argv[2].split()))
mode = f"flags: {sys.argv[3]}" if sys.argv[3] else "durable defaults"
print(f"median of {len(sys.argv[1].split())} runs: ours {ours:.0f} req/s ({mode}), nginx {nginx:.0f} req/s, ratio {ours / nginx:.2f}")
PY
