"""The dashboard in a real headless Chromium: it connects to /ws, renders the snapshot's rankings
and alerts, and shows live state. (Chromium comes from Debian's `chromium`, which Tests/run.sh
installs.)"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.request
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise AssertionError("Chromium is not installed (Tests/run.sh installs Debian's chromium)")


def rendered_dom(url: str) -> str:
    result = subprocess.run(
        [chromium(), "--headless=new", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=4000", "--dump-dom", url],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_the_dashboard_renders_live_rankings_and_alerts(start_server) -> None:
    server = start_server(extra_args=["--static-dir", str(REPOSITORY / "web-static")], echo=False)
    body = "\n".join(
        json.dumps({"investorId": investor, "syndicateId": syndicate, "amount": amount})
        for investor, syndicate, amount in [
            ("ada", "s-alpha", "25000.00"),
            ("ada", "s-beta", "100.00"),
            ("grace", "s-alpha", "500.00"),
            ("linus", "s-gamma", "12000.50"),
        ]
    )
    request = urllib.request.Request(
        f"{server.base_url}/api/transactions", data=body.encode(), headers={"Content-Type": "application/x-ndjson"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201
    dom = rendered_dom(f"{server.base_url}/")
    assert re.search(r'class="status live">live<', dom), "the page did not connect to /ws"
    rankings = dom[dom.index('id="rankings"') :]
    rankings = rankings[: rankings.index("</tbody>")]
    # ada: 2 syndicates first; then linus and grace by total invested.
    assert [name for name in re.findall(r"<td>(ada|grace|linus)</td>", rankings)] == ["ada", "linus", "grace"]
    alerts = dom[dom.index('id="alerts"') :]
    alerts = alerts[: alerts.index("</ol>")]
    assert "ada invested 25000.00 in s-alpha" in alerts
    assert "linus invested 12000.50 in s-gamma" in alerts
    assert "grace invested" not in alerts
