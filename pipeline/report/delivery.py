"""Writing the report every day and e-mailing it: ``ReportScheduler`` and ``send_report``.

The scheduler remembers in ``data_dir/report-state.json`` the last day it wrote and the
days whose e-mail has not gone out yet. Each run writes every day that is due and not yet
written (after downtime: the missed days, at most ``catch_up_days``), in order, and
records each day before sending it, so no day is written or sent twice. A failed
delivery is retried a few times with doubling back-off and logged; the day stays in
``undelivered`` and is sent again on the next run. The files stay on disk either way.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import smtplib
import ssl
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from models.config import ReportSettings, Settings
from pipeline.report import render
from pipeline.report.data import build_report
from pipeline.store import Store

log = logging.getLogger("referrals.report")

STATE_FILE = "report-state.json"
POLL_SECONDS = 60.0
_MEDIA = {".html": ("text", "html"), ".csv": ("text", "csv"), ".pdf": ("application", "pdf")}


class DeliveryError(Exception):
    """The report could not be e-mailed after every attempt."""


def report_dir(settings: Settings) -> Path:
    configured = settings.report.out_dir
    return settings.resolve(configured) if configured else settings.data_dir / "reports"


def write_day(store: Store, settings: Settings, day: date, out: Path) -> list[Path]:
    """Build and write the report of ``day``; returns the files written."""
    report = build_report(
        store, day, settings.report.zone, list(settings.rules.reimbursable_categories)
    )
    return render.write(report, out, pdf=settings.report.pdf)


def message(config: ReportSettings, day: date, files: list[Path]) -> EmailMessage:
    csv_file = next((f for f in files if f.suffix == ".csv"), None)
    rejected = 0
    if csv_file and csv_file.exists():
        with csv_file.open(newline="", encoding="utf-8") as handle:
            rejected = sum(1 for _ in csv.DictReader(handle))
    mail = EmailMessage()
    mail["Subject"] = f"Rejected referrals {day.isoformat()}: {rejected}"
    mail["From"] = config.sender
    mail["To"] = ", ".join(config.recipients)
    body = (
        f"{rejected} referral(s) were rejected on {day.isoformat()}."
        if rejected
        else f"No referrals were rejected on {day.isoformat()}."
    )
    mail.set_content(body + "\nThe report is attached (open the .html file to read or print).\n")
    for path in files:
        maintype, subtype = _MEDIA.get(path.suffix, ("application", "octet-stream"))
        mail.add_attachment(
            path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name
        )
    return mail


def send_once(config: ReportSettings, mail: EmailMessage) -> None:
    with smtplib.SMTP(
        config.smtp_host, config.smtp_port, timeout=config.smtp_timeout_seconds
    ) as smtp:
        if config.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if config.smtp_user:
            password = os.environ.get(config.smtp_password_env)
            if password is None:
                raise DeliveryError(
                    f"the SMTP password is not set (environment variable "
                    f"{config.smtp_password_env})"
                )
            smtp.login(config.smtp_user, password)
        smtp.send_message(mail, to_addrs=config.recipients)


def send_report(
    config: ReportSettings,
    day: date,
    files: list[Path],
    sleep: Callable[[float], object] = lambda seconds: threading.Event().wait(seconds),
) -> None:
    """E-mail the day's files, trying ``send_attempts`` times; raises DeliveryError."""
    mail = message(config, day, files)
    delay = config.retry_seconds
    for attempt in range(1, config.send_attempts + 1):
        try:
            send_once(config, mail)
        except (OSError, smtplib.SMTPException, DeliveryError) as exc:
            log.warning(
                "report for %s: delivery attempt %d of %d failed: %s",
                day,
                attempt,
                config.send_attempts,
                exc,
            )
            if attempt == config.send_attempts:
                raise DeliveryError(
                    f"report for {day} not delivered after {attempt} attempts: {exc}"
                ) from exc
            sleep(delay)
            delay *= 2
        else:
            log.info("report for %s e-mailed to %d recipient(s)", day, len(config.recipients))
            return


class ReportScheduler:
    """Writes (and e-mails) the daily report at ``[report] at`` each day, catching up.

    Run ``start()`` in the service (a daemon thread; ``stop()`` ends it), or call
    ``run_due(now)`` directly: it does whatever is due at ``now`` and returns the days it
    wrote.
    """

    def __init__(
        self,
        settings: Settings,
        store: Store,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.settings = settings
        self.config = settings.report
        self.store = store
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.state_path = settings.data_dir / STATE_FILE
        self.out = report_dir(settings)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    # -- state ---------------------------------------------------------------------------

    def state(self) -> dict:
        try:
            raw = json.loads(self.state_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"last_day": None, "undelivered": []}
        except (OSError, ValueError):
            log.error("report state file %s is unreadable; starting afresh", self.state_path)
            return {"last_day": None, "undelivered": []}
        return {"last_day": raw.get("last_day"), "undelivered": list(raw.get("undelivered", []))}

    def _save(self, state: dict) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.state_path.with_name(f".{STATE_FILE}.partial")
        partial.write_text(json.dumps(state, indent=2), encoding="utf-8")
        os.replace(partial, self.state_path)

    # -- the work ------------------------------------------------------------------------

    def latest_due(self, now: datetime) -> date:
        """The last day whose report is due at ``now``: yesterday once ``at`` has passed."""
        local = now.astimezone(self.config.zone)
        days_back = 1 if local.time() >= self.config.at else 2
        return local.date() - timedelta(days=days_back)

    def due_days(self, now: datetime) -> list[date]:
        latest = self.latest_due(now)
        last = self.state()["last_day"]
        first = date.fromisoformat(last) + timedelta(days=1) if last else latest
        earliest = latest - timedelta(days=self.config.catch_up_days - 1)
        if first < earliest:
            log.warning(
                "reports for %s to %s were missed and are not written (catch_up_days = %d)",
                first,
                earliest - timedelta(days=1),
                self.config.catch_up_days,
            )
            first = earliest
        return [first + timedelta(days=n) for n in range((latest - first).days + 1)]

    def run_due(self, now: datetime) -> list[date]:
        """Write every due day not yet written, send what is unsent; the days written."""
        with self._lock:
            written: list[date] = []
            for day in self.due_days(now):
                write_day(self.store, self.settings, day, self.out)
                state = self.state()
                state["last_day"] = day.isoformat()
                if self.config.email_enabled:
                    state["undelivered"] = sorted({*state["undelivered"], day.isoformat()})
                self._save(state)
                log.info("report for %s written to %s", day, self.out)
                written.append(day)
            if self.config.email_enabled:
                self._deliver_pending()
            return written

    def _deliver_pending(self) -> None:
        for day_text in self.state()["undelivered"]:
            if self._stop.is_set():
                return
            day = date.fromisoformat(day_text)
            files = [p for p in render.paths_for(day, self.out) if p.exists()]
            try:
                send_report(self.config, day, files, sleep=self._stop.wait)
            except DeliveryError as exc:
                log.error("%s; the files stay in %s; sending is tried again later", exc, self.out)
                continue
            state = self.state()
            state["undelivered"] = [d for d in state["undelivered"] if d != day_text]
            self._save(state)

    # -- the thread ----------------------------------------------------------------------

    def run(self) -> None:
        """Until ``stop()``: do what is due, then wait a little."""
        while not self._stop.is_set():
            try:
                self.run_due(self.clock())
            except Exception:  # keep the service alive; the next poll tries again
                log.exception("writing the daily report failed")
            self._stop.wait(self.poll_seconds)

    def start(self) -> threading.Thread:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, name="report-scheduler", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float | None = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
