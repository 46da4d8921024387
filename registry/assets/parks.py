"""Finding parks: by what people type (a name or an id), and the list that forms choose from."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..core.authz import Audience
from ..core.models import Jurisdiction, Park, record_id


def find_park(session: Session, name_or_id: str | int) -> Park:
    """The park whose name is ``name_or_id``, or whose id it is (a name wins over an id). Raises
    LookupError naming what was asked and the parks there are."""
    text = str(name_or_id).strip()
    cond = Park.name == text
    if record_id(text) is not None:
        cond = or_(cond, Park.id == record_id(text))
    found = session.scalars(select(Park).where(cond).order_by((Park.name == text).desc())).first()
    if found is None:
        names = "、".join(n for n, in session.execute(select(Park.name).order_by(Park.name).limit(20)))
        raise LookupError(f"没有名为 {text!r} 的园区" + (f"；现有园区：{names}" if names else "；尚未登记任何园区"))
    return found


def get_park(session: Session, park_id: int) -> Park:
    """The park with this id (LookupError if there is none)."""
    park = session.get(Park, park_id)
    if park is None:
        raise LookupError(f"no park #{park_id}")
    return park


def park_choices(session: Session, audience: Audience | None = None) -> list[tuple[int, str]]:
    """Every park as (id, name), by name: what a form's park list offers; with ``audience``, only
    the parks it reads in full (its own parks' 操作记录, rent rolls)."""
    query = select(Park.id, Park.name).order_by(Park.name)
    if audience is not None and not audience.every_park:
        query = query.where(Park.id.in_(sorted(audience.private_parks)))
    return [(pid, name) for pid, name in session.execute(query)]


def jurisdiction_choices(session: Session) -> list[tuple[str, str]]:
    """Every registered region as (code, name), by code: what a filter by county offers."""
    return [(code, name) for code, name in session.execute(select(Jurisdiction.code, Jurisdiction.name)
                                                             .order_by(Jurisdiction.code))]


def building_choices(session: Session, park_id: int) -> list[tuple[int, str]]:
    """The park's buildings as (id, code and name), by code: what a filter by building offers."""
    from ..core.models import Building
    return [(bid, f"{code} {name or ''}".strip()) for bid, code, name in session.execute(
        select(Building.id, Building.code, Building.name).where(Building.park_id == park_id).order_by(Building.code))]
