"""The audit trail of one record: who changed what, when, from what, to what."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import AuditRecord, Base

# Tables whose history users may look up, by their name in the audit trail.
AUDITED = {m.class_.__tablename__: m.class_ for m in Base.registry.mappers if m.class_ is not AuditRecord}


def record_history(session: Session, entity: str, ident: str) -> list[AuditRecord]:
    """Every audit record of ``entity`` #``ident``, oldest first."""
    if entity not in AUDITED:
        raise LookupError(f"no such kind of record: {entity!r}")
    return list(session.scalars(select(AuditRecord).where(AuditRecord.entity == entity,
                                                           AuditRecord.entity_id == str(ident))
                                .order_by(AuditRecord.at, AuditRecord.id)))
