"""Backend-specific SQL, one small helper per operation.

Everything else in the registry is written once for both backends; only these differ:
- a bbox filter that uses the spatial index (GiST ``&&`` on PostGIS; the ``SpatialIndex`` virtual
  table on SpatiaLite, whose ST_Intersects alone never touches the R*Tree);
- GeoJSON output, identical on both (no ``crs`` member, 9 decimals);
- the centre of a geometry's bounding box, read from the box stored with it;
- the extent of a column (ST_Extent on PostGIS; min/max of ST_MinX… on SpatiaLite);
- a per-row lookup (LATERAL on PostgreSQL; a correlated subquery in a materialized CTE on SQLite,
  which has no LATERAL), and aggregates of child rows per parent row built on one.
"""
from __future__ import annotations

from sqlalchemy import CTE, ColumnElement, Float, Integer, Select, String, and_, bindparam, func, select, text, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from .db import dialect
from ..core.models import SRID


def bbox_filter(session: Session, column: InstrumentedAttribute, bbox: tuple[float, float, float, float]) -> ColumnElement[bool]:
    """A WHERE clause: the geometry in ``column`` has its bounding box intersect ``bbox`` (lon/lat)."""
    minx, miny, maxx, maxy = (float(b) for b in bbox)
    if dialect(session) == "postgresql":
        return column.op("&&")(func.ST_MakeEnvelope(minx, miny, maxx, maxy, SRID))
    table = column.property.parent.local_table
    frame = text(
        "SELECT rowid FROM SpatialIndex WHERE f_table_name = :t AND f_geometry_column = :c "
        "AND search_frame = BuildMbr(:x0, :y0, :x1, :y1, :srid)"
    ).bindparams(
        bindparam("t", table.name, String, unique=True), bindparam("c", column.key, String, unique=True),
        bindparam("x0", minx, Float, unique=True), bindparam("y0", miny, Float, unique=True),
        bindparam("x1", maxx, Float, unique=True), bindparam("y1", maxy, Float, unique=True),
        bindparam("srid", SRID, Integer, unique=True),
    )
    pk = list(table.primary_key.columns)[0]  # SpatiaLite's rowid is the integer primary key
    return pk.in_(frame)


def as_geojson(column) -> ColumnElement[str]:
    """The geometry as a GeoJSON geometry string, the same on both backends."""
    return func.ST_AsGeoJSON(column, 9, 0)


def box_centre(session: Session, column) -> tuple[ColumnElement[float], ColumnElement[float]]:
    """The centre of the geometry's bounding box (x, y), from the box both backends store with a
    polygon: a tenth of the cost of ST_Centroid, which reads and integrates every vertex. Good
    enough to place a building in a cluster cell."""
    if dialect(session) == "postgresql":
        box = func.Box2D(column)
        return ((func.ST_XMin(box) + func.ST_XMax(box)) / 2, (func.ST_YMin(box) + func.ST_YMax(box)) / 2)
    return ((func.MbrMinX(column) + func.MbrMaxX(column)) / 2, (func.MbrMinY(column) + func.MbrMaxY(column)) / 2)


def with_lookup(session: Session, stmt: Select, lookup: Select, label: str) -> Select:
    """``stmt`` with one more column, ``label``: the value the correlated one-row ``lookup`` finds for
    each of its rows (None when it finds none).

    Build the result into a CTE with ``lookup_cte`` before referring to the column more than once:
    on SQLite the lookup is a scalar subquery, which would otherwise run once per reference.
    """
    if dialect(session) == "postgresql":
        found = lookup.lateral(f"{label}_lookup")
        return stmt.outerjoin(found, true()).add_columns(list(found.c)[0].label(label))
    return stmt.add_columns(lookup.scalar_subquery().label(label))


def lookup_cte(session: Session, stmt: Select, name: str) -> CTE:
    """``stmt`` (built with ``with_lookup``) as a CTE whose lookups run once per row: materialized
    on SQLite; inlined on PostgreSQL, where the LATERAL join already runs once per row."""
    cte = stmt.cte(name)
    return cte if dialect(session) == "postgresql" else cte.prefix_with("MATERIALIZED")


def computed_cte(session: Session, stmt: Select, name: str) -> CTE:
    """``stmt`` as a CTE whose rows are computed values to be grouped: materialized on PostgreSQL,
    where the inlined form would sort every source row whole (a building with its footprint) to
    group it; inlined on SQLite, whose sorter carries only the values and which materializes slower."""
    cte = stmt.cte(name)
    return cte.prefix_with("MATERIALIZED") if dialect(session) == "postgresql" else cte


def extent(session: Session, column) -> tuple[float, float, float, float] | None:
    """The bounding box (minx, miny, maxx, maxy) of every geometry in ``column``; None if there are none."""
    if dialect(session) == "postgresql":
        box = func.ST_Extent(column)
        cols = (func.ST_XMin(box), func.ST_YMin(box), func.ST_XMax(box), func.ST_YMax(box))
    else:
        cols = (func.min(func.ST_MinX(column)), func.min(func.ST_MinY(column)),
                func.max(func.ST_MaxX(column)), func.max(func.ST_MaxY(column)))
    row = session.execute(select(*cols)).one()
    return None if row[0] is None else tuple(float(x) for x in row)


def children_aggregated(session: Session, *, parent, child, link, child_where, columns: dict, joins, lookup: Select,
                        label: str, aggregates, parent_where: list):
    """Aggregates over each ``parent`` row's ``child`` rows (``link`` joins them; ``child_where``
    picks the children), as a FROM item to join to ``parent``: returns (the item, its join
    condition, the conditions on ``parent`` still to apply).

    ``columns`` are the child rows' values (name → SQL over ``child`` and what ``joins(select)``
    adds to its FROM); ``lookup`` is a correlated one-row lookup per child, named ``label``;
    ``aggregates(cols)`` makes the aggregate columns from those values by name. On PostgreSQL the
    aggregate is a LATERAL subquery per parent (no sort or hash of every child to group them, no
    second visit to the parent row, the lookup a LATERAL join per child); SQLite, which has no
    LATERAL, collects the children with their lookups in a materialized CTE (``parent_where``
    applied there, each lookup run once per child) and groups them."""
    if dialect(session) == "postgresql":
        found = lookup.lateral(f"{label}_lookup")
        stmt = joins(select().select_from(child).outerjoin(found, true()))
        item = (stmt.add_columns(*aggregates({**columns, label: list(found.c)[0]})).where(link, *child_where)
                .correlate(parent).lateral("children"))
        return item, true(), parent_where
    parent_key = [c for c in (link.left, link.right) if c.table is parent.__table__][0]
    rows = (select(parent_key.label("parent_id"), *[value.label(name) for name, value in columns.items()])
            .select_from(parent).join(child, and_(link, *child_where)))
    rows = with_lookup(session, joins(rows), lookup, label)
    cte = lookup_cte(session, rows.where(*parent_where), "children_rows")
    grouped = (select(cte.c.parent_id, *aggregates({name: cte.c[name] for name in [*columns, label]}))
               .group_by(cte.c.parent_id).subquery("children"))
    return grouped, grouped.c.parent_id == parent_key, []  # the CTE has applied the parent's conditions

