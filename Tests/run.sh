#!/usr/bin/env bash
# The whole test suite: unit tests (swift test) and integration tests against the real binary
# with real clients (pytest). Installs what a fresh machine lacks. Usage: Tests/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

# 1. System packages the build and the tests need (Debian).
need=()
for package in libssl-dev zlib1g-dev libsqlite3-dev curl redis-server; do
    dpkg -s "$package" >/dev/null 2>&1 || need+=("$package")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "== installing ${need[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi

# 2. Python test clients in an ignored venv.
if [ ! -x .venv/bin/pytest ] || ! .venv/bin/pip freeze 2>/dev/null | grep -qiF -f <(sed 's/[<>=].*//' Tests/integration/requirements.txt); then
    echo "== preparing .venv"
    python3 -m venv .venv
    .venv/bin/pip install -q --disable-pip-version-check -r Tests/integration/requirements.txt
fi

# 3. Unit tests (sans-I/O protocol cores, domain, reactor).
echo "== swift test"
swift test 2>&1 | tee .build-test.log | grep -vE '^(\[[0-9]+/[0-9]+\]|Compiling|Building|Write|Emitting)' || {
    echo "swift test failed"; exit 1; }

# 4. Integration tests against the release binary.
echo "== swift build -c release"
swift build -c release --product syndicast 2>&1 | tail -n 3
export SYNDICAST_BIN="$root/.build/release/syndicast"
ulimit -n "$(ulimit -Hn)" || true
echo "== pytest"
.venv/bin/python -m pytest -q Tests/integration "$@"
