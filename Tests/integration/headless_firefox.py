"""A real headless Firefox driven over WebDriver BiDi (Firefox's own remote protocol; no
geckodriver), for the dashboard's cross-browser test. Firefox comes from Debian's `firefox-esr`
(Tests/run.sh installs it).
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import tempfile
import time
from typing import Any

from websockets.sync.client import connect

from conftest import free_port
from headless_chromium import HeadlessPage


def firefox_binary() -> str:
    for name in ("firefox-esr", "firefox"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("Firefox is not installed (Tests/run.sh installs Debian's firefox-esr)")


class FirefoxPage:
    """One headless Firefox with one tab; `evaluate` runs JavaScript in it and returns the value."""

    def __init__(self, url: str, width: int = 1280, height: int = 800, start_timeout: float = 30.0) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="syndicast-firefox-", ignore_cleanup_errors=True)
        port = free_port()
        self._process = subprocess.Popen(
            [firefox_binary(), "--headless", "--no-remote", "--profile", self._profile.name,
             f"--remote-debugging-port={port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        )
        self.events: list[dict[str, Any]] = []
        self._next_id = 0
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                self._connection = connect(f"ws://127.0.0.1:{port}/session", max_size=None, open_timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline or self._process.poll() is not None:
                    self.close()
                    raise AssertionError("Firefox's WebDriver BiDi endpoint did not come up")
                time.sleep(0.2)
        self.command("session.new", capabilities={})
        self.command("session.subscribe", events=["log.entryAdded"])
        self.context = self.command("browsingContext.getTree")["contexts"][0]["context"]
        self.set_viewport(width, height)
        self.command("browsingContext.navigate", context=self.context, url=url, wait="complete")

    def command(self, method: str, **params: Any) -> dict[str, Any]:
        self._next_id += 1
        number = self._next_id
        self._connection.send(json.dumps({"id": number, "method": method, "params": params}))
        while True:
            message = json.loads(self._connection.recv(timeout=30))
            if message.get("id") != number:
                self.events.append(message)
                continue
            if message.get("type") == "error":
                raise AssertionError(f"{method} failed: {message.get('error')}: {message.get('message')}")
            return message.get("result", {})

    def set_viewport(self, width: int, height: int) -> None:
        self.command("browsingContext.setViewport", context=self.context, viewport={"width": width, "height": height})

    def evaluate(self, expression: str) -> Any:
        result = self.command("script.evaluate", expression=expression, target={"context": self.context}, awaitPromise=False)
        if result.get("type") == "exception":
            raise AssertionError(f"{expression!r} threw: {result.get('exceptionDetails', {}).get('text')}")
        return _value(result.get("result", {}))

    # Polls `evaluate` exactly as the Chromium driver does.
    wait_until = HeadlessPage.wait_until

    def console_errors(self) -> list[str]:
        """Console errors and uncaught exceptions the page logged so far."""
        self.evaluate("0")  # drains events that arrived before this call
        return [
            str(event["params"].get("text"))
            for event in self.events
            if event.get("method") == "log.entryAdded" and event["params"].get("level") == "error"
        ]

    def screenshot(self, path: str) -> None:
        data = self.command("browsingContext.captureScreenshot", context=self.context, origin="document")["data"]
        with open(path, "wb") as file:
            file.write(base64.b64decode(data))

    def close(self) -> None:
        try:
            if getattr(self, "_connection", None) is not None:
                try:
                    self.command("session.end")
                except Exception:
                    pass
                self._connection.close()
        finally:
            if self._process.poll() is None:
                self._process.terminate()
                try:
                    self._process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._process.kill()
                    self._process.wait(timeout=5)
            self._profile.cleanup()

    def __enter__(self) -> "FirefoxPage":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _value(remote: dict[str, Any]) -> Any:
    """A BiDi remote value as Python (primitives, arrays and objects)."""
    kind = remote.get("type")
    if kind in ("string", "number", "boolean"):
        return remote.get("value")
    if kind in ("undefined", "null"):
        return None
    if kind == "array":
        return [_value(item) for item in remote.get("value", [])]
    if kind == "object":
        return {key: _value(item) for key, item in remote.get("value", [])}
    return remote.get("value")
