"""The dashboard in a real headless Chromium: it connects to /ws, renders the snapshot's rankings
and alerts, shows live state, and updates in place when new transactions arrive. (Chromium comes
from Debian's `chromium`, which Tests/run.sh installs.)"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path

from headless_chromium import HeadlessPage

REPOSITORY = Path(__file__).resolve().parents[2]


def post_ndjson(base_url: str, rows: list[tuple[str, str, str]]) -> None:
    body = "\n".join(json.dumps({"investorId": investor, "syndicateId": syndicate, "amount": amount}) for investor, syndicate, amount in rows)
    request = urllib.request.Request(
        f"{base_url}/api/transactions", data=body.encode(), headers={"Content-Type": "application/x-ndjson"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


def section(html: str, start: str, end: str) -> str:
    if start not in html:
        return ""
    part = html[html.index(start) :]
    return part[: part.index(end)] if end in part else part


def ranked_names(html: str) -> list[str]:
    return re.findall(r"<td>(ada|grace|linus|zed)</td>", section(html, 'id="rankings"', "</tbody>"))


def alerts(html: str) -> str:
    return section(html, 'id="alerts"', "</ol>")


def test_the_dashboard_renders_live_rankings_and_alerts(start_server) -> None:
    server = start_server(extra_args=["--static-dir", str(REPOSITORY / "web-static")], echo=False)
    post_ndjson(
        server.base_url,
        [("ada", "s-alpha", "25000.00"), ("ada", "s-beta", "100.00"), ("grace", "s-alpha", "500.00"), ("linus", "s-gamma", "12000.50")],
    )
    with HeadlessPage(f"{server.base_url}/") as page:
        page.wait_for(lambda html: re.search(r'class="status live">live<', html) is not None, "the page to connect to /ws")
        # The snapshot: ada has 2 syndicates, so she is first; then linus and grace by total invested.
        html = page.wait_for(lambda html: ranked_names(html) == ["ada", "linus", "grace"], "the snapshot's rankings")
        assert "ada invested 25000.00 in s-alpha" in alerts(html)
        assert "linus invested 12000.50 in s-gamma" in alerts(html)
        assert "grace invested" not in alerts(html)

        # Live: a new investor in three syndicates overtakes everyone, and a large amount raises an alert.
        post_ndjson(server.base_url, [("zed", "s-alpha", "1.00"), ("zed", "s-beta", "1.00"), ("zed", "s-gamma", "50000.00")])
        html = page.wait_for(lambda html: ranked_names(html)[:1] == ["zed"], "zed to top the live rankings")
        assert ranked_names(html) == ["zed", "ada", "linus", "grace"]
        html = page.wait_for(lambda html: "zed invested 50000.00 in s-gamma" in alerts(html), "zed's live alert")
        assert "ada invested 25000.00 in s-alpha" in alerts(html), "the earlier alerts stay in the feed"
