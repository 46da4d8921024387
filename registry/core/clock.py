"""The registry's one clock: what day it is for every rule, and what instant for every record.

``today()`` is the business date: the date in the registry's time zone (``REGISTRY_TIMEZONE``,
default Asia/Shanghai, the users' calendar whatever zone the server runs in). A deployment or a
test pins it with ``REGISTRY_TODAY=YYYY-MM-DD``: a demo frozen on its reference date, a test suite
run as if it were a year later. Leases, vacancies, expiries, deadlines and default "as of" dates
all come from here; nothing else in the registry or the web layer asks the system for the date
(tests/test_clock.py enforces it).

``now()`` is the real instant (UTC) that audit records, sign-in lock-outs, stored runs and file
stamps carry. It is never pinned: a record says when it was really written, even in a demo that
lives on a fixed day.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TODAY_ENV = "REGISTRY_TODAY"
TIMEZONE_ENV = "REGISTRY_TIMEZONE"
DEFAULT_TIMEZONE = "Asia/Shanghai"


class ClockError(ValueError):
    """The clock's configuration is unusable; the message names the variable and the expected form."""


@lru_cache(maxsize=8)
def _pinned(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise ClockError(f"{TODAY_ENV}={text!r} is not a date; expected YYYY-MM-DD, e.g. 2026-11-29") from None


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ClockError(f"{TIMEZONE_ENV}={name!r} is not a time zone; expected an IANA name such as "
                         f"{DEFAULT_TIMEZONE}") from None


def zone() -> ZoneInfo:
    """The registry's time zone, in which a day begins and ends."""
    return _zone(os.environ.get(TIMEZONE_ENV) or DEFAULT_TIMEZONE)


def today() -> dt.date:
    """The business date: ``REGISTRY_TODAY`` when pinned, else today's date in the registry's zone."""
    pinned = os.environ.get(TODAY_ENV)
    if pinned:
        return _pinned(pinned)
    return now().astimezone(zone()).date()


def now() -> dt.datetime:
    """The real current instant, timezone-aware UTC (never pinned)."""
    return dt.datetime.now(dt.timezone.utc)


def local_now() -> dt.datetime:
    """The real current instant in the registry's zone, for stamps people read (export times,
    backup file names)."""
    return now().astimezone(zone())


def is_pinned() -> bool:
    return bool(os.environ.get(TODAY_ENV))


@contextlib.contextmanager
def pinned(day: dt.date) -> Iterator[dt.date]:
    """Pins ``today()`` to ``day`` for the duration (tests, demos); the previous setting returns after."""
    before = os.environ.get(TODAY_ENV)
    os.environ[TODAY_ENV] = day.isoformat()
    try:
        yield day
    finally:
        if before is None:
            os.environ.pop(TODAY_ENV, None)
        else:
            os.environ[TODAY_ENV] = before
