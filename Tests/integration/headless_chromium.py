"""A real headless Chromium driven over the DevTools protocol (CDP), for dashboard tests.

`--dump-dom` with a virtual-time budget is racy: virtual time runs ahead of a WebSocket that is
still connecting on a busy machine, so the dump can come before the page is live. Here the test
opens the page, then polls the live DOM with `Runtime.evaluate` in real time until a condition
holds or a deadline passes. Chromium comes from Debian's `chromium` (Tests/run.sh installs it).
"""

from __future__ import annotations

import base64
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

    def __init__(
        self, url: str, start_timeout: float = 30.0, width: int | None = None, height: int | None = None,
        device_scale_factor: float = 1.0, color_scheme: str | None = None,
    ) -> None:
        self.events: list[dict[str, Any]] = []
        self._profile = tempfile.TemporaryDirectory(prefix="syndicast-chromium-", ignore_cleanup_errors=True)
        self._connection: Any = None
        self._process = subprocess.Popen(
            [
                chromium_binary(), "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-extensions", "--disable-background-networking", "--hide-scrollbars", f"--user-data-dir={self._profile.name}",
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
            for domain in ("Runtime.enable", "Log.enable", "Network.enable"):
                self.command(domain)
            if width and height:
                self.set_viewport(width, height, device_scale_factor)
            if color_scheme:
                self.command("Emulation.setEmulatedMedia", features=[{"name": "prefers-color-scheme", "value": color_scheme}])
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
        """Send one CDP command and wait for its result (events in between are kept in `events`)."""
        self._next_id += 1
        identifier = self._next_id
        self._socket.send(json.dumps({"id": identifier, "method": method, "params": params}))
        while True:
            message = json.loads(self._socket.recv(timeout=30))
            if "method" in message:
                self.events.append(message)
            if message.get("id") == identifier:
                if "error" in message:
                    raise AssertionError(f"{method} failed: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str) -> Any:
        result = self.command("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            return None
        return result.get("result", {}).get("value")

    def set_viewport(self, width: int, height: int, device_scale_factor: float = 1.0) -> None:
        """Emulate a window of `width` × `height` CSS pixels (`mobile` below 600 px wide)."""
        self.command(
            "Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=device_scale_factor,
            mobile=width < 600,
        )

    def evaluate_async(self, expression: str) -> Any:
        """Evaluate an expression that yields a promise and return its resolved value."""
        result = self.command("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"page exception: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def wait_until(self, expression: str, what: str, timeout: float = 20.0) -> Any:
        """Poll a JavaScript expression until it is truthy; return its value or fail naming `what`."""
        deadline = time.monotonic() + timeout
        value: Any = None
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError(f"timed out after {timeout} s waiting for {what}; last value {value!r}")

    def press_key(self, key: str, code: str, key_code: int, text: str = "") -> None:
        """One trusted key press (down, then up), e.g. ("Tab", "Tab", 9) or ("Enter", "Enter", 13, "\\r")."""
        down: dict[str, Any] = {"type": "keyDown" if text else "rawKeyDown", "key": key, "code": code,
                                "windowsVirtualKeyCode": key_code, "nativeVirtualKeyCode": key_code}
        if text:
            down["text"] = text
        self.command("Input.dispatchKeyEvent", **down)
        self.command("Input.dispatchKeyEvent", type="keyUp", key=key, code=code, windowsVirtualKeyCode=key_code,
                     nativeVirtualKeyCode=key_code)

    def screenshot(self, path: str) -> None:
        """Save a PNG of the whole page (beyond the viewport) to `path`."""
        self.command("Runtime.evaluate", expression="0")
        data = self.command("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
        with open(path, "wb") as file:
            file.write(base64.b64decode(data))

    def console_problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions and browser log errors seen so far."""
        self.command("Runtime.evaluate", expression="0")  # drains events queued before now
        problems = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "warning", "assert"):
                texts = [str(argument.get("value", argument.get("description", ""))) for argument in params.get("args", [])]
                problems.append(f"console.{params['type']}: {' '.join(texts)}")
            elif method == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                problems.append(f"exception: {details.get('exception', {}).get('description') or details.get('text')}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in ("error", "warning"):
                entry = params["entry"]
                problems.append(f"log {entry.get('source')} {entry['level']}: {entry.get('text')} {entry.get('url', '')}".strip())
        return problems

    def websocket_urls(self) -> list[str]:
        """The URLs of the WebSockets the page opened (Network.webSocketCreated)."""
        self.command("Runtime.evaluate", expression="0")
        return [event["params"]["url"] for event in self.events if event["method"] == "Network.webSocketCreated"]

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
