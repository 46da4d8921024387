"""Optimistic concurrency: a save based on what someone saw must not overwrite a newer change, and a
race lost to another writer is refused in the same terms.

A ``Conflict`` is how the registry says "someone else saved first": the record's newer values where
there is a record to show (a stale version), or the field that another writer took at the same
moment (a credit code registered twice, a unit let twice). The session turns the database's own
refusals into one (``registry.storage.db.RegistrySession``), so every caller sees the same thing.
"""
from __future__ import annotations

from sqlalchemy import inspect, update
from sqlalchemy.orm.attributes import set_committed_value

from .audit import snapshot


def _kind(table: str | None) -> str:
    """A record's kind as people name it (单元, 租约), not its table."""
    from .history import KINDS  # late: history's imports lead back here
    return KINDS.get(table or "", "记录")


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
        self.message = message or (f"此{_kind(self.entity)}在您打开后已被他人修改（现为第 "
                                   f"{self.current.get('version')} 版，您看到的是第 {seen_version} 版），"
                                   "您的修改未保存；请查看最新内容后再操作")
        super().__init__(self.message)


def check_version(obj, seen_version) -> None:
    """Raise Conflict unless the record is still at the version the user saw (None: not checked)."""
    if seen_version in (None, ""):
        return
    if int(seen_version) != obj.version:
        raise Conflict(obj, int(seen_version))


def move_version_on(session, obj, seen_version=None) -> None:
    """Moves ``obj``'s version on by one in the session's transaction without changing any of its
    facts, so that another save based on the version before this one is refused as a Conflict.

    For a record that a change depends on but does not alter (the lease a renewal continues): if
    another writer has changed it meanwhile, Conflict is raised here with its newer values. No audit
    record is written, since none of its facts change.
    """
    mapper = inspect(obj).mapper
    table, version = mapper.local_table, mapper.version_id_col
    key = mapper.primary_key[0]
    moved = session.execute(update(table).where(key == inspect(obj).identity[0], version == obj.version)
                            .values({version.name: version + 1}))
    if moved.rowcount != 1:
        seen = obj.version if seen_version in (None, "") else int(seen_version)
        session.refresh(obj)
        raise Conflict(obj, seen)
    set_committed_value(obj, mapper.get_property_by_column(version).key, obj.version + 1)
