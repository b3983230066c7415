"""The ``referrals`` command: wires configuration, the stages and the output together."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from models.config import Settings
from models.referral import Referral
from pipeline import logs
from pipeline.cli_options import parse_day
from pipeline.config import ConfigError, load_settings
from pipeline.process import process_many


@click.group()
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    default=Path("config.toml"),
    show_default=True,
    help="Configuration file; paths in it are relative to its folder.",
)
@click.option("--log-json", is_flag=True, help="Log one JSON object per line to standard error.")
@click.pass_context
def main(ctx: click.Context, config_path: Path, log_json: bool) -> None:
    """Referral intake for medical massage clinics."""
    try:
        settings = (
            load_settings(config_path)
            if config_path.exists() or config_path != Path("config.toml")
            else Settings(base_dir=Path.cwd())
        )
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from exc
    logs.configure(settings.logging, log_json or None)
    ctx.obj = settings


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON record per file on standard output."
)
@click.option("--today", callback=parse_day, help="The date that date checks use (YYYY-MM-DD).")
@click.pass_obj
def process(settings: Settings, paths: tuple[Path, ...], as_json: bool, today: date | None) -> None:
    """Read, extract and check each file; print its referral record."""
    missing = [p for p in paths if not p.is_file()]
    for path in missing:
        click.echo(f"error: {path}: no such file (its record says UNREADABLE_DOCUMENT)", err=True)
    records = process_many(settings, list(paths), today)
    if as_json:
        for referral in records:
            sys.stdout.write(json.dumps(referral.to_contract()) + "\n")
            sys.stdout.flush()
    else:
        _print_summaries(records, len(paths))
    if missing:
        sys.exit(1)


def _print_summaries(records, total: int) -> None:
    console = Console()
    with Progress(console=console, transient=True, disable=total < 4) as progress:
        task = progress.add_task("Reading referrals", total=total)
        for referral in records:
            progress.advance(task)
            console.print(_summary(referral))


def _summary(referral: Referral) -> Table:
    status = referral.decision.status
    colour = {"accepted": "green", "needs_review": "yellow", "rejected": "red"}[status]
    table = Table(title=f"{referral.source.path}  [{colour}]{status}[/{colour}]", show_header=False)
    table.add_row("Patient", f"{referral.patient.name or '-'}  DOB {referral.patient.dob or '-'}")
    prescriber = referral.prescriber
    table.add_row(
        "Prescriber",
        f"{prescriber.name or '-'} {prescriber.credentials or ''}  NPI {prescriber.npi or '-'}",
    )
    table.add_row("Payer", f"{referral.payer.name or '-'} ({referral.payer.kind or '-'})")
    codes = ", ".join(
        f"{d.code}{'' if d.reimbursable else ' (not reimbursable)'}" for d in referral.diagnoses
    )
    table.add_row("Diagnoses", codes or "-")
    table.add_row("Frequency", referral.frequency.text if referral.frequency else "-")
    table.add_row("Duration", referral.duration.text if referral.duration else "-")
    for reason in referral.decision.reasons:
        table.add_row("Reason", reason.message)
    return table


def _open_store(settings: Settings):
    from pipeline.store import Store

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Store.open(settings.database_url())


@main.command()
@click.option("--port", type=int, default=None, help="Serve the review web page on this port.")
@click.pass_obj
def watch(settings: Settings, port: int | None) -> None:
    """Run the intake service until SIGTERM or Ctrl-C (with --port, the review page too)."""
    from pipeline.report.delivery import ReportScheduler
    from pipeline.watch.service import IntakeService

    store = _open_store(settings)
    service = IntakeService(settings, store)
    service.install_signal_handlers()
    scheduler = ReportScheduler(settings, store)
    scheduler.start()
    if port is not None:
        _serve_in_background(settings, port)
    click.echo(f"Watching {settings.inbox} - drop referrals there. Ctrl-C stops.", err=True)
    try:
        service.run()
    finally:
        scheduler.stop()
        store.close()


def _serve_in_background(settings: Settings, port: int) -> None:
    """The review web page in a thread of the service, on its own store connection."""
    import threading

    import uvicorn

    from pipeline.web.app import create_app

    app = create_app(settings, _open_store(settings))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    server.install_signal_handlers = lambda: None  # the service owns SIGTERM and Ctrl-C
    threading.Thread(target=server.run, name="review-web", daemon=True).start()
    click.echo(f"Review page on http://127.0.0.1:{port}/", err=True)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object on standard output.")
@click.pass_obj
def status(settings: Settings, as_json: bool) -> None:
    """Counts by state, and whether the store answers."""
    with _open_store(settings) as store:
        counts = store.counts()
        healthy = store.health()
        quarantined = len(store.quarantined())
    if as_json:
        click.echo(json.dumps(counts))
        return
    for key, value in counts.items():
        click.echo(f"{key:14} {value}")
    click.echo(f"{'quarantined':14} {quarantined}")
    click.echo(f"{'store':14} {'ok' if healthy else 'NOT ANSWERING'}")


@main.command()
@click.option("--reason", default=None, help="Only items with this reason code.")
@click.option("--payer", default=None, help="Only items from this payer.")
@click.pass_obj
def queue(settings: Settings, reason: str | None, payer: str | None) -> None:
    """What waits for staff review, oldest first, with the reasons."""
    from models.referral import REASON_TEXT, ReasonCode

    with _open_store(settings) as store:
        items = store.review_queue(reason=reason, payer=payer)
        quarantined = store.quarantined()
    table = Table("ID", "Received", "Patient", "Payer", "Reasons")
    for item in items:
        reasons = "; ".join(
            REASON_TEXT[ReasonCode(code)] if code in ReasonCode.__members__ else code
            for code in item.reasons
        )
        table.add_row(
            str(item.id),
            item.received_at.strftime("%Y-%m-%d %H:%M"),
            item.patient_name or "-",
            item.payer_name or "-",
            reasons,
        )
    console = Console()
    console.print(table)
    if quarantined:
        console.print(f"{len(quarantined)} file(s) in quarantine: referrals quarantine list")


@main.command()
@click.argument("document_id", type=int)
@click.pass_obj
def show(settings: Settings, document_id: int) -> None:
    """Print one stored referral record (JSON)."""
    with _open_store(settings) as store:
        stored = store.get(document_id)
    if stored is None:
        raise click.ClickException(f"no referral with id {document_id}")
    click.echo(json.dumps(stored.record, indent=2))


@main.command()
@click.option("--json", "as_json", is_flag=True, required=True, help="JSON Lines output.")
@click.pass_obj
def export(settings: Settings, as_json: bool) -> None:
    """Every stored referral record, one JSON object per line."""
    with _open_store(settings) as store:
        for record in store.export():
            sys.stdout.write(json.dumps(record) + "\n")


@main.group()
def quarantine() -> None:
    """Files that failed for good: list them, or send one back to the queue."""


@quarantine.command("list")
@click.pass_obj
def quarantine_list(settings: Settings) -> None:
    with _open_store(settings) as store:
        for info in store.quarantined():
            click.echo(f"{info.id}\t{info.original_name}\t{info.last_error or ''}")


@quarantine.command("retry")
@click.argument("document_id", type=int)
@click.pass_obj
def quarantine_retry(settings: Settings, document_id: int) -> None:
    with _open_store(settings) as store:
        if not store.retry_quarantined(document_id, actor="cli"):
            raise click.ClickException(f"document {document_id} is not in quarantine")
    click.echo(f"document {document_id} is queued again")


from pipeline.web.commands import serve, users  # noqa: E402

main.add_command(users)
main.add_command(serve)

from pipeline.report.commands import report  # noqa: E402

main.add_command(report)
