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
build http HTTP1 Sources/HTTP1/*.swift Tests/Fuzz/HTTPRequestParserFuzz.swift
build websocket WebSocket Sources/WebSocket/*.swift Tests/Fuzz/WebSocketFrameFuzz.swift \
    -I Sources/COpenSSL -I Sources/CZlib -lssl -lcrypto -lz
build transactions Monitor Sources/Monitor/*.swift Tests/Fuzz/TransactionDecoderFuzz.swift
# The payload codec and the types it encodes, as one module (they import Monitor as a package).
mkdir -p "$out/journal-src"
for file in JournalPayloadCodec JournalPayloadCodec+Decoding JournalError; do
    grep -v '^import Monitor$' "Sources/Journal/$file.swift" >"$out/journal-src/$file.swift"
done
build journal Journal Sources/Monitor/*.swift "$out"/journal-src/*.swift Tests/Fuzz/JournalPayloadFuzz.swift
status=0
for name in http websocket transactions journal; do
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
