"""The dashboard's files are read at start and served from memory; SIGHUP reloads them.

The real binary: a file changed on disk is not seen until SIGHUP, then is (new body, new ETag);
SIGHUP neither stops the server nor disturbs a later SIGTERM (exit 0).
"""

from __future__ import annotations

import signal
import time
import urllib.request

from conftest import StartServer


def get(port: int, path: str) -> tuple[bytes, str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
        return response.read(), response.headers["ETag"]


def test_sighup_reloads_changed_static_files(start_server: StartServer) -> None:
    server = start_server()
    before, etag_before = get(server.port, "/style.css")
    (server.static_dir / "style.css").write_text("body { color: red }\n", encoding="utf-8")
    (server.static_dir / "added.txt").write_text("added\n", encoding="utf-8")
    # Served from memory: nothing read from the disk per request.
    assert get(server.port, "/style.css") == (before, etag_before)

    server.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and "SIGHUP: reloaded" not in server.log():
        time.sleep(0.05)
    assert "SIGHUP: reloaded 3 static files" in server.log(), server.log()[-2000:]
    after, etag_after = get(server.port, "/style.css")
    assert after == b"body { color: red }\n"
    assert etag_after != etag_before
    assert get(server.port, "/added.txt")[0] == b"added\n"
    assert server.process.poll() is None, "SIGHUP must not stop the server"
