"""Search (查找) for a park manager: buildings, units and tenants by code, name or 统一社会信用代码, in
one park or across every park the user may see.

Buildings and units are found in every park (they are on the public map). Tenants are found only in
the parks whose private data the user reads (``registry.core.authz.Audience``), with the units they
lease now or from a later date.
"""
from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..core.authz import Audience
from ..core.models import Building, Enterprise, Lease, Park, Unit
from ..core.validation import Problem, ValidationError

LIMIT = 50  # of each kind


@dataclass(frozen=True)
class Hit:  # 查找结果
    kind: str  # building / unit / tenant
    kind_label: str  # 楼栋 / 单元 / 租户
    title: str
    park: str
    detail: str
    target: tuple[str, int]  # (page, id): "building", "unit" or "tenant" (the tenant's first unit)


def _pattern(text: str) -> str:
    """The typed text as a LIKE pattern, matched anywhere, case-insensitively (%, _ taken literally)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def query_text(raw: str | None) -> str:
    """What was typed, as it is searched for: full-width folded to half-width, blanks trimmed; at
    most 64 characters (a refusal names the field)."""
    text = unicodedata.normalize("NFKC", raw or "").strip()
    if len(text) > 64:
        raise ValidationError(Problem("query.q", "超过 64 个字", "楼栋、单元编号，企业名称或统一社会信用代码"))
    return text


def find(session: Session, text: str, audience: Audience, day: dt.date, park_id: int | None = None) -> list[Hit]:
    """What ``text`` names: buildings (code or name), units (code), tenants (name or credit code, in
    the parks the reader sees in full), within ``park_id`` if given. Empty text finds nothing."""
    if not text:
        return []
    like = _pattern(text)
    hits: list[Hit] = []
    in_park = [Building.park_id == park_id] if park_id is not None else []
    for b, park in session.execute(
            select(Building, Park.name).join(Park, Park.id == Building.park_id)
            .where(or_(func.lower(Building.code).like(like, escape="\\"),
                       func.lower(func.coalesce(Building.name, "")).like(like, escape="\\")), *in_park)
            .order_by(Park.name, Building.code).limit(LIMIT)):
        hits.append(Hit("building", "楼栋", f"{b.code} {b.name or ''}".strip(), park,
                        f"{b.type.label} · {b.status.label} · {b.floors_above or '—'} 层", ("building", b.id)))
    for u, b_code, park in session.execute(
            select(Unit, Building.code, Park.name).join(Building, Building.id == Unit.building_id)
            .join(Park, Park.id == Building.park_id)
            .where(func.lower(Unit.code).like(like, escape="\\"), *in_park)
            .order_by(Park.name, Building.code, Unit.code).limit(LIMIT)):
        hits.append(Hit("unit", "单元", f"{b_code} · {u.code}", park,
                        f"{u.floor_level}F · {u.leasable_area_m2:,.0f} ㎡", ("unit", u.id)))
    tenants = (select(Enterprise, Unit.id, Unit.code, Building.code, Park.name, Park.id, Lease.end_date)
               .join(Lease, Lease.enterprise_id == Enterprise.id).join(Unit, Unit.id == Lease.unit_id)
               .join(Building, Building.id == Unit.building_id).join(Park, Park.id == Building.park_id)
               .where(Lease.end_date > day,
                      or_(func.lower(Enterprise.name).like(like, escape="\\"), Enterprise.uscc == text.upper()),
                      *in_park)
               .order_by(Enterprise.name, Park.name, Building.code, Unit.code))
    if audience.private_parks is not None:
        tenants = tenants.where(Park.id.in_(audience.private_parks))
    seen: dict[tuple[int, int], list] = {}
    for ent, unit_id, unit_code, b_code, park, pid, end in session.execute(tenants.limit(LIMIT * 5)):
        seen.setdefault((ent.id, pid), [ent, park, []])[2].append((unit_id, f"{b_code} · {unit_code}", end))
    for (_eid, _pid), (ent, park, units) in list(seen.items())[:LIMIT]:
        listed = "、".join(f"{code}（至 {end - dt.timedelta(days=1)}）" for _i, code, end in units[:6])
        more = f" 等 {len(units)} 个单元" if len(units) > 6 else ""
        hits.append(Hit("tenant", "租户", ent.name, park, f"{ent.uscc} · {listed}{more}", ("unit", units[0][0])))
    return hits
