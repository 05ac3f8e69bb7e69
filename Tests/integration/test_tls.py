"""TLS on the real binary: `--tls-cert`/`--tls-key` serve https:// and wss:// on the same loops.

Certificates come from a throw-away test CA made with the openssl CLI (the `pki` fixture). Real
clients: `openssl s_client` (ALPN, TLS 1.1 refused, session resumption), curl, Python
`websockets` over wss://, SSE over https with http.client, and headless Chromium opening the
dashboard with the test certificate trusted by its SPKI hash.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import http.client
import json
import os
import re
import signal
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest
from websockets.asyncio.client import connect

import headless_chromium
from conftest import free_port

REPOSITORY = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def binary() -> str:
    return os.environ.get("SYNDICAST_BIN", str(REPOSITORY / ".build" / "debug" / "syndicast"))


def openssl(*arguments: str, cwd: Path) -> None:
    subprocess.run(["openssl", *arguments], cwd=cwd, check=True, capture_output=True)


def make_leaf(directory: Path, name: str, organisation: str) -> None:
    """`name`.pem and `name`.key: a leaf for localhost and 127.0.0.1, signed by ca.pem."""
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", f"{name}.key",
            "-out", f"{name}.csr", "-subj", f"/O={organisation}/CN=localhost", cwd=directory)
    (directory / f"{name}.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
            "-extfile", f"{name}.ext", "-out", f"{name}.pem", cwd=directory)


@dataclass
class PKI:
    directory: Path

    @property
    def ca(self) -> Path:
        return self.directory / "ca.pem"

    def pem(self, name: str) -> Path:
        return self.directory / f"{name}.pem"

    def key(self, name: str) -> Path:
        return self.directory / f"{name}.key"

    def der(self, name: str) -> bytes:
        return ssl.PEM_cert_to_DER_cert(self.pem(name).read_text())


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    directory = tmp_path_factory.mktemp("pki")
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-days", "2", "-subj", "/CN=Syndicast test CA", cwd=directory)
    make_leaf(directory, "first", "first")
    make_leaf(directory, "second", "second")
    return PKI(directory)


@dataclass
class TLSServer:
    process: subprocess.Popen
    port: int
    log_path: Path
    cert: Path
    key: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def url(self) -> str:
        return f"https://localhost:{self.port}"


def client_context(pki: PKI) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.ca))
    return context


def https(server: TLSServer, pki: PKI, method: str, path: str, body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    connection = http.client.HTTPSConnection("localhost", server.port, context=client_context(pki), timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def failures(server: TLSServer, pki: PKI, reason: str) -> float:
    """`syndicast_tls_handshake_failures_total{reason=…}` from /metrics over https."""
    status, body = https(server, pki, "GET", "/metrics")
    assert status == 200
    match = re.search(rf'^syndicast_tls_handshake_failures_total\{{reason="{reason}"\}} (\S+)$', body.decode(), re.M)
    assert match, body.decode()[:2000]
    return float(match.group(1))


@pytest.fixture
def tls_server(pki: PKI, tmp_path: Path) -> Iterator[TLSServer]:
    # The served pair is a copy, so a test may replace it before SIGHUP.
    cert, key = tmp_path / "served.pem", tmp_path / "served.key"
    cert.write_bytes(pki.pem("first").read_bytes())
    key.write_bytes(pki.key("first").read_bytes())
    port = free_port()
    log_path = tmp_path / "server.log"
    process = subprocess.Popen(
        [binary(), "serve", "--in-memory", "--port", str(port), "--tls-cert", str(cert), "--tls-key", str(key),
         "--tls-handshake-timeout", "1", "--static-dir", str(REPOSITORY / "web-static")],
        stdout=open(log_path, "w"), stderr=subprocess.STDOUT)
    server = TLSServer(process, port, log_path, cert, key)
    deadline = time.monotonic() + 10
    while True:
        try:
            if https(server, pki, "GET", "/healthz")[0] == 200:
                break
        except OSError:
            pass
        assert process.poll() is None and time.monotonic() < deadline, server.log()
        time.sleep(0.05)
    yield server
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=10) == 0, server.log()


def s_client(server: TLSServer, pki: PKI, *arguments: str, request: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run(
        ["openssl", "s_client", "-connect", f"{HOST}:{server.port}", "-servername", "localhost", "-CAfile", str(pki.ca),
         *arguments],
        input=request, capture_output=True, timeout=20)


GET_HEALTHZ = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"


# MARK: - openssl s_client


def test_s_client_negotiates_http11_with_alpn_and_verifies(tls_server: TLSServer, pki: PKI) -> None:
    result = s_client(tls_server, pki, "-alpn", "h2,http/1.1", "-ign_eof", request=GET_HEALTHZ)
    output = result.stdout.decode(errors="replace")
    assert "ALPN protocol: http/1.1" in output, output
    assert "Verify return code: 0 (ok)" in output, output
    assert '{"status":"ok"}' in output
    # A client offering only other protocols still gets HTTP/1.1, without ALPN.
    other = s_client(tls_server, pki, "-alpn", "h2", "-ign_eof", request=GET_HEALTHZ).stdout.decode(errors="replace")
    assert "No ALPN negotiated" in other and '{"status":"ok"}' in other, other


def test_tls11_is_refused_and_counted(tls_server: TLSServer, pki: PKI) -> None:
    before = failures(tls_server, pki, "protocol_version")
    result = s_client(tls_server, pki, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", request=GET_HEALTHZ)
    output = result.stdout.decode(errors="replace") + result.stderr.decode(errors="replace")
    assert result.returncode != 0, output
    assert '{"status":"ok"}' not in output
    assert failures(tls_server, pki, "protocol_version") == before + 1


@pytest.mark.parametrize("version", ["-tls1_2", "-tls1_3"])
def test_sessions_resume(tls_server: TLSServer, pki: PKI, tmp_path: Path, version: str) -> None:
    session = tmp_path / "session.pem"
    first = s_client(tls_server, pki, version, "-ign_eof", "-sess_out", str(session), request=GET_HEALTHZ)
    assert "New," in first.stdout.decode(errors="replace")
    assert session.stat().st_size > 0
    second = s_client(tls_server, pki, version, "-ign_eof", "-sess_in", str(session), request=GET_HEALTHZ)
    output = second.stdout.decode(errors="replace")
    assert "Reused," in output, output
    assert '{"status":"ok"}' in output


def test_plain_http_to_the_tls_port_is_refused_and_counted(tls_server: TLSServer, pki: PKI) -> None:
    before = failures(tls_server, pki, "not_tls")
    with socket.create_connection((HOST, tls_server.port), timeout=5) as raw:
        raw.sendall(GET_HEALTHZ)
        answer = b""
        while chunk := raw.recv(4096):
            answer += chunk
    assert b"200 OK" not in answer
    assert failures(tls_server, pki, "not_tls") == before + 1


# MARK: - curl, websockets, SSE


def curl(pki: PKI, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(["curl", "-sS", "--cacert", str(pki.ca), *arguments], capture_output=True, timeout=20)


def test_curl_get_and_post(tls_server: TLSServer, pki: PKI) -> None:
    health = curl(pki, "-w", "\n%{http_code} %{http_version}", f"{tls_server.url}/healthz")
    assert health.returncode == 0, health.stderr
    assert health.stdout.decode().splitlines() == ['{"status":"ok"}', "200 1.1"]
    body = json.dumps({"investorId": "curl-investor", "syndicateId": "s-curl", "amount": "12.50"})
    posted = curl(pki, "-w", "\n%{http_code}", "-H", "Content-Type: application/json", "--data", body,
                  f"{tls_server.url}/api/transactions")
    lines = posted.stdout.decode().splitlines()
    assert lines[-1] == "201", posted.stdout
    assert json.loads(lines[0])["accepted"] == 1, lines


def post_alert(server: TLSServer, pki: PKI, investor: str) -> None:
    body = json.dumps({"investorId": investor, "syndicateId": "s-tls", "amount": "25000.00"}).encode()
    status, answer = https(server, pki, "POST", "/api/transactions", body, {"Content-Type": "application/json"})
    assert status == 201, answer


async def receive_alert(socket_, investor: str, timeout: float = 10) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(await asyncio.wait_for(socket_.recv(), max(deadline - time.monotonic(), 0.01)))
        if message.get("type") == "alert" and investor in json.dumps(message):
            return message


def test_websockets_over_wss_receives_an_event(tls_server: TLSServer, pki: PKI) -> None:
    async def scenario() -> dict:
        async with connect(f"wss://localhost:{tls_server.port}/ws", ssl=client_context(pki), open_timeout=10) as stream:
            while json.loads(await stream.recv()).get("type") != "snapshot":
                pass
            await asyncio.to_thread(post_alert, tls_server, pki, "wss-investor")
            return await receive_alert(stream, "wss-investor")

    alert = asyncio.run(scenario())
    assert "25000" in json.dumps(alert) or "25,000" in json.dumps(alert)


def test_server_sent_events_over_https(tls_server: TLSServer, pki: PKI) -> None:
    connection = http.client.HTTPSConnection("localhost", tls_server.port, context=client_context(pki), timeout=10)
    connection.request("GET", "/events", headers={"Accept": "text/event-stream"})
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("Content-Type", "").startswith("text/event-stream")
    seen = ""
    while '"type":"snapshot"' not in seen:
        seen += response.readline().decode()
    post_alert(tls_server, pki, "sse-investor")
    deadline = time.monotonic() + 10
    while "sse-investor" not in seen:
        assert time.monotonic() < deadline, seen[-2000:]
        seen += response.readline().decode()
    connection.close()


# MARK: - Handshake timeout, reload


def test_silent_client_is_closed_after_the_handshake_timeout(tls_server: TLSServer, pki: PKI) -> None:
    before = failures(tls_server, pki, "timeout")
    with socket.create_connection((HOST, tls_server.port), timeout=10) as silent:
        started = time.monotonic()
        assert silent.recv(1) == b""
        waited = time.monotonic() - started
    # --tls-handshake-timeout 1, checked four times a second.
    assert 0.8 <= waited <= 3, waited
    assert failures(tls_server, pki, "timeout") == before + 1


def peer_certificate(server: TLSServer, pki: PKI) -> bytes:
    with socket.create_connection((HOST, server.port), timeout=5) as raw:
        with client_context(pki).wrap_socket(raw, server_hostname="localhost") as tls:
            return tls.getpeercert(binary_form=True)


def wait_for_log(server: TLSServer, text: str, count: int = 1) -> None:
    deadline = time.monotonic() + 10
    while server.log().count(text) < count:
        assert time.monotonic() < deadline, server.log()
        time.sleep(0.05)


def test_sighup_reloads_the_certificate_without_dropping_connections(tls_server: TLSServer, pki: PKI) -> None:
    assert peer_certificate(tls_server, pki) == pki.der("first")

    async def scenario() -> None:
        async with connect(f"wss://localhost:{tls_server.port}/ws", ssl=client_context(pki), open_timeout=10) as stream:
            while json.loads(await stream.recv()).get("type") != "snapshot":
                pass
            tls_server.cert.write_bytes(pki.pem("second").read_bytes())
            tls_server.key.write_bytes(pki.key("second").read_bytes())
            tls_server.process.send_signal(signal.SIGHUP)
            await asyncio.to_thread(wait_for_log, tls_server, "reloaded the TLS certificate")
            # New connections get the new certificate; this one keeps its session and streams on.
            assert await asyncio.to_thread(peer_certificate, tls_server, pki) == pki.der("second")
            await asyncio.to_thread(post_alert, tls_server, pki, "after-reload")
            await receive_alert(stream, "after-reload")

            # A bad pair on reload: logged, and the previous one stays.
            tls_server.cert.write_text("not a certificate\n")
            tls_server.process.send_signal(signal.SIGHUP)
            await asyncio.to_thread(wait_for_log, tls_server, "kept the previous TLS certificate")
            assert await asyncio.to_thread(peer_certificate, tls_server, pki) == pki.der("second")
            await asyncio.to_thread(post_alert, tls_server, pki, "after-bad-reload")
            await receive_alert(stream, "after-bad-reload")

    asyncio.run(scenario())
    assert tls_server.process.poll() is None


def test_bad_files_refuse_the_start(pki: PKI, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("nope\n")
    cases = [
        (["--tls-cert", str(garbage), "--tls-key", str(pki.key("first"))], "--tls-cert/--tls-key"),
        (["--tls-cert", str(pki.pem("first")), "--tls-key", str(pki.key("second"))], "key values mismatch"),
        (["--tls-cert", str(pki.pem("first"))], "go together"),
    ]
    for arguments, expected in cases:
        result = subprocess.run([binary(), "serve", "--in-memory", "--port", "0", *arguments],
                                capture_output=True, timeout=20)
        output = result.stdout.decode() + result.stderr.decode()
        assert result.returncode == 1, output
        assert expected in output, output


# MARK: - Chromium


def spki_hash(pem: Path) -> str:
    der = subprocess.run(
        f"openssl x509 -in '{pem}' -pubkey -noout | openssl pkey -pubin -outform der", shell=True, check=True,
        capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


def test_chromium_dashboard_over_https_goes_live(tls_server: TLSServer, pki: PKI, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # Chromium trusts the test leaf by its key's hash (its own store knows nothing of the test CA).
    wrapper = tmp_path / "chromium-trusting-test-cert"
    wrapper.write_text(
        "#!/bin/sh\n"
        f"exec '{headless_chromium.chromium_binary()}' --ignore-certificate-errors-spki-list={spki_hash(pki.pem('first'))} \"$@\"\n")
    wrapper.chmod(0o755)
    monkeypatch.setattr(headless_chromium, "chromium_binary", lambda: str(wrapper))
    with headless_chromium.HeadlessPage(f"{tls_server.url}/", width=1280, height=800) as page:
        page.wait_until("location.protocol === 'https:'", "the page over https")
        page.wait_until("document.getElementById('connection-status').dataset.state === 'live'", "the page live on wss://")
        assert any(url.startswith("wss://") for url in page.websocket_urls()), page.websocket_urls()
        post_alert(tls_server, pki, "chromium-investor")
        page.wait_until("document.getElementById('alert-feed').innerText.includes('chromium-investor')",
                        "the live alert over wss://")


# MARK: - Corking through encryption


class RecordCounter:
    """Ciphertext from the socket into an `ssl.SSLObject`, counting the TLS records it carries."""

    def __init__(self, raw: socket.socket, context: ssl.SSLContext) -> None:
        self.raw = raw
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname="localhost")
        self.pending = b""
        self.application_records = 0
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.flush()
                self.receive()
        self.flush()

    def flush(self) -> None:
        data = self.outgoing.read()
        if data:
            self.raw.sendall(data)

    def receive(self) -> None:
        data = self.raw.recv(65536)
        assert data, "server closed"
        self.pending += data
        while len(self.pending) >= 5:
            length = int.from_bytes(self.pending[3:5], "big")
            if len(self.pending) < 5 + length:
                break
            if self.pending[0] == 23:
                self.application_records += 1
            self.pending = self.pending[5 + length:]
        self.incoming.write(data)

    def write(self, data: bytes) -> None:
        self.tls.write(data)
        self.flush()

    def read_until(self, done, timeout: float = 10) -> bytes:
        plaintext = b""
        deadline = time.monotonic() + timeout
        while not done(plaintext):
            assert time.monotonic() < deadline, plaintext[-2000:]
            try:
                plaintext += self.tls.read(65536)
            except ssl.SSLWantReadError:
                self.receive()
        return plaintext


def test_events_of_one_pass_share_records(tls_server: TLSServer, pki: PKI) -> None:
    """A batch raising 20 alerts reaches a wss:// subscriber in a few records, not one per frame."""
    with socket.create_connection((HOST, tls_server.port), timeout=10) as raw:
        stream = RecordCounter(raw, client_context(pki))
        key = base64.b64encode(os.urandom(16)).decode()
        stream.write(
            f"GET /ws HTTP/1.1\r\nHost: localhost:{tls_server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        stream.read_until(lambda text: b'"type":"snapshot"' in text)
        before = stream.application_records
        rows = [json.dumps({"investorId": f"cork-{index}", "syndicateId": "s-cork", "amount": "20000.00"})
                for index in range(20)]
        status, answer = https(tls_server, pki, "POST", "/api/transactions", "\n".join(rows).encode(),
                               {"Content-Type": "application/x-ndjson"})
        assert status == 201, answer
        plaintext = stream.read_until(lambda text: text.count(b'"type":"alert"') >= 20)
        records = stream.application_records - before
        assert plaintext.count(b'"type":"alert"') == 20
        # One record per frame would be 20 or more (plus the rankings update).
        assert records <= 5, records
