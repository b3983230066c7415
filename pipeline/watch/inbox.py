"""Which inbox files to take, and when: the filter and the stability tracker.

A fax service or a network copy writes slowly; a file is taken only when its size and
modification time have held still for ``settle_seconds`` and it parses as what it
claims to be. Temporary and hidden names are ignored; links, FIFOs and devices refused.
"""

from __future__ import annotations

import io
import stat
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from models.config import WatchSettings
from pipeline.read import sniff

_TEMPORARY_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial", ".filepart", ".swp")


class Refusal(StrEnum):
    """Why an inbox entry is not taken (the watcher logs it once, by name hash)."""

    HIDDEN = "hidden or temporary name"
    LINK = "symbolic link"
    SPECIAL = "not a regular file (FIFO, device or socket)"
    FOLDER = "folder"


def refusal(path: Path) -> Refusal | None:
    """None when the entry may be a referral; otherwise why it is left alone."""
    name = path.name
    if name.startswith((".", "~$")) or name.lower().endswith(_TEMPORARY_SUFFIXES):
        return Refusal.HIDDEN
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return Refusal.HIDDEN
    if stat.S_ISLNK(mode):
        return Refusal.LINK
    if stat.S_ISDIR(mode):
        return Refusal.FOLDER
    if not stat.S_ISREG(mode):
        return Refusal.SPECIAL
    return None


def is_complete(path: Path) -> bool:
    """Whether the file parses as the type its first bytes claim (a PDF with its end, a
    TIFF whose pages decode, an e-mail that parses); unknown types are judged by size."""
    try:
        data = path.read_bytes()
    except OSError:
        return False
    kind = sniff.media_type(data[:2048]) if data else None
    try:
        if kind == sniff.PDF:
            return b"%%EOF" in data[-2048:]
        if kind in (sniff.TIFF, sniff.PNG, sniff.JPEG):
            return _image_decodes(data)
        if kind == sniff.EMAIL:
            return _email_parses(data)
    except Exception:  # any parser failure means "not yet complete"
        return False
    return bool(data)


def _image_decodes(data: bytes) -> bool:
    from PIL import Image, ImageSequence

    with Image.open(io.BytesIO(data)) as image:
        if image.width * image.height > 400_000_000:
            return True  # too large to check here; the read stage refuses it with a reason
        for frame in ImageSequence.Iterator(image):
            frame.load()
    return True


def _email_parses(data: bytes) -> bool:
    from email import policy
    from email.parser import BytesParser

    message = BytesParser(policy=policy.default).parsebytes(data)
    return message.get("From") is not None or message.get("Date") is not None


@dataclass
class _Seen:
    size: int
    mtime: float
    since: float
    first_seen: float
    checks: int = 0
    next_check: float = 0.0


@dataclass
class StabilityTracker:
    """Remembers each candidate's size and time; says when it is ready to take."""

    settings: WatchSettings
    clock: callable = time.monotonic
    _seen: dict[Path, _Seen] = field(default_factory=dict)

    def ready(self, path: Path) -> bool:
        """True once unchanged for the settle time and complete, or given up waiting.

        A file that never parses (a truncated PDF) is still taken after
        ``incomplete_give_up_seconds``: kept and recorded as unreadable, never lost.
        """
        now = self.clock()
        try:
            info = path.stat()
        except FileNotFoundError:
            self._seen.pop(path, None)
            return False
        seen = self._seen.get(path)
        if seen is None or (seen.size, seen.mtime) != (info.st_size, info.st_mtime):
            first = seen.first_seen if seen else now
            self._seen[path] = _Seen(info.st_size, info.st_mtime, now, first)
            return False
        if now - seen.since < self.settings.settle_seconds or now < seen.next_check:
            return False
        if is_complete(path) or now - seen.first_seen >= self.settings.incomplete_give_up_seconds:
            return True
        seen.checks += 1
        seen.next_check = now + min(30.0, self.settings.poll_seconds * 2**seen.checks)
        return False

    def forget(self, path: Path) -> None:
        self._seen.pop(path, None)

    def tracked(self) -> list[Path]:
        return list(self._seen)
