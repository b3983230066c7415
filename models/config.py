"""The service's settings, as read once from ``config.toml`` and passed down.

Validation happens here so that a bad key or value stops the program at start-up
with a message naming it, instead of failing deep inside a worker hours later.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.referral import Category, PayerKind


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PathSettings(Section):
    """Folders and files; relative paths are resolved against the config file's folder."""

    inbox: Path = Path("inbox")
    data_dir: Path = Path("data")


class OcrSettings(Section):
    tesseract_cmd: str = "tesseract"
    tesseract_engine: Literal["library", "program"] = Field(
        default="library",
        description="library: libtesseract in each worker (tesserocr), loaded once; "
        "program: one tesseract process a page (slower; used when tesserocr is missing)",
    )
    languages: str = "eng"
    page_segmentation_mode: int = Field(default=3, ge=0, le=13)
    page_timeout_seconds: float = Field(default=90, gt=0)
    target_dpi: int = Field(default=300, ge=100, le=600)
    upscale_filter: Literal["bilinear", "bicubic", "lanczos"] = "lanczos"
    pdf_render_dpi: int = Field(default=300, ge=72, le=600)
    max_page_pixels: int = Field(default=60_000_000, gt=0)
    max_pages: int = Field(default=50, ge=1)
    upright_confidence: float = Field(default=0.55, ge=0, le=1)
    deskew: bool = Field(default=True, description="level pages photographed or scanned aslant")
    deskew_max_degrees: float = Field(default=8.0, ge=1, le=20)
    deskew_min_degrees: float = Field(
        default=2.0, ge=0, le=5, description="a slant tesseract reads through is left alone"
    )
    low_confidence: float = Field(default=0.60, ge=0, le=1)
    field_word_confidence: float = Field(default=0.45, ge=0, le=1)
    field_number_confidence: float = Field(
        default=0.60,
        ge=0,
        le=1,
        description="a frequency, duration or visit count whose number was read below this "
        "is doubted: the number is the whole value (tesseract read a typed 1 as 3 at 0.50)",
    )
    recover_lost_lines: bool = Field(
        default=True,
        description="read again the letter-sized ink no word of the page's reading covers",
    )
    reread_doubtful: bool = Field(
        default=True, description="read low-confidence codes and timings a second time"
    )
    second_look_for_codes: bool = Field(
        default=False,
        description="read OCR'd diagnosis blocks again when no reimbursable code was found",
    )
    second_reader: bool = Field(
        default=True,
        description="read an OCR'd page again with PP-OCR when tesseract's reading is not accepted",
    )
    second_reader_max_side: int = Field(default=1024, ge=640, le=4000)
    second_reader_trusts: float = Field(
        default=0.80,
        ge=0,
        le=1,
        description="a line tesseract read with every word this sure is not read again",
    )
    second_reader_word_confidence: float = Field(
        default=0.60,
        ge=0,
        le=1,
        description="a value PP-OCR read with a letter below this is doubted, never filled in",
    )
    min_text_characters: int = Field(default=25, ge=1)


class PayerEntry(Section):
    """One payer the clinic bills: its name on records, its kind and how documents write it."""

    name: str
    kind: PayerKind
    aliases: list[str] = Field(default_factory=list)
    preauth: bool = False


class RuleSettings(Section):
    reimbursable_categories: list[Category] = Field(
        default_factory=lambda: ["sprain", "strain", "tear", "pain"]
    )
    candidate_chapters: list[str] = Field(default_factory=lambda: ["M", "S"])
    candidate_prefixes: list[str] = Field(default_factory=lambda: ["G89", "R52"])

    @field_validator("reimbursable_categories")
    @classmethod
    def _unique(cls, categories: list[Category]) -> list[Category]:
        if len(set(categories)) != len(categories):
            raise ValueError("categories are listed twice")
        return categories


class StoreSettings(Section):
    """``url`` picks a database server (``postgresql+psycopg://user:pw@host/db``).

    Unset means SQLite: the file ``sqlite_path`` (default ``referrals.sqlite3`` in the
    data folder), so a copied ``config.toml`` keeps everything inside its own folder.
    """

    url: str | None = None
    sqlite_path: Path | None = None


class WorkerSettings(Section):
    processes: int = Field(default=0, ge=0, description="0 means one per core")


class WatchSettings(Section):
    """How the drop folder is watched and how long a file must sit still before it is taken."""

    polling: bool = Field(default=False, description="poll instead of file events (network shares)")
    poll_seconds: float = Field(default=1.0, gt=0)
    settle_seconds: float = Field(default=2.0, ge=0)
    rescan_seconds: float = Field(default=30.0, gt=0)
    incomplete_give_up_seconds: float = Field(default=120.0, gt=0)
    max_attempts: int = Field(default=3, ge=1)
    retry_seconds: float = Field(default=10.0, gt=0)


class LogSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_lines: bool = False


class ReportSettings(Section):
    """The daily report of rejected referrals (``referrals report``) and its e-mail delivery.

    The report is written each day at ``at`` (clinic time) for the day before. E-mail is
    sent when ``smtp_host`` and ``recipients`` are set; the SMTP password is read from the
    environment variable named by ``smtp_password_env``, never from this file.
    """

    timezone: str = "America/Los_Angeles"
    at: time = time(6, 30)
    out_dir: Path | None = Field(default=None, description="default: data folder / reports")
    pdf: bool = False
    catch_up_days: int = Field(default=14, ge=1, description="most missed days written at once")
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_user: str | None = None
    smtp_password_env: str = "REFERRALS_SMTP_PASSWORD"
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    sender: str = "referrals@localhost"
    recipients: list[str] = Field(default_factory=list)
    send_attempts: int = Field(default=3, ge=1)
    retry_seconds: float = Field(default=30.0, ge=0, description="first back-off; doubles")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {name!r}") from exc
        return name

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host and self.recipients)


class Settings(Section):
    """Everything the program reads from ``config.toml``."""

    paths: PathSettings = Field(default_factory=PathSettings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    rules: RuleSettings = Field(default_factory=RuleSettings)
    payers: list[PayerEntry] = Field(default_factory=list)
    store: StoreSettings = Field(default_factory=StoreSettings)
    watch: WatchSettings = Field(default_factory=WatchSettings)
    workers: WorkerSettings = Field(default_factory=WorkerSettings)
    logging: LogSettings = Field(default_factory=LogSettings)
    report: ReportSettings = Field(default_factory=ReportSettings)
    base_dir: Path = Path(".")

    def resolve(self, path: Path) -> Path:
        """A configured path made absolute against the config file's folder."""
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    @property
    def inbox(self) -> Path:
        return self.resolve(self.paths.inbox)

    @property
    def data_dir(self) -> Path:
        return self.resolve(self.paths.data_dir)

    def database_url(self) -> str:
        """The store's SQLAlchemy URL: the configured server, else the SQLite file."""
        if self.store.url:
            return self.store.url
        path = self.resolve(self.store.sqlite_path or self.paths.data_dir / "referrals.sqlite3")
        return f"sqlite:///{path}"
