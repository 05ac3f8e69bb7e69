#!/usr/bin/env bash
# Alert fan-out through nginx in front of cluster-mode instances, compared with one instance:
#   loadtest/cluster-fanout.sh [--subscribers "2000 10000"] [--runs 3] [--duration 5]
#                              [--configs "direct nginx1 nginx2"] [--rate max|R] [--publishers 8] [--pipeline 4]
#                              [--budget SECONDS] [--out DIR]
# Starts a private redis-server (appendonly yes, appendfsync always, temp dir, loopback) and, per
# configuration, fresh `syndicast serve --redis` instances (and nginx, rendered from
# deploy/nginx/syndicast.conf by deploy/try-cluster.sh):
#   direct  one instance, subscribers and publisher connect to it
#   nginx1  one instance behind nginx
#   nginx2  two instances behind nginx (least_conn): subscribers are spread over both, POSTs too
# and runs `syndicast-loadtest fanout --url …` (loadtest/README.md) against it: N WebSocket
# subscribers on /ws?topics=alerts and a publisher POSTing transactions that each raise one alert.
# Prints per run deliveries/s, p50/p99 POST → alert latency, loss, CPU% of one core and write
# system calls/s per process (write/writev, /proc/PID/io syscw: nginx's send(2) is not counted)
# (sampled from /proc from the load's first to its second-to-last second), the subscribers and
# stream entries applied per instance (/metrics) and `uptime`; then medians.
# Everything it starts is stopped on exit, also on failure or Ctrl-C; each run is bounded by
# `timeout`, the whole by --budget (rounds that would start later are skipped). Rounds alternate
# the configurations.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
subscriber_counts="2000 10000"
runs=3
duration=5
configs="direct nginx1 nginx2"
budget=1500
rate=max
publishers=8
pipeline=4
out=""
while [ $# -gt 0 ]; do
    case $1 in
        --subscribers) subscriber_counts=$2; shift 2 ;;
        --runs) runs=$2; shift 2 ;;
        --duration) duration=$2; shift 2 ;;
        --configs) configs=$2; shift 2 ;;
        --budget) budget=$2; shift 2 ;;
        --rate) rate=$2; shift 2 ;;
        --publishers) publishers=$2; shift 2 ;;
        --pipeline) pipeline=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) sed -n '2,/^set /{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "cluster-fanout.sh: unknown argument $1" >&2; exit 64 ;;
    esac
done

[ "$duration" -ge 3 ] || { echo "cluster-fanout.sh: --duration must be at least 3 (CPU is sampled inside the load)" >&2; exit 64; }
binary=${SYNDICAST_BIN:-$root/.build/release/syndicast}
loadtest=${LOADTEST_BIN:-$here/.build/release/syndicast-loadtest}
nginx=${NGINX:-nginx}
redis=${REDIS_SERVER:-redis-server}
[ -x "$binary" ] || { echo "cluster-fanout.sh: build the server: swift build -c release --product syndicast" >&2; exit 1; }
[ -x "$loadtest" ] || { echo "cluster-fanout.sh: build the tool: swift build -c release --product syndicast-loadtest --package-path loadtest" >&2; exit 1; }
command -v "$nginx" >/dev/null || { echo "cluster-fanout.sh: nginx not found (apt-get install -y nginx)" >&2; exit 1; }
command -v "$redis" >/dev/null || { echo "cluster-fanout.sh: redis-server not found (apt-get install -y redis-server)" >&2; exit 1; }

# Every process holds up to one descriptor per connection: 10,000 subscribers are 20,000 in nginx
# (client + upstream side). Raise the soft limit to the hard one; nginx splits the connections over
# two workers (`reuseport`), each within the hard limit.
ulimit -n "$(ulimit -Hn)"
rate_option=()
[ "$rate" = max ] || rate_option=(--rate "$rate")
fd_limit=$(ulimit -n)

work=$(mktemp -d "${TMPDIR:-/tmp}/syndicast-fanout.XXXXXX")
out=${out:-$work/results}
mkdir -p "$work/redis" "$out"
started=$SECONDS

pids=()        # everything started, stopped on exit
instance_pids=()
nginx_pid=""
stop_pids() {  # stops the given pids: SIGTERM, then SIGKILL after 5 s
    local pid
    for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
    for _ in $(seq 50); do
        local alive=false
        for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=true; done
        $alive || break
        sleep 0.1
    done
    for pid in "$@"; do kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
}
cleanup() {
    trap - EXIT INT TERM
    [ ${#pids[@]} -gt 0 ] && stop_pids "${pids[@]}"
    if [ -n "${keep_work:-}" ]; then echo "logs kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'echo "cluster-fanout.sh: interrupted" >&2; exit 130' INT TERM

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_for() {  # $1 = what, $2 = pid, $3 = log, then the probe command
    local what=$1 pid=$2 log=$3; shift 3
    for _ in $(seq 300); do
        "$@" >/dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || { echo "cluster-fanout.sh: $what exited; $log:" >&2; tail -n 20 "$log" >&2; keep_work=1; exit 1; }
        sleep 0.05
    done
    echo "cluster-fanout.sh: $what not ready in 15 s; $log:" >&2; tail -n 20 "$log" >&2; keep_work=1; exit 1
}
instance_facts() {  # per instance: WebSocket subscribers/stream entries applied (from /metrics)
    local port facts=""
    for port in "${instance_ports[@]}"; do
        facts+=$(curl -fsS --max-time 2 "http://127.0.0.1:$port/metrics" | awk '
            /^syndicast_stream_subscribers\{kind="websocket"\}/ { subscribers = $2 }
            /^syndicast_cluster_entries_applied_total/ { applied = $2 }
            END { printf "%d/%d ", subscribers, applied }')
    done
    echo "${facts% }"
}
cpu_ticks() {  # utime + stime of a pid in clock ticks, and its write system calls: "TICKS WRITES"
    echo "$(awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0)" \
        "$(awk '/^syscw:/ { print $2 }' "/proc/$1/io" 2>/dev/null || echo 0)"
}

redis_port=$(free_port)
"$redis" --port "$redis_port" --bind 127.0.0.1 --appendonly yes --appendfsync always --save '' \
    --dir "$work/redis" >"$work/redis/redis.log" 2>&1 &
redis_pid=$!
pids+=("$redis_pid")
wait_for redis-server "$redis_pid" "$work/redis/redis.log" redis-cli -p "$redis_port" ping

start_instances() {  # $1 = how many: fresh instances on an emptied Redis, ports in `instance_ports`
    redis-cli -p "$redis_port" flushall >/dev/null
    instance_ports=()
    instance_pids=()
    local index port
    for index in $(seq "$1"); do
        port=$(free_port)
        # Every transaction raises exactly one alert (as loadtest/README.md's own server start).
        (cd "$work" && exec "$binary" serve --redis "redis://127.0.0.1:$redis_port" --host 127.0.0.1 \
            --port "$port" --amount-threshold 1 --spike-threshold 1000000000 --ping-interval 600) \
            >"$work/instance-$port.log" 2>&1 &
        pids+=($!)
        instance_pids+=($!)
        instance_ports+=("$port")
        wait_for "syndicast on $port" "$!" "$work/instance-$port.log" curl -fsS "http://127.0.0.1:$port/readyz"
    done
}
start_nginx() {  # nginx in front of `instance_ports` (one or two): `nginx_port`, `nginx_pid`
    nginx_port=$(free_port)
    local prefix=$work/nginx-$nginx_port second=${instance_ports[1]:-0}
    mkdir -p "$prefix"
    # The deployed template (upstream least_conn, keep-alive, WebSocket headers), with this run's
    # limits: two workers (one per core) each taking half the connections (reuseport).
    "$root/deploy/try-cluster.sh" --print-nginx-config "$prefix" "$nginx_port" "${instance_ports[0]}" "$second" \
        | sed -e '/server 127\.0\.0\.1:0 /d' \
              -e 's/^worker_processes 1;/worker_processes 2;\nworker_rlimit_nofile '"$fd_limit"';/' \
              -e 's/^events { worker_connections [0-9]*; }/events { worker_connections '"$((fd_limit - 100))"'; }/' \
              -e "s/listen 127\.0\.0\.1:$nginx_port;/listen 127.0.0.1:$nginx_port reuseport;/" \
        >"$prefix/nginx.conf"
    "$nginx" -p "$prefix" -c "$prefix/nginx.conf" >"$prefix/stdout.log" 2>&1 &
    nginx_pid=$!
    pids+=("$nginx_pid")
    wait_for nginx "$nginx_pid" "$prefix/error.log" curl -fsS "http://127.0.0.1:$nginx_port/readyz"
}
stop_configuration() {
    local stopping=("${instance_pids[@]}")
    [ -n "$nginx_pid" ] && stopping+=("$nginx_pid")
    stop_pids "${stopping[@]}"
    local kept=() pid
    for pid in "${pids[@]}"; do
        [[ " ${stopping[*]} " == *" $pid "* ]] || kept+=("$pid")
    done
    pids=("${kept[@]}")
    instance_pids=()
    nginx_pid=""
}

# One fan-out run against `url`: prints a result line and appends it to $out/runs.tsv.
run_once() {  # $1 = configuration, $2 = subscribers, $3 = run number, $4 = url
    local config=$1 subscribers=$2 run=$3 url=$4
    local json=$out/$config-$subscribers-$run.json log=$out/$config-$subscribers-$run.log
    local watched=(redis "$redis_pid") index=0 pid
    for pid in "${instance_pids[@]}"; do watched+=("instance$index" "$pid"); index=$((index + 1)); done
    if [ -n "$nginx_pid" ]; then
        index=0
        for pid in $(pgrep -P "$nginx_pid"); do watched+=("nginx$index" "$pid"); index=$((index + 1)); done
    fi
    timeout --kill-after=5 $((duration + 120)) "$loadtest" fanout --url "$url" --subscribers "$subscribers" \
        --duration "$duration" --publishers "$publishers" --pipeline "$pipeline" "${rate_option[@]}" --connect-timeout 60 --json "$json" >"$log" 2>&1 &
    local loadtest_pid=$!
    sleep 0.2
    watched+=(loadtest "$(pgrep -P "$loadtest_pid" | head -n 1)")  # the tool, not `timeout`
    # CPU between the progress lines t=1s and t=<duration − 1>s: inside the load (the tool may exit
    # right after its last line, before /proc can be read).
    local before=() after=() first="" last="" facts=""
    while kill -0 "$loadtest_pid" 2>/dev/null; do
        if [ -z "$first" ] && grep -q '^t=1s' "$log" 2>/dev/null; then
            first=$(date +%s.%N)
            before=(); for ((index = 1; index < ${#watched[@]}; index += 2)); do before+=("$(cpu_ticks "${watched[index]}")"); done
        elif [ -n "$first" ] && [ -z "$last" ] && grep -q "^t=$((duration - 1))s" "$log" 2>/dev/null; then
            last=$(date +%s.%N)
            after=(); for ((index = 1; index < ${#watched[@]}; index += 2)); do after+=("$(cpu_ticks "${watched[index]}")"); done
            facts=$(instance_facts)
        fi
        sleep 0.1
    done
    wait "$loadtest_pid" || { echo "cluster-fanout.sh: loadtest failed ($config, $subscribers); $log:" >&2; tail -n 5 "$log" >&2; return 0; }
    local cpu="" ticks_per_second
    ticks_per_second=$(getconf CLK_TCK)
    if [ -n "$last" ]; then
        for ((index = 0; index < ${#watched[@]}; index += 2)); do
            local slot=$((index / 2))
            # name=CPU%,write syscalls per second
            cpu+="${watched[index]}=$(awk -v b="${before[slot]}" -v a="${after[slot]}" -v t="$ticks_per_second" -v s="$first" -v e="$last" \
                'BEGIN { split(b, x, " "); split(a, y, " "); printf "%.0f%%,%.0fw/s", 100 * (y[1] - x[1]) / t / (e - s), (y[2] - x[2]) / (e - s) }') "
        done
    fi
    local load
    load=$(uptime | sed 's/.*load average: //')
    python3 - "$json" "$config" "$subscribers" "$run" "$cpu" "$load" "$out/runs.tsv" "$facts" <<'PY'
import json, sys
path, config, subscribers, run, cpu, load, table, facts = sys.argv[1:]
result = json.load(open(path))["runs"][0]
row = [config, subscribers, run, "%.0f" % result["messagesPerSecond"], "%.0f" % result["acceptedPerSecond"],
       "%.1f" % (result["latency"]["p50"] / 1000), "%.1f" % (result["latency"]["p99"] / 1000),
       "%d/%d" % (result["subscribersReady"], result["subscribersRequested"]),
       "%d/%d" % (result["lost"], result["duplicates"]), cpu.strip(), load, facts]
with open(table, "a") as file:
    file.write("\t".join(row) + "\n")
print("%-7s %6s #%s  deliveries/s %8s  accepted/s %6s  p50 %6s ms  p99 %6s ms  ready %s  lost/dup %s  cpu %s  load %s  subscribers/entries applied per instance %s" % tuple(row),
      flush=True)
PY
}

# Rounds alternate the configurations (direct, nginx1, nginx2, direct, …) so a change in what else
# runs on the machine falls on all of them alike, not on the last configuration measured.
for run in $(seq "$runs"); do
    for config in $configs; do
        if [ $((SECONDS - started)) -gt "$budget" ]; then
            echo "cluster-fanout.sh: budget of $budget s spent; skipping $config round $run" >&2
            continue
        fi
        case $config in
            direct) start_instances 1; url="http://127.0.0.1:${instance_ports[0]}" ;;
            nginx1) start_instances 1; start_nginx; url="http://127.0.0.1:$nginx_port" ;;
            nginx2) start_instances 2; start_nginx; url="http://127.0.0.1:$nginx_port" ;;
            *) echo "cluster-fanout.sh: unknown configuration $config" >&2; exit 64 ;;
        esac
        for subscribers in $subscriber_counts; do
            run_once "$config" "$subscribers" "$run" "$url"
        done
        stop_configuration
    done
done

# Medians per configuration and subscriber count, and the ratios the comparison is about.
[ -s "$out/runs.tsv" ] && python3 - "$out/runs.tsv" "$rate" "$duration" <<'PY'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
groups = {}
for row in rows:
    groups.setdefault((row[0], int(row[1])), []).append(row)
medians = {}
print("\nrate: %s transactions/s, %s s per run" % (sys.argv[2], sys.argv[3]))
print("\n| configuration | subscribers | runs | deliveries/s | accepted/s | p50 ms | p99 ms | server CPU µs / delivery | CPU % of one core (median run) | load average |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for (config, subscribers), group in groups.items():
    group.sort(key=lambda row: float(row[3]))
    middle = group[len(group) // 2]
    values = [statistics.median(float(row[index]) for row in group) for index in (3, 4, 5, 6)]
    medians[(config, subscribers)] = values
    # Server-side CPU (Redis, instances, nginx workers; not the load generator) per delivery.
    shares = dict(item.split("=") for item in middle[9].split()) if middle[9] else {}
    server = sum(float(share.split("%")[0]) for name, share in shares.items() if name != "loadtest")
    per_delivery = 1e6 * server / 100 / float(middle[3]) if shares else float("nan")
    print("| %s | %d | %d | %.0f | %.0f | %.1f | %.1f | %.2f | %s | %s |" % (config, subscribers, len(group), *values, per_delivery, middle[9], middle[10]))
for subscribers in sorted({key[1] for key in medians}):
    for name, top, bottom in (("nginx2 / nginx1", "nginx2", "nginx1"), ("nginx1 / direct", "nginx1", "direct"),
                              ("nginx2 / direct", "nginx2", "direct")):
        if (top, subscribers) in medians and (bottom, subscribers) in medians:
            a, b = medians[(top, subscribers)], medians[(bottom, subscribers)]
            print("%6d subscribers  %-16s deliveries/s %.2f  p50 %.2f  p99 %.2f" % (subscribers, name, a[0] / b[0], a[2] / b[2], a[3] / b[3]))
PY
echo "runs and JSON reports: $out"
