"""The store on both backends: a SQLite file and a real PostgreSQL server (tests/postgres.py)."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from pydantic import ValidationError
from sqlalchemy import func, inspect, make_url, select, text

from models.document import PageProblem, PageText, Word
from models.referral import (
    REASON_TEXT,
    Decision,
    Diagnosis,
    Duration,
    Evidence,
    Frequency,
    PageReport,
    Patient,
    Payer,
    Prescriber,
    Reason,
    ReasonCode,
    Referral,
    Source,
)
from pipeline.store import DocumentState, NotFound, ReviewState, Store, migrate
from pipeline.store import store as store_module
from pipeline.store.schema import ArrivalRow, Base, PageRow, ReferralRow
from pipeline.store.settings import sqlite_url
from tests.conftest import PROJECT, assert_valid_record

pytest_plugins = ["tests.postgres"]  # postgres_url, postgres_database

TABLES = {"documents", "arrivals", "referrals", "pages", "audit_log", "users"}
START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


class Clock:
    """Ticks one second per reading, so every event has its own time; thread-safe."""

    def __init__(self) -> None:
        self.now = START
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            self.now += timedelta(seconds=1)
            return self.now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self.now += delta


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path / "data" / "referrals.sqlite3")
    return request.getfixturevalue("postgres_database")


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(url: str, clock: Clock) -> Iterator[Store]:
    with Store.open(url, clock=clock) as opened:
        yield opened


def sha(n: int | str) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()


def arrive(store: Store, n: int | str, name: str | None = None) -> int:
    digest = sha(n)
    document_id, _ = store.record_arrival(
        digest, name or f"fax-{n}.tif", 2048, "image/tiff", f"archive/{digest[:2]}/{digest}.tif"
    )
    return document_id


def referral(
    status: str = "accepted",
    reasons: tuple[str, ...] = (),
    name: str | None = "Maria Lopez",
    dob: str | None = "1981-04-02",
    payer: str | None = "Regence",
    codes: tuple[str, ...] = ("S39.012A",),
) -> Referral:
    return Referral(
        source=Source(path="inbox/fax.tif", sha256=sha(0), media_type="image/tiff", pages=1),
        pages=[PageReport(number=1, method="ocr", ocr_confidence=0.91, rotation=180)],
        patient=Patient(name=name, dob=dob),
        prescriber=Prescriber(name="Alan Park", credentials="MD", npi="1234567893"),
        rx_date="2026-11-18",
        payer=Payer(name=payer, kind="commercial" if payer else None),
        diagnoses=[
            Diagnosis(
                code=code,
                description="Strain of muscle, fascia and tendon of lower back",
                billable=True,
                category="strain",
                reimbursable=True,
                evidence=Evidence(page=1, text=code, bbox=(412, 880, 530, 906)),
            )
            for code in codes
        ],
        frequency=Frequency(count=2, period=1, period_unit="wk", text="2x/wk"),
        duration=Duration(value=6, unit="wk", text="x 6 weeks"),
        decision=Decision(
            status=status,
            reasons=[Reason(code=code, message=REASON_TEXT[ReasonCode(code)]) for code in reasons],
        ),
    )


def pages(count: int = 2) -> list[PageText]:
    words = [
        Word(text="S39.0l2A", bbox=(412, 880, 530, 906), confidence=0.71, line=3),
        Word(text="Lopez", bbox=(100, 200, 180, 230), confidence=0.93, line=1),
    ]
    return [
        PageText(
            number=number,
            method="ocr",
            width=1700,
            height=2200,
            rotation=180,
            confidence=0.91,
            words=words,
            problem=PageProblem.OCR_TIMEOUT if number == 2 else None,
        )
        for number in range(1, count + 1)
    ]


def decide(store: Store, n: int, result: Referral) -> int:
    document_id = arrive(store, n)
    store.save_result(document_id, result, pages(1), {1: f"pages/{document_id}-1.png"})
    return document_id


def rows(store: Store, model, **where) -> int:
    query = select(func.count()).select_from(model).filter_by(**where)
    with store.engine.connect() as connection:
        return connection.execute(query).scalar_one()


def actions(store: Store, document_id: int) -> list[str]:
    return [entry.action for entry in store.audit(document_id)]


def state(store: Store, document_id: int) -> DocumentState:
    info = store.document(document_id)
    assert info is not None
    return info.state


# -- schema and migrations --------------------------------------------------------------


def test_migrations_create_the_tables_and_match_the_models(url: str) -> None:
    Store.open(url).close()
    with Store.open(url) as store:  # a second start finds the schema at head
        inspector = inspect(store.engine)
        assert set(inspector.get_table_names()) >= TABLES
        columns = {column["name"] for column in inspector.get_columns("documents")}
        assert {"sha256", "state", "attempts", "next_attempt_at", "archive_path"} <= columns
        assert migrate.current(store.engine) == "0001_initial"
        with store.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            versions = connection.execute(text("SELECT count(*) FROM alembic_version"))
            assert versions.scalar_one() == 1


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:
    with Store.open(sqlite_url(tmp_path / "new" / "folder" / "db.sqlite3")) as store:
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
        assert store.backend == "sqlite"
        assert store.health()


def _open_with_the_others(url: str, ready: multiprocessing.synchronize.Barrier) -> None:
    ready.wait(timeout=30)
    Store.open(url).close()


def test_processes_creating_one_sqlite_file_at_the_same_moment_all_open_it(tmp_path) -> None:
    """Switching a new file to WAL does not wait for another process's lock (engine.py):
    without the retry, about one process in six here failed with "database is locked"."""
    fork = multiprocessing.get_context("fork")
    for round_ in range(20):
        url = sqlite_url(tmp_path / str(round_) / "referrals.sqlite3")
        ready = fork.Barrier(2)
        starts = [fork.Process(target=_open_with_the_others, args=(url, ready)) for _ in range(2)]
        for process in starts:
            process.start()
        for process in starts:
            process.join(timeout=60)
        assert [process.exitcode for process in starts] == [0, 0], f"round {round_}"
        with Store(url) as store:
            assert migrate.current(store.engine) == "0001_initial"


def test_processes_starting_together_migrate_once(url: str) -> None:
    program = "import sys; from pipeline.store import Store; Store.open(sys.argv[1]).close()"
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", program, url], cwd=PROJECT, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    for process in starts:
        _, errors = process.communicate(timeout=60)
        assert process.returncode == 0, errors
    with Store(url) as store:
        assert set(inspect(store.engine).get_table_names()) >= TABLES
        assert migrate.current(store.engine) == "0001_initial"


def test_times_come_back_aware_and_in_utc(store: Store) -> None:
    document_id = arrive(store, 1)
    later = datetime(2026, 11, 21, 3, 0, tzinfo=UTC).astimezone(datetime.now().astimezone().tzinfo)
    store.fail(document_id, "tesseract timed out", later)
    info = store.document(document_id)
    assert info.received_at.tzinfo is UTC and info.received_at > START
    assert info.next_attempt_at == later and info.next_attempt_at.tzinfo is UTC


# -- arrivals ---------------------------------------------------------------------------


def test_same_bytes_again_is_an_arrival_not_a_document(store: Store) -> None:
    first = store.record_arrival(sha(1), "fax-1.tif", 2048, "image/tiff", "archive/a.tif")
    again = store.record_arrival(sha(1), "fax-1 (copy).tif", 2048, "image/tiff", "archive/a.tif")
    other = store.record_arrival(sha(2), "fax-2.tif", 10, None, "archive/b", source="email")
    assert first == (first[0], True)
    assert again == (first[0], False)
    assert other[1] is True and other[0] != first[0]
    assert rows(store, ArrivalRow, document_id=first[0]) == 2
    assert actions(store, first[0]) == ["received", "duplicate"]
    assert store.counts()["documents"] == 2
    info = store.document(first[0])
    assert info.original_name == "fax-1.tif" and info.state == DocumentState.QUEUED
    assert store.document(other[0]).source == "email"


def test_concurrent_arrivals_of_the_same_bytes_make_one_document(url: str, clock: Clock) -> None:
    threads = 8
    barrier = threading.Barrier(threads)
    results: list[tuple[int, bool]] = []
    stores = [Store.open(url, clock=clock), Store(url, clock=clock)]  # two pools, two engines

    def arrive_at_once(index: int) -> None:
        barrier.wait()
        results.append(
            stores[index % 2].record_arrival(sha("same"), f"copy-{index}.tif", 1, None, "a")
        )

    workers = [threading.Thread(target=arrive_at_once, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    try:
        assert len(results) == threads
        assert len({document_id for document_id, _ in results}) == 1
        assert sum(is_new for _, is_new in results) == 1
        document_id = results[0][0]
        assert stores[0].counts()["documents"] == 1
        assert rows(stores[0], ArrivalRow, document_id=document_id) == threads
        assert sorted(actions(stores[0], document_id)) == ["duplicate"] * 7 + ["received"]
    finally:
        for opened in stores:
            opened.close()


# -- the work queue ---------------------------------------------------------------------


def test_claims_take_the_oldest_due_documents(store: Store) -> None:
    ids = [arrive(store, n) for n in range(3)]
    first = store.claim_next(2)
    assert [job.id for job in first] == ids[:2]
    assert first[0].sha256 == sha(0) and first[0].original_name == "fax-0.tif"
    assert first[0].archive_path.startswith("archive/") and first[0].attempts == 0
    assert {state(store, i) for i in ids[:2]} == {DocumentState.PROCESSING}
    assert [job.id for job in store.claim_next(5)] == ids[2:]
    assert store.claim_next(5) == []
    assert store.claim_next(0) == []


def test_concurrent_claimers_never_share_a_document(url: str, clock: Clock) -> None:
    with Store.open(url, clock=clock) as seed:
        ids = {arrive(seed, n) for n in range(30)}
    stores = [Store(url, clock=clock), Store(url, clock=clock)]  # like two processes
    claimed: list[int] = []
    barrier = threading.Barrier(6)

    def claim_until_empty(claimer: Store) -> None:
        barrier.wait()
        while jobs := claimer.claim_next(2):
            claimed.extend(job.id for job in jobs)

    workers = [threading.Thread(target=claim_until_empty, args=(stores[i % 2],)) for i in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    try:
        assert sorted(claimed) == sorted(ids)  # every document once, none twice
        assert stores[0].counts()["pending"] == 30
    finally:
        for opened in stores:
            opened.close()


def test_postgres_claims_skip_rows_another_connection_holds(postgres_database: str) -> None:
    with Store.open(postgres_database) as store:
        ids = [arrive(store, n) for n in range(3)]
        libpq = make_url(postgres_database).set(drivername="postgresql")
        with psycopg.connect(libpq.render_as_string(hide_password=False)) as other:
            other.execute("SELECT id FROM documents WHERE id = %s FOR UPDATE", (ids[0],))
            claimed: list[int] = []
            claimer = threading.Thread(
                target=lambda: claimed.extend(job.id for job in store.claim_next(5))
            )
            claimer.start()
            claimer.join(timeout=10)
            assert not claimer.is_alive(), "claim_next waited for a locked row"
            assert claimed == ids[1:]
            other.rollback()
        assert [job.id for job in store.claim_next(5)] == ids[:1]


def test_documents_left_processing_by_a_crash_are_requeued(url: str, clock: Clock) -> None:
    with Store.open(url, clock=clock) as crashed:
        ids = [arrive(crashed, n) for n in range(3)]
        assert len(crashed.claim_next(2)) == 2
    with Store.open(url, clock=clock) as restarted:
        assert restarted.requeue_interrupted() == 2
        assert restarted.requeue_interrupted() == 0
        assert {state(restarted, i) for i in ids} == {DocumentState.QUEUED}
        jobs = restarted.claim_next(5)
        assert [job.id for job in jobs] == ids
        assert [job.attempts for job in jobs] == [1, 1, 0]
        assert actions(restarted, ids[0]) == ["received", "requeued"]


def test_a_failed_document_waits_until_its_retry_time(store: Store, clock: Clock) -> None:
    document_id = arrive(store, 1)
    store.claim_next(1)
    attempts = store.fail(document_id, "tesseract timed out", clock.now + timedelta(minutes=10))
    assert attempts == 1
    assert store.claim_next(1) == []
    clock.advance(timedelta(minutes=11))
    [job] = store.claim_next(1)
    assert (job.id, job.attempts) == (document_id, 1)
    assert store.fail(document_id, "again", None) == 2
    info = store.document(document_id)
    assert info.last_error == "again" and info.next_attempt_at is None
    assert actions(store, document_id) == ["received", "failed", "failed"]
    assert "tesseract" not in json.dumps([e.detail for e in store.audit(document_id)])


def test_quarantine_and_retry(store: Store) -> None:
    document_id = arrive(store, 1)
    store.claim_next(1)
    store.fail(document_id, "crashed", None)
    store.quarantine(document_id, "failed 3 times")
    assert store.claim_next(5) == []
    [held] = store.quarantined()
    assert (held.id, held.state, held.last_error) == (document_id, "quarantined", "failed 3 times")
    assert store.counts() == {
        "documents": 1,
        "pending": 0,
        "accepted": 0,
        "needs_review": 1,
        "rejected": 0,
    }
    assert store.retry_quarantined(document_id, actor="dana") is True
    assert store.retry_quarantined(document_id, actor="dana") is False
    assert store.quarantined() == []
    [job] = store.claim_next(1)
    assert (job.id, job.attempts) == (document_id, 0)
    history = store.audit(document_id)
    assert [e.action for e in history] == ["received", "failed", "quarantined", "retried"]
    assert history[-1].actor == "dana"
    with pytest.raises(NotFound):
        store.quarantine(99_999, "no such document")


# -- results ----------------------------------------------------------------------------


def test_saving_a_result_twice_keeps_one_referral(store: Store) -> None:
    document_id = arrive(store, 1)
    store.claim_next(1)
    store.save_result(document_id, referral("needs_review", ("LOW_CONFIDENCE",)), pages(2), {})
    store.save_result(document_id, referral("accepted"), pages(1), {1: "pages/1-1.png"})
    assert rows(store, ReferralRow) == 1
    assert rows(store, PageRow, document_id=document_id) == 1
    stored = store.get(document_id)
    assert stored.status == "accepted" and stored.review_state == ReviewState.FINAL
    assert stored.decided_by is None and stored.document.state == DocumentState.DECIDED
    assert actions(store, document_id) == ["received", "decided", "decided"]
    details = [entry.detail for entry in store.audit(document_id)]
    assert details[1] == {"status": "needs_review", "reasons": ["LOW_CONFIDENCE"]}
    assert "Lopez" not in json.dumps(details) and "Maria" not in json.dumps(details)
    with pytest.raises(NotFound):
        store.save_result(99_999, referral(), [], {})


def test_get_returns_record_pages_and_history(store: Store) -> None:
    result = referral("needs_review", ("MISSING_DURATION", "PREAUTH_REQUIRED"))
    document_id = arrive(store, 1)
    assert store.get(document_id) is None  # not decided yet
    store.save_result(document_id, result, pages(2), {1: "pages/a-1.png"})
    stored = store.get(document_id)
    record = stored.record
    assert record["id"] == document_id
    assert datetime.fromisoformat(record["received_at"]) == stored.document.received_at.replace(
        microsecond=0
    )
    assert {k: v for k, v in record.items() if k not in ("id", "received_at")} == (
        result.to_contract()
    )
    assert stored.reasons == ["MISSING_DURATION", "PREAUTH_REQUIRED"]
    assert stored.review_state == ReviewState.WAITING
    assert [page.number for page in stored.pages] == [1, 2]
    assert stored.pages[0].words == pages(1)[0].words
    assert stored.pages[0].image_path == "pages/a-1.png" and stored.pages[1].image_path is None
    assert stored.pages[1].problem == PageProblem.OCR_TIMEOUT
    assert [entry.action for entry in stored.history] == ["received", "decided"]
    assert store.get(99_999) is None


def test_counts_add_up_by_where_documents_stand(store: Store) -> None:
    decide(store, 1, referral("accepted"))
    decide(store, 2, referral("rejected", ("NO_REIMBURSABLE_DIAGNOSIS",)))
    decide(store, 3, referral("needs_review", ("NO_DIAGNOSIS_CODE",), codes=()))
    decide(store, 4, referral("needs_review", ("LOW_CONFIDENCE",)))
    arrive(store, 5)
    arrive(store, 6)
    store.claim_next(1)
    store.quarantine(arrive(store, 7), "unreadable twice")
    store.record_arrival(sha(1), "again.tif", 1, None, "a")  # a duplicate is no document
    assert store.counts() == {
        "documents": 7,
        "pending": 2,
        "accepted": 1,
        "needs_review": 3,
        "rejected": 1,
    }


def test_review_queue_lists_waiting_referrals_oldest_first(store: Store) -> None:
    low = decide(store, 1, referral("needs_review", ("LOW_CONFIDENCE",), payer="Regence"))
    nocode = decide(store, 2, referral("needs_review", ("NO_DIAGNOSIS_CODE",), payer="Premera"))
    decide(store, 3, referral("accepted"))
    both = decide(
        store, 4, referral("needs_review", ("LOW_CONFIDENCE", "MISSING_DURATION"), payer=None)
    )
    assert [item.id for item in store.review_queue()] == [low, nocode, both]
    item = store.review_queue()[0]
    assert (item.patient_name, item.payer_name, item.reasons) == (
        "Maria Lopez",
        "Regence",
        ["LOW_CONFIDENCE"],
    )
    assert item.received_at.tzinfo is UTC
    assert [i.id for i in store.review_queue(reason="LOW_CONFIDENCE")] == [low, both]
    assert [i.id for i in store.review_queue(reason="NO_DIAGNOSIS_CODE")] == [nocode]
    assert store.review_queue(reason="NO%") == []  # wildcards are taken literally
    assert [i.id for i in store.review_queue(payer="premera")] == [nocode]
    assert store.review_queue(reason="LOW_CONFIDENCE", payer="Premera") == []


def test_export_yields_every_record_with_id_and_received_at(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store_module, "EXPORT_BATCH", 2)  # several batches
    ids = [decide(store, n, referral()) for n in range(5)]
    arrive(store, 99)  # undecided: nothing to export
    records = list(store.export())
    assert [record["id"] for record in records] == ids
    for record in records:
        assert_valid_record(record)
        assert datetime.fromisoformat(record["received_at"]).tzinfo is not None
        assert list(record)[:3] == ["schema", "source", "pages"]  # key order kept


def test_search_by_name_birth_date_and_code(store: Store) -> None:
    maria = decide(store, 1, referral(name="Maria Lopez", dob="1981-04-02", codes=("M54.50",)))
    alan = decide(
        store, 2, referral(name="Alan Smith", dob="1975-01-30", codes=("S13.4XXA", "M79.10"))
    )
    nobody = decide(store, 3, referral(name=None, dob=None, codes=()))

    def found(text: str) -> list[int]:
        return sorted(item.id for item in store.search(text))

    assert found("lopez") == [maria]
    assert found("MARIA lop") == [maria]
    assert found("1975-01-30") == [alan]
    assert found("m5450") == [maria] and found("M54.50") == [maria]
    assert found("s13.4xxa") == [alan] and found("M") == [maria, alan]
    assert found("Smith M54.50") == []  # every word must match
    assert found("1981-02-31") == [] and found("%") == [] and found("  ") == []
    assert nobody not in found("a")
    [hit] = store.search("lopez")
    assert (hit.patient_dob, hit.codes, hit.status) == ("1981-04-02", ["M54.50"], "accepted")


def test_staff_corrections_replace_the_record_and_are_audited(store: Store) -> None:
    document_id = decide(store, 1, referral("needs_review", ("MISSING_DURATION",)))
    corrected = store.get(document_id).record  # as the review page gets it, id and all
    corrected["duration"] = {"value": 8, "value_max": None, "unit": "wk", "text": "8 weeks"}
    corrected["decision"] = {"status": "accepted", "reasons": []}
    store.set_decision(document_id, corrected, actor="dana", note="called the office")
    stored = store.get(document_id)
    assert stored.status == "accepted" and stored.review_state == ReviewState.FINAL
    assert stored.decided_by == "dana" and stored.record["duration"]["value"] == 8
    assert store.review_queue() == []
    entry = store.audit(document_id)[-1]
    assert (entry.action, entry.actor) == ("corrected", "dana")
    assert entry.detail == {
        "status": "accepted",
        "reasons": [],
        "previous_status": "needs_review",
        "changed": ["decision", "duration"],
        "note": "called the office",
    }
    assert store.counts()["accepted"] == 1 and store.counts()["needs_review"] == 0
    with pytest.raises(ValidationError):
        store.set_decision(document_id, {**corrected, "decision": {"status": "maybe"}}, "dana")
    with pytest.raises(NotFound):
        store.set_decision(99_999, corrected, "dana")


def test_health_reports_a_database_that_does_not_answer(store: Store) -> None:
    assert store.health()
    with Store("postgresql://nobody@127.0.0.1:1/none") as unreachable:
        assert unreachable.health() is False
