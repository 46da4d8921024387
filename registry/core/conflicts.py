"""Optimistic concurrency: a save based on what someone saw must not overwrite a newer change."""
from __future__ import annotations

import contextlib

from sqlalchemy import inspect
from sqlalchemy.orm.exc import StaleDataError

from .audit import snapshot


class Conflict(RuntimeError):
    """Someone saved this record since the user opened it. ``current`` holds the newer values."""

    def __init__(self, obj, seen_version: int | None = None):
        self.entity = obj.__tablename__
        self.ident = inspect(obj).identity[0] if inspect(obj).identity else None
        self.current = snapshot(obj)
        self.seen_version = seen_version
        super().__init__(f"{self.entity} #{self.ident} was changed by someone else (now version "
                         f"{self.current.get('version')}, you saw {seen_version}); reload to see the newer values")


def check_version(obj, seen_version) -> None:
    """Raise Conflict unless the record is still at the version the user saw (None: not checked)."""
    if seen_version in (None, ""):
        return
    if int(seen_version) != obj.version:
        raise Conflict(obj, int(seen_version))


@contextlib.contextmanager
def stale_as_conflict(session, obj):
    """Turns a race lost at flush time (another transaction saved first) into a Conflict."""
    try:
        yield
    except StaleDataError:
        session.rollback()
        session.refresh(obj)
        raise Conflict(obj) from None
