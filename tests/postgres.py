"""A throwaway PostgreSQL server for tests, and a fresh database per test.

``postgres_url`` (session): the server to test against. ``REFERRALS_TEST_POSTGRES_URL``
names one (its role needs CREATEDB); otherwise the fixture runs Debian's ``initdb`` and
``pg_ctl`` (package ``postgresql``) into a temporary folder and starts a private server
on 127.0.0.1 and a free port, with its unix socket inside that folder and durability
off (fsync, full-page writes), and stops and removes it when the session ends. initdb
refuses to run as root, so as root the server runs as the ``postgres`` user.

``postgres_database`` (per test): the URL of a new, empty database on that server,
dropped afterwards.

Without PostgreSQL the tests that need it are skipped, except under CI (``CI`` set),
where they fail: a missing server there is a broken set-up, not a reason to test less.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

ENV_URL = "REFERRALS_TEST_POSTGRES_URL"
DEBIAN_BINARIES = Path("/usr/lib/postgresql")
SERVER_USER = "postgres"
START_TIMEOUT_SECONDS = 60
MISSING = (
    "PostgreSQL is not installed: no initdb in /usr/lib/postgresql/*/bin or on PATH. "
    "Install it (apt-get install postgresql) or set REFERRALS_TEST_POSTGRES_URL."
)


@dataclass
class LocalServer:
    bindir: Path
    root: Path
    port: int
    run_as: str | None

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        sockets = self.root / "sockets"
        sockets.mkdir()
        self._own(sockets)
        self._run("initdb", "-D", self.data, "-U", SERVER_USER, "-A", "trust", "-E", "UTF8", "-N")
        options = f"-h 127.0.0.1 -p {self.port} -k {sockets} -F -c full_page_writes=off"
        self._run(
            "pg_ctl", "-D", self.data, "-l", self.root / "server.log", "-o", options, "-w", "start"
        )

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        log = self.root / "server.log"
        return log.read_text(errors="replace")[-3000:] if log.exists() else ""

    def _own(self, path: Path) -> None:
        if self.run_as:
            shutil.chown(path, self.run_as, self.run_as)

    def _run(self, program: str, *args: object) -> None:
        command = [str(self.bindir / program), *map(str, args)]
        if self.run_as:
            command = ["runuser", "-u", self.run_as, "--", *command]
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=START_TIMEOUT_SECONDS,
            cwd=self.root,
        )
        if done.returncode != 0:
            raise RuntimeError(
                f"{program} failed ({done.returncode}): {done.stderr.strip()}\n{self.log()}"
            )


def find_binaries() -> Path | None:
    """The newest Debian PostgreSQL's bin folder, else the folder of ``initdb`` on PATH."""
    found = [p.parent for p in DEBIAN_BINARIES.glob("*/bin") if (p / "initdb").exists()]
    found = [p for p in found if (p / "pg_ctl").exists()]
    if found:
        return max(found, key=lambda path: _version(path.parent.name))
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _version(name: str) -> tuple[int, ...]:
    return tuple(int(part) for part in name.split(".") if part.isdigit())


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _unavailable(message: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def _server_user() -> str | None:
    """Who runs the server: ourselves, or the ``postgres`` user when we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        _unavailable(f"running as root and there is no '{SERVER_USER}' user to run PostgreSQL")
    return SERVER_USER


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    if url := os.environ.get(ENV_URL):
        yield url
        return
    bindir = find_binaries()
    if bindir is None:
        _unavailable(MISSING)
    run_as = _server_user()
    root = Path(tempfile.mkdtemp(prefix="referrals-pg-"))
    server = LocalServer(bindir=bindir, root=root, port=_free_port(), run_as=run_as)
    server._own(root)
    try:
        server.start()
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(root, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL from {bindir}: {exc}", pytrace=False)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    name = f"referrals_test_{uuid.uuid4().hex[:16]}"
    _admin(postgres_url, f'CREATE DATABASE "{name}"')
    try:
        url = make_url(postgres_url).set(database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        _admin(postgres_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def libpq_url(url: str) -> str:
    """A SQLAlchemy URL as libpq (psycopg.connect) takes it: without the ``+driver``."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _admin(url: str, statement: str) -> None:
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute(statement)
