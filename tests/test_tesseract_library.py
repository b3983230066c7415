"""Tesseract in-process (tesserocr): the program's words, its time limit, its failures."""

from __future__ import annotations

import logging
import sys

import pytest

from pipeline.process import Pipeline
from pipeline.read import read_file, tesseract, tesseract_library
from synth.generate import generate
from tests.conftest import SAMPLES, assert_valid_record


@pytest.fixture(scope="module")
def fax_page(settings):
    return next(iter(read_file(SAMPLES / "fax-order.tif", settings.ocr).images.values()))


def _as_read(words: tesseract.OcrWords) -> list[tuple]:
    return [(w.text, w.bbox, w.confidence, w.line) for w in words.words]


@pytest.mark.parametrize("psm", [3, 6, 11])
def test_the_library_reads_what_the_program_reads(settings, fax_page, psm) -> None:
    """Same engine, same words: the rules were measured on the program's readings.

    Fails if tesserocr's wheel (its own, newer tesseract) is installed instead of the
    build against the system's, or if lines are numbered otherwise than the TSV.
    """
    assert settings.ocr.tesseract_engine == "library" and tesseract_library.available()
    program = settings.ocr.model_copy(update={"tesseract_engine": "program"})
    by_library = tesseract.read_words(fax_page, settings.ocr, psm)
    by_program = tesseract.read_words(fax_page, program, psm)
    assert len(by_library.words) > 20
    assert _as_read(by_library) == _as_read(by_program)
    assert by_library.confidence == by_program.confidence


def test_generated_pages_read_the_same_by_library_and_program(settings, tmp_path) -> None:
    """Letterheads, forms and fax headers: pages where tesseract finds lines without
    words, which the TSV numbers no line for (seed 9090's second page is one)."""
    program = settings.ocr.model_copy(update={"tesseract_engine": "program"})
    pages = [
        image
        for path in generate(tmp_path, 3, 9090, jobs=1)
        for image in read_file(path, settings.ocr).images.values()
    ]
    assert len(pages) >= 2
    for page in pages:
        assert _as_read(tesseract.read_words(page, settings.ocr)) == _as_read(
            tesseract.read_words(page, program)
        )


def test_a_page_past_the_time_limit_is_a_typed_timeout(settings, fax_page) -> None:
    hurried = settings.ocr.model_copy(update={"page_timeout_seconds": 0.01})
    with pytest.raises(tesseract.OcrTimeout):
        tesseract.read_words(fax_page, hurried)


def test_a_timed_out_page_sends_the_referral_to_review(settings) -> None:
    ocr = settings.ocr.model_copy(update={"page_timeout_seconds": 0.01, "second_reader": False})
    record = Pipeline(settings.model_copy(update={"ocr": ocr})).process(SAMPLES / "fax-order.tif")
    contract = record.referral.to_contract()
    assert_valid_record(contract)
    assert contract["decision"]["status"] == "needs_review"
    assert [r["code"] for r in contract["decision"]["reasons"]] == ["UNREADABLE_DOCUMENT"]
    page = record.read.document.pages[0]
    assert page.problem == "ocr_timeout" and "took over" in (page.problem_detail or "")


def test_missing_language_data_is_a_typed_error(settings, fax_page) -> None:
    unknown = settings.ocr.model_copy(update={"languages": "xyz"})
    with pytest.raises(tesseract.TesseractMissing, match="xyz"):
        tesseract.read_words(fax_page, unknown)


def test_without_tesserocr_the_program_reads_and_says_so(
    settings, fax_page, monkeypatch, caplog
) -> None:
    monkeypatch.setitem(sys.modules, "tesserocr", None)  # as if it were not installed
    tesseract._warn_library_missing.cache_clear()
    program = settings.ocr.model_copy(update={"tesseract_engine": "program"})
    with caplog.at_level(logging.WARNING, logger="pipeline.read.tesseract"):
        words = tesseract.read_words(fax_page, settings.ocr)
    assert not tesseract_library.available()
    assert _as_read(words) == _as_read(tesseract.read_words(fax_page, program))
    assert "read by the tesseract program" in caplog.text
