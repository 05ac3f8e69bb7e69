"""The dashboard (web-static/) in a real headless Chromium driven over CDP (headless_chromium.py).

Every test starts the real server with the repository's web-static/ as its static directory,
opens the page, drives it with real POSTs (and server restarts) and reads the live DOM. Screenshots
go to Tests/integration/artifacts/ (gitignored). Chromium is Debian's `chromium`.
"""

from __future__ import annotations

import json
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

from conftest import free_port
from headless_chromium import HeadlessPage

REPOSITORY = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
RULES = ["--spike-window", "60", "--spike-threshold", "3"]
STATIC = ["--static-dir", str(REPOSITORY / "web-static")]

LIVE = "document.getElementById('connection-status').dataset.state === 'live'"
RANKED = "[...document.querySelectorAll('#rankings-body tr')].map(row => row.dataset.investor)"
FEED = "document.getElementById('alert-feed').innerText"
NO_OVERFLOW = "document.scrollingElement.scrollWidth <= window.innerWidth"
# Whether every canvas's backing store is its CSS box × devicePixelRatio (sharp, not stretched).
CANVASES_SHARP = """[...document.querySelectorAll('canvas')].every(canvas =>
  canvas.clientWidth > 0 && canvas.width === Math.round(canvas.clientWidth * devicePixelRatio)
  && canvas.height === Math.round(canvas.clientHeight * devicePixelRatio))"""


def post(base_url: str, rows: list[tuple[str, str, str]]) -> dict:
    body = "\n".join(json.dumps({"investorId": investor, "syndicateId": syndicate, "amount": amount}) for investor, syndicate, amount in rows)
    request = urllib.request.Request(
        f"{base_url}/api/transactions", data=body.encode(), headers={"Content-Type": "application/x-ndjson"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
        return json.load(response)


def painted_pixels(page: HeadlessPage, canvas_id: str) -> int:
    """How many pixels of a canvas are not transparent (0 for a chart that drew nothing)."""
    return page.evaluate(
        f"""(() => {{ const canvas = document.getElementById('{canvas_id}');
        const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let painted = 0; for (let index = 3; index < data.length; index += 4) if (data[index]) painted++;
        return painted; }})()"""
    )


def save_screenshot(page: HeadlessPage, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(str(ARTIFACTS / name))
    assert (ARTIFACTS / name).stat().st_size > 10_000, f"{name} looks empty"


def test_alerts_rankings_and_charts_update_live_without_a_reload(start_server) -> None:
    server = start_server(extra_args=STATIC + RULES, echo=False)
    post(server.base_url, [("ada", "s-alpha", "25000.00"), ("ada", "s-beta", "100.00"), ("grace", "s-alpha", "500.00"), ("linus", "s-gamma", "12000.50")])
    with HeadlessPage(f"{server.base_url}/", width=1280, height=800) as page:
        page.wait_until(LIVE, "the page to go live on /ws")
        # The snapshot: ada has 2 syndicates, so she is first; then linus and grace by total invested.
        page.wait_until(f"JSON.stringify({RANKED}) === '[\"ada\",\"linus\",\"grace\"]'", "the snapshot's rankings")
        feed = page.evaluate(FEED)
        assert "ada invested 25,000.00 in s-alpha" in feed and "linus invested 12,000.50 in s-gamma" in feed
        assert "grace invested" not in feed
        # The counters are filled from /api/stats at once, not 0 until the first stats tick.
        page.wait_until("document.getElementById('counter-transactions').textContent === '4'", "the transaction counter")
        # The rules come from /api/stats before any spike alert was raised.
        page.wait_until("document.getElementById('threshold-spike').textContent === '3'", "the spike threshold from /api/stats")
        assert page.evaluate("document.getElementById('threshold-window').textContent") == "1 min"
        page.evaluate("window.loadedOnce = true")

        # Live: zed enters in three syndicates (a ranking change) with a large amount (an amount alert).
        post(server.base_url, [("zed", "s-alpha", "1.00"), ("zed", "s-beta", "1.00"), ("zed", "s-gamma", "50000.00")])
        page.wait_until(f"{RANKED}[0] === 'zed'", "zed to top the live rankings")
        assert page.evaluate(RANKED) == ["zed", "ada", "linus", "grace"]
        movement = page.evaluate("Object.fromEntries([...document.querySelectorAll('#rankings-body tr')].map(row => [row.dataset.investor, row.dataset.movement]))")
        assert movement == {"zed": "new", "ada": "down", "linus": "down", "grace": "down"}
        assert page.evaluate("document.querySelector('tr[data-investor=zed] .syndicates').textContent") == "3"
        page.wait_until(f"{FEED}.includes('zed invested 50,000.00 in s-gamma')", "zed's amount alert")
        assert page.evaluate("document.querySelector('#alert-feed li').classList.contains('is-new')"), "a new alert stands out"

        # Four transactions in s-delta within the 60 s window pass the spike threshold of 3.
        post(server.base_url, [(f"x{index}", "s-delta", "1.00") for index in range(4)])
        page.wait_until(f"{FEED}.includes('s-delta: 4 transactions in 1 min')", "the spike alert")
        assert "Syndicate spike" in page.evaluate("document.querySelector('#alert-feed li .alert-rule').textContent")
        assert "ada invested 25,000.00 in s-alpha" in page.evaluate(FEED), "earlier alerts stay in the feed"

        # Charts: stats samples with a non-zero rate, alerts counted per minute, s-delta's window.
        page.wait_until("/peak [1-9]/.test(document.getElementById('rate-chart').getAttribute('aria-label'))", "a non-zero rate sample")
        page.wait_until("Number(document.getElementById('alert-chart').dataset.alerts) >= 2", "the alerts-per-minute data")
        page.wait_until("(document.getElementById('windows-chart').dataset.syndicates || '').includes('[\"s-delta\",4]')", "s-delta's window count")
        assert page.evaluate("document.getElementById('threshold-amount').textContent") == "10,000.00"
        assert page.evaluate("document.getElementById('threshold-spike').textContent") == "3"
        assert page.evaluate("document.getElementById('threshold-window').textContent") == "1 min"
        page.wait_until(CANVASES_SHARP, "canvases sized to the device pixel ratio")
        for canvas_id in ("rate-chart", "alert-chart", "windows-chart"):
            assert painted_pixels(page, canvas_id) > 100, f"{canvas_id} drew nothing"
        page.wait_until("document.getElementById('counter-transactions').textContent === '11'", "the live transaction count")

        # The form shows the server's validation details next to the fields, then accepts a fix.
        page.evaluate("""(() => { const form = document.getElementById('transaction-form');
            form.investorId.value = ''; form.syndicateId.value = 's-form'; form.amount.value = '5.001';
            form.requestSubmit(); })()""")
        page.wait_until("document.getElementById('error-amount').textContent.includes('at most 2 fraction digits')", "the amount error")
        assert page.evaluate("document.getElementById('error-investorId').textContent") == "must not be empty"
        assert page.evaluate("document.activeElement.name") == "investorId", "focus moves to the first invalid field"
        page.evaluate("""(() => { const form = document.getElementById('transaction-form');
            form.investorId.value = 'formy'; form.amount.value = '5.00'; form.requestSubmit(); })()""")
        page.wait_until("document.getElementById('form-result').textContent.startsWith('Accepted as seq')", "the accepted answer")
        assert page.evaluate("document.getElementById('error-amount').textContent") == ""

        assert page.evaluate("window.loadedOnce") is True, "the page was never reloaded"
        assert page.evaluate(NO_OVERFLOW), "horizontal overflow at 1280×800"
        save_screenshot(page, "dashboard-1280x800-light.png")
        page.set_viewport(390, 844, 3)
        page.wait_until(NO_OVERFLOW + " && window.innerWidth === 390", "the 390 px layout")
        page.wait_until(CANVASES_SHARP, "canvases redrawn at 3× after the resize")
        save_screenshot(page, "dashboard-390x844-light.png")
        # The one console entry allowed is the browser's own note of the deliberate 400 above.
        problems = [entry for entry in page.console_problems() if not ("status of 400" in entry and "/api/transactions" in entry)]
        assert problems == []


def test_phone_and_desktop_layouts_in_dark_mode_do_not_scroll_sideways(start_server) -> None:
    server = start_server(extra_args=STATIC + RULES, echo=False)
    long_investor = "investor-with-a-rather-long-identifier-0123456789abcdef"
    long_syndicate = "syndicate-" + "x" * 100
    post(server.base_url, [(long_investor, long_syndicate, "99999999.99")] + [(f"i{index}", "s-busy", "1.00") for index in range(5)])
    with HeadlessPage(f"{server.base_url}/", width=390, height=844, device_scale_factor=3, color_scheme="dark") as page:
        page.wait_until(LIVE, "the page to go live")
        page.wait_until(f"{FEED}.includes('{long_investor}')", "the long-named alert")
        page.wait_until("(document.getElementById('windows-chart').dataset.syndicates || '').includes('s-busy')", "the busy syndicate's window")
        page.wait_until("/peak [0-9]/.test(document.getElementById('rate-chart').getAttribute('aria-label'))", "a stats sample")
        background = page.evaluate("getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(15, 18, 22)", f"dark scheme not applied: {background}"
        assert page.evaluate(NO_OVERFLOW), page.evaluate("[document.scrollingElement.scrollWidth, innerWidth]")
        page.wait_until(CANVASES_SHARP, "canvases at 3× on the phone")
        save_screenshot(page, "dashboard-390x844-dark.png")
        page.set_viewport(1280, 800, 1)
        page.wait_until(NO_OVERFLOW + " && window.innerWidth === 1280", "the 1280 px layout")
        page.wait_until(CANVASES_SHARP, "canvases at 1× on the desktop")
        save_screenshot(page, "dashboard-1280x800-dark.png")
        assert page.console_problems() == []


def test_the_page_reconnects_and_resumes_after_a_restart(start_server, tmp_path: Path) -> None:
    data = ["--data", str(tmp_path / "journal.sqlite")]
    port = free_port()
    first = start_server(extra_args=STATIC + RULES + data, echo=False, in_memory=False, port=port)
    post(first.base_url, [("ada", "s-alpha", "25000.00")])
    with HeadlessPage(f"{first.base_url}/", width=1280, height=800) as page:
        page.wait_until(LIVE, "the first connection")
        page.wait_until(f"{FEED}.includes('ada invested 25,000.00')", "the first alert")
        seq_before = int(page.wait_until("document.getElementById('seq').textContent.match(/^\\d+$/) && document.getElementById('seq').textContent", "a seq"))
        epoch = page.evaluate("document.getElementById('epoch').textContent")
        page.evaluate("window.loadedOnce = true")
        assert first.stop() == 0
        page.wait_until("document.getElementById('connection-status').textContent.includes('retrying in')", "the offline state with a countdown")
        assert not page.evaluate("document.getElementById('reconnect-now').hidden"), "a Reconnect now button while offline"

        # While the page is away: the same journal served on another port takes new transactions.
        elsewhere = start_server(extra_args=STATIC + RULES + data, echo=False, in_memory=False)
        post(elsewhere.base_url, [("mia", "s-alpha", "1.00"), ("mia", "s-beta", "1.00"), ("mia", "s-omega", "70000.00")])
        assert elsewhere.stop() == 0
        # Back on the page's port with the same journal and rules: the same epoch, so a resume.
        start_server(extra_args=STATIC + RULES + data, echo=False, in_memory=False, port=port)
        page.wait_until(LIVE, "the page to reconnect on its own", timeout=40)
        page.wait_until(f"{FEED}.includes('mia invested 70,000.00 in s-omega')", "the alert posted while away")
        page.wait_until(f"{RANKED}[0] === 'mia'", "the ranking change posted while away")
        note = page.wait_until("document.getElementById('notices').innerText", "the resume note")
        match = re.search(r"resumed from seq (\d+): (\d+) missed events? replayed", note)
        assert match, note
        assert int(match.group(1)) == seq_before and int(match.group(2)) >= 2
        assert "reloaded its state" not in note
        assert "ada invested 25,000.00" in page.evaluate(FEED)
        assert page.evaluate("window.loadedOnce") is True, "resumed without a reload"
        assert any(f"since={seq_before}&epoch={epoch}" in url for url in page.websocket_urls())
        # Connection attempts while the server was down are logged by Chromium itself.
        problems = [entry for entry in page.console_problems() if "WebSocket connection to" not in entry]
        assert problems == []


def test_a_restart_with_another_history_reloads_the_state_and_says_so(start_server) -> None:
    port = free_port()
    first = start_server(extra_args=STATIC + RULES, echo=False, port=port)
    post(first.base_url, [("ada", "s-alpha", "25000.00")])
    with HeadlessPage(f"{first.base_url}/", width=1280, height=800) as page:
        page.wait_until(f"{FEED}.includes('ada invested')", "the first alert")
        epoch = page.evaluate("document.getElementById('epoch').textContent")
        assert first.stop() == 0
        second = start_server(extra_args=STATIC + RULES, echo=False, port=port)  # in memory: a new history
        post(second.base_url, [("bo", "s-new", "30000.00")])
        page.wait_until(f"{FEED}.includes('bo invested 30,000.00')", "the new server's alert", timeout=40)
        assert "ada invested" not in page.evaluate(FEED), "the old history's alerts are gone"
        assert page.evaluate("document.getElementById('epoch').textContent") != epoch
        assert "reloaded its state from a snapshot" in page.evaluate("document.getElementById('notices').innerText")
        assert page.evaluate(RANKED) == ["bo"]


def test_keyboard_pause_resume_and_filters(start_server) -> None:
    server = start_server(extra_args=STATIC + RULES, echo=False)
    post(server.base_url, [("ada", "s-alpha", "25000.00")])
    with HeadlessPage(f"{server.base_url}/", width=1280, height=800) as page:
        page.wait_until(f"{FEED}.includes('ada invested')", "the first alert")
        page.press_key("Tab", "Tab", 9)
        assert page.evaluate("document.activeElement.className") == "skip-link", "the first Tab reaches the skip link"
        page.evaluate("document.getElementById('alert-text-filter').focus()")
        page.press_key("Tab", "Tab", 9)
        assert page.evaluate("document.activeElement.id") == "alert-pause"
        page.press_key("Enter", "Enter", 13, "\r")
        page.wait_until("document.getElementById('alert-pause').getAttribute('aria-pressed') === 'true'", "the feed to pause")
        post(server.base_url, [("bo", "s-beta", "20000.00")])
        page.wait_until("document.getElementById('alert-pause').textContent === 'Resume (1 new)'", "the held-back count")
        assert "bo invested" not in page.evaluate(FEED), "a paused feed does not move"
        page.press_key("Enter", "Enter", 13, "\r")
        page.wait_until(f"{FEED}.includes('bo invested 20,000.00 in s-beta')", "the held-back alert after resuming")
        page.wait_until("document.getElementById('announcer-alerts').textContent.includes('bo invested')", "the aria-live announcement")
        assert "live" in page.evaluate("document.getElementById('announcer-status').textContent")

        page.evaluate("""(() => { const input = document.getElementById('alert-text-filter');
            input.value = 'S-BETA'; input.dispatchEvent(new Event('input')); })()""")
        assert "ada invested" not in page.evaluate(FEED) and "bo invested" in page.evaluate(FEED)
        assert page.evaluate("document.getElementById('alert-count').textContent") == "1 of 2 alerts"
        page.evaluate("""(() => { document.getElementById('alert-text-filter').value = '';
            const select = document.getElementById('alert-rule-filter'); select.value = 'syndicate_spike';
            select.dispatchEvent(new Event('change')); })()""")
        assert page.evaluate("document.getElementById('alert-count').textContent") == "0 of 2 alerts"

        # The tape subscribes only while shown, and keeps at most 50 rows in the DOM.
        assert "transactions" not in page.evaluate("document.getElementById('stream-topics').textContent")
        page.evaluate("document.getElementById('tape-toggle').focus()")
        page.press_key("Enter", "Enter", 13, "\r")
        page.wait_until("document.getElementById('stream-topics').textContent.includes('transactions')", "the subscribed answer")
        post(server.base_url, [(f"t{index}", "s-tape", "2.50") for index in range(60)])
        page.wait_until("document.getElementById('tape-list').textContent.includes('t59 → s-tape')", "the newest transaction on the tape")
        assert page.evaluate("document.getElementById('tape-list').children.length") == 50
        assert page.evaluate("document.getElementById('tape-list').firstElementChild.textContent").find("t59") >= 0
        assert page.console_problems() == []


def test_the_form_asks_for_the_api_key_when_the_server_requires_one(start_server) -> None:
    server = start_server(extra_args=STATIC + ["--api-key", "key-123"], echo=False)
    with HeadlessPage(f"{server.base_url}/", width=390, height=844) as page:
        page.wait_until(LIVE, "the page to go live")
        assert page.evaluate("document.getElementById('api-key-field').hidden") is True
        page.evaluate("""(() => { const form = document.getElementById('transaction-form');
            form.investorId.value = 'kay'; form.syndicateId.value = 's-key'; form.amount.value = '12000';
            form.requestSubmit(); })()""")
        page.wait_until("!document.getElementById('api-key-field').hidden", "the API key field after a 401")
        assert "Authorization" in page.evaluate("document.getElementById('error-apiKey').textContent")
        assert page.evaluate("document.activeElement.name") == "apiKey"
        page.evaluate("""(() => { const form = document.getElementById('transaction-form');
            form.apiKey.value = 'key-123'; form.requestSubmit(); })()""")
        page.wait_until("document.getElementById('form-result').textContent.startsWith('Accepted as seq')", "the accepted answer")
        page.wait_until(f"{FEED}.includes('kay invested 12,000.00 in s-key')", "the form's alert in the feed")
        problems = [entry for entry in page.console_problems() if not ("status of 401" in entry and "/api/transactions" in entry)]
        assert problems == []


def test_stream_token_from_the_fragment_or_the_field_and_the_backoff_schedule(start_server) -> None:
    server = start_server(extra_args=STATIC, echo=False)
    with HeadlessPage(f"{server.base_url}/#token=fragment-token-1", width=1280, height=800) as page:
        page.wait_until(LIVE, "the page to go live")
        assert any("token=fragment-token-1" in url for url in page.websocket_urls())
        page.evaluate("""(() => { document.querySelector('.connection-settings').open = true;
            document.getElementById('token-input').value = 'typed-token-2';
            document.getElementById('token-form').requestSubmit(); })()""")
        page.wait_until(LIVE, "the reconnect with the typed token")
        deadline = time.monotonic() + 10
        while not any("token=typed-token-2" in url for url in page.websocket_urls()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert any("token=typed-token-2" in url for url in page.websocket_urls())
        # Jittered, capped exponential backoff: [ceiling/2, ceiling], ceiling = min(30 s, 0.5 s × 2^attempt).
        bounds = page.evaluate_async(
            "import('/js/backoff.js').then(module => [0, 1, 2, 3, 6, 7, 40].map(attempt =>"
            " [module.reconnectDelay(attempt, () => 0), module.reconnectDelay(attempt, () => 1)]))"
        )
        assert bounds == [[250, 500], [500, 1000], [1000, 2000], [2000, 4000], [15000, 30000], [15000, 30000], [15000, 30000]]
        formatted = page.evaluate_async(
            "import('/js/format.js').then(module => [module.ruleLabel('velocity_rule_per_hour'),"
            " module.ruleLabel('syndicate_spike'), module.money('1234567.05'), module.money('0.10'), module.duration(3600)])"
        )
        assert formatted == ["velocity rule per hour", "Syndicate spike", "1,234,567.05", "0.10", "1 h"]
        assert page.console_problems() == []
    try:
        urllib.request.urlopen(f"{server.base_url}/favicon.svg", timeout=5).close()
    except urllib.error.HTTPError as error:  # pragma: no cover - reported by the assert below
        raise AssertionError(f"favicon.svg: {error.code}") from error
