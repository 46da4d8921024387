"""Signing in: a password check that guessing cannot outrun, one answer for every refusal.

Failed attempts are counted in the database, per name typed from one client address and per
address, by one atomic UPDATE each, *before* the password is checked: thirty parallel guesses
are thirty counts, and only those the limit allows are checked at all. A lock slows down the
address that guessed, never the account: the user, from their own desk, signs in as usual, and an
attacker cannot keep anyone out. The limits grow (30 s doubling up to 15 minutes) and a quiet hour
forgets them. Unknown names are counted, locked and timed exactly as real ones, so neither the
answer nor its time tells whether a name exists.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import case, delete, or_, update
from sqlalchemy.orm import Session

from . import clock, users
from .models import LoginThrottle, User
from .words import N_


@dataclass(frozen=True)
class Limit:
    """How many failures one key gets before each further attempt has to wait."""
    prefix: str
    free: int


PER_NAME = Limit("name", 5)        # one name from one address: a user's own typing mistakes
PER_ADDRESS = Limit("address", 30)  # one address, any names: password spraying; offices share one
FIRST_DELAY = dt.timedelta(seconds=30)
MAX_DELAY = dt.timedelta(minutes=15)
QUIET = dt.timedelta(hours=1)       # no failure for this long and a key starts again from zero
FORGOTTEN = dt.timedelta(days=1)    # keys this old are deleted: names an attacker made up do not pile up
CHECKING = dt.timedelta(minutes=1)  # a reserved attempt holds the key this long while it is checked

WRONG = N_("用户名或密码错误")
LOCKED = N_("尝试次数过多，请稍后再试")


class LoginRefused(Exception):
    """Wrong name or password, or too many recent failures (``retry_at`` then says until when)."""

    def __init__(self, message: str, retry_at: dt.datetime | None = None):
        super().__init__(message)
        self.retry_at = retry_at


def delay_after(failures: int, limit: Limit) -> dt.timedelta:
    """How long a key waits after ``failures`` failures in a row: nothing within its free
    attempts, then 30 s doubling with each further failure, at most 15 minutes."""
    if failures < limit.free:
        return dt.timedelta(0)
    return min(FIRST_DELAY * 2 ** min(failures - limit.free, 16), MAX_DELAY)


def _keys(username: str, address: str) -> list[tuple[Limit, str]]:
    """The keys an attempt counts against: the address first, so that an address already held
    back charges nothing to the name."""
    name = username.strip().casefold()[:120]
    return [(PER_ADDRESS, f"address:{address}"), (PER_NAME, f"name:{name}@{address}")]


def _reserve(session: Session, limit: Limit, key: str, now: dt.datetime) -> int | None:
    """Counts one attempt against ``key`` in one UPDATE; the new count, or None when the key is
    locked. From the last free attempt on, a counted attempt holds the key while it is checked,
    so parallel attempts past the limit are refused without being checked."""
    from ..storage.db import insert_missing  # the backend's own "insert unless present"
    insert_missing(session, LoginThrottle, key=key, failures=0, updated_at=now)
    quiet = LoginThrottle.updated_at < now - QUIET
    return session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.key == key,
               or_(LoginThrottle.failures < limit.free, LoginThrottle.locked_until.is_(None),
                   LoginThrottle.locked_until <= now, quiet))
        .values(failures=case((quiet, 1), else_=LoginThrottle.failures + 1),
                locked_until=case((quiet, None),
                                  (LoginThrottle.failures >= limit.free - 1, now + CHECKING),
                                  else_=LoginThrottle.locked_until),
                updated_at=now)
        .returning(LoginThrottle.failures)).scalar()


def _locked_until(session: Session, key: str) -> dt.datetime | None:
    row = session.get(LoginThrottle, key, populate_existing=True)
    until = row.locked_until if row is not None else None
    return until.replace(tzinfo=dt.timezone.utc) if until is not None and until.tzinfo is None else until


def sign_in(session: Session, username: str, password: str, address: str,
            now: dt.datetime | None = None) -> User:
    """The active user with this name and password, signing in from ``address``; raises
    LoginRefused otherwise, with the same words and the same work whether or not the name exists.

    The caller's transaction must be marked for writing (web requests that post are). Commits
    twice: the attempt is counted, and that count committed, before the password is checked
    (outside any write lock: scrypt takes tens of milliseconds); the outcome (a longer wait after
    a failure, a clean slate for the name after a success) is committed after.
    """
    from ..storage.db import for_writing  # the second transaction writes too: it takes its turn first
    now = now or clock.now()
    session.execute(delete(LoginThrottle).where(LoginThrottle.updated_at < now - FORGOTTEN))
    counted: list[tuple[Limit, str, int]] = []
    for limit, key in _keys(username, address):
        n = _reserve(session, limit, key, now)
        if n is None and session.get(LoginThrottle, key, populate_existing=True) is None:
            n = _reserve(session, limit, key, now)  # the row was pruned between insert and update
        if n is None:
            retry_at = _locked_until(session, key)
            session.rollback()  # a refused attempt charges no key: nothing was checked
            users.verify_password(users.DUMMY_HASH, password)  # a refusal takes a check's time
            raise LoginRefused(LOCKED, retry_at=retry_at)
        counted.append((limit, key, n))
    session.commit()

    user = users.active_user_named(session, username)
    matches = user is not None and users.verify_password(user.password_hash, password)
    if user is None:
        users.verify_password(users.DUMMY_HASH, password)
    session.commit()  # the read is over; the write below takes its turn
    for_writing(session)
    if matches:
        for _, key, _ in counted:
            if key.startswith("name:"):
                session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
            else:  # a success is not a failure: take back its count and its hold
                session.execute(update(LoginThrottle).where(LoginThrottle.key == key).values(
                    failures=LoginThrottle.failures - 1,
                    locked_until=case((LoginThrottle.locked_until == now + CHECKING, None),
                                      else_=LoginThrottle.locked_until)))
        session.commit()
        return session.get(User, user.id)
    retry_at = None
    for limit, key, n in counted:
        wait = delay_after(n, limit)
        if wait:
            until = now + wait
            session.execute(update(LoginThrottle).where(LoginThrottle.key == key).values(locked_until=until))
            retry_at = max(retry_at or until, until)
    session.commit()
    raise LoginRefused(WRONG, retry_at=retry_at)


def forget_name(session: Session, username: str) -> None:
    """Clears every address's failures for ``username`` (an administrator reactivating a user)."""
    name = username.strip().casefold()[:120]
    session.execute(delete(LoginThrottle).where(LoginThrottle.key.startswith(f"name:{name}@", autoescape=True)))
