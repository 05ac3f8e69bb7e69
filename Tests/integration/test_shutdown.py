"""SIGTERM and SIGINT: the server stops accepting, finishes the request in flight, closes streams
with 1001 (going away) and exits 0 quickly; `--shutdown-timeout` bounds the whole stop (the bound
itself, with a commit that never returns, is tested in process: BoundedStopTests)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from conftest import HOST, StartServer, binary_path
from raw_http import RawHTTPConnection


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_closes_an_open_websocket_with_1001_and_exits_0_quickly(start_server: StartServer, sig: int):
    server = start_server(echo=False)
    with connect(f"{server.ws_url}/ws?topics=alerts,rankings", open_timeout=5) as client:
        hello = json.loads(client.recv(timeout=5))
        assert hello["type"] == "hello", hello
        started = time.monotonic()
        server.send_signal(sig)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                client.recv(timeout=5)
        assert closed.value.rcvd is not None, "the server sent no close frame"
        assert closed.value.rcvd.code == 1001, f"close code {closed.value.rcvd.code}, expected 1001 (going away)"
    code = server.wait_for_exit(timeout=5)
    elapsed = time.monotonic() - started
    assert code == 0, f"exit status {code}\n{server.log()[-2000:]}"
    assert elapsed < 2.0, f"stop took {elapsed:.2f} s with the client gone"
    log = server.log()
    assert "stopping" in log and "stopped" in log, log[-2000:]
    # Stopped accepting: nothing listens on the port any more.
    with pytest.raises(OSError):
        socket.create_connection((HOST, server.port), timeout=1).close()


def test_a_request_in_flight_at_sigterm_is_answered(start_server: StartServer, tmp_path):
    server = start_server(["--data", str(tmp_path / "data")], echo=False, in_memory=False)
    body = b'{"id":"in-flight","investorId":"i1","syndicateId":"s1","amount":"12.50"}'
    head = (f"POST /api/transactions HTTP/1.1\r\nHost: {HOST}:{server.port}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()
    with RawHTTPConnection(server.port) as connection:
        connection.send(head + body[:20])
        time.sleep(0.2)
        server.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        connection.send(body[20:])
        response = connection.read_response("POST")
        assert response.status == 201, (response.status, response.body)
        assert json.loads(response.body)["accepted"] == 1
    assert server.wait_for_exit(timeout=5) == 0, server.log()[-2000:]

    # The answered transaction was committed before the exit.
    again = start_server(["--data", str(tmp_path / "data")], echo=False, in_memory=False)
    with RawHTTPConnection(again.port) as connection:
        connection.send(f"GET /api/stats HTTP/1.1\r\nHost: {HOST}:{again.port}\r\n\r\n".encode())
        assert json.loads(connection.read_response().body)["transactions"] == 1


@pytest.mark.parametrize("value", ["0", "3601", "soon"])
def test_shutdown_timeout_out_of_range_is_a_usage_error(value: str):
    result = subprocess.run([str(binary_path()), "serve", "--port", "0", "--in-memory", "--shutdown-timeout", value],
                            capture_output=True, text=True, timeout=20)
    assert result.returncode == 64, (result.returncode, result.stderr)
    assert "shutdown-timeout" in result.stderr
