"""Schema migrations (Alembic), run from code: no ``alembic.ini`` is needed anywhere.

``upgrade`` is safe when several processes start at once: the migration runs inside
one transaction that first takes a lock (SQLite: ``BEGIN IMMEDIATE``, the file's write
lock; PostgreSQL: a transaction-level advisory lock), and Alembic reads the current
revision only after that, so the second process finds the schema already at head.
Both backends have transactional DDL, so a failed migration leaves nothing half done.

To write a new migration after changing ``schema.py``::

    python -c "from pipeline.store.migrate import new_revision; \
new_revision('sqlite:////tmp/scratch.sqlite3', 'add a column')"

and edit the file it writes into ``migrations/versions``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, text

from pipeline.store import engine as engines

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
ADVISORY_LOCK = 0x5245_4645_5252  # any fixed number; "REFERR" in hex


def alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (default: the newest); a no-op when it is there."""
    with engines.writer(engine).connect() as connection, connection.begin():
        _lock(connection)
        command.upgrade(alembic_config(connection), revision)


def current(engine: Engine) -> str | None:
    """The database's revision, or None before the first migration."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def new_revision(url: str, message: str) -> None:
    """Write a migration for the difference between ``schema.py`` and the database at url."""
    engine = engines.create(url)
    try:
        upgrade(engine)
        with engines.writer(engine).connect() as connection, connection.begin():
            command.revision(alembic_config(connection), message=message, autogenerate=True)
    finally:
        engine.dispose()


def _lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
