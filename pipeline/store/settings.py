"""SQLAlchemy URLs for the store's SQLite files (the settings live in ``models.config``)."""

from __future__ import annotations

from pathlib import Path


def sqlite_url(path: Path) -> str:
    """A SQLAlchemy URL for a SQLite file (absolute, so the working folder does not matter)."""
    return f"sqlite:///{path.resolve()}"
