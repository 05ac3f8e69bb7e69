#!/usr/bin/env bash
# Builds the load-test tool (release) and runs one scenario:
#   loadtest/run.sh SCENARIO [options]     e.g. loadtest/run.sh fanout --subscribers 1000 --duration 5
# Scenarios: fanout, broadcast, ingest, connect, mixed (see loadtest/README.md, or `run.sh SCENARIO --help`).
# Unless --url or --server-bin is given (or SYNDICAST_SERVER_BIN is set), it also builds our server
# in release (`swift build -c release --product syndicast` at the repository root).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"

if [[ $# -lt 1 ]]; then
    sed -n '2,5p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
fi

needs_server=1
for argument in "$@"; do
    case "$argument" in
        --url|--url=*|--server-bin|--server-bin=*|--help|-h) needs_server=0 ;;
    esac
done
if [[ $needs_server == 1 && -z "${SYNDICAST_SERVER_BIN:-}" ]]; then
    echo "building syndicast (release)…" >&2
    swift build -c release --product syndicast --package-path "$repo" >&2
    export SYNDICAST_SERVER_BIN="$(swift build -c release --package-path "$repo" --show-bin-path)/syndicast"
fi

echo "building syndicast-loadtest (release)…" >&2
swift build -c release --product syndicast-loadtest --package-path "$here" >&2
bin="$(swift build -c release --package-path "$here" --show-bin-path)/syndicast-loadtest"
export SYNDICAST_LOADTEST_DIR="$here"
exec "$bin" "$@"
