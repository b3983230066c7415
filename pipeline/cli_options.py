"""Command-line option parsers shared by the ``referrals`` commands."""

from __future__ import annotations

from datetime import date

import click


def parse_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    """A ``YYYY-MM-DD`` option, with that wording in the error staff see."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("use YYYY-MM-DD") from exc
