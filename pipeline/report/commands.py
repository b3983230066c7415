"""``referrals report [--date YYYY-MM-DD] [--out DIR] [--email]``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import click

from models.config import Settings
from pipeline.cli_options import parse_day
from pipeline.store import Store


@click.command()
@click.option(
    "--date", "day", callback=parse_day, help="The day (default: yesterday, clinic time)."
)
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="Folder (default: data/reports)."
)
@click.option("--email", is_flag=True, help="Also e-mail it to the configured recipients.")
def report(day: date | None, out: Path | None, email: bool) -> None:
    """Write one day's report of rejected referrals (HTML, CSV, and PDF if configured)."""
    from pipeline.report.data import yesterday
    from pipeline.report.delivery import DeliveryError, report_dir, send_report, write_day

    settings = click.get_current_context().obj
    if not isinstance(settings, Settings):
        raise click.ClickException("no settings: run through the referrals command")
    day = day or yesterday(datetime.now(UTC), settings.report.zone)
    out = out or report_dir(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with Store.open(settings.database_url()) as store:
        files = write_day(store, settings, day, out)
    for path in files:
        click.echo(str(path))
    if email:
        if not settings.report.email_enabled:
            raise click.ClickException("e-mail is not configured ([report] smtp_host, recipients)")
        try:
            send_report(settings.report, day, files)
        except DeliveryError as exc:
            raise click.ClickException(str(exc)) from exc
