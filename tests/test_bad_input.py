"""Bad input gets a record with a clear reason; never a traceback, never a lost file."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfgen import canvas

from tests.conftest import PROJECT, SAMPLES, assert_valid_record


def _pdf_bytes(text: str = "Patient: Ann Lee  Dx: M54.50", encrypt: str | None = None) -> bytes:
    buffer = io.BytesIO()
    kwargs = {"encrypt": StandardEncryption(encrypt, canPrint=0)} if encrypt else {}
    page = canvas.Canvas(buffer, **kwargs)
    page.drawString(72, 700, text)
    page.save()
    return buffer.getvalue()


def _process(pipeline, path: Path) -> dict:
    record = pipeline.process(path).referral.to_contract()
    assert_valid_record(record)
    return record


def _unreadable(record: dict) -> str:
    assert record["decision"]["status"] == "needs_review"
    reasons = record["decision"]["reasons"]
    assert [r["code"] for r in reasons] == ["UNREADABLE_DOCUMENT"]
    return reasons[0]["message"]


def test_zero_byte_file(pipeline, tmp_path) -> None:
    path = tmp_path / "empty.pdf"
    path.write_bytes(b"")
    assert "empty" in _unreadable(_process(pipeline, path))


def test_truncated_pdf(pipeline, tmp_path) -> None:
    path = tmp_path / "cut.pdf"
    path.write_bytes(_pdf_bytes()[:300])
    record = _process(pipeline, path)
    assert record["source"]["media_type"] == "application/pdf"
    _unreadable(record)


def test_encrypted_pdf(pipeline, tmp_path) -> None:
    path = tmp_path / "locked.pdf"
    path.write_bytes(_pdf_bytes(encrypt="secret"))
    assert "password" in _unreadable(_process(pipeline, path))


def test_pdf_that_is_really_a_jpeg_is_read_as_an_image(pipeline, tmp_path) -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (200, 100), "white").save(buffer, "JPEG")
    path = tmp_path / "scan.pdf"
    path.write_bytes(buffer.getvalue())
    record = _process(pipeline, path)
    assert record["source"]["media_type"] == "image/jpeg"
    _unreadable(record)  # a blank image has no text


def test_image_of_noise(pipeline, tmp_path) -> None:
    noise = np.random.default_rng(7).integers(0, 255, (1100, 850), dtype=np.uint8)
    path = tmp_path / "noise.png"
    Image.fromarray(noise).save(path)
    assert "text" in _unreadable(_process(pipeline, path))


def test_huge_image_refused_before_decoding(pipeline, tmp_path) -> None:
    path = tmp_path / "huge.png"
    Image.new("1", (20_000, 20_000), 1).save(path)
    assert "too large" in _unreadable(_process(pipeline, path)).lower()


def test_text_file_is_unsupported(pipeline, tmp_path) -> None:
    path = tmp_path / "notes.pdf"
    path.write_text("just some notes, not a referral")
    assert "not a PDF" in _unreadable(_process(pipeline, path))


def test_missing_path_is_a_clear_error_and_others_still_run() -> None:
    command = [
        sys.executable,
        "-m",
        "pipeline",
        "--config",
        str(PROJECT / "config.toml"),
        "process",
        "--json",
        "/no/such/file.pdf",
        str(SAMPLES / "rx-letter.pdf"),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1
    assert "no such file" in result.stderr and "Traceback" not in result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["decision"]["status"] for r in records] == ["needs_review", "accepted"]
    assert records[0]["decision"]["reasons"][0]["code"] == "UNREADABLE_DOCUMENT"


def test_bad_config_names_the_key(tmp_path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("[ocr]\npage_timeout_seconds = -1\nbogus = 1\n")
    command = [sys.executable, "-m", "pipeline", "--config", str(config), "process", "x"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0
    assert "ocr.page_timeout_seconds" in result.stderr and "ocr.bogus" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("name", ["rx-letter.pdf", "fax-order.tif"])
def test_file_type_comes_from_content_not_name(pipeline, tmp_path, name) -> None:
    renamed = tmp_path / "incoming.dat"
    renamed.write_bytes((SAMPLES / name).read_bytes())
    record = _process(pipeline, renamed)
    assert record["diagnoses"], "the renamed file was still read"
