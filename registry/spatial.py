"""Backend-specific spatial SQL, one small helper per operation.

Everything else in the registry is written once for both backends; only these differ:
- a bbox filter that uses the spatial index (GiST ``&&`` on PostGIS; the ``SpatialIndex`` virtual
  table on SpatiaLite, whose ST_Intersects alone never touches the R*Tree);
- GeoJSON output, identical on both (no ``crs`` member, 9 decimals).
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, Float, Integer, String, bindparam, func, text
from sqlalchemy.orm import InstrumentedAttribute, Session

from .db import dialect
from .models import SRID


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
