"""``referrals watch``: the intake service's loop.

One main process owns the store: it watches the inbox (watchdog events plus periodic
rescans, since events get lost on network shares and during restarts), archives
each stable file, and feeds documents from the store's durable queue to a pool of
worker processes sized to the cores. Results are saved by the main process in one
transaction each. SIGTERM or Ctrl-C: take no new work, finish what is in flight.
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from datetime import timedelta
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from models.config import Settings
from pipeline.process import worker_count
from pipeline.store import Store
from pipeline.store.store import utcnow
from pipeline.watch.archive import Archive
from pipeline.watch.inbox import StabilityTracker, refusal
from pipeline.watch.work import WorkResult, process_document, start_worker, worker_ready

log = logging.getLogger("referrals.watch")

_TICK_SECONDS = 0.2
_STOP_GRACE_SECONDS = 120.0
# Intake work per turn of the loop: a burst of files must not starve the workers.
_INTAKE_SECONDS = 0.3
# Documents handed to the pool per worker: one running, one waiting, so none idles.
_QUEUED_PER_WORKER = 2


class _InboxEvents(FileSystemEventHandler):
    """Pushes every created, modified or moved-in path onto a queue for the main loop."""

    def __init__(self, paths: queue.Queue[Path]) -> None:
        self.paths = paths

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            return
        target = getattr(event, "dest_path", "") or event.src_path
        self.paths.put(Path(str(target)))


class IntakeService:
    def __init__(self, settings: Settings, store: Store) -> None:
        self.settings = settings
        self.store = store
        self.inbox = settings.inbox
        self.data_dir = settings.data_dir
        self.archive = Archive(self.data_dir, store)
        self.tracker = StabilityTracker(settings.watch)
        self.events: queue.Queue[Path] = queue.Queue()
        self.stopping = threading.Event()
        self.workers = worker_count(settings, 1_000_000)
        self._pending: set[Path] = set()
        self._refused: set[Path] = set()
        self._inflight: dict[Future[WorkResult], int] = {}
        self._next_rescan = 0.0

    def request_stop(self, *_args: object) -> None:
        self.stopping.set()

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.request_stop)
        signal.signal(signal.SIGINT, self.request_stop)

    def run(self) -> None:
        self.inbox.mkdir(parents=True, exist_ok=True)
        recovered = self.archive.recover()
        requeued = self.store.requeue_interrupted()
        log.info(
            "service starting",
            extra={"recovered": len(recovered), "requeued": requeued, "workers": self.workers},
        )
        observer = self._observer()
        pool = self._pool()
        log.info("service ready", extra={"workers": self.workers})
        try:
            while not self.stopping.is_set():
                self._take_stable_files()
                pool = self._dispatch(pool)
                self._collect(timeout=_TICK_SECONDS)
            log.info("service stopping", extra={"in_flight": len(self._inflight)})
            self._collect(timeout=_STOP_GRACE_SECONDS, until_empty=True)
        finally:
            observer.stop()
            observer.join(timeout=5)
            pool.shutdown(wait=True, cancel_futures=True)
        log.info("service stopped")

    def _observer(self):
        watch = self.settings.watch
        observer = PollingObserver(timeout=watch.poll_seconds) if watch.polling else Observer()
        observer.schedule(_InboxEvents(self.events), str(self.inbox), recursive=False)
        observer.start()
        return observer

    def _pool(self) -> ProcessPoolExecutor:
        """A pool whose workers are started now: the executor would otherwise start them
        on the first document, and a burst would wait for spaCy and the code table."""
        pool = ProcessPoolExecutor(
            max_workers=self.workers, initializer=start_worker, initargs=(self.settings,)
        )
        wait([pool.submit(worker_ready) for _ in range(self.workers)])
        return pool

    def _take_stable_files(self) -> None:
        now = time.monotonic()
        if now >= self._next_rescan:
            self._pending.update(p for p in self.inbox.iterdir())
            self._next_rescan = now + self.settings.watch.rescan_seconds
        while True:
            try:
                self._pending.add(self.events.get_nowait())
            except queue.Empty:
                break
        budget_end = time.monotonic() + _INTAKE_SECONDS
        for path in sorted(self._pending):
            if self.stopping.is_set() or time.monotonic() > budget_end:
                return
            self._consider(path)

    def _consider(self, path: Path) -> None:
        if path.parent != self.inbox or not path.exists():
            self._pending.discard(path)
            self.tracker.forget(path)
            return
        why = refusal(path)
        if why is not None:
            if path not in self._refused:
                log.info("left in inbox", extra={"reason": why.value})
                self._refused.add(path)
            self._pending.discard(path)
            return
        if not self.tracker.ready(path):
            return
        try:
            self.archive.take(path)
        except FileNotFoundError:
            pass  # taken away by someone else between the check and the move
        except OSError:
            log.exception("could not archive a file; will try again")
            return
        self._pending.discard(path)
        self.tracker.forget(path)

    def _dispatch(self, pool: ProcessPoolExecutor) -> ProcessPoolExecutor:
        free = self.workers * _QUEUED_PER_WORKER - len(self._inflight)
        if free <= 0 or self.stopping.is_set():
            return pool
        for job in self.store.claim_next(free):
            arguments = (
                job.id,
                str(self.archive.absolute(job.archive_path)),
                job.original_name,
                job.sha256,
                str(self.data_dir),
            )
            try:
                future = pool.submit(process_document, *arguments)
            except BrokenProcessPool:  # a worker died (OOM, kill): start a fresh pool
                pool = self._pool()
                future = pool.submit(process_document, *arguments)
            self._inflight[future] = job.id
        return pool

    def _collect(self, timeout: float, until_empty: bool = False) -> None:
        deadline = time.monotonic() + timeout
        while self._inflight:
            remaining = max(0.0, deadline - time.monotonic())
            done, _ = wait(list(self._inflight), timeout=remaining, return_when=FIRST_COMPLETED)
            for future in done:
                self._save(future, self._inflight.pop(future))
            if not until_empty or time.monotonic() >= deadline:
                return

    def _save(self, future: Future[WorkResult], document_id: int) -> None:
        try:
            result = future.result()
        except Exception as exc:  # a worker crash or a bug: retry, then quarantine
            self._failed(document_id, exc)
            return
        self.store.save_result(document_id, result.referral, result.pages, result.image_paths)
        log.info(
            "decided", extra={"document": document_id, "status": result.referral.decision.status}
        )

    def _failed(self, document_id: int, exc: BaseException) -> None:
        watch = self.settings.watch
        error = f"{type(exc).__name__}: {exc}"[:500]
        info = self.store.document(document_id)
        delay = watch.retry_seconds * 2 ** (info.attempts if info else 0)
        attempts = self.store.fail(document_id, error, utcnow() + timedelta(seconds=delay))
        if attempts >= watch.max_attempts:
            self.store.quarantine(document_id, error)
            log.error("quarantined", extra={"document": document_id, "error": type(exc).__name__})
            return
        log.warning("will retry", extra={"document": document_id, "attempts": attempts})
