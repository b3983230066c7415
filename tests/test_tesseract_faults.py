"""Fault injection: a tesseract that crashes, hangs or is killed becomes a page problem.

The fake programs answer ``--version`` with the real tesseract (pytesseract checks it)
and misbehave on the OCR call itself.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import time
from pathlib import Path

import cv2
import pytest
from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from pipeline.process import Pipeline, process_many
from pipeline.read import tesseract
from tests.conftest import SAMPLES, assert_valid_record

REAL = shutil.which("tesseract")
EXPECTED = json.loads((SAMPLES / "expected.json").read_text())
BEHAVIOUR = {
    "crash": 'echo "Error in pixReadStream: boom" >&2; exit 1',
    "hang": "sleep 60",
    "killed": "kill -9 $$",
}
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def _fake(tmp_path: Path, kind: str) -> str:
    script = tmp_path / f"tesseract-{kind}"
    script.write_text(
        f'#!/bin/sh\nfor a in "$@"; do [ "$a" = "--version" ] && exec {REAL} "$@"; done\n'
        f"{BEHAVIOUR[kind]}\n"
    )
    script.chmod(0o755)
    return str(script)


def _pipeline(settings, command: str) -> Pipeline:
    ocr = settings.ocr.model_copy(
        update={"tesseract_cmd": command, "page_timeout_seconds": 2, "tesseract_engine": "program"}
    )
    return Pipeline(settings.model_copy(update={"ocr": ocr}))


def _mixed_pdf(path: Path) -> None:
    """Page 1 has a text layer with the whole referral; page 2 is a scanned image."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    lines = [
        "Patient: Ann Lee  DOB: 01/02/1980",
        "Dx: S39.012A",
        "Massage 2x/week for 6 weeks",
        "Ordered by: Alan Park, MD",
    ]
    for i, line in enumerate(lines):
        page.drawString(72, 720 - 20 * i, line)
    page.showPage()
    scan = Image.new("L", (1275, 1650), 255)
    ImageDraw.Draw(scan).text(
        (100, 200), "Progress notes: patient improving", fill=0, font=ImageFont.truetype(FONT, 40)
    )
    page.drawImage(ImageReader(scan), 0, 0, width=612, height=792)
    page.save()
    path.write_bytes(buffer.getvalue())


@pytest.mark.parametrize("kind", ["crash", "hang", "killed"])
def test_failing_tesseract_gives_unreadable_record(settings, tmp_path, kind) -> None:
    pipeline = _pipeline(settings, _fake(tmp_path, kind))
    started = time.monotonic()
    record = pipeline.process(SAMPLES / "fax-order.tif").referral.to_contract()
    assert time.monotonic() - started < 30  # the hang was cut at the page time limit
    assert_valid_record(record)
    assert record["decision"]["status"] == "needs_review"
    reasons = record["decision"]["reasons"]
    assert [r["code"] for r in reasons] == ["UNREADABLE_DOCUMENT"]
    expected = "took over" if kind == "hang" else "failed"
    assert expected in reasons[0]["message"] or "No readable text" in reasons[0]["message"]


@pytest.mark.parametrize("kind", ["hang", "crash"])
def test_one_failed_page_sends_referral_to_review(settings, tmp_path, kind) -> None:
    path = tmp_path / "mixed.pdf"
    _mixed_pdf(path)
    pipeline = _pipeline(settings, _fake(tmp_path, kind))
    record = pipeline.process(path).referral.to_contract()
    assert_valid_record(record)
    assert [d["code"] for d in record["diagnoses"]] == ["S39.012A"]
    assert record["decision"]["status"] == "needs_review"
    assert [r["code"] for r in record["decision"]["reasons"]] == ["LOW_CONFIDENCE"]


def test_the_same_mixed_pdf_is_accepted_with_a_working_tesseract(pipeline, tmp_path) -> None:
    path = tmp_path / "mixed.pdf"
    _mixed_pdf(path)
    record = pipeline.process(path).referral.to_contract()
    assert [p["method"] for p in record["pages"]] == ["text", "ocr"]
    assert record["decision"]["status"] == "accepted"


def test_missing_tesseract_is_a_typed_error(settings) -> None:
    ocr = settings.ocr.model_copy(
        update={"tesseract_cmd": "/nonexistent/tesseract", "tesseract_engine": "program"}
    )
    with pytest.raises(tesseract.TesseractMissing):
        tesseract.version(ocr)
    assert tesseract.version(settings.ocr).startswith("5")


def test_a_worker_runs_tesseract_and_opencv_on_one_thread(monkeypatch) -> None:
    """One worker per core: threads inside each worker only fight (and in a one-process
    benchmark they would borrow the idle core and flatter the ratio)."""
    monkeypatch.delenv("OMP_THREAD_LIMIT", raising=False)
    cv2.setNumThreads(2)
    try:
        tesseract.limit_threads()
        assert os.environ["OMP_THREAD_LIMIT"] == "1" and cv2.getNumThreads() == 1
    finally:
        cv2.setNumThreads(1)


def test_a_worker_killed_mid_file_costs_that_file_only(settings, tmp_path) -> None:
    """A crash inside an engine kills its worker process (tesseract and PP-OCR run in
    it): the batch goes on, the file that killed it gets a record for review, the others
    their usual records, in input order. The fake tesseract kills the worker itself."""
    killer = tmp_path / "tesseract-kills-worker"
    killer.write_text(
        f'#!/bin/sh\nfor a in "$@"; do [ "$a" = "--version" ] && exec {REAL} "$@"; done\n'
        "kill -9 $PPID\n"
    )
    killer.chmod(0o755)
    ocr = settings.ocr.model_copy(
        update={"tesseract_cmd": str(killer), "tesseract_engine": "program"}
    )
    workers = settings.workers.model_copy(update={"processes": 2})
    broken = settings.model_copy(update={"ocr": ocr, "workers": workers})
    letter, fax = SAMPLES / "rx-letter.pdf", SAMPLES / "fax-order.tif"
    records = [r.to_contract() for r in process_many(broken, [letter, fax, letter])]
    assert [r["source"]["path"] for r in records] == [str(letter), str(fax), str(letter)]
    for record in records:
        assert_valid_record(record)
    crashed = records[1]
    assert crashed["decision"]["status"] == "needs_review"
    assert [r["code"] for r in crashed["decision"]["reasons"]] == ["UNREADABLE_DOCUMENT"]
    assert "stopped the program" in crashed["decision"]["reasons"][0]["message"]
    assert crashed["source"]["sha256"] == hashlib.sha256(fax.read_bytes()).hexdigest()
    expected = EXPECTED["rx-letter.pdf"]["status"]
    assert [records[0]["decision"]["status"], records[2]["decision"]["status"]] == [expected] * 2
