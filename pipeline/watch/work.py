"""The work done in worker processes: the pipeline on one archived file.

Workers never touch the store: they return the record and the page words, and write
only the page images (idempotently, by hash). The service saves the result in one
transaction, so a crash at any moment leaves the document queued, never half-saved.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from pathlib import Path

from models.config import Settings
from models.document import PageText
from models.referral import Referral
from pipeline.process import Pipeline
from pipeline.read.pdf import render_page
from pipeline.read.sniff import PDF
from pipeline.read.tesseract import limit_threads


@dataclass
class WorkResult:
    document_id: int
    referral: Referral
    pages: list[PageText]
    image_paths: dict[int, str]


_pipeline: Pipeline | None = None


def start_worker(settings: Settings) -> None:
    """Build the pipeline once per process; Ctrl-C is the service's to handle, not ours."""
    global _pipeline
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit_threads()
    _pipeline = Pipeline(settings)
    _pipeline.warm_up()


def worker_ready() -> bool:
    """A no-op task: submitting one per worker makes the pool start them all."""
    return _pipeline is not None


def process_document(
    document_id: int, archived: str, original_name: str, sha256: str, data_dir: str
) -> WorkResult:
    assert _pipeline is not None, "start_worker was not run in this process"
    processed = _pipeline.process(Path(archived), display_path=original_name)
    images = dict(processed.read.images)
    document = processed.read.document
    if document.source.media_type == PDF:
        _render_text_pages(Path(archived), document.pages, images, _pipeline)
    folder = Path(data_dir) / "pages" / sha256[:2] / sha256
    folder.mkdir(parents=True, exist_ok=True)
    image_paths = {}
    for number, image in images.items():
        target = folder / f"{number}.jpg"
        staged = target.with_suffix(".tmp.jpg")
        _for_display(image).save(staged, quality=_DISPLAY_QUALITY)
        staged.replace(target)
        image_paths[number] = str(target.relative_to(data_dir))
    return WorkResult(document_id, processed.referral, document.pages, image_paths)


_DISPLAY_WIDTH = 1700
# JPEG, not PNG: measured on a 300 dpi page, 0.016 s to write instead of 0.05-0.12 s,
# and 0.3-0.45 MB instead of 0.26-1.3 MB for the review page to load; text stays crisp.
_DISPLAY_QUALITY = 90


def _for_display(image):
    """Half resolution is plenty on a screen and saves a second a page of image work.

    Boxes stay in the pipeline's pixels: the review page places them in percentages
    of the stored page size, so they land on the same spot of the smaller picture.
    """
    if image.width <= _DISPLAY_WIDTH:
        return image
    return image.reduce(2)


def _render_text_pages(path: Path, pages: list[PageText], images: dict, pipeline: Pipeline) -> None:
    """Text-layer pages need a picture too, for staff to see the fax beside the fields."""
    data = path.read_bytes()
    for page in pages:
        if page.number not in images and page.method == "text" and page.width:
            try:
                images[page.number] = render_page(data, page.number - 1, pipeline.settings.ocr)
            except Exception:  # a page picture is a convenience; the record stands without it
                continue
