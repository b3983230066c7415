"""Staff accounts in the store's ``users`` table: argon2 hashes and limits on failed sign-ins.

After ``FREE_FAILURES`` wrong passwords in a row for one name, the account is locked for
a delay that doubles with every further failure (capped at ``MAX_LOCK``); while locked,
even the right password is refused. A sign-in that succeeds clears the count.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import URL, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from pipeline.store import Store
from pipeline.store import engine as engines
from pipeline.store.results import Role
from pipeline.store.schema import UserRow

FREE_FAILURES = 5
FIRST_LOCK = timedelta(seconds=30)
MAX_LOCK = timedelta(hours=1)
MAX_NAME = 128

_hasher = PasswordHasher()


class AccountError(ValueError):
    """A user could not be added (bad name, role or password, or the name is taken)."""


@dataclass(frozen=True)
class User:
    name: str
    role: Role


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in: ``user`` when it succeeded, else why not."""

    user: User | None = None
    locked_for: timedelta | None = None


def add_user(store_url_or_store: Store | str | URL, name: str, role: str, password: str) -> User:
    """Create a staff account; raises AccountError when the name exists or input is bad."""
    name = name.strip()
    if not name or len(name) > MAX_NAME or any(ch.isspace() for ch in name):
        raise AccountError("a user name is 1-128 characters without spaces")
    try:
        role_value = Role(role)
    except ValueError as exc:
        raise AccountError("role must be reviewer or admin") from exc
    if len(password) < 8:
        raise AccountError("a password needs at least 8 characters")
    store, owned = _store(store_url_or_store)
    try:
        with _writes(store) as session:
            session.add(
                UserRow(
                    name=name,
                    role=role_value.value,
                    password_hash=_hasher.hash(password),
                    created_at=store.clock(),
                    failed_logins=0,
                )
            )
    except IntegrityError as exc:
        raise AccountError(f"user {name!r} already exists") from exc
    finally:
        if owned:
            store.close()
    return User(name=name, role=role_value)


def list_users(store: Store) -> list[tuple[str, str, datetime]]:
    with Session(store.engine) as session, session.begin():
        rows = session.execute(
            select(UserRow.name, UserRow.role, UserRow.created_at).order_by(UserRow.name)
        )
        return [tuple(row) for row in rows]


def find_user(store: Store, name: str) -> User | None:
    with Session(store.engine) as session, session.begin():
        row = session.execute(
            select(UserRow.name, UserRow.role).where(UserRow.name == name)
        ).one_or_none()
    return User(name=row[0], role=Role(row[1])) if row else None


def sign_in(store: Store, name: str, password: str) -> SignIn:
    """Check a password, counting failures per name and locking after FREE_FAILURES."""
    name = name.strip()[:MAX_NAME]
    now = store.clock()
    with _writes(store) as session:
        row = session.scalars(select(UserRow).where(UserRow.name == name)).one_or_none()
        if row is None:
            _verify(_dummy_hash(), password)
            return SignIn()
        if row.locked_until is not None and row.locked_until > now:
            return SignIn(locked_for=row.locked_until - now)
        if not _verify(row.password_hash, password):
            row.failed_logins = (row.failed_logins or 0) + 1
            if row.failed_logins >= FREE_FAILURES:
                lock = min(FIRST_LOCK * 2 ** (row.failed_logins - FREE_FAILURES), MAX_LOCK)
                row.locked_until = now + lock
                return SignIn(locked_for=lock)
            return SignIn()
        row.failed_logins = 0
        row.locked_until = None
        if _hasher.check_needs_rehash(row.password_hash):
            row.password_hash = _hasher.hash(password)
        return SignIn(user=User(name=row.name, role=Role(row.role)))


@cache
def _dummy_hash() -> str:
    """Verified against when the name is unknown, so that a wrong name costs as long as a
    wrong password and the timing does not tell which names exist."""
    return _hasher.hash("no such user: this hash only evens out the timing")


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False


def _store(value: Store | str | URL) -> tuple[Store, bool]:
    if isinstance(value, Store):
        return value, False
    return Store.open(value), True


def _writes(store: Store):
    """A write transaction that takes SQLite's write lock up front, like the store's own."""
    return sessionmaker(engines.writer(store.engine), expire_on_commit=False).begin()
