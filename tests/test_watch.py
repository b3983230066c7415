"""The intake service for real: ``referrals watch`` on a real folder, a real store.

Each test runs the service as its own process (as the clinic would), drops files
into its inbox, and checks the store and the folders afterwards, on SQLite and on
PostgreSQL.
"""

from __future__ import annotations

import hashlib
import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from reportlab.pdfgen import canvas

from pipeline.store import Store
from pipeline.store.settings import sqlite_url
from pipeline.watch.inbox import Refusal, refusal
from tests.conftest import PROJECT

pytest_plugins = ["tests.postgres"]

FIRST = ["Ann", "Ben", "Cruz", "Dana", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jae"]
LAST = ["Lee", "Moss", "Nunez", "Okoro", "Park", "Quinn", "Rossi", "Sato", "Tran", "Udall"]


def referral_pdf(index: int) -> bytes:
    """A small text-layer referral, different for every index (synthetic people only)."""
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    name = f"{FIRST[index % 10]} {LAST[(index // 10) % 10]}"
    lines = [
        f"Patient: {name}  DOB: 01/{index % 28 + 1:02d}/1980",
        "Diagnosis: S39.012A low back strain",
        "Medical massage 2x/week for 6 weeks",
        "Prescriber: Alan Park, MD  NPI 1234567893",
        f"Reference {index}",
    ]
    for i, line in enumerate(lines):
        page.drawString(72, 720 - 20 * i, line)
    page.save()
    return buffer.getvalue()


class Service:
    """A ``referrals watch`` process with its own folder, config and store."""

    def __init__(self, folder: Path, url: str) -> None:
        self.folder = folder
        self.url = url
        self.inbox = folder / "inbox"
        self.config = folder / "config.toml"
        project = (PROJECT / "config.toml").read_text()
        fast = "\n[store]\n" if "[store]" not in project else ""
        text = (
            project.replace("[store]\n", f'[store]\nurl = "{url}"\n')
            .replace("settle_seconds = 2.0", "settle_seconds = 0.5")
            .replace("rescan_seconds = 30.0", "rescan_seconds = 1.0")
            .replace("poll_seconds = 1.0", "poll_seconds = 0.2")
            .replace("incomplete_give_up_seconds = 120.0", "incomplete_give_up_seconds = 6.0")
        )
        self.config.write_text(text + fast)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = (self.folder / "service.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "--config", str(self.config), "--log-json", "watch"],
            stdout=log,
            stderr=log,
            start_new_session=True,
        )

    def kill_hard(self) -> None:
        """kill -9 of the service and its workers, as a power cut or OOM kill would."""
        assert self.process
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> int:
        assert self.process
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=180)

    def store(self) -> Store:
        return Store.open(self.url)

    def wait_for(self, documents: int, timeout: float = 240) -> dict:
        deadline = time.monotonic() + timeout
        with self.store() as store:
            while time.monotonic() < deadline:
                counts = store.counts()
                if counts["documents"] >= documents and counts["pending"] == 0:
                    return counts
                assert self.process and self.process.poll() is None, self.log()
                time.sleep(0.3)
        raise AssertionError(f"timed out: {counts}\n{self.log()}")

    def log(self) -> str:
        return (self.folder / "service.log").read_text()[-4000:]


@pytest.fixture(params=["sqlite", "postgresql"])
def service(request, tmp_path) -> Iterator[Service]:
    if request.param == "sqlite":
        url = sqlite_url(tmp_path / "data" / "referrals.sqlite3")
    else:
        url = request.getfixturevalue("postgres_database")
    running = Service(tmp_path, url)
    yield running
    if running.process and running.process.poll() is None:
        running.kill_hard()


def _exported_hashes(service: Service) -> list[str]:
    with service.store() as store:
        return [record["source"]["sha256"] for record in store.export()]


def test_file_written_slowly_is_read_once_complete(service) -> None:
    service.start()
    data = referral_pdf(1)
    target = service.inbox / "slow-fax.pdf"
    service.inbox.mkdir(exist_ok=True)
    with target.open("wb") as handle:
        for start in range(0, len(data), len(data) // 5 + 1):
            handle.write(data[start : start + len(data) // 5 + 1])
            handle.flush()
            time.sleep(0.4)
    service.wait_for(1)
    with service.store() as store:
        records = list(store.export())
    assert len(records) == 1
    assert records[0]["source"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert [d["code"] for d in records[0]["diagnoses"]] == ["S39.012A"]  # read complete
    assert not any(service.inbox.iterdir())
    assert service.stop() == 0


def test_burst_of_300_files_each_processed_once(service) -> None:
    staging = service.folder / "outgoing"
    staging.mkdir()
    hashes = set()
    for index in range(300):
        data = referral_pdf(index)
        hashes.add(hashlib.sha256(data).hexdigest())
        (staging / f"fax-{index:03d}.pdf").write_bytes(data)
    service.inbox.mkdir(exist_ok=True)
    service.start()
    for path in staging.iterdir():
        path.rename(service.inbox / path.name)
    counts = service.wait_for(300, timeout=600)
    assert counts["documents"] == 300
    exported = _exported_hashes(service)
    assert sorted(exported) == sorted(hashes)
    assert not any(service.inbox.iterdir())
    archived = list((service.folder / "data" / "archive").rglob("*"))
    assert len([p for p in archived if p.is_file()]) == 300
    assert service.stop() == 0


def test_duplicate_is_one_document_with_two_arrivals(service) -> None:
    service.start()
    service.inbox.mkdir(exist_ok=True)
    data = referral_pdf(7)
    (service.inbox / "first.pdf").write_bytes(data)
    service.wait_for(1)
    (service.inbox / "again.pdf").write_bytes(data)
    deadline = time.monotonic() + 60
    with service.store() as store:
        while time.monotonic() < deadline:
            actions = [entry.action for entry in store.audit(1)]
            if "duplicate" in actions:
                break
            time.sleep(0.3)
        assert "duplicate" in actions
        assert store.counts()["documents"] == 1
    assert not any(service.inbox.iterdir())
    assert service.stop() == 0


def test_unreadable_file_is_kept_and_listed(service) -> None:
    service.start()
    service.inbox.mkdir(exist_ok=True)
    garbage = b"%PDF-1.4\n" + os.urandom(3000)  # claims to be a PDF, never completes
    (service.inbox / "broken.pdf").write_bytes(garbage)
    service.wait_for(1, timeout=120)
    with service.store() as store:
        queue = store.review_queue()
        assert [item.reasons for item in queue] == [["UNREADABLE_DOCUMENT"]]
        stored = store.get(queue[0].id)
    archived = service.folder / "data" / stored.document.archive_path
    assert archived.read_bytes() == garbage
    assert service.stop() == 0


def test_kill_9_mid_batch_then_restart_processes_each_exactly_once(service) -> None:
    service.inbox.mkdir(exist_ok=True)
    hashes = set()
    for index in range(60):
        data = referral_pdf(1000 + index)
        hashes.add(hashlib.sha256(data).hexdigest())
        (service.inbox / f"batch-{index:02d}.pdf").write_bytes(data)
    service.start()
    with service.store() as store:
        deadline = time.monotonic() + 120
        while store.counts()["accepted"] < 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert store.counts()["accepted"] < 60, "killed too late to test anything"
    service.kill_hard()
    service.start()
    service.wait_for(60, timeout=300)
    exported = _exported_hashes(service)
    assert len(exported) == 60 and set(exported) == hashes
    assert not any(service.inbox.iterdir())
    assert not any((service.folder / "data" / "staging").iterdir())
    assert service.stop() == 0


def test_clean_stop_leaves_nothing_half_done(service) -> None:
    service.inbox.mkdir(exist_ok=True)
    for index in range(30):
        (service.inbox / f"doc-{index}.pdf").write_bytes(referral_pdf(2000 + index))
    service.start()
    with service.store() as store:
        deadline = time.monotonic() + 120
        while store.counts()["documents"] < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
    assert service.stop() == 0
    with service.store() as store:
        states = [store.document(i).state for i in range(1, store.counts()["documents"] + 1)]
    assert "processing" not in [str(s) for s in states]
    assert '"service stopped"' in service.log()
    service.start()
    service.wait_for(30)
    assert len(_exported_hashes(service)) == 30
    assert service.stop() == 0


def test_links_fifos_and_temporary_names_are_refused(tmp_path) -> None:
    inbox = tmp_path
    (inbox / "real.pdf").write_bytes(b"%PDF-1.4")
    (inbox / ".hidden.pdf").write_bytes(b"x")
    (inbox / "upload.pdf.part").write_bytes(b"x")
    (inbox / "~$lock.pdf").write_bytes(b"x")
    (inbox / "link.pdf").symlink_to(inbox / "real.pdf")
    os.mkfifo(inbox / "pipe.pdf")
    assert refusal(inbox / "real.pdf") is None
    assert refusal(inbox / ".hidden.pdf") is Refusal.HIDDEN
    assert refusal(inbox / "upload.pdf.part") is Refusal.HIDDEN
    assert refusal(inbox / "~$lock.pdf") is Refusal.HIDDEN
    assert refusal(inbox / "link.pdf") is Refusal.LINK
    assert refusal(inbox / "pipe.pdf") is Refusal.SPECIAL
