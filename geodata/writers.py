"""Writing layers to the files GIS tools open: GeoJSON (RFC 7946), GeoPackage, zipped Shapefile
(UTF-8 or GBK) and KML.

Input is columnar: field definitions, one list of values per field, and one WKB geometry per
feature in EPSG:4490. Files are written beside their destination and moved into place only when
complete, so a failed export (a full disk) never leaves a truncated file that looks finished.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import errno
import os
import shutil
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pyogrio.raw import write as ogr_write

from .crs import CGCS2000

FORMATS = {"geojson": ".geojson", "gpkg": ".gpkg", "shp": ".zip", "kml": ".kml"}
# A write that fails with less free space than this left on the device failed for want of space:
# GDAL reports a full disk only as "Failed to commit transaction" or "Cannot write feature".
FULL_DISK_BYTES = 1024 * 1024
WHOLE_PAGE = 4096  # less free than this after writing: the disk filled while it was written


class DiskFull(OSError):
    """The destination's device filled up; nothing was left under the destination's name."""
SHAPEFILE_ENCODINGS = ("UTF-8", "GBK")


@dataclass(frozen=True)
class Column:
    name: str  # ≤ 10 ASCII characters: the shapefile limit, so one name serves every format
    alias: str  # the Chinese name, written where the format can hold it (GeoPackage data columns)
    kind: str  # str | float | int | date | bool


def write(path: str | Path, fmt: str, layer: str, columns: list[Column], data: dict[str, list],
          wkb: list, *, encoding: str = "UTF-8", title_field: str | None = None) -> Path:
    """Writes one layer to ``path`` atomically and returns it.

    ``fmt`` is one of FORMATS; ``shp`` produces a zip of .shp/.shx/.dbf/.prj/.cpg in ``encoding``
    (UTF-8, or GBK for old ArcGIS). ``title_field`` names the KML placemarks.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of " + ", ".join(FORMATS))
    if fmt == "shp" and encoding.upper() not in SHAPEFILE_ENCODINGS:
        raise ValueError(f"shapefile encoding {encoding!r}; expected one of " + ", ".join(SHAPEFILE_ENCODINGS))
    too_long = [c.name for c in columns if len(c.name) > 10 or not c.name.isascii()]
    if too_long:
        raise ValueError("field names must be ASCII of at most 10 characters: " + ", ".join(too_long))
    path = Path(path)
    field_data, masks = zip(*(_array(c, data[c.name]) for c in columns)) if columns else ((), ())
    geometry = np.array(wkb, dtype=object)
    names = [c.name for c in columns]
    with staged(path) as tmp:
        common = dict(geometry=geometry, field_data=list(field_data), fields=names, field_mask=list(masks),
                      layer=layer, geometry_type="Unknown" if fmt == "kml" else "MultiPolygon")
        if fmt == "geojson":
            # RFC 7946: WGS84 lon/lat (CGCS2000 agrees within centimetres); 8 decimals ≈ 1 mm.
            ogr_write(tmp, driver="GeoJSON", crs=f"EPSG:{CGCS2000}", layer_options={
                "RFC7946": "YES", "COORDINATE_PRECISION": "8", "WRITE_NAME": "NO"}, **common)
        elif fmt == "gpkg":
            ogr_write(tmp, driver="GPKG", crs=f"EPSG:{CGCS2000}", **common)
            _gpkg_aliases(tmp, layer, columns)
        elif fmt == "kml":
            ogr_write(tmp, driver="KML", crs=f"EPSG:{CGCS2000}",
                      dataset_options={"NameField": title_field or names[0]}, **common)
            _ends_with(tmp, b"</kml>")  # GDAL's KML writer reports no error when the disk fills
        else:
            _write_shapefile(tmp, layer, common, encoding.upper())
    return path


def _ends_with(path: Path, closing: bytes) -> None:
    """Raises ENOSPC unless the file at ``path`` ends with ``closing`` (whitespace aside): a text
    format cut short by a full disk."""
    with open(path, "rb") as fh:
        fh.seek(max(0, os.path.getsize(path) - 256))
        if not fh.read().rstrip().endswith(closing):
            raise OSError(errno.ENOSPC, f"No space left on device ({path.name} was cut short)")


@contextlib.contextmanager
def staged(path: Path):
    """A temporary path in the destination's folder, renamed onto ``path`` only on success: what
    every export writes through, so that no half-written file ever stands under the final name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    os.unlink(tmp)  # GDAL creates the file itself
    try:
        yield Path(tmp)
        # Some writers (GDAL's KML) report no error when the disk fills: a file finished with the
        # disk left without a page to spare is taken as cut short.
        if shutil.disk_usage(path.parent).free < WHOLE_PAGE:
            raise OSError(errno.ENOSPC, "No space left on device (the file may be cut short)")
        os.replace(tmp, path)
    except BaseException as exc:
        free = shutil.disk_usage(path.parent).free  # measured before the partial file is removed
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, Exception) and (getattr(exc, "errno", None) == errno.ENOSPC or free < FULL_DISK_BYTES):
            raise DiskFull(errno.ENOSPC, f"No space left on device: {path.parent} has {free:,} bytes free; "
                                         f"{path.name} was not written") from exc
        raise


def _array(column: Column, values: list):
    """A numpy array GDAL maps to the right field type, and the mask of missing values."""
    missing = np.array([x is None for x in values], dtype=bool)
    mask = missing if missing.any() else None
    if column.kind == "float":
        return np.array([np.nan if x is None else float(x) for x in values], dtype="float64"), mask
    if column.kind == "int":
        return np.array([0 if x is None else int(x) for x in values], dtype="int64"), mask
    if column.kind == "bool":
        return np.array([bool(x) for x in values], dtype=bool), mask
    if column.kind == "date":
        return np.array([None if x is None else (x.date() if isinstance(x, dt.datetime) else x) for x in values],
                        dtype="datetime64[D]"), mask
    return np.array([None if x is None else str(x) for x in values], dtype=object), None


def _gpkg_aliases(path: Path, layer: str, columns: list[Column]) -> None:
    """Records the Chinese aliases in gpkg_data_columns (the GeoPackage schema extension), where
    GIS tools look for a column's human-readable name."""
    con = sqlite3.connect(path)
    try:
        con.execute("""CREATE TABLE IF NOT EXISTS gpkg_data_columns (
            table_name TEXT NOT NULL, column_name TEXT NOT NULL, name TEXT, title TEXT, description TEXT,
            mime_type TEXT, constraint_name TEXT,
            CONSTRAINT pk_gdc PRIMARY KEY (table_name, column_name),
            CONSTRAINT gdc_tn UNIQUE (table_name, name))""")
        if not con.execute("SELECT 1 FROM gpkg_extensions WHERE table_name = 'gpkg_data_columns'").fetchone():
            con.execute("INSERT INTO gpkg_extensions VALUES ('gpkg_data_columns', NULL, 'gpkg_schema', "
                        "'http://www.geopackage.org/spec/#extension_schema', 'read-write')")
        con.executemany("INSERT OR REPLACE INTO gpkg_data_columns (table_name, column_name, name, title) "
                        "VALUES (?, ?, ?, ?)", [(layer, c.name, c.alias, c.alias) for c in columns])
        con.commit()
    finally:
        con.close()


def _write_shapefile(zip_path: Path, layer: str, common: dict, encoding: str) -> None:
    with tempfile.TemporaryDirectory(prefix="registry-shp-", dir=zip_path.parent) as tmp:
        shp = Path(tmp) / f"{layer}.shp"
        ogr_write(shp, driver="ESRI Shapefile", crs=f"EPSG:{CGCS2000}", encoding=encoding, **common)
        cpg = shp.with_suffix(".cpg")
        if not cpg.exists():
            cpg.write_text(encoding, encoding="ascii")
        with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as zf:
            for part in sorted(Path(tmp).iterdir()):
                zf.write(part, part.name)
