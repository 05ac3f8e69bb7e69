"""A private redis-server for the tests: a free loopback port, its own directory, stopped afterwards.

`RedisProcess` can also be killed and started again on the same port with the same directory (so
an append-only file survives), which the cluster tests use to restart Redis under the instances.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from conftest import HOST, free_port


def redis_binary() -> str:
    binary = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)
    if binary is None:
        pytest.fail("redis-server is not installed (Debian package redis-server; Tests/run.sh installs it)")
    return binary


def redis_answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1) as probe:
            probe.sendall(b"PING\r\n")
            return probe.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class RedisProcess:
    """redis-server on 127.0.0.1:`port`; `durable` turns on `appendonly yes` + `appendfsync always`."""

    def __init__(self, directory: Path, durable: bool = True, port: int | None = None) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.durable = durable
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}"

    def start(self) -> "RedisProcess":
        persistence = ["--appendonly", "yes", "--appendfsync", "always"] if self.durable else ["--appendonly", "no"]
        log = open(self.directory / "redis.log", "ab")
        self.process = subprocess.Popen(
            [redis_binary(), "--port", str(self.port), "--bind", HOST, "--save", "", "--dir", str(self.directory),
             "--protected-mode", "no", *persistence],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + 10
        while not redis_answers(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"redis-server did not start on port {self.port}: "
                            f"{(self.directory / 'redis.log').read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)
        return self

    def kill(self) -> None:
        """SIGKILL: what is acknowledged with appendfsync always must survive it."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def client(self):
        import redis

        return redis.Redis(host=HOST, port=self.port, socket_timeout=10)
