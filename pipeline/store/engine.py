"""Engines for the two supported backends, SQLite (the default) and PostgreSQL.

SQLite is set up for several processes sharing one file: WAL (readers never wait for
the writer), a busy timeout (writers queue instead of failing), and foreign keys on
(SQLite leaves them off per connection). The driver's own transaction handling is
turned off so that we emit ``BEGIN`` ourselves: write transactions start with
``BEGIN IMMEDIATE`` and take the write lock up front, which the busy timeout can wait
for; a deferred transaction that reads first and writes later can instead fail at once
with "database is locked" when another writer got in between.

Switching a new file to WAL is the one place where SQLite does not wait: it takes the
exclusive lock once and gives up at once if another process holds any lock, so two
processes creating the same database together (the service and a CLI command started
at the same moment) failed with "database is locked" in 82 of 600 tries. That switch
is retried for as long as the busy timeout; once the file is in WAL it stays there and
the switch is skipped.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from tenacity import (
    retry,
    retry_if_exception,
    stop_after_delay,
    wait_random_exponential,
)

BUSY_TIMEOUT_MS = 30_000
WRITE = "referrals_write"  # execution option: this connection's transaction will write


def database_url(url: str | URL) -> URL:
    """The URL with our driver for PostgreSQL (psycopg 3), whatever spelling was given."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")
    return parsed


def create(url: str | URL) -> Engine:
    parsed = database_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    return create_engine(parsed, pool_pre_ping=True)


def writer(engine: Engine) -> Engine:
    """The same engine and pool, with connections whose transactions begin ready to write."""
    return engine.execution_options(**{WRITE: True})


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection, _record) -> None:
    dbapi_connection.isolation_level = None  # autocommit at the driver; see _sqlite_begin
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    _use_wal(cursor)
    cursor.execute("PRAGMA synchronous = NORMAL")  # durable enough with WAL, much faster
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _locked(error: BaseException) -> bool:
    return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)


@retry(
    retry=retry_if_exception(_locked),
    wait=wait_random_exponential(multiplier=0.01, max=0.5),
    stop=stop_after_delay(BUSY_TIMEOUT_MS / 1000),
    reraise=True,
)
def _use_wal(cursor: sqlite3.Cursor) -> None:
    """WAL mode, waiting for a switch that another process's lock refused (see module doc)."""
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        cursor.execute("PRAGMA journal_mode = WAL")


def _sqlite_begin(connection: Connection) -> None:
    writes = connection.get_execution_options().get(WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")
