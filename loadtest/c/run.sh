#!/usr/bin/env bash
# Broadcast fan-out of Syndicast and peer servers, measured by the independent C client wsfanout.
#
#   loadtest/c/run.sh [--peers ours,socketify,hummingbird,flyingfox] [--subscribers N] [--duration S]
#                     [--rate R] [--runs K] [--window W] [--size B] [--threads T]
#                     [--tls] [--idle S] [--idle-only]
#   loadtest/c/run.sh [--peers ...] --summarize DIR     (the tables again, from a results folder)
#
# Builds wsfanout into loadtest/c/build/, then for each run and each server: starts the server on a
# free loopback port, waits until /healthz answers, runs wsfanout with --pid, stops the server.
# Prints a table of medians over the runs at the end. Results: loadtest/c/build/results/<time>/.
# --tls: wss:// for ours and socketify (a throwaway CA and server certificate for 127.0.0.1 are made
# in the results folder; wsfanout verifies against that CA); implies --idle 3. --idle S: also, per
# run and server, a fresh server holding N idle connections S seconds (its memory per connection).
# --idle-only: only that. The tables end with the ratios ours / peer.
#
# Environment: SYNDICAST_SERVER_BIN (ours; default <repo>/.build/release/syndicast),
#              SYNDICAST_PEER_SH (default <repo>/loadtest/peers/peer.sh).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
server_bin="${SYNDICAST_SERVER_BIN:-$repo/.build/release/syndicast}"
peer_sh="${SYNDICAST_PEER_SH:-$repo/loadtest/peers/peer.sh}"

peers="ours"
subscribers=10000
duration=6
rate=""
runs=1
window=128
size=128
threads=1
peers_given=0
summarize_dir=""
tls=0
idle=""
idle_only=0

usage() { sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 64; }
# summarize DIR SERVERS: the table of medians over the runs of each server, from DIR/NAME-runK.json.
summarize() {
    local dir="$1" order="$2" name file
    printf '\n%-12s %4s %13s %8s %12s %9s %9s %6s %9s %4s %8s %8s %9s %8s  %s\n' server runs "deliveries/s" "vs ours" \
        "in-period/s" "p50 ms" "p99 ms" lost undeliv. dup "srv CPU%" "cli CPU%" "mach CPU%" "oth CPU%" "per run (M/s)"
    IFS=',' read -r -a names <<<"$order"
    for name in "${names[@]}"; do
        for file in "$dir/$name"-run*.txt; do
            [[ -e "$file" ]] || continue
            if [[ -s "${file%.txt}.json" ]]; then
                # One "key=value" line per run from the JSON's numeric fields.
                tr -d '{}\n' <"${file%.txt}.json" | sed 's/"latency_ms": *//' | tr ',' '\n' |
                    sed -nE 's/^ *"([a-z_0-9]+)": *(-?[0-9.]+) *$/\1=\2/p' | tr '\n' ' ' | sed "s/^/server=$name /;s/\$/\n/"
            else
                echo "server=$name failed=1"
            fi
        done
    done | awk -v order="$order" '
        function median(list,    n, a, i, j, t) {
            n = split(list, a, " ")
            for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
            if (n == 0) return -1
            return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
        }
        NF > 0 {
            delete kv
            for (i = 1; i <= NF; i++) { split($i, p, "="); kv[p[1]] = p[2] }
            s = kv["server"]
            if (kv["failed"] == 1 || kv["deliveries_per_second"] == "" || kv["publishing_seconds"] + 0 == 0) { failed[s]++; next }
            n[s]++
            dps[s] = dps[s] " " kv["deliveries_per_second"]; inp[s] = inp[s] " " kv["deliveries_in_period_per_second"]
            p50[s] = p50[s] " " kv["p50"]; p99[s] = p99[s] " " kv["p99"]
            lost[s] += kv["lost_gaps"] + kv["missing_closed"]; late[s] += kv["undelivered_at_end"]; dup[s] += kv["duplicates"]
            scpu[s] = scpu[s] " " kv["server_cpu_percent"]; ccpu[s] = ccpu[s] " " kv["client_cpu_percent"]
            mcpu[s] = mcpu[s] " " kv["machine_cpu_percent"]
            ocpu[s] = ocpu[s] " " (("other_processes_cpu_percent" in kv) ? kv["other_processes_cpu_percent"] : -1)
            runs[s] = runs[s] sprintf(" %.3f", kv["deliveries_per_second"] / 1e6)
            if (kv["connected"] < kv["subscribers"]) short[s] = short[s] sprintf(" %d/%d connected", kv["connected"], kv["subscribers"])
        }
        END {
            k = split(order, names, ",")
            base = ("ours" in n) ? median(dps["ours"]) : 0
            for (i = 1; i <= k; i++) {
                s = names[i]
                if (!(s in n)) { printf "%-12s %4d %13s\n", s, 0, "failed"; continue }
                m = median(dps[s])
                ratio = base > 0 ? sprintf("%.3f", m / base) : "-"
                printf "%-12s %4d %13.0f %8s %12.0f %9.1f %9.1f %6d %9d %4d %8.1f %8.1f %9.1f %8.1f %s%s%s\n", s, n[s], m, ratio,
                    median(inp[s]), median(p50[s]), median(p99[s]), lost[s], late[s], dup[s], median(scpu[s]),
                    median(ccpu[s]), median(mcpu[s]), median(ocpu[s]), runs[s], (s in failed) ? sprintf("  (%d failed)", failed[s]) : "", short[s]
            }
        }'
    echo
    echo "deliveries/s: unique messages received by the N subscribers (publisher excluded), published during the"
    echo "publishing period and received before the end of the drain (<= 3 s), divided by the publishing period;"
    echo "in-period/s counts only those received before the publishing period ended. Latency: medians of the"
    echo "per-run p50/p99. lost (gaps in a subscriber's sequence, or never sent to a subscriber that closed),"
    echo "undeliv. (still queued when the drain ended: late, not lost) and dup are sums over the runs. CPU: % of"
    echo "one core over the publishing period (mach = whole machine, all processes, of $(nproc)00 %; oth = every"
    echo "process but the server and the client, e.g. other benchmarks sharing the machine; -1 = not recorded)."
}

# json_field FILE KEY: the number after "KEY": in FILE (empty if absent).
json_field() { sed -nE "s/.*\"$2\": *(-?[0-9.]+).*/\1/p" "$1" 2>/dev/null | head -n 1; }
# median: the median of the numbers on stdin, one a line (empty if none).
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
# idle_values DIR NAME KEY: KEY from each idle run of NAME that opened every connection.
idle_values() {
    local file
    for file in "$1/$2"-idle-run*.json; do
        [[ -s "$file" ]] || continue
        [[ "$(json_field "$file" connected)" == "$(json_field "$file" subscribers)" ]] || continue
        json_field "$file" "$3"
    done
}
# fanout_values DIR NAME: deliveries/s of each fan-out run of NAME that published.
fanout_values() {
    local file
    for file in "$1/$2"-run*.json; do
        [[ -s "$file" ]] || continue
        awk -v p="$(json_field "$file" publishing_seconds)" 'BEGIN { exit !(p + 0 > 0) }' || continue
        json_field "$file" deliveries_per_second
    done
}
# summarize_idle DIR SERVERS: medians of the idle-memory runs, then the ratios ours / peer.
summarize_idle() {
    local dir="$1" order="$2" name runs rss anon pss all
    IFS=',' read -r -a names <<<"$order"
    if compgen -G "$dir/*-idle-run*.json" >/dev/null; then
        printf '\n%-12s %4s %12s %12s %12s %7s  %s\n' server runs "idle B/conn" "anon B/conn" "PSS B/conn" "conns" \
            "per run (RSS B/conn)"
        for name in "${names[@]}"; do
            runs="$(idle_values "$dir" "$name" rss_bytes_per_connection | wc -l)"
            all="$(ls "$dir/$name"-idle-run*.txt 2>/dev/null | wc -l)"
            [[ "$all" -gt 0 ]] || continue
            if [[ "$runs" == 0 ]]; then printf '%-12s %4d %14s  (%d failed)\n' "$name" 0 failed "$all"; continue; fi
            rss="$(idle_values "$dir" "$name" rss_bytes_per_connection | median)"
            anon="$(idle_values "$dir" "$name" anon_bytes_per_connection | median)"
            pss="$(idle_values "$dir" "$name" pss_bytes_per_connection | median)"
            printf '%-12s %4d %12.0f %12.0f %12.0f %7s  %s%s\n' "$name" "$runs" "$rss" "${anon:--1}" "$pss" \
                "$(idle_values "$dir" "$name" connected | head -n 1)" \
                "$(idle_values "$dir" "$name" rss_bytes_per_connection | awk '{ printf " %.0f", $1 }')" \
                "$([[ "$runs" -lt "$all" ]] && echo "  ($((all - runs)) failed or short)")"
        done
        echo
        echo "idle B/conn: growth of the server's VmRSS from before the first connection to S seconds after the"
        echo "last WebSocket handshake, divided by the connections, on a fresh server per run (anon: RssAnon, heap"
        echo "and stacks without code pages first touched while serving; PSS: smaps_rollup). Kernel socket buffers"
        echo "are not in either. Ratios use the RSS medians."
    fi
    local ours_dps ours_idle peer_dps peer_idle
    ours_dps="$(fanout_values "$dir" ours | median)"
    ours_idle="$(idle_values "$dir" ours rss_bytes_per_connection | median)"
    for name in "${names[@]}"; do
        [[ "$name" != ours ]] || continue
        peer_dps="$(fanout_values "$dir" "$name" | median)"
        peer_idle="$(idle_values "$dir" "$name" rss_bytes_per_connection | median)"
        awk -v n="$name" -v od="$ours_dps" -v pd="$peer_dps" -v oi="$ours_idle" -v pi="$peer_idle" 'BEGIN {
            d = (od != "" && pd + 0 > 0) ? sprintf("%.3f (%.0f / %.0f)", od / pd, od, pd) : "- (not measured for both)"
            i = (oi != "" && pi + 0 > 0) ? sprintf("%.3f (%.0f / %.0f B)", oi / pi, oi, pi) : "- (not measured for both)"
            printf "ours / %-10s deliveries/s %s; idle bytes per connection %s\n", n, d, i }'
    done
}

need_value() { [[ $# -ge 2 && -n "$2" ]] || { echo "run.sh: $1 needs a value" >&2; exit 64; }; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --peers) need_value "$@"; peers="$2"; peers_given=1; shift 2 ;;
        --subscribers) need_value "$@"; subscribers="$2"; shift 2 ;;
        --duration) need_value "$@"; duration="$2"; shift 2 ;;
        --rate) need_value "$@"; rate="$2"; shift 2 ;;
        --runs) need_value "$@"; runs="$2"; shift 2 ;;
        --window) need_value "$@"; window="$2"; shift 2 ;;
        --size) need_value "$@"; size="$2"; shift 2 ;;
        --threads) need_value "$@"; threads="$2"; shift 2 ;;
        --summarize) need_value "$@"; summarize_dir="$2"; shift 2 ;;
        --tls) tls=1; shift ;;
        --idle) need_value "$@"; idle="$2"; shift 2 ;;
        --idle-only) idle_only=1; shift ;;
        -h|--help) usage ;;
        *) echo "run.sh: unknown option $1" >&2; usage ;;
    esac
done
if [[ -n "${summarize_dir:-}" ]]; then
    if [[ "$peers_given" == 0 ]]; then
        # The servers found in the folder, ours first.
        peers="$(ls "$summarize_dir" | sed -nE 's/^(.*)-run[0-9]+\.txt$/\1/p' | sed 's/-idle$//' | sort -u |
            awk '{ if ($0 == "ours") first = "ours"; else rest = rest "," $0 } END { print substr(first rest, first == "" ? 2 : 1) }')"
    fi
    summarize "$summarize_dir" "$peers"
    summarize_idle "$summarize_dir" "$peers"
    exit 0
fi
[[ "$runs" =~ ^[0-9]+$ && "$runs" -ge 1 && "$runs" -le 20 ]] || { echo "run.sh: --runs must be 1..20" >&2; exit 64; }
[[ -z "$idle" && "$tls" == 1 ]] && idle=3
[[ -z "$idle" && "$idle_only" == 1 ]] && idle=3
idle="${idle:-0}"
[[ "$idle" =~ ^[0-9]+$ && "$idle" -le 600 ]] || { echo "run.sh: --idle must be 0..600 seconds" >&2; exit 64; }
[[ "$idle_only" == 0 || "$idle" -gt 0 ]] || { echo "run.sh: --idle-only needs --idle S > 0" >&2; exit 64; }
IFS=',' read -r -a servers <<<"$peers"
for name in "${servers[@]}"; do
    case "$name" in
        ours) [[ -x "$server_bin" ]] || { echo "run.sh: no server binary at $server_bin (set SYNDICAST_SERVER_BIN)" >&2; exit 1; } ;;
        socketify|hummingbird|flyingfox) [[ -x "$peer_sh" ]] || { echo "run.sh: no $peer_sh (set SYNDICAST_PEER_SH)" >&2; exit 1; }
            [[ "$tls" == 0 || "$name" == socketify ]] || { echo "run.sh: $name has no TLS variant (--tls: ours, socketify)" >&2; exit 64; } ;;
        *) echo "run.sh: unknown server '$name' (ours, socketify, hummingbird, flyingfox)" >&2; exit 64 ;;
    esac
done

mkdir -p "$here/build"
compiler="${CC:-$(command -v cc || command -v clang || command -v gcc || true)}"
[ -n "$compiler" ] || { echo "run.sh: needs a C compiler (cc, clang or gcc; the Swift toolchain ships clang)" >&2; exit 1; }
"$compiler" -O2 -Wall -Wextra -o "$here/build/wsfanout" "$here/wsfanout.c" -lpthread -lm -lssl -lcrypto
client="$here/build/wsfanout"
"$client" --self-test >/dev/null
results="$here/build/results/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$results"

# --tls: a throwaway CA and a server certificate for 127.0.0.1 (ECDSA P-256, as a production
# deployment would use), made fresh for every results folder.
tls_server_args=()
client_tls_args=()
ours_lacks_tls=0
if [[ "$tls" == 1 ]]; then
    command -v openssl >/dev/null || { echo "run.sh: --tls needs the openssl command" >&2; exit 1; }
    command -v curl >/dev/null || { echo "run.sh: --tls needs curl (for /healthz over https)" >&2; exit 1; }
    tls_dir="$results/tls"
    mkdir -p "$tls_dir"
    if ! {
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=wsfanout test CA" \
            -keyout "$tls_dir/ca.key" -out "$tls_dir/ca.pem" &&
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
                -keyout "$tls_dir/server.key" -out "$tls_dir/server.csr" &&
            printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >"$tls_dir/server.ext" &&
            openssl x509 -req -days 2 -in "$tls_dir/server.csr" -CA "$tls_dir/ca.pem" -CAkey "$tls_dir/ca.key" \
                -CAcreateserial -extfile "$tls_dir/server.ext" -out "$tls_dir/server.pem"
    } >"$tls_dir/openssl.log" 2>&1; then
        echo "run.sh: making the test certificates failed:" >&2
        cat "$tls_dir/openssl.log" >&2
        exit 1
    fi
    tls_server_args=(--tls-cert "$tls_dir/server.pem" --tls-key "$tls_dir/server.key")
    client_tls_args=(--tls-ca "$tls_dir/ca.pem")
    # The help text is read whole first: `grep -q` in a pipe may end it early (SIGPIPE under pipefail).
    if [[ " ${servers[*]} " == *" ours "* && "$("$server_bin" serve --help 2>&1 || true)" != *--tls-cert* ]]; then
        ours_lacks_tls=1
        echo "run.sh: ours ($server_bin) has no --tls-cert option (TLS not in this build): ours is not measured," >&2
        echo "        its rows show 'failed'; the other servers run as usual" >&2
    fi
fi

server_pid=""
stop_server() {
    [[ -n "$server_pid" ]] || return 0
    if kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$server_pid" 2>/dev/null || true
    fi
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}
trap 'stop_server' EXIT
trap 'stop_server; exit 130' INT TERM

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A port below the kernel's ephemeral range, so no client socket (ours or anyone's) can hold it.
free_port() {
    local port low
    low="$(cut -f1 /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)"
    [[ "$low" =~ ^[0-9]+$ && "$low" -gt 12000 ]] || low=32768
    for _ in $(seq 1 200); do
        port=$((10000 + RANDOM % (low - 10000)))
        port_in_use "$port" || { echo "$port"; return 0; }
    done
    echo "run.sh: no free port found" >&2
    return 1
}
healthz_ok() {
    if [[ "$tls" == 1 ]]; then
        curl -s --max-time 2 --cacert "$tls_dir/ca.pem" -o /dev/null -w '%{http_code}' "https://127.0.0.1:$1/healthz" 2>/dev/null |
            grep -q '^200$'
        return
    fi
    timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" &&
        printf "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" >&3 &&
        head -n 1 <&3' _ "$1" 2>/dev/null | grep -q ' 200'
}

# start_server NAME PORT LOG: sets server_pid; returns when /healthz answers 200 (at most 60 s).
start_server() {
    local name="$1" port="$2" log="$3"
    if [[ "$name" == ours ]]; then
        "$server_bin" serve --host 127.0.0.1 --port "$port" --in-memory --amount-threshold 1 \
            --spike-threshold 1000000000 --broadcast --ping-interval 600 ${tls_server_args[@]+"${tls_server_args[@]}"} >"$log" 2>&1 &
    else
        "$peer_sh" start "$name" "$port" ${tls_server_args[@]+"${tls_server_args[@]}"} >"$log" 2>&1 &   # peer.sh execs the server: $! is its pid
    fi
    server_pid=$!
    for _ in $(seq 1 600); do
        kill -0 "$server_pid" 2>/dev/null || { echo "run.sh: $name exited during start:" >&2; tail -n 20 "$log" >&2; return 1; }
        healthz_ok "$port" && return 0
        sleep 0.1
    done
    echo "run.sh: $name did not answer /healthz on port $port within 60 s" >&2
    return 1
}

client_args=(--subscribers "$subscribers" --duration "$duration" --window "$window" --size "$size" --threads "$threads" --quiet)
[[ -n "$rate" ]] && client_args+=(--rate "$rate")
client_args+=(${client_tls_args[@]+"${client_tls_args[@]}"})
bound=$(awk -v d="$duration" -v i="$idle" 'BEGIN { printf "%d", d + i + 180 }')

# measure NAME TAG KIND: one fresh server, one wsfanout run (KIND fanout or idle), the server stopped.
measure() {
    local name="$1" tag="$2" kind="$3" port status=0 extra=()
    if [[ "$name" == ours && "$ours_lacks_tls" == 1 ]]; then
        echo "    ours skipped: this build has no --tls-cert" >&2
        echo "RESULT failed=1 reason=no-tls-in-ours" >"$results/$tag.txt"
        return 0
    fi
    port="$(free_port)"
    echo "--- run $run/$runs: $name $kind$([[ "$tls" == 1 ]] && echo " over TLS") on port $port (load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    if ! start_server "$name" "$port" "$results/$tag.server.log"; then
        stop_server
        echo "RESULT failed=1" >"$results/$tag.txt"
        return 0
    fi
    [[ "$kind" == idle ]] && extra=(--idle-seconds "$idle")
    timeout -k 5 "$bound" "$client" --port "$port" --pid "$server_pid" --json "$results/$tag.json" \
        "${client_args[@]}" ${extra[@]+"${extra[@]}"} >"$results/$tag.txt" 2>"$results/$tag.err" || status=$?
    stop_server
    [[ $status -eq 0 ]] || echo "run.sh: wsfanout exited with $status (see $results/$tag.err)" >&2
    grep -vE '^RESULT' "$results/$tag.txt" | sed 's/^/    /' >&2 || true
    sleep 2
}

echo "wsfanout: servers ${peers}; ${subscribers} subscribers, ${duration} s, rate ${rate:-max}, window ${window}, size ${size}, ${runs} run(s)$([[ "$tls" == 1 ]] && echo ", TLS")$([[ "$idle" -gt 0 ]] && echo ", idle memory (${idle} s)")" >&2
echo "results in $results" >&2
echo "tls=$tls subscribers=$subscribers idle=$idle load_average_start=$(cut -d' ' -f1-3 /proc/loadavg | tr ' ' '/')" >"$results/settings.txt"
for run in $(seq 1 "$runs"); do
    for name in "${servers[@]}"; do
        [[ "$idle_only" == 1 ]] || measure "$name" "$name-run$run" fanout
        [[ "$idle" -eq 0 ]] || measure "$name" "$name-idle-run$run" idle
    done
done

{
    cat "$results/settings.txt"
    [[ "$idle_only" == 1 ]] || summarize "$results" "$peers"
    summarize_idle "$results" "$peers"
    echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$results/summary.txt"
