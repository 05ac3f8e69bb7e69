"""Idle memory per connection, wss:// against ws://: server RSS with N idle /ws subscribers vs none.

    python loadtest/tls_idle_memory.py --binary .build/release/syndicast --connections 5000

Starts the server twice on loopback (plain, then TLS with a throw-away self-signed certificate),
opens N WebSocket connections (snapshot received, then idle), waits for the RSS to settle and
prints the RSS before and after and the difference per connection.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import socket
import ssl
import subprocess
import tempfile
import time
from pathlib import Path

from websockets.asyncio.client import connect


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def wait_ready(port: int, context: ssl.SSLContext | None) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as raw:
                stream = context.wrap_socket(raw, server_hostname="localhost") if context else raw
                stream.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                if b"200 OK" in stream.recv(4096):
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server not ready")


async def open_idle(url: str, count: int, context: ssl.SSLContext | None) -> list:
    semaphore = asyncio.Semaphore(200)
    sockets = []

    async def one() -> None:
        async with semaphore:
            stream = await connect(url, ssl=context, open_timeout=60, ping_interval=None, compression=None)
            await stream.recv()  # hello/snapshot: the subscription is live
            sockets.append(stream)

    await asyncio.gather(*(one() for _ in range(count)))
    return sockets


def measure(binary: str, count: int, tls: tuple[str, str] | None) -> tuple[int, int]:
    port = free_port()
    arguments = [binary, "serve", "--in-memory", "--port", str(port), "--threads", "1"]
    context = None
    if tls:
        arguments += ["--tls-cert", tls[0], "--tls-key", tls[1]]
        context = ssl.create_default_context(cafile=tls[0])
    process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_ready(port, context)
        time.sleep(1)
        before = rss_kib(process.pid)
        scheme = "wss" if tls else "ws"

        async def run() -> int:
            sockets = await open_idle(f"{scheme}://localhost:{port}/ws", count, context)
            await asyncio.sleep(3)
            after = rss_kib(process.pid)
            await asyncio.gather(*(stream.close() for stream in sockets), return_exceptions=True)
            return after

        after = asyncio.run(run())
        return before, after
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/release/syndicast")
    parser.add_argument("--connections", type=int, default=5000)
    options = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as directory:
        cert, key = f"{directory}/cert.pem", f"{directory}/key.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost", "-keyout", key, "-out", cert],
            check=True, capture_output=True)
        for name, tls in (("ws", None), ("wss", (cert, key))):
            before, after = measure(options.binary, options.connections, tls)
            per = (after - before) * 1024 / options.connections
            print(f"{name:>3}: RSS {before} KiB idle, {after} KiB with {options.connections} idle /ws; {per:.0f} bytes per connection")


if __name__ == "__main__":
    main()
