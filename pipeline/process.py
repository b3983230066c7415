"""One input file through every stage: read, extract, check. The watcher and the CLI share it.

A file that cannot be read still yields a record (UNREADABLE_DOCUMENT); an unexpected
error inside a stage is caught here, logged by document hash, and also becomes a
record for review, so one bad file never stops a batch or the service.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from spacy.language import Language

from models.config import Settings
from models.document import DocumentProblem, ReadDocument
from models.extraction import Extraction
from models.referral import ReasonCode, Referral, Source
from pipeline.check import build_referral
from pipeline.extract import build_nlp, extract
from pipeline.read import ReadResult, read_file
from pipeline.read.tesseract import limit_threads
from pipeline.verify import look_again_for_codes, settle_doubts

log = logging.getLogger("referrals.process")


@dataclass
class Processed:
    """A record and what it was made from (the store keeps the words and page images)."""

    referral: Referral
    read: ReadResult


_ONLY_DOUBT = {ReasonCode.LOW_CONFIDENCE}


class Pipeline:
    """The stages configured once (spaCy pipeline, rules), applied to file after file."""

    def __init__(self, settings: Settings, today: date | None = None) -> None:
        self.settings = settings
        self.today = today
        self.nlp: Language = build_nlp(settings.payers, settings.ocr)

    def process(self, path: Path, display_path: str | None = None) -> Processed:
        shown = display_path or str(path)
        try:
            read = read_file(path, self.settings.ocr, shown)
        except FileNotFoundError:
            return self._unreadable(shown, DocumentProblem.MISSING, "no such file")
        except OSError as exc:
            return self._unreadable(
                shown, DocumentProblem.CORRUPT, f"cannot open file: {exc.strerror}"
            )
        document = read.document
        extraction = self._extract(document)
        referral = self._decide(document, extraction)
        if extraction is not None and read.images and self._read_again(extraction, read, referral):
            referral = self._decide(document, extraction)
        log.info(
            "processed",
            extra={
                "document": document.source.sha256,
                "status": referral.decision.status,
                "reasons": [r.code.value for r in referral.decision.reasons],
                "pages": document.source.pages,
                "doubts_settled": len(extraction.confirmed) if extraction else 0,
            },
        )
        return Processed(referral=referral, read=read)

    def _decide(self, document: ReadDocument, extraction: Extraction | None) -> Referral:
        return build_referral(
            document, extraction, self.settings.rules, self.settings.ocr.low_confidence
        )

    def _read_again(self, extraction: Extraction, read: ReadResult, referral: Referral) -> bool:
        """Second readings, paid for only where they can change the decision.

        A doubt is read again when it is all that stands between the referral and
        acceptance; a diagnosis block is looked at again before a rejection. A referral
        that needs review for another reason anyway keeps its doubts (they still hold).
        """
        ocr, status = self.settings.ocr, referral.decision.status
        holds = {r.code for r in referral.decision.reasons} - {ReasonCode.PREAUTH_REQUIRED}
        if ocr.reread_doubtful and status == "needs_review" and holds == _ONLY_DOUBT:
            settle_doubts(extraction, read.images, ocr)
            return bool(extraction.confirmed)
        if ocr.second_look_for_codes and status == "rejected":
            before = len(extraction.codes)
            look_again_for_codes(extraction, read.document, read.images, self.settings)
            return len(extraction.codes) > before
        return False

    def _extract(self, document: ReadDocument) -> Extraction | None:
        if document.problem is not None:
            return None
        try:
            extraction = extract(self.nlp, document)
        except Exception:  # a rule bug must cost one document a review, not the batch
            log.exception("extraction failed", extra={"document": document.source.sha256})
            document.problem = DocumentProblem.CORRUPT
            document.problem_detail = "internal error while reading the text"
            return None
        if self.today and extraction.rx_date and extraction.rx_date > self.today:
            extraction.doubts.append("rx_date")  # a prescription dated in the future is misread
        return extraction

    def _unreadable(self, shown: str, problem: DocumentProblem, detail: str) -> Processed:
        document = ReadDocument(
            source=Source(path=shown, sha256=None, media_type=None, pages=0),
            problem=problem,
            problem_detail=detail,
        )
        referral = build_referral(
            document, None, self.settings.rules, self.settings.ocr.low_confidence
        )
        return Processed(referral=referral, read=ReadResult(document=document))


def worker_count(settings: Settings, jobs: int) -> int:
    cores = settings.workers.processes or os.cpu_count() or 1
    return max(1, min(cores, jobs))


_worker: Pipeline | None = None


def _start_worker(settings: Settings, today: date | None) -> None:
    """Each worker process builds its pipeline once; tesseract stays single-threaded."""
    global _worker
    limit_threads()
    _worker = Pipeline(settings, today)


def _process_in_worker(path: str) -> Referral:
    assert _worker is not None
    return _worker.process(Path(path)).referral


def process_many(
    settings: Settings, paths: list[Path], today: date | None = None
) -> Iterator[Referral]:
    """Records in input order, files spread over one worker process per core."""
    workers = worker_count(settings, len(paths))
    if workers == 1:
        limit_threads()
        pipeline = Pipeline(settings, today)
        for path in paths:
            yield pipeline.process(path).referral
        return
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_start_worker, initargs=(settings, today)
    ) as pool:
        yield from pool.map(_process_in_worker, [str(p) for p in paths])
