"""The daily report of rejected referrals, on a real SQLite store, a real SMTP server and Chromium.

The store holds referrals across several days around the end of daylight-saving time in
America/Los_Angeles (2026-11-01 has 25 hours there); times below are given in UTC.
"""

from __future__ import annotations

import csv
import email
import logging
import os
import socket
import time
from datetime import UTC, date, datetime, timedelta
from email import policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from models.config import Settings
from models.document import PageText, Word
from models.referral import (
    REASON_TEXT,
    Decision,
    Diagnosis,
    Patient,
    Payer,
    Prescriber,
    Reason,
    ReasonCode,
    Referral,
    Source,
)
from pipeline.cli import main
from pipeline.report import ReportScheduler, build_report, write
from pipeline.report.contacts import prescriber_contacts
from pipeline.report.data import CSV_FIELDS
from pipeline.report.delivery import STATE_FILE
from pipeline.store import Store
from pipeline.store.settings import sqlite_url
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS

LA = ZoneInfo("America/Los_Angeles")
DAY = date(2026, 11, 1)  # the day daylight-saving time ends in Los Angeles

SPASM = Diagnosis(
    code="M62.830",
    description="Muscle spasm of back",
    billable=True,
    category=None,
    reimbursable=False,
)
ANXIETY = Diagnosis(
    code="F41.1",
    description="Generalized anxiety disorder",
    billable=True,
    category=None,
    reimbursable=False,
)
FATIGUE = Diagnosis(
    code="R53.83", description="Other fatigue", billable=True, category=None, reimbursable=False
)
CHECKUP = Diagnosis(
    code="Z00.00",
    description="Encounter for general adult medical examination without abnormal findings",
    billable=True,
    category=None,
    reimbursable=False,
)
STRAIN = Diagnosis(
    code="S39.012A",
    description="Strain of muscle, fascia and tendon of lower back, initial encounter",
    billable=True,
    category="strain",
    reimbursable=True,
)
UNKNOWN = Diagnosis(
    code="M54.99", description=None, billable=False, category=None, reimbursable=False
)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.at = utc(2026, 10, 1)

    def __call__(self) -> datetime:
        return self.at


def reason(code: ReasonCode, message: str | None = None) -> Reason:
    return Reason(code=code, message=message or REASON_TEXT[code])


def referral(
    n: int,
    name: str,
    dob: str,
    diagnoses: list[Diagnosis],
    status: str,
    reasons: list[Reason],
    prescriber: str | None = "Alan Park",
    payer: str | None = "Regence",
) -> Referral:
    return Referral(
        source=Source(path=f"inbox/fax-{n}.pdf", sha256=f"{n:064x}", media_type=None, pages=1),
        patient=Patient(name=name, dob=date.fromisoformat(dob)),
        prescriber=Prescriber(name=prescriber, credentials="MD" if prescriber else None),
        payer=Payer(name=payer, kind="commercial" if payer else None),
        diagnoses=diagnoses,
        decision=Decision(status=status, reasons=reasons),
    )


def page(*lines: str) -> PageText:
    words = [
        Word(text=token, line=index) for index, line in enumerate(lines) for token in line.split()
    ]
    return PageText(number=1, method="text", words=words)


LETTERHEAD = page(
    "Cascade Orthopedics 1200 Main St Seattle WA",
    "Tel: (206) 555-0100 Fax: 206.555.0199",
    "Prescriber: Alan Park MD NPI 1234567893",
    "Patient: Maria Lopez Phone: 425-555-1111",
    "Dx: M62.830",
)


def add(
    store: Store,
    clock: Clock,
    n: int,
    received: datetime,
    decided: datetime | None = None,
    record: Referral | None = None,
    pages: list[PageText] | None = None,
) -> int:
    clock.at = received
    doc, is_new = store.record_arrival(f"{n:064x}", f"fax-{n}.pdf", 100, None, f"a/{n}.pdf")
    assert is_new
    if decided is not None and record is not None:
        clock.at = decided
        assert [job.id for job in store.claim_next(1)] == [doc]
        store.save_result(doc, record, pages or [], {})
    return doc


def staff(store: Store, clock: Clock, doc: int, at: datetime, record: Referral, note: str):
    clock.at = at
    store.set_decision(doc, record.to_contract(), actor="alice", note=note)


def build(store: Store, clock: Clock) -> dict[str, int]:
    """The store's history; names are what each document shows on 2026-11-01."""
    ids: dict[str, int] = {}
    rejected = [reason(ReasonCode.NO_REIMBURSABLE_DIAGNOSIS)]
    # Waiting for review since 2026-10-30 (the oldest waiting item).
    ids["old_waiting"] = add(
        store,
        clock,
        1,
        utc(2026, 10, 30, 16),
        utc(2026, 10, 30, 16, 5),
        referral(
            1,
            "Olga Waits",
            "1950-01-01",
            [UNKNOWN],
            "needs_review",
            [reason(ReasonCode.INVALID_CODE)],
        ),
    )
    # Rejected on 2026-10-31 (Los Angeles), not on the 1st.
    ids["oct31"] = add(
        store,
        clock,
        2,
        utc(2026, 10, 31, 18),
        utc(2026, 10, 31, 18, 1),
        referral(2, "Ted October", "1970-02-02", [CHECKUP], "rejected", rejected),
    )
    # Received 23:30 on Oct 31 (PDT), rejected 00:30 on Nov 1 (PDT) by the pipeline.
    ids["spasm"] = add(
        store,
        clock,
        3,
        utc(2026, 11, 1, 6, 30),
        utc(2026, 11, 1, 7, 30),
        referral(3, "Maria <b>Lopez</b> & Co", "1981-04-02", [SPASM], "rejected", rejected),
        [LETTERHEAD],
    )
    # Accepted on Nov 1.
    ids["accepted"] = add(
        store,
        clock,
        4,
        utc(2026, 11, 1, 17),
        utc(2026, 11, 1, 17, 2),
        referral(4, "Ann Accept", "1990-03-03", [STRAIN], "accepted", []),
    )
    # Needs review on Nov 1, rejected by staff at 15:00 PST with a note.
    ids["staff"] = add(
        store,
        clock,
        5,
        utc(2026, 11, 1, 18),
        utc(2026, 11, 1, 18, 1),
        referral(
            5,
            "Sam Staff",
            "1965-05-05",
            [UNKNOWN, CHECKUP],
            "needs_review",
            [reason(ReasonCode.INVALID_CODE)],
        ),
        [page("Prescriber: Alan Park", "Fax # 206 555 0123")],
    )
    staff(
        store,
        clock,
        ids["staff"],
        utc(2026, 11, 1, 23),
        referral(5, "Sam Staff", "1965-05-05", [CHECKUP], "rejected", rejected),
        note="M54.99 was a typo for Z00.00; called the office",
    )
    # Waiting for review, received on Nov 1.
    ids["waiting"] = add(
        store,
        clock,
        6,
        utc(2026, 11, 1, 20),
        utc(2026, 11, 1, 20, 1),
        referral(
            6,
            "Wendy Waiting",
            "1988-06-06",
            [STRAIN],
            "needs_review",
            [reason(ReasonCode.MISSING_FREQUENCY)],
        ),
    )
    # Rejected by the pipeline at 09:00 PST, then accepted by staff the same day.
    ids["reversed"] = add(
        store,
        clock,
        7,
        utc(2026, 11, 1, 16),
        utc(2026, 11, 1, 17),
        referral(7, "Rita Reversed", "1977-07-07", [SPASM], "rejected", rejected),
    )
    staff(
        store,
        clock,
        ids["reversed"],
        utc(2026, 11, 1, 21),
        referral(7, "Rita Reversed", "1977-07-07", [STRAIN], "accepted", []),
        note="the fax cut off S39.012A",
    )
    # 23:30 PST on Nov 1: the 25th hour of the day, still Nov 1 (00:30 Nov 2 in PDT).
    ids["late"] = add(
        store,
        clock,
        8,
        utc(2026, 11, 2, 7, 30),
        utc(2026, 11, 2, 7, 31),
        referral(
            8,
            "Luis Late",
            "2001-08-08",
            [ANXIETY, FATIGUE],
            "rejected",
            [*rejected, reason(ReasonCode.PREAUTH_REQUIRED, "Premera requires pre-authorization")],
            prescriber="Dana Cho",
            payer="Premera",
        ),
        [page("Dana Cho DO", "Ph 253-555-0142", "Patient cell: 253-555-9999")],
    )
    # 00:30 PST on Nov 2: not Nov 1.
    ids["nov2"] = add(
        store,
        clock,
        9,
        utc(2026, 11, 2, 8, 30),
        utc(2026, 11, 2, 8, 31),
        referral(9, "Nora November", "1999-09-09", [FATIGUE], "rejected", rejected),
    )
    # Received on Nov 1, not read yet at the end of the day (read on Nov 3).
    ids["pending"] = add(store, clock, 10, utc(2026, 11, 1, 22))
    clock.at = utc(2026, 11, 3, 12)
    return ids


@pytest.fixture(scope="module")
def history(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    data = tmp_path_factory.mktemp("clinic") / "data"
    data.mkdir()
    clock = Clock()
    with Store.open(sqlite_url(data / "referrals.sqlite3"), clock=clock) as store:
        ids = build(store, clock)
    return data, ids


@pytest.fixture
def store(history) -> Store:
    data, _ = history
    with Store.open(sqlite_url(data / "referrals.sqlite3")) as opened:
        yield opened


def settings_for(base: Path, data: Path, **report) -> Settings:
    return Settings(base_dir=base, paths={"data_dir": str(data)}, report=report)


def test_the_days_figures_and_rows_across_the_daylight_saving_change(store, history):
    _, ids = history
    report = build_report(store, DAY, LA, now=utc(2026, 11, 3, 12))
    assert (report.end - report.start) == timedelta(hours=25)
    assert report.arrived == 6  # staff, accepted, waiting, reversed, late, pending
    assert report.accepted == 2  # accepted, and reversed (accepted by staff that day)
    assert report.rejected == 3
    assert report.waiting == 2
    assert report.processing == 1
    assert report.oldest_waiting.id == ids["old_waiting"]
    assert report.oldest_waiting.patient_name == "Olga Waits"
    assert report.oldest_waiting.age == utc(2026, 11, 2, 8) - utc(2026, 10, 30, 16)

    assert [row.id for row in report.rows] == [ids["spasm"], ids["staff"], ids["late"]]
    spasm, by_staff, late = report.rows
    assert spasm.patient_name == "Maria <b>Lopez</b> & Co"
    assert spasm.patient_dob == "1981-04-02"
    assert spasm.prescriber == "Alan Park, MD"
    assert (spasm.prescriber_phone, spasm.prescriber_fax) == ("(206) 555-0100", "(206) 555-0199")
    assert spasm.payer == "Regence"
    assert spasm.why == ["M62.830 Muscle spasm of back is not a pain, strain, sprain or tear code."]
    assert spasm.rejected_by == "automatic check"
    assert spasm.received_at == datetime(2026, 10, 31, 23, 30, tzinfo=LA)
    assert spasm.rejected_at.isoformat() == "2026-11-01T00:30:00-07:00"

    assert by_staff.rejected_by == "staff (alice)"
    assert by_staff.note == "M54.99 was a typo for Z00.00; called the office"
    assert by_staff.rejected_at.isoformat() == "2026-11-01T15:00:00-08:00"
    assert (by_staff.prescriber_phone, by_staff.prescriber_fax) == (None, "(206) 555-0123")
    assert [c.code for c in by_staff.codes] == ["Z00.00"]

    assert late.rejected_at.isoformat() == "2026-11-01T23:31:00-08:00"
    assert late.payer == "Premera"
    assert late.prescriber_phone == "(253) 555-0142"  # not the patient's cell
    assert late.prescriber_fax is None
    assert late.reasons == ["NO_REIMBURSABLE_DIAGNOSIS"]  # the pre-authorization note is not
    assert late.why == [
        "F41.1 Generalized anxiety disorder is not a pain, strain, sprain or tear code.",
        "R53.83 Other fatigue is not a pain, strain, sprain or tear code.",
    ]
    assert report.reason_counts == [(REASON_TEXT[ReasonCode.NO_REIMBURSABLE_DIAGNOSIS], 3)]


def test_the_day_depends_on_the_clinics_time_zone(store, history):
    _, ids = history
    in_utc = build_report(store, DAY, ZoneInfo("UTC"))
    assert [row.id for row in in_utc.rows] == [ids["spasm"], ids["staff"]]
    assert in_utc.end - in_utc.start == timedelta(hours=24)
    next_day = build_report(store, date(2026, 11, 2), LA)
    assert [row.id for row in next_day.rows] == [ids["nov2"]]
    assert next_day.arrived == 1
    day_before = build_report(store, date(2026, 10, 31), LA)
    assert [row.id for row in day_before.rows] == [ids["oct31"]]
    assert (day_before.arrived, day_before.waiting, day_before.processing) == (2, 1, 1)
    tokyo = build_report(store, date(2026, 11, 2), ZoneInfo("Asia/Tokyo"))
    assert [row.id for row in tokyo.rows] == [ids["staff"], ids["late"], ids["nov2"]]


def test_csv_parses_back_to_the_rows_and_html_is_escaped(store, tmp_path):
    report = build_report(store, DAY, LA)
    files = write(report, tmp_path, pdf=True)
    assert [f.name for f in files] == [
        "rejected-2026-11-01.html",
        "rejected-2026-11-01.csv",
        "rejected-2026-11-01.pdf",
    ]
    with (tmp_path / "rejected-2026-11-01.csv").open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == CSV_FIELDS
        parsed = list(reader)
    assert parsed == [row.csv_row() for row in report.rows]
    assert parsed[0]["codes"] == "M62.830 Muscle spasm of back"
    assert parsed[0]["prescriber_fax"] == "(206) 555-0199"
    html = (tmp_path / "rejected-2026-11-01.html").read_text()
    assert "Maria &lt;b&gt;Lopez&lt;/b&gt; &amp; Co" in html
    assert "<b>Lopez</b>" not in html
    assert "<script" not in html and "http://" not in html.replace("http://www.w3.org", "")
    assert html.count("<rect") == 1 + 4  # one reason bar, four code bars
    assert (tmp_path / "rejected-2026-11-01.pdf").read_bytes().startswith(b"%PDF")


def test_a_day_without_rejections_says_so(store, tmp_path):
    report = build_report(store, date(2026, 10, 29), LA)
    assert report.rows == [] and report.arrived == 0
    write(report, tmp_path)
    html = (tmp_path / "rejected-2026-10-29.html").read_text()
    assert "No referrals were rejected on Thursday October 29, 2026." in html
    lines = (tmp_path / "rejected-2026-10-29.csv").read_text().splitlines()
    assert lines == [",".join(CSV_FIELDS)]


def test_contacts_are_only_labelled_numbers():
    assert prescriber_contacts([page("Dr. Kim", "call 206 555 0100")], "Kim") == (None, None)
    pages = [page("Phone: 425-555-1111 (patient home)", "Dr. Kim office 206-555-0100")]
    assert prescriber_contacts(pages, "Kim") == ("(206) 555-0100", None)


def test_cli_writes_the_report(history, tmp_path):
    data, ids = history
    config = tmp_path / "config.toml"
    config.write_text(
        f'[paths]\ndata_dir = "{data}"\n\n[report]\ntimezone = "America/Los_Angeles"\n'
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["--config", str(config), "report", "--date", "2026-11-01", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.split() == [
        str(out / "rejected-2026-11-01.html"),
        str(out / "rejected-2026-11-01.csv"),
    ]
    rows = list(csv.DictReader((out / "rejected-2026-11-01.csv").open(newline="")))
    assert [int(r["referral_id"]) for r in rows] == [ids["spasm"], ids["staff"], ids["late"]]
    bad = CliRunner().invoke(main, ["--config", str(config), "report", "--date", "11/01/2026"])
    assert bad.exit_code != 0 and "YYYY-MM-DD" in bad.output


# -- delivery ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    def __init__(self) -> None:
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.envelopes.append(envelope)
        return "250 OK"


@pytest.fixture
def smtp_server():
    controller_module = pytest.importorskip("aiosmtpd.controller")
    smtp_module = pytest.importorskip("aiosmtpd.smtp")
    started = []

    def start(port: int, logins: list | None = None) -> Inbox:
        inbox = Inbox()

        def authenticate(server, session, envelope, mechanism, auth_data):
            logins.append((auth_data.login, auth_data.password))
            return smtp_module.AuthResult(success=auth_data.password == b"s3cret")

        extra = {}
        if logins is not None:
            extra = {"authenticator": authenticate, "auth_require_tls": False}
        controller = controller_module.Controller(inbox, hostname="127.0.0.1", port=port, **extra)
        controller.start()
        started.append(controller)
        return inbox

    yield start
    for controller in started:
        controller.stop()


def mail_settings(tmp_path: Path, data: Path, port: int, **extra) -> Settings:
    return settings_for(
        tmp_path,
        data,
        out_dir=str(tmp_path / "reports"),
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_starttls=False,
        smtp_timeout_seconds=5,
        sender="referrals@clinic.test",
        recipients=["frontdesk@clinic.test", "owner@clinic.test"],
        send_attempts=3,
        retry_seconds=0.01,
        pdf=True,
        **extra,
    )


def copy_store(history, tmp_path: Path) -> Path:
    data, _ = history
    copy = tmp_path / "data"
    copy.mkdir()
    (copy / "referrals.sqlite3").write_bytes((data / "referrals.sqlite3").read_bytes())
    return copy


def test_the_report_is_emailed(history, tmp_path, smtp_server, monkeypatch):
    data = copy_store(history, tmp_path)
    port = free_port()
    logins: list = []
    inbox = smtp_server(port, logins)
    monkeypatch.setenv("CLINIC_SMTP_PW", "s3cret")
    settings = mail_settings(
        tmp_path, data, port, smtp_user="reports", smtp_password_env="CLINIC_SMTP_PW"
    )
    with Store.open(settings.database_url()) as store:
        scheduler = ReportScheduler(settings, store)
        assert scheduler.run_due(datetime(2026, 11, 2, 6, 45, tzinfo=LA)) == [DAY]
    assert logins == [(b"reports", b"s3cret")]
    [envelope] = inbox.envelopes
    assert envelope.mail_from == "referrals@clinic.test"
    assert envelope.rcpt_tos == ["frontdesk@clinic.test", "owner@clinic.test"]
    mail = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert mail["Subject"] == "Rejected referrals 2026-11-01: 3"
    names = [part.get_filename() for part in mail.iter_attachments()]
    assert names == [
        "rejected-2026-11-01.html",
        "rejected-2026-11-01.csv",
        "rejected-2026-11-01.pdf",
    ]
    attached_csv = next(p for p in mail.iter_attachments() if p.get_filename().endswith(".csv"))
    disk_csv = (tmp_path / "reports" / "rejected-2026-11-01.csv").read_text()
    assert attached_csv.get_content().replace("\r\n", "\n") == disk_csv.replace("\r\n", "\n")
    assert scheduler.state()["undelivered"] == []


def test_a_failed_delivery_is_retried_logged_and_sent_later(history, tmp_path, smtp_server, caplog):
    data = copy_store(history, tmp_path)
    port = free_port()  # nothing listens there yet: the server is down
    settings = mail_settings(tmp_path, data, port)
    now = datetime(2026, 11, 2, 7, 0, tzinfo=LA)
    with Store.open(settings.database_url()) as store:
        with caplog.at_level(logging.WARNING, logger="referrals.report"):
            assert ReportScheduler(settings, store).run_due(now) == [DAY]
        attempts = [r for r in caplog.records if "delivery attempt" in r.getMessage()]
        assert len(attempts) == 3
        failures = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(failures) == 1 and "not delivered after 3 attempts" in failures[0].getMessage()
        for kind in ("html", "csv", "pdf"):
            assert (tmp_path / "reports" / f"rejected-2026-11-01.{kind}").exists()
        assert ReportScheduler(settings, store).state() == {
            "last_day": "2026-11-01",
            "undelivered": ["2026-11-01"],
        }
        inbox = smtp_server(port)  # the server is back
        scheduler = ReportScheduler(settings, store)
        assert scheduler.run_due(now + timedelta(minutes=1)) == []  # not written again
        assert len(inbox.envelopes) == 1
        assert scheduler.state()["undelivered"] == []
        assert scheduler.run_due(now + timedelta(minutes=2)) == []
        assert len(inbox.envelopes) == 1  # and not sent twice


def test_missed_days_are_caught_up_after_a_restart_and_none_twice(history, tmp_path):
    data = copy_store(history, tmp_path)
    settings = settings_for(tmp_path, data, at="06:30")
    out = data / "reports"
    with Store.open(settings.database_url()) as store:
        first = ReportScheduler(settings, store)
        assert first.run_due(datetime(2026, 10, 31, 6, 29, tzinfo=LA)) == [date(2026, 10, 29)]
        assert first.run_due(datetime(2026, 10, 31, 6, 30, tzinfo=LA)) == [date(2026, 10, 30)]
        assert first.run_due(datetime(2026, 10, 31, 23, 0, tzinfo=LA)) == []
        # The service was down from Oct 31 to Nov 3 at 07:00: a new scheduler catches up.
        restarted = ReportScheduler(settings, store)
        assert restarted.run_due(datetime(2026, 11, 3, 7, 0, tzinfo=LA)) == [
            date(2026, 10, 31),
            DAY,
            date(2026, 11, 2),
        ]
        assert restarted.run_due(datetime(2026, 11, 3, 7, 5, tzinfo=LA)) == []
        assert restarted.run_due(datetime(2026, 11, 4, 6, 0, tzinfo=LA)) == []
        assert restarted.run_due(datetime(2026, 11, 4, 6, 31, tzinfo=LA)) == [date(2026, 11, 3)]
    written = sorted(p.name for p in out.glob("rejected-*.csv"))
    assert written == [
        f"rejected-2026-{d}.csv" for d in ("10-29", "10-30", "10-31", "11-01", "11-02", "11-03")
    ]
    assert (data / STATE_FILE).exists()


def test_the_scheduler_thread_writes_and_stops(history, tmp_path):
    data = copy_store(history, tmp_path)
    settings = settings_for(tmp_path, data)
    with Store.open(settings.database_url()) as store:
        scheduler = ReportScheduler(
            settings, store, clock=lambda: datetime(2026, 11, 2, 9, tzinfo=LA), poll_seconds=0.05
        )
        scheduler.start()
        try:
            deadline = datetime.now(UTC) + timedelta(seconds=10)
            target = data / "reports" / "rejected-2026-11-01.html"
            while not target.exists() and datetime.now(UTC) < deadline:
                time.sleep(0.05)
        finally:
            scheduler.stop()
        assert target.exists()


# -- the browser -------------------------------------------------------------------------


def test_report_renders_in_chromium(store, tmp_path):
    if not CHROMIUM.exists():
        message = "Debian chromium is not installed (apt-get install -y chromium)"
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    sync_api = pytest.importorskip("playwright.sync_api")
    [html_file, _] = write(build_report(store, DAY, LA, now=utc(2026, 11, 2, 14, 30)), tmp_path)
    requests: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            view = browser.new_page(viewport={"width": 1200, "height": 900})
            view.on("request", lambda request: requests.append(request.url))
            view.goto(html_file.as_uri())
            assert view.locator("#rejected b").inner_text() == "3"
            assert view.locator("#arrived b").inner_text() == "6"
            assert view.locator("#waiting b").inner_text() == "2"
            assert view.locator("#rejected-referrals tbody tr").count() == 3
            assert "Maria <b>Lopez</b> & Co" in view.locator("#rejected-referrals").inner_text()
            bars = view.locator("svg rect")
            assert bars.count() == 5
            assert bars.first.bounding_box()["width"] > 100
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            view.screenshot(path=str(SCREENSHOTS / "report.png"), full_page=True)
        finally:
            browser.close()
    assert requests == [html_file.as_uri()]  # nothing else was fetched
