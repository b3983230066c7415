"""The ``[store]`` settings section: where the referral store lives.

Kept here until it moves into ``models.config.Settings`` as ``store``; the rules match
the other path settings (relative paths are taken from the config file's folder).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict

from models.config import Settings

SQLITE_FILE = "referrals.sqlite3"


class StoreSettings(BaseModel):
    """``url`` picks a database server (``postgresql://user:pw@host/db``); unset means SQLite.

    The SQLite file defaults to ``referrals.sqlite3`` in the data folder, so a copied
    ``config.toml`` in an empty folder keeps everything inside that folder.
    """

    model_config = ConfigDict(extra="forbid")

    url: str | None = None
    sqlite_path: Path | None = None

    def database_url(self, settings: Settings) -> str:
        if self.url:
            return self.url
        path = self.sqlite_path or settings.paths.data_dir / SQLITE_FILE
        return sqlite_url(settings.resolve(path))


def sqlite_url(path: Path) -> str:
    """A SQLAlchemy URL for a SQLite file (absolute, so the working folder does not matter)."""
    return f"sqlite:///{path.resolve()}"
