"""Finding parks: by what people type (a name or an id), and the list that forms choose from."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..core.models import Park


def find_park(session: Session, name_or_id: str | int) -> Park:
    """The park whose name is ``name_or_id``, or whose id it is (a name wins over an id). Raises
    LookupError naming what was asked and the parks there are."""
    text = str(name_or_id).strip()
    cond = Park.name == text
    if text.isdigit():
        cond = or_(cond, Park.id == int(text))
    found = session.scalars(select(Park).where(cond).order_by((Park.name == text).desc())).first()
    if found is None:
        names = "、".join(n for n, in session.execute(select(Park.name).order_by(Park.name).limit(20)))
        raise LookupError(f"没有名为 {text!r} 的园区" + (f"；现有园区：{names}" if names else "；尚未登记任何园区"))
    return found


def park_choices(session: Session) -> list[tuple[int, str]]:
    """Every park as (id, name), by name: what a form's park list offers."""
    return [(pid, name) for pid, name in session.execute(select(Park.id, Park.name).order_by(Park.name))]
