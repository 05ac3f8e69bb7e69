#!/usr/bin/env bash
# The whole test suite, as the README's test command. Installs what a fresh machine lacks, then:
#   1. swift test            unit tests of every module (protocol cores without sockets)
#   2. Tests/Fuzz/run.sh     libFuzzer targets, bounded (FUZZ_SECONDS per target, default 10)
#   3. pytest                the release binary with real clients, SQLite, redis-server, Chromium
# Extra arguments go to pytest (e.g. -k conformance).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# System packages the build and the tests need (Debian).
need=()
for package in libssl-dev zlib1g-dev libsqlite3-dev curl redis-server nginx chromium firefox-esr; do
    dpkg -s "$package" >/dev/null 2>&1 || need+=("$package")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "== installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi

# Python test clients in an ignored venv (reinstalled when requirements.txt changes).
stamp=.venv/requirements.installed
if [ ! -x .venv/bin/python ] || ! cmp -s Tests/integration/requirements.txt "$stamp"; then
    echo "== preparing .venv"
    python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check -r Tests/integration/requirements.txt
    cp Tests/integration/requirements.txt "$stamp"
fi

echo "== swift test"
set +e
swift test 2>&1 | tee .build-test.log | grep -vE '^\[[0-9]+/[0-9]+\]|^(Compiling|Building|Write|Emitting)|^◇|^↳'
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || { echo "swift test failed ($status)"; exit "$status"; }

echo "== fuzz"
Tests/Fuzz/run.sh "${FUZZ_SECONDS:-10}"

echo "== swift build -c release"
swift build -c release --product syndicast 2>&1 | grep -E "error|warning: unre|Compiling syndicast|Build" || true
export SYNDICAST_BIN="$root/.build/release/syndicast"
[ -x "$SYNDICAST_BIN" ] || { echo "release build failed"; exit 1; }
ulimit -n "$(ulimit -Hn)" || true

echo "== load tools: swift test --package-path loadtest (also builds the generator the smoke tests run)"
set +e
swift test --package-path loadtest 2>&1 | tee .build-loadtest-test.log | grep -E "error|✘|Test run with|failed" 
status=${PIPESTATUS[0]}
set -e
[ "$status" -eq 0 ] || { echo "loadtest swift test failed ($status)"; exit "$status"; }

echo "== pytest"
.venv/bin/python -m pytest -q -p no:cacheprovider Tests/integration "$@"
