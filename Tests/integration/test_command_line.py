"""Bad command-line values get a clear error and a usage exit status, never a crash."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conftest import binary_path


@pytest.mark.parametrize(
    ("arguments", "mentions"),
    [
        (["--idempotency-window", "0"], "--idempotency-window"),
        (["--idempotency-window", "9223372036854775807"], "--idempotency-window"),
        (["--threads", "0"], "--threads"),
        (["--threads", "100000"], "--threads"),
        (["--sync", "sometimes"], "sync"),
        (["--max-amount", "0"], "--max-amount"),
        (["--max-amount", "1.001"], "--max-amount"),
        (["--max-clock-skew", "-1"], "--max-clock-skew"),
    ],
)
def test_out_of_range_values_are_refused_with_a_message(arguments: list[str], mentions: str) -> None:
    result = subprocess.run(
        [str(binary_path()), "serve", "--in-memory", "--port", "0", *arguments],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 64, (result.returncode, result.stderr)
    assert mentions in result.stderr


@pytest.mark.parametrize(("variable", "value", "mentions"), [
    ("SYNDICAST_MAX_AMOUNT", "ten", "--max-amount"),
    ("SYNDICAST_MAX_CLOCK_SKEW", "-5", "--max-clock-skew"),
])
def test_domain_bounds_read_their_environment_variables(variable: str, value: str, mentions: str) -> None:
    result = subprocess.run(
        [str(binary_path()), "serve", "--in-memory", "--port", "0"],
        capture_output=True, text=True, timeout=30, env={**os.environ, variable: value},
    )
    assert result.returncode == 64, (result.returncode, result.stderr)
    assert mentions in result.stderr


# MARK: - syndicast rank: the server's rules (docs/RANK.md)

NFC = "\u00e9"
NFD = "e\u0301"


def rank(path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary_path()), "rank", str(path), "--format", "json", *arguments],
        capture_output=True, text=True, timeout=30,
    )


def write_ndjson(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")
    return path


def test_rank_counts_a_repeated_id_once(tmp_path: Path) -> None:
    rows = [
        {"id": "t1", "investorId": "i1", "syndicateId": "s1", "amount": "100.00"},
        {"id": "t1", "investorId": "i1", "syndicateId": "s1", "amount": "100.00"},
        {"id": "t2", "investorId": "i2", "syndicateId": "s1", "amount": "150.00"},
    ]
    result = rank(write_ndjson(tmp_path / "dup.ndjson", rows))
    assert result.returncode == 0, result.stderr
    assert [(entry["investorId"], entry["totalInvested"]) for entry in json.loads(result.stdout)] == [("i2", "150.00"), ("i1", "100.00")]
    csv = tmp_path / "dup.csv"
    csv.write_text("id,investorId,syndicateId,amount\nt1,i1,s1,100\nt1,i1,s1,100\nt2,i2,s1,150\n")
    assert json.loads(rank(csv).stdout) == json.loads(result.stdout)


def test_rank_stops_at_a_conflicting_id_with_its_line(tmp_path: Path) -> None:
    rows = [
        {"id": "t1", "investorId": "i1", "syndicateId": "s1", "amount": "100.00"},
        {"id": "t2", "investorId": "i2", "syndicateId": "s1", "amount": "150.00"},
        {"id": "t1", "investorId": "i1", "syndicateId": "s1", "amount": "100.01"},
    ]
    path = write_ndjson(tmp_path / "conflict.ndjson", rows)
    result = rank(path)
    assert result.returncode == 1, (result.returncode, result.stdout)
    assert result.stdout == ""
    assert result.stderr == f'syndicast rank: {path}: line 3: id: id "t1" was already used with different content\n'


def test_rank_applies_the_server_field_rules(tmp_path: Path) -> None:
    cases = [
        ({"investorId": "i" * 129, "syndicateId": "s", "amount": "1"}, "investorId: must be at most 128 bytes"),
        ({"investorId": "i", "syndicateId": "s", "amount": "0"}, "amount: must be greater than 0"),
        ({"investorId": "i", "syndicateId": "s", "amount": "1.001"}, "amount: must have at most 2 fraction digits"),
        ({"investorId": "i", "syndicateId": "s", "amount": "1000000000000.01"}, "amount: must be at most 1000000000000.00"),
        ({"id": "", "investorId": "i", "syndicateId": "s", "amount": "1"}, "id: must not be empty"),
    ]
    for number, (row, message) in enumerate(cases):
        path = write_ndjson(tmp_path / f"bad-{number}.ndjson", [{"investorId": "ok", "syndicateId": "s", "amount": "1"}, row])
        result = rank(path)
        assert result.returncode == 1 and result.stdout == "", (row, result.returncode, result.stdout)
        assert result.stderr == f"syndicast rank: {path}: line 2: {message}\n", (row, result.stderr)
    # --max-amount follows the server's flag; a future event time is not checked (no clock).
    path = write_ndjson(tmp_path / "big.ndjson", [{"investorId": "i", "syndicateId": "s", "amount": "2500.50", "timestamp": "9999-12-31T23:59:59Z"}])
    assert rank(path, "--max-amount", "2500.49").returncode == 1
    accepted = rank(path, "--max-amount", "2500.50")
    assert accepted.returncode == 0 and json.loads(accepted.stdout)[0]["totalInvested"] == "2500.50", accepted.stderr
    assert rank(path, "--max-amount", "x").returncode == 64


def test_rank_keeps_nfc_and_nfd_investors_apart(tmp_path: Path) -> None:
    rows = [{"investorId": f"other-{number}", "syndicateId": "s", "amount": f"{10 + number}"} for number in range(7)]
    rows += [
        {"investorId": NFC, "syndicateId": "s", "amount": "500"},
        {"investorId": NFD, "syndicateId": "s", "amount": "600"},
    ]
    path = write_ndjson(tmp_path / "unicode.ndjson", rows)
    result = rank(path, "--top", "20")
    assert result.returncode == 0, result.stderr
    ranking = json.loads(result.stdout)
    assert len(ranking) == 9
    assert [entry["investorId"] for entry in ranking[:3]] == [NFD, NFC, "other-6"]
    table = subprocess.run([str(binary_path()), "rank", str(path), "--top", "20"], capture_output=True, text=True, timeout=30)
    assert table.returncode == 0 and len(table.stdout.splitlines()) == 10, table.stdout  # header + 9 rows


def test_json_log_format_prints_a_parseable_start_line(start_server) -> None:
    server = start_server(["--log-format", "json"])
    records = [json.loads(line) for line in server.log().splitlines() if line.strip()]
    starts = [record for record in records if "listening on" in record["message"]]
    assert len(starts) == 1, records
    start = starts[0]
    assert set(start) == {"ts", "level", "label", "message", "metadata"}, start
    assert start["level"] == "info" and start["label"] == "syndicast"
    assert start["metadata"]["address"] == f"127.0.0.1:{server.port}"
    assert start["metadata"]["journal"] == "memory" and start["metadata"]["loops"] == "2"
    assert server.stop() == 0
    records = [json.loads(line) for line in server.log().splitlines() if line.strip()]
    assert [record["message"] for record in records][-2:] == ["stopping", "stopped"], records


def test_an_unknown_syndicast_variable_is_ignored_with_a_warning(start_server, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SYNDICAST_REDIS_URL", "redis://127.0.0.1:1")
    monkeypatch.setenv("SYNDICAST_TOP_K", "3")
    server = start_server()
    log = server.log()
    assert "warning syndicast: ignoring SYNDICAST_REDIS_URL: not a serve option" in log, log
    assert "SYNDICAST_TOP_K" not in log, log  # a known variable is not reported


def test_no_line_per_request_by_default(start_server) -> None:
    import urllib.request

    server = start_server()
    before = len(server.log().splitlines())
    for _ in range(20):
        with urllib.request.urlopen(f"{server.base_url}/healthz", timeout=5) as response:
            assert response.status == 200
    assert len(server.log().splitlines()) == before, server.log()


def test_options_markdown_lists_every_option() -> None:
    result = subprocess.run([str(binary_path()), "options", "--markdown"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("| `--")]
    assert "| `--port` | `8080` port |" in result.stdout
    assert len(rows) >= 28
    # Each flag's variable follows the README's rule, and `serve --help` names it.
    help_text = subprocess.run([str(binary_path()), "serve", "--help"], capture_output=True, text=True, timeout=30).stdout
    for row in rows:
        flag = row.split("`")[1]
        assert "SYNDICAST_" + flag[2:].upper().replace("-", "_") in help_text, flag
