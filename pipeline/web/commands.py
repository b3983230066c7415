"""``referrals users add NAME --role ...`` and ``referrals serve [--port N]``."""

from __future__ import annotations

import sys

import click

from models.config import Settings
from pipeline.store import Store
from pipeline.web.accounts import AccountError, add_user, list_users


def _settings() -> Settings:
    settings = click.get_current_context().obj
    if not isinstance(settings, Settings):
        raise click.ClickException("no settings: run through the referrals command")
    return settings


def _open() -> Store:
    settings = _settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return Store.open(settings.database_url())


@click.group()
def users() -> None:
    """Staff accounts for the review web page."""


@users.command("add")
@click.argument("name")
@click.option(
    "--role", type=click.Choice(["reviewer", "admin"]), default="reviewer", show_default=True
)
def users_add(name: str, role: str) -> None:
    """Create an account; the password is read from standard input when it is not a terminal."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    with _open() as store:
        try:
            add_user(store, name, role, password)
        except AccountError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"user {name} added ({role})", err=True)


@users.command("list")
def users_list() -> None:
    """Names, roles and when they were added."""
    with _open() as store:
        for name, role, created in list_users(store):
            click.echo(f"{name}\t{role}\t{created:%Y-%m-%d}")


@click.command()
@click.option("--port", type=int, default=8000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
def serve(port: int, host: str) -> None:
    """Serve the review web page alone (the intake service is not started)."""
    import uvicorn

    from pipeline.web.app import create_app

    settings = _settings()
    store = _open()
    click.echo(f"Review page on http://{host}:{port}/ - Ctrl-C stops.", err=True)
    try:
        uvicorn.run(create_app(settings, store), host=host, port=port, proxy_headers=True)
    finally:
        store.close()
