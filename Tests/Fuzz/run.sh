#!/usr/bin/env bash
# Builds the libFuzzer targets (swiftc -sanitize=fuzzer,address) and runs each for a bounded time.
# Usage: Tests/Fuzz/run.sh [seconds-per-target]   (default 20; CI runs it from Tests/run.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-20}"
out=.build/fuzz
mkdir -p "$out"
build() { # name module sources... -- extra flags
    local name=$1 module=$2; shift 2
    swiftc -swift-version 6 -sanitize=fuzzer,address -parse-as-library -O -module-name "$module" "$@" -o "$out/$name" 2>&1 \
        | grep -v "Cannot export local symbol" || true
}
# Each target is one module: its layer's sources plus the shared Basics sources, with the imports
# of the modules folded in removed (`merge NAME MODULES… -- FILES…` copies them into one folder).
merge() {
    local name=$1; shift
    local modules=()
    while [[ $1 != -- ]]; do modules+=("$1"); shift; done
    shift
    local dir="$out/$name-src" pattern
    pattern="^import ($(IFS='|'; echo "${modules[*]}"))$"
    rm -rf "$dir"; mkdir -p "$dir"
    for file in "$@"; do
        grep -Ev "$pattern" "$file" >"$dir/$(basename "$(dirname "$file")")-$(basename "$file")"
    done
}
merge http Basics -- Sources/Basics/*.swift Sources/HTTP1/*.swift
build http HTTP1 "$out"/http-src/*.swift Tests/Fuzz/HTTPRequestParserFuzz.swift
merge websocket Basics -- Sources/Basics/*.swift Sources/WebSocket/*.swift
build websocket WebSocket "$out"/websocket-src/*.swift Tests/Fuzz/WebSocketFrameFuzz.swift \
    -I Sources/COpenSSL -I Sources/CZlib -lssl -lcrypto -lz
merge transactions Basics -- Sources/Basics/*.swift Sources/Monitor/*.swift
build transactions Monitor "$out"/transactions-src/*.swift Tests/Fuzz/TransactionDecoderFuzz.swift
# The payload codec and the types it encodes, as one module.
merge journal Basics Monitor -- Sources/Basics/*.swift Sources/Monitor/*.swift \
    Sources/Journal/JournalPayloadCodec.swift Sources/Journal/JournalPayloadCodec+Decoding.swift Sources/Journal/JournalError.swift
build journal Journal "$out"/journal-src/*.swift Tests/Fuzz/JournalPayloadFuzz.swift
# The monitor snapshot decoder (the same sources as `transactions`).
build snapshot Monitor "$out"/transactions-src/*.swift Tests/Fuzz/MonitorSnapshotFuzz.swift
# The broker snapshot decoder: its two files and the window type they carry (IdempotencyWindow,
# taken out of IdempotencyIndex.swift, whose index needs the whole broker).
merge brokersnapshot Monitor -- Sources/Broker/BrokerSnapshot.swift Sources/Broker/BrokerSnapshot+Decoding.swift
sed -n '/^public struct IdempotencyWindow/,/^}/p' Sources/Broker/IdempotencyIndex.swift >"$out/brokersnapshot-src/IdempotencyWindow.swift"
build brokersnapshot Broker "$out"/brokersnapshot-src/*.swift Tests/Fuzz/BrokerSnapshotFuzz.swift
# The RESP codec (sans-I/O: no Reactor or OpenSSL needed).
merge resp -- Sources/Redis/RESPValue.swift Sources/Redis/RESPEncoder.swift Sources/Redis/RESPDecoder.swift \
    Sources/Redis/RESPDecodingError.swift
build resp Redis "$out"/resp-src/*.swift Tests/Fuzz/RESPDecoderFuzz.swift
status=0
for name in http websocket transactions journal snapshot brokersnapshot resp; do
    corpus="$out/corpus-$name"
    mkdir -p "$corpus"
    cp Tests/Fuzz/seeds/$name/* "$corpus/" 2>/dev/null || true
    if "$out/$name" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 "$corpus" >"$out/$name.log" 2>&1; then
        runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$name.log" | grep -o '[0-9]*$' || echo "?")
        echo "fuzz $name: ok ($runs inputs in ${seconds}s)"
    else
        echo "fuzz $name: FAILED — see $out/$name.log"; tail -n 30 "$out/$name.log"; status=1
    fi
done
exit $status
