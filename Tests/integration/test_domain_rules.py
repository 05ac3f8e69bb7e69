"""Domain values cannot poison state; the rules are exact (issue 12, docs/DOMAIN-RULES.md).

Against the real binary: ids are their UTF-8 bytes (NFC and NFD spellings are two investors,
syndicates and idempotency ids), totals are 128-bit (past Int64.max, across a restart), single
amounts are capped by --max-amount, and event times ahead of the server's clock by more than
--max-clock-skew are refused (so one far-future time cannot switch the spike rule off).
"""

from __future__ import annotations

import time
import urllib.parse
from pathlib import Path
from typing import Any

from conftest import StartServer
from ingest_support import Api

NFC = "\u00e9"  # é: C3 A9
NFD = "e\u0301"  # e + combining acute: 65 CC 81


def now_ms() -> int:
    return int(time.time() * 1000)


def tx(identifier: str | None, investor: str, syndicate: str, amount: str, timestamp: Any = None) -> dict[str, Any]:
    row: dict[str, Any] = {"investorId": investor, "syndicateId": syndicate, "amount": amount}
    if identifier is not None:
        row["id"] = identifier
    if timestamp is not None:
        row["timestamp"] = timestamp
    return row


def entity(api: Api, kind: str, identifier: str) -> dict[str, Any]:
    return api.get_json(f"/api/{kind}/{urllib.parse.quote(identifier, safe='')}")


def test_nfc_and_nfd_ids_are_two_investors_syndicates_and_ids(start_server: StartServer) -> None:
    server = start_server(echo=False)
    api = Api(server.port)
    try:
        rows = [tx(f"t-o{number}", f"other-{number}", "s-common", f"{10 + number}.00") for number in range(7)]
        rows += [
            tx("t-" + NFC, NFC, "s-" + NFC, "500.00"),
            tx("t-" + NFD, NFD, "s-" + NFD, "600.00"),
            tx("t-" + NFD + "-2", NFD, "s-common", "1.00"),
        ]
        reply = api.post("/api/transactions", rows)
        assert reply.status == 201, reply.describe()
        assert reply.json()["accepted"] == 10 and reply.json()["duplicates"] == 0, reply.describe()

        # The top 5: NFD (2 syndicates), NFC (500.00), then the others by total.
        top = api.get_json("/api/rankings?limit=5")["top"]
        assert [(entry["investorId"], entry["syndicateCount"], entry["totalInvested"]) for entry in top] == [
            (NFD, 2, "601.00"), (NFC, 1, "500.00"), ("other-6", 1, "16.00"), ("other-5", 1, "15.00"), ("other-4", 1, "14.00"),
        ], top
        assert len(api.get_json("/api/rankings?limit=100")["top"]) == 5  # capped at --top-k
        assert api.stats()["investors"] == 9

        composed = entity(api, "investors", NFC)
        decomposed = entity(api, "investors", NFD)
        assert (composed["investorId"], composed["totalInvested"], composed["rank"], composed["syndicateIds"]) == (NFC, "500.00", 2, ["s-" + NFC])
        assert (decomposed["investorId"], decomposed["totalInvested"], decomposed["rank"]) == (NFD, "601.00", 1)
        # Syndicate ids sorted by bytes: "s-common" (73 2D 63) before "s-e\u0301" (73 2D 65).
        assert decomposed["syndicateIds"] == ["s-common", "s-" + NFD], decomposed
        assert entity(api, "syndicates", "s-" + NFC)["totalInvested"] == "500.00"
        assert entity(api, "syndicates", "s-" + NFD)["totalInvested"] == "600.00"

        # Idempotency ids are bytes too: each resend is a duplicate of its own spelling only.
        again = api.post("/api/transactions", [tx("t-" + NFC, NFC, "s-" + NFC, "500.00"), tx("t-" + NFD, NFD, "s-" + NFD, "600.00")])
        assert again.status == 201 and again.json()["duplicates"] == 2 and again.json()["accepted"] == 0, again.describe()
        # The NFD id with the NFC transaction's content is a conflict, not a duplicate of it.
        conflict = api.post("/api/transactions", tx("t-" + NFD, NFC, "s-" + NFC, "500.00"))
        assert conflict.status == 409, conflict.describe()
    finally:
        api.close()


def test_totals_past_int64_max_stay_exact_across_a_restart(start_server: StartServer, tmp_path: Path) -> None:
    largest = "92233720368547758.07"  # Int64.max cents
    arguments = ["--data", str(tmp_path / "journal"), "--max-amount", largest]
    server = start_server(extra_args=arguments, echo=False, in_memory=False)
    api = Api(server.port)
    try:
        for number in range(2):
            reply = api.post("/api/transactions", tx(f"w{number}", "whale", "s-big", largest))
            assert reply.status == 201 and reply.json()["accepted"] == 1, reply.describe()
        assert entity(api, "investors", "whale")["totalInvested"] == "184467440737095516.14"
    finally:
        api.close()
    server.stop()

    restarted = start_server(extra_args=arguments, echo=False, in_memory=False)
    api = Api(restarted.port)
    try:
        assert entity(api, "syndicates", "s-big")["totalInvested"] == "184467440737095516.14"
        for number in range(2, 4):
            reply = api.post("/api/transactions", tx(f"w{number}", "whale", "s-big", "0.02"))
            assert reply.status == 201 and reply.json()["accepted"] == 1, reply.describe()
        assert entity(api, "investors", "whale")["totalInvested"] == "184467440737095516.18"
        top = api.get_json("/api/rankings?limit=1")["top"]
        assert top[0]["investorId"] == "whale" and top[0]["totalInvested"] == "184467440737095516.18", top
    finally:
        api.close()


def test_max_amount_flag_refuses_larger_amounts_and_stores_nothing(start_server: StartServer) -> None:
    server = start_server(extra_args=["--max-amount", "2500.50"], echo=False)
    api = Api(server.port)
    try:
        assert api.post("/api/transactions", tx("ok", "i1", "s1", "2500.50")).status == 201
        reply = api.post("/api/transactions", [tx("a", "i2", "s1", "1.00"), tx("b", "i2", "s1", "2500.51")])
        assert reply.status == 400, reply.describe()
        assert reply.json()["error"]["details"] == [{"index": 1, "field": "amount", "reason": "must be at most 2500.50"}]
        assert api.request("GET", "/api/investors/i2").status == 404, "part of a refused batch was stored"
    finally:
        api.close()


def test_far_future_event_times_are_refused_and_cannot_switch_the_spike_rule_off(start_server: StartServer) -> None:
    server = start_server(extra_args=["--spike-threshold", "2", "--spike-window", "60"], echo=False)
    api = Api(server.port)
    try:
        reply = api.post("/api/transactions", [tx("early", "i1", "s1", "1.00"), tx("y9999", "i1", "s1", "1.00", "9999-12-31T23:59:59Z")])
        assert reply.status == 400, reply.describe()
        assert reply.json()["error"]["details"] == [
            {"index": 1, "field": "timestamp", "reason": "is more than 300 s ahead of the server's clock"}
        ]
        assert api.request("GET", "/api/syndicates/s1").status == 404, "part of a refused batch was stored"
        # 290 s ahead is within the default 5 minutes; a year back is valid. The spike rule's clock
        # G moves to the future-dated time, but it ignores only times at or before G − W − M with
        # M = --max-clock-skew (docs/SPIKE-RULE.md), so on-time transactions elsewhere still count.
        assert api.post("/api/transactions", tx(None, "i1", "s2", "1.00", now_ms() + 290_000)).status == 201
        assert api.post("/api/transactions", tx(None, "i1", "s2", "1.00", now_ms() - 365 * 86_400_000)).status == 201
        # The spike rule still works for s1: three transactions now exceed S = 2.
        reply = api.post("/api/transactions", [tx(None, f"i{number}", "s1", "1.00", now_ms()) for number in range(3)])
        assert reply.status == 201, reply.describe()
        alerts = api.get_json("/api/alerts?limit=10")["alerts"]
        assert [alert["syndicateId"] for alert in alerts if alert["rule"] == "syndicate_spike"] == ["s1"], alerts
    finally:
        api.close()


def test_max_clock_skew_flag(start_server: StartServer) -> None:
    server = start_server(extra_args=["--max-clock-skew", "0"], echo=False)
    api = Api(server.port)
    try:
        reply = api.post("/api/transactions", tx(None, "i1", "s1", "1.00", now_ms() + 60_000))
        assert reply.status == 400, reply.describe()
        assert reply.json()["error"]["details"][0]["reason"] == "is more than 0 s ahead of the server's clock"
        assert api.post("/api/transactions", tx(None, "i1", "s1", "1.00", now_ms() - 1_000)).status == 201
    finally:
        api.close()
