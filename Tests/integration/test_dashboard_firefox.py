"""The dashboard in a real headless Firefox (WebDriver BiDi, headless_firefox.py): the same page the
Chromium tests drive goes live, shows the snapshot, live alerts (amount and spike) and ranking
changes without a reload, has no horizontal overflow at phone and desktop sizes, and logs no console
errors. Screenshots go to Tests/integration/artifacts/ (gitignored).
"""

from __future__ import annotations

from pathlib import Path

from headless_firefox import FirefoxPage
from test_dashboard_chromium import FEED, LIVE, NO_OVERFLOW, RANKED, RULES, STATIC, post

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def test_the_dashboard_works_in_firefox(start_server) -> None:
    server = start_server(extra_args=STATIC + RULES, echo=False)
    post(server.base_url, [("ada", "s-alpha", "25000.00"), ("ada", "s-beta", "100.00"), ("grace", "s-alpha", "500.00")])
    with FirefoxPage(f"{server.base_url}/", width=1280, height=800) as page:
        page.wait_until(LIVE, "the page to go live on /ws")
        page.wait_until(f"JSON.stringify({RANKED}) === '[\"ada\",\"grace\"]'", "the snapshot's rankings")
        assert "ada invested 25,000.00 in s-alpha" in page.evaluate(FEED)
        page.wait_until("document.getElementById('threshold-spike').textContent === '3'", "the rules from /api/stats")

        post(server.base_url, [("zed", "s-alpha", "1.00"), ("zed", "s-beta", "1.00"), ("zed", "s-gamma", "50000.00")])
        page.wait_until(f"{RANKED}[0] === 'zed'", "zed to top the live rankings")
        page.wait_until(f"{FEED}.includes('zed invested 50,000.00 in s-gamma')", "zed's amount alert")
        post(server.base_url, [(f"x{index}", "s-delta", "1.00") for index in range(4)])
        page.wait_until(f"{FEED}.includes('s-delta: 4 transactions in 1 min')", "the spike alert")
        page.wait_until("/peak [1-9]/.test(document.getElementById('rate-chart').getAttribute('aria-label'))", "a rate sample")
        assert page.evaluate(NO_OVERFLOW), "horizontal overflow at 1280×800"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(str(ARTIFACTS / "firefox-1280x800.png"))

        page.set_viewport(390, 844)
        page.wait_until(NO_OVERFLOW, "no horizontal overflow at 390×844")
        page.screenshot(str(ARTIFACTS / "firefox-390x844.png"))
        assert (ARTIFACTS / "firefox-390x844.png").stat().st_size > 10_000
        assert page.console_errors() == []
