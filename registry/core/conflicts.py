"""Optimistic concurrency: a save based on what someone saw must not overwrite a newer change, and a
race lost to another writer is refused in the same terms.

A ``Conflict`` is how the registry says "someone else saved first": the record's newer values where
there is a record to show (a stale version), or the field that another writer took at the same
moment (a credit code registered twice, a unit let twice). The session turns the database's own
refusals into one (``registry.storage.db.RegistrySession``), so every caller sees the same thing.
"""
from __future__ import annotations

from sqlalchemy import inspect

from .audit import snapshot


class Conflict(RuntimeError):
    """Someone saved first. ``current`` holds the record's newer values (empty when the record is
    gone or a value was taken); ``field`` names what was taken, if that was it."""

    def __init__(self, obj=None, seen_version: int | None = None, *, entity: str | None = None,
                 field: str | None = None, message: str | None = None):
        self.entity = obj.__tablename__ if obj is not None else entity
        identity = inspect(obj).identity if obj is not None else None
        self.ident = identity[0] if identity else None
        self.current = snapshot(obj) if obj is not None else {}
        self.seen_version = seen_version
        self.field = field
        self.message = message or (f"{self.entity} #{self.ident} 在您打开后已被他人修改（现为第 "
                                   f"{self.current.get('version')} 版，您看到的是第 {seen_version} 版），"
                                   "您的修改未保存；请查看最新内容后再操作")
        super().__init__(self.message)


def check_version(obj, seen_version) -> None:
    """Raise Conflict unless the record is still at the version the user saw (None: not checked)."""
    if seen_version in (None, ""):
        return
    if int(seen_version) != obj.version:
        raise Conflict(obj, int(seen_version))
