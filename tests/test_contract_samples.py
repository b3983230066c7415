"""The shared samples, through the real command, come out as expected.json says."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import PROJECT, SAMPLES, assert_valid_record

ORDER = ["rx-letter.pdf", "fax-order.tif", "email-referral.eml"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "pipeline", "--config", str(PROJECT / "config.toml"), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)


def test_samples_match_expected_records() -> None:
    expected = json.loads((SAMPLES / "expected.json").read_text())
    result = _run("process", "--json", "--today", "2026-11-27", *(str(SAMPLES / n) for n in ORDER))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(ORDER)
    for name, line in zip(ORDER, lines, strict=True):
        record = json.loads(line)
        assert_valid_record(record)
        want = expected[name]
        assert record["source"]["path"].endswith(name)
        assert [d["code"] for d in record["diagnoses"]] == want["diagnoses"], name
        for key in ("patient", "prescriber", "payer"):
            assert record[key] == want[key], (name, key)
        assert record["rx_date"] == want["rx_date"], name
        assert record["visits"] == want["visits"], name
        for key in ("frequency", "duration"):
            got = record[key]
            got = {k: got[k] for k in want[key]} if got and want[key] else got
            assert got == want[key], (name, key)
        assert record["decision"]["status"] == want["status"], name
        assert sorted(r["code"] for r in record["decision"]["reasons"]) == sorted(want["reasons"])


def test_json_mode_writes_only_records_to_stdout() -> None:
    result = _run("process", "--json", str(SAMPLES / "email-referral.eml"))
    assert result.returncode == 0
    assert all(json.loads(line)["schema"] == "referral/1" for line in result.stdout.splitlines())
    assert "processed" in result.stderr  # progress and logs go to standard error


def test_logs_carry_hashes_not_patient_details() -> None:
    result = _run("--log-json", "process", "--json", str(SAMPLES / "email-referral.eml"))
    record = json.loads(result.stdout)
    entries = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert any(e.get("document") == record["source"]["sha256"] for e in entries)
    for forbidden in ("Priya", "Natarajan", "1986-09-05", "anxiety"):
        assert forbidden not in result.stderr


def test_readable_summary_without_json() -> None:
    result = _run("process", str(SAMPLES / "rx-letter.pdf"))
    assert result.returncode == 0
    assert "accepted" in result.stdout and "S39.012A" in result.stdout
