"""HTTP/1.1 contract of the real server: health, static files, ETags, keep-alive, pipelining, limits.

Raw sockets send exact bytes (pipelining, malformed input); `curl` checks a real client's view.
"""

from __future__ import annotations

import json
import random
import subprocess
import threading
import time

import pytest

from conftest import INDEX_HTML, SECRET_MARKER, STYLE_CSS, RunningServer
from raw_http import ConnectionClosed, RawHTTPConnection, exchange, request_bytes

CURL_TIMEOUT = ["--max-time", "5"]
HEAD_LIMIT = 16 * 1024
BODY_LIMIT = 8 * 1024 * 1024


def curl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["curl", "-sS", "--http1.1", *CURL_TIMEOUT, *args],
        capture_output=True, timeout=15,
    )


def curl_status_headers_body(*args: str) -> tuple[int, dict[str, str], bytes]:
    """Run curl -i and split its output into status, headers (lower-cased names) and body."""
    result = curl("-i", *args)
    assert result.returncode == 0, f"curl failed: {result.stderr.decode(errors='replace')}"
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ")[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, body


def assert_json_error(body: bytes, code: str | None = None) -> dict:
    document = json.loads(body)
    assert isinstance(document.get("error"), dict), f"no error object in {body!r}"
    assert isinstance(document["error"].get("code"), str)
    assert isinstance(document["error"].get("message"), str)
    if code is not None:
        assert document["error"]["code"] == code, document
    return document


# MARK: - Health


def test_healthz_returns_ok_json(server: RunningServer) -> None:
    response = exchange(server.port, request_bytes("GET", "/healthz"))
    assert response.status == 200
    assert (response.header("Content-Type") or "").startswith("application/json")
    assert json.loads(response.body) == {"status": "ok"}


def test_healthz_with_curl(server: RunningServer) -> None:
    status, headers, body = curl_status_headers_body(f"{server.base_url}/healthz")
    assert status == 200
    assert json.loads(body) == {"status": "ok"}
    assert int(headers["content-length"]) == len(body) or "chunked" in headers.get("transfer-encoding", "")


# MARK: - Static files and ETags


def test_root_serves_index_html_with_etag(server: RunningServer) -> None:
    response = exchange(server.port, request_bytes("GET", "/"))
    assert response.status == 200
    assert response.header("Content-Type") == "text/html; charset=utf-8"
    assert response.body == INDEX_HTML.encode("utf-8")
    etag = response.header("ETag")
    assert etag, "no ETag header"
    assert etag.startswith('"') or etag.startswith('W/"'), f"ETag not a quoted entity tag: {etag!r}"


def test_etag_is_stable_across_requests(server: RunningServer) -> None:
    first = exchange(server.port, request_bytes("GET", "/"))
    second = exchange(server.port, request_bytes("GET", "/"))
    assert first.header("ETag") == second.header("ETag")
    other = exchange(server.port, request_bytes("GET", "/style.css"))
    assert other.status == 200
    assert other.header("ETag") != first.header("ETag"), "different files must have different ETags"


def test_if_none_match_with_current_etag_returns_304_without_body(server: RunningServer) -> None:
    etag = exchange(server.port, request_bytes("GET", "/")).header("ETag")
    assert etag
    with RawHTTPConnection(server.port) as connection:
        connection.send(request_bytes("GET", "/", {"If-None-Match": etag}))
        response = connection.read_response()
        assert response.status == 304
        assert response.header("ETag") == etag
        # No body may follow a 304: the next response on the connection must parse cleanly.
        connection.send(request_bytes("GET", "/healthz"))
        follow_up = connection.read_response()
        assert follow_up.status == 200 and json.loads(follow_up.body) == {"status": "ok"}


def test_if_none_match_list_containing_current_etag_returns_304(server: RunningServer) -> None:
    etag = exchange(server.port, request_bytes("GET", "/")).header("ETag")
    response = exchange(server.port, request_bytes("GET", "/", {"If-None-Match": f'"nope", {etag}'}))
    assert response.status == 304


def test_if_none_match_with_other_etag_returns_full_body(server: RunningServer) -> None:
    response = exchange(server.port, request_bytes("GET", "/", {"If-None-Match": '"not-the-etag"'}))
    assert response.status == 200
    assert response.body == INDEX_HTML.encode("utf-8")


def test_index_html_by_name_and_css_content_type(server: RunningServer) -> None:
    by_name = exchange(server.port, request_bytes("GET", "/index.html"))
    assert by_name.status == 200 and by_name.body == INDEX_HTML.encode("utf-8")
    css = exchange(server.port, request_bytes("GET", "/style.css"))
    assert css.status == 200
    assert (css.header("Content-Type") or "").startswith("text/css")
    assert css.body == STYLE_CSS.encode("utf-8")


def test_etag_and_304_with_curl(server: RunningServer) -> None:
    status, headers, body = curl_status_headers_body(f"{server.base_url}/")
    assert status == 200 and body == INDEX_HTML.encode("utf-8")
    assert headers["content-type"] == "text/html; charset=utf-8"
    etag = headers["etag"]
    status, _, body = curl_status_headers_body("-H", f"If-None-Match: {etag}", f"{server.base_url}/")
    assert status == 304 and body == b""


def test_unknown_file_is_404_json_error(server: RunningServer) -> None:
    response = exchange(server.port, request_bytes("GET", "/no-such-file.txt"))
    assert response.status == 404
    assert (response.header("Content-Type") or "").startswith("application/json")
    assert_json_error(response.body, "not_found")


TRAVERSAL_TARGETS = [
    "/../secret.txt",
    "/../../../../../../../../etc/passwd",
    "/%2e%2e/secret.txt",
    "/%2E%2E/secret.txt",
    "/%2e%2e%2fsecret.txt",
    "/..%2fsecret.txt",
    "/..%5csecret.txt",
    "/./../secret.txt",
    "/static/../../secret.txt",
    "/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
    "/%252e%252e/secret.txt",
    "//etc/passwd",
    "/%2fetc%2fpasswd",
    "/....//secret.txt",
    "/index.html%00/../../secret.txt",
    "/..;/secret.txt",
]


@pytest.mark.parametrize("target", TRAVERSAL_TARGETS)
def test_path_traversal_never_serves_outside_static_dir(server: RunningServer, target: str) -> None:
    try:
        response = exchange(server.port, request_bytes("GET", target))
    except ConnectionClosed:
        # Closing the connection without a response is acceptable for hostile input, but the
        # server must still be alive.
        response = None
    if response is not None:
        assert SECRET_MARKER.encode() not in response.body
        assert b"root:" not in response.body
        assert 400 <= response.status < 500, f"{target}: status {response.status}"
    assert exchange(server.port, request_bytes("GET", "/healthz")).status == 200


def test_path_traversal_with_curl_path_as_is(server: RunningServer) -> None:
    for target in ("/../secret.txt", "/%2e%2e/secret.txt", "/../../../../etc/passwd"):
        result = curl("--path-as-is", "-i", f"{server.base_url}{target}")
        assert result.returncode == 0, result.stderr
        assert SECRET_MARKER.encode() not in result.stdout
        assert b"root:" not in result.stdout
        status = int(result.stdout.split(b" ", 2)[1])
        assert 400 <= status < 500


# MARK: - Keep-alive and pipelining


def test_keep_alive_serves_sequential_requests_on_one_connection(server: RunningServer) -> None:
    with RawHTTPConnection(server.port) as connection:
        for _ in range(5):
            connection.send(request_bytes("GET", "/healthz"))
            response = connection.read_response()
            assert response.status == 200
            assert json.loads(response.body) == {"status": "ok"}


def test_pipelined_requests_are_answered_in_order(server: RunningServer) -> None:
    requests = [
        ("GET", "/healthz", 200),
        ("GET", "/", 200),
        ("GET", "/missing-one", 404),
        ("GET", "/style.css", 200),
        ("DELETE", "/healthz", 405),
        ("GET", "/healthz", 200),
    ]
    with RawHTTPConnection(server.port) as connection:
        connection.send(b"".join(request_bytes(method, target) for method, target, _ in requests))
        responses = [connection.read_response(method) for method, _, _ in requests]
    assert [response.status for response in responses] == [status for _, _, status in requests]
    assert json.loads(responses[0].body) == {"status": "ok"}
    assert responses[1].body == INDEX_HTML.encode("utf-8")
    assert responses[3].body == STYLE_CSS.encode("utf-8")


def test_one_hundred_pipelined_requests_in_one_write(server: RunningServer) -> None:
    generator = random.Random(7)
    pattern = [generator.choice([("/healthz", 200), ("/missing", 404), ("/style.css", 200)]) for _ in range(100)]
    with RawHTTPConnection(server.port) as connection:
        connection.send(b"".join(request_bytes("GET", target) for target, _ in pattern))
        statuses = [connection.read_response().status for _ in pattern]
    assert statuses == [status for _, status in pattern]


def test_request_written_one_byte_at_a_time(server: RunningServer) -> None:
    data = request_bytes("GET", "/healthz", {"User-Agent": "byte-by-byte"})
    with RawHTTPConnection(server.port) as connection:
        connection.sock.setsockopt(6, 1, 1)  # TCP_NODELAY: each byte its own segment
        for index in range(len(data)):
            connection.send(data[index:index + 1])
            time.sleep(0.002)
        response = connection.read_response()
    assert response.status == 200 and json.loads(response.body) == {"status": "ok"}


def test_connection_close_header_closes_after_response(server: RunningServer) -> None:
    with RawHTTPConnection(server.port) as connection:
        connection.send(request_bytes("GET", "/healthz", {"Connection": "close"}))
        assert connection.read_response().status == 200
        assert connection.is_closed_by_peer(), "server kept the connection open after Connection: close"


def test_http_1_0_without_keep_alive_closes_after_response(server: RunningServer) -> None:
    with RawHTTPConnection(server.port) as connection:
        connection.send(b"GET /healthz HTTP/1.0\r\n\r\n")
        assert connection.read_response().status == 200
        assert connection.is_closed_by_peer()


def test_keep_alive_with_curl_reuses_the_connection(server: RunningServer) -> None:
    result = curl("-v", "-o", "/dev/null", "-o", "/dev/null", f"{server.base_url}/healthz", f"{server.base_url}/")
    assert result.returncode == 0, result.stderr
    stderr = result.stderr.decode(errors="replace").lower()
    assert "re-using existing connection" in stderr or "reusing existing connection" in stderr, stderr


# MARK: - Limits and malformed input


def test_head_of_12_kib_is_accepted(server: RunningServer) -> None:
    response = exchange(server.port, request_bytes("GET", "/healthz", {"X-Filler": "a" * (12 * 1024)}))
    assert response.status == 200


def test_head_over_16_kib_is_431(server: RunningServer) -> None:
    response = exchange(server.port, request_bytes("GET", "/healthz", {"X-Filler": "a" * (HEAD_LIMIT + 1)}))
    assert response.status == 431


def test_head_over_16_kib_in_many_headers_is_431(server: RunningServer) -> None:
    headers = {f"X-Filler-{index}": "b" * 100 for index in range(200)}
    response = exchange(server.port, request_bytes("GET", "/healthz", headers))
    assert response.status == 431


def test_endless_head_is_431_before_it_ends(server: RunningServer) -> None:
    """The server answers 431 once 16 KiB of head arrived, without waiting for the blank line."""
    with RawHTTPConnection(server.port) as connection:
        connection.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"c" * (HEAD_LIMIT + 1024))
        response = connection.read_response()
    assert response.status == 431


def test_head_over_16_kib_with_curl(server: RunningServer) -> None:
    status, _, _ = curl_status_headers_body("-H", "X-Filler: " + "d" * (HEAD_LIMIT + 100), f"{server.base_url}/healthz")
    assert status == 431


def test_declared_body_over_8_mib_is_413_without_reading_it(server: RunningServer) -> None:
    head = request_bytes(
        "POST", "/api/transactions",
        {"Content-Type": "application/json", "Content-Length": str(BODY_LIMIT + 1)},
    )
    with RawHTTPConnection(server.port) as connection:
        connection.send(head)  # only the head: the answer must not wait for the body
        response = connection.read_response()
    assert response.status == 413
    assert_json_error(response.body)


def test_chunked_body_over_8_mib_is_413(server: RunningServer) -> None:
    head = request_bytes(
        "POST", "/api/transactions",
        {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
    )
    chunk = b"x" * 65536
    chunk_frame = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    count = BODY_LIMIT // len(chunk) + 2

    with RawHTTPConnection(server.port, timeout=10) as connection:
        def writer() -> None:
            try:
                connection.send(head)
                for _ in range(count):
                    connection.send(chunk_frame)
                connection.send(b"0\r\n\r\n")
            except OSError:
                pass  # the server may stop reading once it has answered 413

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        response = connection.read_response()
        thread.join(timeout=10)
    assert response.status == 413


MALFORMED_HEADS = [
    pytest.param(b"GARBAGE\r\n\r\n", id="one-token"),
    pytest.param(b"GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n", id="four-tokens"),
    pytest.param(b"GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", id="space-in-target"),
    pytest.param(b" GET / HTTP/1.1\r\nHost: x\r\n\r\n", id="leading-space"),
    pytest.param(b"GET / FOO/1.1\r\nHost: x\r\n\r\n", id="bad-protocol"),
    pytest.param(b"GET / HTTP/1.x\r\nHost: x\r\n\r\n", id="bad-version"),
    pytest.param(b"G\x00T / HTTP/1.1\r\nHost: x\r\n\r\n", id="nul-in-method"),
    pytest.param(b"GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n", id="control-in-target"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n", id="header-without-colon"),
    pytest.param(b"GET / HTTP/1.1\r\nHost: x\r\nX-Space : y\r\n\r\n", id="space-before-colon"),
    pytest.param(b"POST /api/transactions HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", id="bad-content-length"),
    pytest.param(
        b"POST /api/transactions HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
        id="conflicting-content-lengths",
    ),
    pytest.param(b"POST /api/transactions HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", id="negative-content-length"),
]


@pytest.mark.parametrize("data", MALFORMED_HEADS)
def test_malformed_request_is_400(server: RunningServer, data: bytes) -> None:
    response = exchange(server.port, data)
    assert response.status == 400, f"{data!r} answered {response.status}"
    assert exchange(server.port, request_bytes("GET", "/healthz")).status == 200


@pytest.mark.parametrize("method", ["DELETE", "PUT", "POST", "PATCH"])
def test_unknown_method_on_known_route_is_405_with_allow(server: RunningServer, method: str) -> None:
    response = exchange(server.port, request_bytes(method, "/healthz", body=b"{}" if method != "DELETE" else b""))
    assert response.status == 405
    allow = response.header("Allow")
    assert allow is not None, "405 without Allow header"
    allowed = {token.strip() for token in allow.split(",")}
    assert "GET" in allowed and method not in allowed
    assert_json_error(response.body)


def test_405_with_curl(server: RunningServer) -> None:
    status, headers, _ = curl_status_headers_body("-X", "DELETE", f"{server.base_url}/healthz")
    assert status == 405
    assert "GET" in headers.get("allow", "")
