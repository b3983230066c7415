"""Taking a file out of the inbox into the content-addressed archive, exactly once.

Order, so that a crash at any point loses nothing and duplicates nothing:
1. rename the file into ``staging/`` (same file system: atomic), named by its hash
   and keeping its original name; the inbox no longer has it;
2. record the arrival in the store (commit);
3. rename it to ``archive/<2 hex>/<sha256>`` (or drop it if those bytes are archived).
At start-up, whatever is left in staging is finished the same way.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipeline.read import sniff
from pipeline.store import Store

log = logging.getLogger("referrals.watch")

_SEPARATOR = "--"


@dataclass(frozen=True)
class Arrival:
    document_id: int
    sha256: str
    is_new: bool


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def archive_path(sha256: str) -> str:
    """Where the bytes with this hash live, relative to the data folder."""
    return f"archive/{sha256[:2]}/{sha256}"


class Archive:
    def __init__(self, data_dir: Path, store: Store) -> None:
        self.data_dir = data_dir
        self.staging = data_dir / "staging"
        self.store = store
        self.staging.mkdir(parents=True, exist_ok=True)
        (data_dir / "archive").mkdir(parents=True, exist_ok=True)

    def take(self, path: Path, source: str = "inbox") -> Arrival:
        """Move one inbox file into the archive and record it; returns its document."""
        sha256 = sha256_of(path)
        staged = self.staging / f"{sha256}{_SEPARATOR}{path.name}"
        _move(path, staged)
        return self._record(staged, sha256, path.name, source)

    def recover(self) -> list[Arrival]:
        """Finish every move a crash interrupted (files left in staging)."""
        arrivals = []
        for staged in sorted(self.staging.iterdir()):
            if staged.name.endswith(".copying"):
                staged.unlink()  # a cross-device copy cut short: the inbox still has the file
                continue
            sha256, _, name = staged.name.partition(_SEPARATOR)
            if len(sha256) != 64:
                continue
            arrivals.append(
                self._record(staged, sha256_of(staged), name or staged.name, "recovered")
            )
        return arrivals

    def absolute(self, relative: str) -> Path:
        return self.data_dir / relative

    def _record(self, staged: Path, sha256: str, name: str, source: str) -> Arrival:
        with staged.open("rb") as handle:
            media_type = sniff.media_type(handle.read(2048))
        relative = archive_path(sha256)
        document_id, is_new = self.store.record_arrival(
            sha256, name, staged.stat().st_size, media_type, relative, source=source
        )
        final = self.data_dir / relative
        if final.exists():
            staged.unlink()
        else:
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staged, final)
        log.info(
            "received" if is_new else "duplicate",
            extra={"document": document_id, "sha256": sha256, "source": source},
        )
        return Arrival(document_id, sha256, is_new)


def _move(source: Path, target: Path) -> None:
    """Atomic rename; across file systems, copy and sync first, then remove the source."""
    try:
        os.replace(source, target)
    except OSError as exc:
        if exc.errno != 18:  # EXDEV: the inbox is on another file system
            raise
        temporary = target.with_suffix(target.suffix + ".copying")
        shutil.copyfile(source, temporary)
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        source.unlink()
