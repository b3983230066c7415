"""One input file through every stage: read, extract, check. The watcher and the CLI share it.

A file that cannot be read still yields a record (UNREADABLE_DOCUMENT); an unexpected
error inside a stage is caught here, logged by document hash, and also becomes a
record for review, so one bad file never stops a batch or the service.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from spacy.language import Language

from models.config import Settings
from models.document import DocumentProblem, ReadDocument
from models.extraction import Extraction
from models.referral import ReasonCode, Referral, Source
from pipeline import icd10
from pipeline.check import build_referral
from pipeline.extract import build_nlp, extract
from pipeline.read import ReadResult, read_file
from pipeline.read.ppocr import SecondReader
from pipeline.read.tesseract import OcrError, limit_threads
from pipeline.second_engine import doubt_a_lost_range, read_again, reconcile
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
        self.second_reader = SecondReader(settings.ocr)
        self._second_nlp: Language | None = None

    def warm_up(self) -> None:
        """Load what a worker process would otherwise load on its first document."""
        if self.settings.ocr.second_reader:
            self._strict_nlp()
            try:
                self.second_reader.load()
            except OcrError:
                log.warning("second OCR engine unavailable; tesseract reads alone")

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
        if extraction is not None and self._wants_second_engine(read, extraction, referral):
            read, extraction, referral = self._second_engine(read, extraction, referral)
        log.info(
            "processed",
            extra={
                "document": document.source.sha256,
                "status": referral.decision.status,
                "reasons": [r.code.value for r in referral.decision.reasons],
                "pages": document.source.pages,
                "doubts_settled": len(extraction.confirmed) if extraction else 0,
                "second_engine": read.second_engine,
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

    def _wants_second_engine(
        self, read: ReadResult, extraction: Extraction, referral: Referral
    ) -> bool:
        """Only OCR'd documents a second reading could still get accepted are read twice.

        PP-OCR costs seconds a document; an accepted referral gains nothing from it, an
        unreadable one has no words to compare, and a code read surely that is real but
        not billable is never overruled by the second reading, so it keeps the referral
        in review whatever that reading finds.
        """
        reasons = {r.code for r in referral.decision.reasons}
        return (
            self.settings.ocr.second_reader
            and bool(read.images)
            and referral.decision.status != "accepted"
            and ReasonCode.UNREADABLE_DOCUMENT not in reasons
            and not _surely_not_billable(extraction)
        )

    def _second_engine(
        self, read: ReadResult, extraction: Extraction, referral: Referral
    ) -> tuple[ReadResult, Extraction, Referral]:
        """The record from both readings reconciled (``pipeline.second_engine``).

        The store keeps tesseract's words; evidence taken from the second reading
        carries its own boxes in the same page-image pixels, so highlights still fit.
        """
        second_document = read_again(read, self.second_reader)
        if second_document is None:
            return read, extraction, referral
        second = self._extract(second_document, self._strict_nlp())
        if second is None:
            return read, extraction, referral
        merged = reconcile(extraction, second, self.settings.rules)
        doubt_a_lost_range(extraction, merged, read.document)
        again = self._decide(read.document, merged)
        if self._confirm_second_engine_only(merged, read, again):
            again = self._decide(read.document, merged)
        read.second_engine = True
        return read, merged, again

    def _confirm_second_engine_only(
        self, merged: Extraction, read: ReadResult, referral: Referral
    ) -> bool:
        """Tesseract reads, from its spot alone, a value only the second engine read.

        A hand-written "2x per week" that tesseract lost in the whole page and PP-OCR
        read faintly is one engine's guess; tesseract giving the very same value from
        the enlarged spot makes it two engines' reading, which ``reconcile`` trusts
        elsewhere too. Tesseract's own faint values not yet read again (other reasons
        held before the second engine ran; seen: a visit count "2" at 0.45-0.60 beside a
        missing frequency PP-OCR then found) are read too, unless the second engine read
        another value surely (``reconcile`` then no longer counts them as faint). The
        spots are stacked into one tesseract run, as before the second engine: read one
        by one, a fax's two spots read better once and worse once, for twice the cost.
        Paid for only where those doubts alone keep the referral in review.
        """
        ocr = self.settings.ocr
        holds = {r.code for r in referral.decision.reasons} - {ReasonCode.PREAUTH_REQUIRED}
        own = [k for k in merged.unsure if k in merged.doubts and k not in merged.reread]
        spots = list(dict.fromkeys([*merged.second_engine_only, *own]))
        if not (
            ocr.reread_doubtful
            and referral.decision.status == "needs_review"
            and holds == _ONLY_DOUBT
            and spots
        ):
            return False
        before = len(merged.confirmed)
        settle_doubts(merged, read.images, ocr, only=spots)
        return len(merged.confirmed) > before

    def _strict_nlp(self) -> Language:
        """The extraction pipeline with PP-OCR's letter confidence as the doubt threshold.

        Its scores run higher than tesseract's (0.6 on a letter it misread), so its
        values are held to their own, stricter mark; built at a worker's warm-up (or on
        first need, outside a worker).
        """
        if self._second_nlp is None:
            ocr = self.settings.ocr
            strict = ocr.model_copy(
                update={"field_word_confidence": ocr.second_reader_word_confidence}
            )
            self._second_nlp = build_nlp(self.settings.payers, strict)
        return self._second_nlp

    def _extract(self, document: ReadDocument, nlp: Language | None = None) -> Extraction | None:
        if document.problem is not None:
            return None
        try:
            extraction = extract(nlp or self.nlp, document)
        except Exception:  # a rule bug must cost one document a review, not the batch
            log.exception("extraction failed", extra={"document": document.source.sha256})
            document.problem = DocumentProblem.CORRUPT
            document.problem_detail = "internal error while reading the text"
            return None
        if self.today and extraction.rx_date and extraction.rx_date > self.today:
            extraction.doubts.append("rx_date")  # a prescription dated in the future is misread
        return extraction

    def _unreadable(self, shown: str, problem: DocumentProblem, detail: str) -> Processed:
        return unreadable(self.settings, shown, problem, detail)


def unreadable(
    settings: Settings,
    shown: str,
    problem: DocumentProblem,
    detail: str,
    sha256: str | None = None,
) -> Processed:
    """The record of a file no stage could read: UNREADABLE_DOCUMENT, for a person."""
    document = ReadDocument(
        source=Source(path=shown, sha256=sha256, media_type=None, pages=0),
        problem=problem,
        problem_detail=detail,
    )
    referral = build_referral(document, None, settings.rules, settings.ocr.low_confidence)
    return Processed(referral=referral, read=ReadResult(document=document))


def _surely_not_billable(extraction: Extraction) -> bool:
    for mention in extraction.codes:
        facts = icd10.facts(mention.code)
        if not mention.doubtful and facts.exists and not facts.billable:
            return True
    return False


def worker_count(settings: Settings, jobs: int) -> int:
    cores = settings.workers.processes or os.cpu_count() or 1
    return max(1, min(cores, jobs))


_worker: Pipeline | None = None


def _start_worker(settings: Settings, today: date | None) -> None:
    """Each worker process builds its pipeline once; tesseract stays single-threaded."""
    global _worker
    limit_threads()
    _worker = Pipeline(settings, today)
    _worker.warm_up()


def _process_in_worker(path: str) -> Referral:
    assert _worker is not None
    return _worker.process(Path(path)).referral


def process_many(
    settings: Settings, paths: list[Path], today: date | None = None
) -> Iterator[Referral]:
    """Records in input order, files spread over one worker process per core.

    Always in worker processes, a single file too: tesseract and PP-OCR run inside
    them, and a crash of either (a segmentation fault on some image) must cost that
    file a record for review, not the batch and every record after it. When a worker
    dies, the files not yet done are read again one per fresh worker, so the one that
    kills its worker again is known and recorded as such.
    """
    workers = worker_count(settings, len(paths))
    with _pool(settings, today, workers) as pool:
        futures = [pool.submit(_process_in_worker, str(p)) for p in paths]
        for done, future in enumerate(futures):
            try:
                referral = future.result()
            except BrokenProcessPool:
                log.error("a worker died; the files left are read one by one")
                yield from _one_by_one(settings, today, paths[done:])
                return
            yield referral


def _pool(settings: Settings, today: date | None, workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=workers, initializer=_start_worker, initargs=(settings, today)
    )


def _one_by_one(settings: Settings, today: date | None, paths: list[Path]) -> Iterator[Referral]:
    for path in paths:
        with _pool(settings, today, 1) as pool:
            try:
                yield pool.submit(_process_in_worker, str(path)).result()
                continue
            except BrokenProcessPool:
                pass
        digest = _sha256(path)
        log.error("a file stopped its worker", extra={"document": digest})
        detail = "its worker process died reading it"
        yield unreadable(settings, str(path), DocumentProblem.CRASHED, detail, digest).referral


def _sha256(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
