"""API keys with scopes from `--api-key-file`, reloaded on SIGHUP, never logged (the real binary).

A key file holds `KEY scope[,scope…]` lines. An ingest key may ingest (201) but not publish (403
`insufficient_scope`), a publish key the reverse, an admin key both; no key or an unknown one gets
401. SIGHUP reads the file again: an added key works at once and a removed one gets 401; a bad
file then keeps the previous keys and logs the file and the line. A bad file at start refuses the
start. No key appears in the server's log.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from conftest import StartServer, binary_path

INGEST_KEY = "ingest-Key-7c1f0e9a"
PUBLISH_KEY = "publish-Key-2b8d4e61"
ADMIN_KEY = "admin-Key-95a3c0d7"
ADDED_KEY = "added-Key-4e0b6f13"
FLAG_KEY = "flag-Key-d2a7c851"
ALL_KEYS = (INGEST_KEY, PUBLISH_KEY, ADMIN_KEY, ADDED_KEY, FLAG_KEY)

counter = iter(range(1_000_000))


def post(port: int, path: str, body: object, key: str | None) -> tuple[int, dict, dict]:
    """POST JSON with `Authorization: Bearer key` (unless None): status, JSON body, headers."""
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"{}"), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}"), dict(error.headers)


def ingest(port: int, key: str | None) -> tuple[int, dict, dict]:
    transaction = {"id": f"tx-{next(counter)}", "investorId": "i1", "syndicateId": "s1", "amount": "10.00"}
    return post(port, "/api/transactions", [transaction], key)


def publish(port: int, key: str | None) -> tuple[int, dict, dict]:
    return post(port, "/api/publish", {"topic": "orders", "data": {"n": next(counter)}}, key)


def sighup_and_wait(server, marker: str, occurrence: int) -> None:
    """Send SIGHUP and wait until `marker` appears `occurrence` times in the log."""
    server.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and server.log().count(marker) < occurrence:
        time.sleep(0.05)
    assert server.log().count(marker) >= occurrence, server.log()[-2000:]


def assert_no_key_in_log(log: str) -> None:
    for key in ALL_KEYS:
        assert key not in log, f"a key appears in the server log:\n{log[-3000:]}"


def test_scopes_from_the_file_and_flag(start_server: StartServer, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text(
        f"# scoped keys\n{INGEST_KEY} ingest\n\n{PUBLISH_KEY} publish  # notifier\n{ADMIN_KEY} admin\n", encoding="utf-8"
    )
    server = start_server(["--api-key-file", str(keys), "--api-key", FLAG_KEY])
    assert ingest(server.port, INGEST_KEY)[0] == 201
    status, body, headers = publish(server.port, INGEST_KEY)
    assert status == 403 and body["error"]["code"] == "insufficient_scope", body
    assert headers["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="publish"'
    assert INGEST_KEY not in json.dumps(body)

    assert publish(server.port, PUBLISH_KEY)[0] == 201
    status, body, headers = ingest(server.port, PUBLISH_KEY)
    assert status == 403 and body["error"]["code"] == "insufficient_scope", body
    assert headers["WWW-Authenticate"] == 'Bearer error="insufficient_scope", scope="ingest"'

    for key in (ADMIN_KEY, FLAG_KEY):
        assert ingest(server.port, key)[0] == 201, key
        assert publish(server.port, key)[0] == 201, key

    for key in (None, "not-a-key", INGEST_KEY[:-1]):
        status, body, headers = ingest(server.port, key)
        assert status == 401 and headers["WWW-Authenticate"] == "Bearer", (key, body)
        assert publish(server.port, key)[0] == 401, key
    assert_no_key_in_log(server.log())


def test_sighup_adds_and_removes_keys_and_a_bad_file_keeps_them(start_server: StartServer, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text(f"{INGEST_KEY} ingest\n", encoding="utf-8")
    server = start_server(["--api-key-file", str(keys)])
    assert ingest(server.port, INGEST_KEY)[0] == 201
    assert ingest(server.port, ADDED_KEY)[0] == 401

    keys.write_text(f"{ADDED_KEY} ingest,publish\n", encoding="utf-8")
    sighup_and_wait(server, "SIGHUP: reloaded 1 API keys", 1)
    assert ingest(server.port, INGEST_KEY)[0] == 401, "a removed key is refused after the reload"
    assert ingest(server.port, ADDED_KEY)[0] == 201, "an added key works after the reload"
    assert publish(server.port, ADDED_KEY)[0] == 201

    keys.write_text(f"# comment\n{ADDED_KEY} ingest\n{INGEST_KEY} ingest,superuser\n", encoding="utf-8")
    sighup_and_wait(server, "SIGHUP: kept the previous 1 API keys", 1)
    log = server.log()
    assert f"{keys}:3: scope 2 of 2 is not ingest, publish or admin" in log, log[-2000:]
    assert ingest(server.port, ADDED_KEY)[0] == 201, "a bad file keeps the previous keys"
    assert publish(server.port, ADDED_KEY)[0] == 201, "with their previous scopes"
    assert ingest(server.port, INGEST_KEY)[0] == 401, "nothing of the bad file is served"

    keys.unlink()
    sighup_and_wait(server, "SIGHUP: kept the previous 1 API keys", 2)
    assert ingest(server.port, ADDED_KEY)[0] == 201, "a missing file keeps the previous keys"
    assert server.process.poll() is None, "SIGHUP must not stop the server"
    assert_no_key_in_log(server.log())


def test_a_bad_key_file_refuses_the_start_naming_the_line(tmp_path: Path) -> None:
    cases = {
        f"# ok\n{INGEST_KEY} ingest\n{PUBLISH_KEY}\n": ":3: expected KEY SCOPE[,SCOPE…], found one field",
        f"{INGEST_KEY} ingest\n{INGEST_KEY} publish\n": ":2: the key repeats the key on line 1",
        f"{INGEST_KEY} {ADMIN_KEY}\n": ":1: scope 1 of 1 is not ingest, publish or admin",
    }
    for text, expected in cases.items():
        keys = tmp_path / "keys"
        keys.write_text(text, encoding="utf-8")
        result = subprocess.run(
            [str(binary_path()), "serve", "--in-memory", "--port", "0", "--api-key-file", str(keys)],
            capture_output=True, timeout=10,
        )
        output = (result.stdout + result.stderr).decode()
        assert result.returncode != 0, output
        assert f"--api-key-file: {keys}{expected}" in output, output
        assert_no_key_in_log(output)
    missing = tmp_path / "absent"
    result = subprocess.run(
        [str(binary_path()), "serve", "--in-memory", "--port", "0", "--api-key-file", str(missing)],
        capture_output=True, timeout=10,
    )
    assert result.returncode != 0 and f"{missing}: No such file or directory" in result.stderr.decode()


def test_listening_beyond_loopback_without_a_key_warns(start_server: StartServer, tmp_path: Path) -> None:
    open_server = start_server(["--host", "0.0.0.0"])
    log = open_server.log()
    assert "warning" in log and "without an API key" in log, log
    assert "anyone who can reach the port may ingest and publish" in log
    assert "unauthenticated unless stream tokens are configured" in log
    keys = tmp_path / "keys"
    keys.write_text(f"{ADMIN_KEY} admin\n", encoding="utf-8")
    keyed = start_server(["--host", "0.0.0.0", "--api-key-file", str(keys)])
    assert "without an API key" not in keyed.log()
    loopback = start_server([])
    assert "without an API key" not in loopback.log()
