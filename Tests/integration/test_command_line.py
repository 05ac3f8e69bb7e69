"""Bad command-line values get a clear error and a usage exit status, never a crash."""

from __future__ import annotations

import subprocess

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
    ],
)
def test_out_of_range_values_are_refused_with_a_message(arguments: list[str], mentions: str) -> None:
    result = subprocess.run(
        [str(binary_path()), "serve", "--in-memory", "--port", "0", *arguments],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 64, (result.returncode, result.stderr)
    assert mentions in result.stderr
