#!/usr/bin/env bash
# Peer servers for Syndicast's side-by-side benchmarks (see README.md beside this script).
#
#   peer.sh install [NAME...]   apt packages, the socketify venv and the Swift release builds;
#                               idempotent and quiet (a log is shown only on failure)
#   peer.sh start NAME PORT [OPTION...]
#                               run one peer in the foreground on 127.0.0.1:PORT; it prints
#                               "listening on PORT" when ready and exits on SIGTERM/SIGINT;
#                               OPTIONs go to socketify (--tls-cert PEM --tls-key PEM)
#   peer.sh list                names, what each is, and whether it is installed
#
# NAME: hummingbird | flyingfox | socketify | nginx. The peers are separate programs: none is
# linked into the Syndicast server.
set -euo pipefail

PEERS_DIRECTORY="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
NAMES=(hummingbird flyingfox socketify nginx)
HUMMINGBIRD_PACKAGE="$PEERS_DIRECTORY/hummingbird/HummingbirdPeer"
FLYINGFOX_PACKAGE="$PEERS_DIRECTORY/flyingfox/FlyingFoxPeer"
SOCKETIFY_DIRECTORY="$PEERS_DIRECTORY/socketify"
NGINX_TEMPLATE="$PEERS_DIRECTORY/nginx/nginx.conf"

fail() { echo "peer.sh: $*" >&2; exit 1; }

usage() {
    sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 64
}

# Runs a command with its output in a log; prints the log's tail only if the command fails.
quietly() {
    local log
    log="$(mktemp)"
    if ! "$@" >"$log" 2>&1; then
        echo "peer.sh: failed: $*" >&2
        tail -n 40 "$log" >&2
        rm -f "$log"
        return 1
    fi
    rm -f "$log"
}

install_apt_packages() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    quietly apt-get update -qq
    DEBIAN_FRONTEND=noninteractive quietly apt-get install -y -qq "${missing[@]}"
}

# Builds a Swift peer in release mode, unless its binary is newer than every source file
# (`swift build` alone would also be a no-op then, but its planning takes half a minute here).
install_swift_package() {
    local package="$1" product="$2"
    local binary="$package/.build/release/$product"
    if [ -x "$binary" ] && [ -z "$(find "$package/Package.swift" "$package/Sources" -newer "$binary" -print -quit)" ]; then
        return 0
    fi
    quietly swift build -c release --package-path "$package" --product "$product"
}

install_socketify() {
    install_apt_packages libuv1
    local venv="$SOCKETIFY_DIRECTORY/.venv"
    local stamp="$venv/.installed-requirements.txt"
    [ -x "$venv/bin/python" ] || quietly python3 -m venv "$venv"
    if ! cmp -s "$SOCKETIFY_DIRECTORY/requirements.txt" "$stamp"; then
        quietly "$venv/bin/pip" install --disable-pip-version-check -q -r "$SOCKETIFY_DIRECTORY/requirements.txt"
        cp "$SOCKETIFY_DIRECTORY/requirements.txt" "$stamp"
    fi
}

install_peer() {
    case "$1" in
        hummingbird) install_swift_package "$HUMMINGBIRD_PACKAGE" HummingbirdPeer ;;
        flyingfox) install_swift_package "$FLYINGFOX_PACKAGE" FlyingFoxPeer ;;
        socketify) install_socketify ;;
        nginx) install_apt_packages nginx ;;
        *) fail "unknown peer '$1' (peer.sh list)" ;;
    esac
}

is_installed() {
    case "$1" in
        hummingbird) [ -x "$HUMMINGBIRD_PACKAGE/.build/release/HummingbirdPeer" ] ;;
        flyingfox) [ -x "$FLYINGFOX_PACKAGE/.build/release/FlyingFoxPeer" ] ;;
        socketify) [ -x "$SOCKETIFY_DIRECTORY/.venv/bin/python" ] ;;
        nginx) command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] ;;
    esac
}

list_peers() {
    local state
    for name in "${NAMES[@]}"; do
        if is_installed "$name"; then state="installed"; else state="not installed"; fi
        case "$name" in
            hummingbird) printf '%-12s %-14s %s\n' "$name" "$state" "Hummingbird 2 + hummingbird-websocket, WebSocket broadcast (Swift, SwiftNIO)" ;;
            flyingfox) printf '%-12s %-14s %s\n' "$name" "$state" "FlyingFox, WebSocket broadcast (Swift, own epoll socket pool)" ;;
            socketify) printf '%-12s %-14s %s\n' "$name" "$state" "uWebSockets via socketify (Python), WebSocket broadcast with uWS pub/sub" ;;
            nginx) printf '%-12s %-14s %s\n' "$name" "$state" "nginx, POST /api/transactions -> 201 {\"accepted\":1} (ingest floor)" ;;
        esac
    done
}

# nginx prints nothing when ready, so this one peer runs under a small supervisor: it waits until
# /healthz answers, prints "listening on PORT", and forwards SIGTERM/SIGINT to the nginx master.
start_nginx() {
    local port="$1"
    local workers="${NGINX_WORKERS:-1}"
    local nginx_binary prefix master
    nginx_binary="$(command -v nginx || echo /usr/sbin/nginx)"
    [ -x "$nginx_binary" ] || fail "nginx is not installed (peer.sh install nginx)"
    prefix="$(mktemp -d /tmp/syndicast-peer-nginx.XXXXXX)"
    sed -e "s|@PORT@|$port|g" -e "s|@WORKERS@|$workers|g" -e "s|@PREFIX@|$prefix|g" \
        "$NGINX_TEMPLATE" >"$prefix/nginx.conf"
    "$nginx_binary" -p "$prefix" -c "$prefix/nginx.conf" -e stderr &
    master=$!
    trap 'kill -TERM "$master" 2>/dev/null || true' TERM INT
    local attempt
    for attempt in $(seq 1 100); do
        if ! kill -0 "$master" 2>/dev/null; then break; fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "listening on $port"
            break
        fi
        sleep 0.05
    done
    local status=0
    # `wait` returns early when a trapped signal arrives; keep waiting until nginx has exited.
    while kill -0 "$master" 2>/dev/null; do
        wait "$master" || status=$?
    done
    rm -rf "$prefix"
    # A fast shutdown requested by SIGTERM/SIGINT is a normal exit.
    [ "$status" -eq 143 ] || [ "$status" -eq 130 ] && status=0
    exit "$status"
}

start_peer() {
    local name="$1" port="$2"
    shift 2
    [ "$name" = socketify ] || [ $# -eq 0 ] || fail "$name takes no options after PORT"
    [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || fail "bad port '$port'"
    case "$name" in
        hummingbird)
            is_installed hummingbird || fail "hummingbird is not built (peer.sh install hummingbird)"
            exec "$HUMMINGBIRD_PACKAGE/.build/release/HummingbirdPeer" "$port" ;;
        flyingfox)
            is_installed flyingfox || fail "flyingfox is not built (peer.sh install flyingfox)"
            exec "$FLYINGFOX_PACKAGE/.build/release/FlyingFoxPeer" "$port" ;;
        socketify)
            is_installed socketify || fail "socketify is not installed (peer.sh install socketify)"
            exec "$SOCKETIFY_DIRECTORY/.venv/bin/python" -u "$SOCKETIFY_DIRECTORY/server.py" "$port" "$@" ;;
        nginx) start_nginx "$port" ;;
        *) fail "unknown peer '$name' (peer.sh list)" ;;
    esac
}

[ $# -ge 1 ] || usage
command="$1"
shift
case "$command" in
    install)
        if [ $# -eq 0 ]; then set -- "${NAMES[@]}"; fi
        for name in "$@"; do install_peer "$name"; done ;;
    start)
        [ $# -ge 2 ] || usage
        start_peer "$@" ;;
    list) list_peers ;;
    *) usage ;;
esac
