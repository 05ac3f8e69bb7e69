"""A real headless Chromium driven over the DevTools protocol (CDP), for dashboard tests.

`--dump-dom` with a virtual-time budget is racy: virtual time runs ahead of a WebSocket that is
still connecting on a busy machine, so the dump can come before the page is live. Here the test
opens the page, then polls the live DOM with `Runtime.evaluate` in real time until a condition
holds or a deadline passes. Chromium comes from Debian's `chromium` (Tests/run.sh installs it).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from typing import Any, Callable

from websockets.sync.client import connect


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("Chromium is not installed (Tests/run.sh installs Debian's chromium)")


class HeadlessPage:
    """One Chromium process with one page; `evaluate` runs JavaScript in it and returns the value."""

    def __init__(self, url: str, start_timeout: float = 30.0) -> None:
        self._profile = tempfile.TemporaryDirectory(prefix="syndicast-chromium-", ignore_cleanup_errors=True)
        self._connection: Any = None
        self._process = subprocess.Popen(
            [
                chromium_binary(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-extensions", "--disable-background-networking", f"--user-data-dir={self._profile.name}",
                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank",
            ],
            stdout=subprocess.DEVNULL, stderr=open(self._log_path(), "w"),
        )
        try:
            port = self._devtools_port(start_timeout)
            page = self._page_target(port, start_timeout)
            self._connection = connect(page["webSocketDebuggerUrl"], max_size=None, open_timeout=start_timeout)
            self._socket = self._connection.__enter__()
            self._next_id = 0
            self.command("Page.enable")
            self.command("Page.navigate", url=url)
        except BaseException:
            self.close()
            raise

    def _log_path(self) -> str:
        return f"{self._profile.name}/chromium.log"

    def _devtools_port(self, timeout: float) -> int:
        """Chromium prints `DevTools listening on ws://127.0.0.1:PORT/...` on stderr (a file here, so
        a chatty browser can never block on a full pipe)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self._log_path(), encoding="utf-8", errors="replace") as log:
                match = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", log.read())
            if match:
                return int(match.group(1))
            if self._process.poll() is not None:
                raise AssertionError(f"Chromium exited early (status {self._process.returncode})")
            time.sleep(0.05)
        raise AssertionError("Chromium did not print its DevTools address in time")

    @staticmethod
    def _page_target(port: int, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as response:
                targets = json.load(response)
            pages = [target for target in targets if target.get("type") == "page"]
            if pages:
                return pages[0]
            time.sleep(0.1)
        raise AssertionError("Chromium opened no page target")

    def command(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one CDP command and wait for its result (events in between are skipped)."""
        self._next_id += 1
        identifier = self._next_id
        self._socket.send(json.dumps({"id": identifier, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv(timeout=30))
            if message.get("id") == identifier:
                if "error" in message:
                    raise AssertionError(f"{method} failed: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str) -> Any:
        result = self.command("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            return None
        return result.get("result", {}).get("value")

    def html(self) -> str:
        return self.evaluate("document.documentElement ? document.documentElement.outerHTML : ''") or ""

    def wait_for(self, condition: Callable[[str], bool], what: str, timeout: float = 20.0) -> str:
        """Poll the page's HTML until `condition(html)` holds; fail naming `what` with the last HTML."""
        deadline = time.monotonic() + timeout
        html = ""
        while time.monotonic() < deadline:
            html = self.html()
            if condition(html):
                return html
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}; last DOM:\n{html[-3000:]}")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.__exit__(None, None, None)
            self._connection = None
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._profile.cleanup()

    def __enter__(self) -> "HeadlessPage":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
