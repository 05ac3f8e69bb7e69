"""Stream tokens (`--stream-token-secret`) against the real binary: HS256 JSON Web Tokens made here
with Python's hmac, base64 and json (no JWT library), presented by Python `websockets` and by a
raw SSE request."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import time
from pathlib import Path
from typing import Iterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from conftest import HOST, RunningServer, make_static_dir, start_server_process, stop_and_check
from raw_http import exchange, request_bytes

SECRET = "integration-stream-secret-0123456789"
TIMEOUT = 10.0


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def make_token(claims: dict, secret: str = SECRET, header: dict | None = None, digest=hashlib.sha256) -> str:
    """An HS256 JWT (RFC 7519, JWS compact form) for `claims`."""
    signing_input = b64(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), signing_input.encode(), digest).digest()
    return signing_input + "." + b64(signature)


def claims(seconds: float = 3600, **extra) -> dict:
    return {"sub": "integration", "exp": int(time.time() + seconds), **extra}


def run(coroutine, timeout: float = 30.0):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def client(server: RunningServer, target: str, **options):
    return connect(
        f"{server.ws_url}{target}", open_timeout=TIMEOUT, close_timeout=TIMEOUT, ping_interval=None, **options)


async def next_json(websocket, kind: str | None = None) -> dict:
    """The next JSON message (of type `kind` when given, skipping others)."""
    while True:
        message = json.loads(await asyncio.wait_for(websocket.recv(), TIMEOUT))
        if kind is None or message.get("type") == kind:
            return message


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    root = tmp_path_factory.mktemp("stream-tokens")
    running = start_server_process(make_static_dir(root), root / "server.log", ["--stream-token-secret", SECRET])
    yield running
    stop_and_check(running)


def handshake_status(server: RunningServer, target: str, headers: dict[str, str] | None = None):
    """The refusal of a WebSocket handshake: (status, headers, JSON body)."""
    async def body():
        with pytest.raises(InvalidStatus) as refused:
            async with client(server, target, additional_headers=headers or {}):
                pass
        response = refused.value.response
        return response.status_code, response.headers, json.loads(response.body)
    return run(body())


# MARK: Refused at the handshake


def test_no_token_gets_401_on_ws_and_events(server: RunningServer) -> None:
    status, headers, body = handshake_status(server, "/ws")
    assert status == 401 and headers["WWW-Authenticate"] == "Bearer"
    assert body["error"]["code"] == "token_required"
    response = exchange(server.port, request_bytes("GET", "/events"))
    assert response.status == 401 and json.loads(response.body)["error"]["code"] == "token_required"


@pytest.mark.parametrize("name,token", [
    ("other secret", make_token(claims(), secret="not-the-server-secret-0123456789")),
    ("alg none", b64(b'{"alg":"none","typ":"JWT"}') + "." + b64(json.dumps(claims()).encode()) + "."),
    ("alg HS512", make_token(claims(), header={"alg": "HS512", "typ": "JWT"}, digest=hashlib.sha512)),
    ("garbage", "not.a.token"),
])
def test_a_wrong_token_gets_401_invalid_token(server: RunningServer, name: str, token: str) -> None:
    status, headers, body = handshake_status(server, "/ws?token=" + token)
    assert status == 401, name
    assert headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    assert body["error"]["code"] == "invalid_token"


def test_an_expired_token_gets_401(server: RunningServer) -> None:
    token = make_token(claims(-5))
    status, _, body = handshake_status(server, "/ws", headers={"Authorization": "Bearer " + token})
    assert status == 401 and "expired" in body["error"]["message"]
    response = exchange(server.port, request_bytes("GET", "/events?token=" + token))
    assert response.status == 401


def test_a_topic_outside_the_claim_gets_403(server: RunningServer) -> None:
    token = make_token(claims(topics=["desk.7"]))
    status, headers, body = handshake_status(server, "/ws?topics=desk.7,rankings&token=" + token)
    assert status == 403 and headers["WWW-Authenticate"] == 'Bearer error="insufficient_scope"'
    assert body["error"] == {"code": "topic_not_allowed", "message": "the stream token does not allow topic rankings"}


# MARK: Accepted


def test_a_valid_token_streams_and_the_topics_claim_is_enforced_on_subscribe(server: RunningServer) -> None:
    token = make_token(claims(topics=["desk.7", "alerts"]))

    async def body():
        async with client(server, "/ws?topics=desk.7&token=" + token) as websocket:
            assert (await next_json(websocket, "hello"))["topics"] == ["desk.7"]
            published = exchange(
                server.port,
                request_bytes(
                    "POST", "/api/publish", headers={"Content-Type": "application/json"},
                    body=json.dumps({"topic": "desk.7", "data": {"n": 1}}).encode()))
            assert published.status == 201, published.body
            message = await next_json(websocket, "message")
            assert message["topic"] == "desk.7" and message["data"] == {"n": 1}
            # Outside the claim: an error message, and the connection stays usable.
            await websocket.send(json.dumps({"op": "subscribe", "topics": ["rankings"]}))
            error = await next_json(websocket, "error")
            assert error["code"] == "topic_not_allowed" and "rankings" in error["message"]
            await websocket.send(json.dumps({"op": "subscribe", "topics": ["alerts"]}))
            subscribed = await next_json(websocket, "subscribed")
            assert subscribed["topics"] == ["alerts", "desk.7"]
            await websocket.send(json.dumps({"op": "ping"}))
            assert (await next_json(websocket, "pong"))["type"] == "pong"
    run(body())


def test_a_token_that_expires_closes_the_websocket_with_1008(server: RunningServer) -> None:
    exp = int(time.time()) + 2
    token = make_token({"sub": "short", "exp": exp})

    async def body():
        async with client(server, "/ws?token=" + token) as websocket:
            await next_json(websocket, "hello")
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(websocket.recv(), TIMEOUT)
            # The sweep runs every 250 ms: the close comes at exp, within that granularity.
            now = time.time()
            assert exp - 0.05 <= now <= exp + 1.5, (exp, now)
            assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
            assert closed.value.rcvd.reason == "stream token expired"
    run(body())


def test_the_auth_op_extends_a_connection_past_its_first_expiry(server: RunningServer) -> None:
    first = make_token({"sub": "renewing", "exp": int(time.time()) + 2, "topics": ["alerts", "rankings"]})
    renewed = make_token({"sub": "renewing", "exp": int(time.time()) + 3600, "topics": ["alerts"]})

    async def body():
        async with client(server, "/ws?token=" + first) as websocket:
            # Without ?topics= the claim is the subscription.
            assert (await next_json(websocket, "hello"))["topics"] == ["alerts", "rankings"]
            await websocket.send(json.dumps({"op": "auth", "token": "forged." + renewed.split(".", 1)[1]}))
            assert (await next_json(websocket, "error"))["code"] == "invalid_token"
            await websocket.send(json.dumps({"op": "auth", "token": renewed}))
            authenticated = await next_json(websocket, "authenticated")
            # The new claim drops rankings from the subscription.
            assert authenticated["sub"] == "renewing" and authenticated["topics"] == ["alerts"]
            await asyncio.sleep(3.5)
            await websocket.send(json.dumps({"op": "ping"}))
            assert (await next_json(websocket, "pong"))["type"] == "pong"
    run(body())


# MARK: Server-Sent Events


def read_sse(port: int, headers: dict[str, str], seconds: float) -> tuple[bytes, bytes, bool]:
    """GET /events with `headers`; (head, body read, whether the server ended it) within `seconds`."""
    with socket.create_connection((HOST, port), timeout=TIMEOUT) as connection:
        connection.sendall(request_bytes("GET", "/events", headers=headers))
        data = b""
        ended = False
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            connection.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                chunk = connection.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                ended = True
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        return head, body, ended


def test_sse_with_a_token_in_the_authorization_header(server: RunningServer) -> None:
    token = make_token(claims())
    head, body, ended = read_sse(server.port, {"Authorization": "Bearer " + token}, 1.0)
    assert head.startswith(b"HTTP/1.1 200") and b"text/event-stream" in head.lower()
    assert b'"type":"hello"' in body and not ended


def test_sse_ends_when_its_token_expires(server: RunningServer) -> None:
    exp = int(time.time()) + 2
    head, body, ended = read_sse(server.port, {"Authorization": "Bearer " + make_token({"sub": "s", "exp": exp})}, 5.0)
    assert head.startswith(b"HTTP/1.1 200")
    assert ended and time.time() <= exp + 1.5
    assert body.endswith(b": stream token expired\n\n")


def test_without_a_secret_streams_are_open(tmp_path: Path) -> None:
    running = start_server_process(make_static_dir(tmp_path), tmp_path / "server.log")
    try:
        head, body, _ = read_sse(running.port, {}, 0.5)
        assert head.startswith(b"HTTP/1.1 200") and b'"type":"hello"' in body
    finally:
        stop_and_check(running)


def test_a_short_secret_is_refused_at_start(tmp_path: Path) -> None:
    import subprocess

    from conftest import binary_path

    result = subprocess.run(
        [str(binary_path()), "serve", "--in-memory", "--port", "0", "--stream-token-secret", "too-short"],
        capture_output=True, text=True, timeout=TIMEOUT)
    assert result.returncode != 0
    assert "--stream-token-secret" in result.stderr and "at least 16 bytes" in result.stderr
