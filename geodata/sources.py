"""Reading the files park data arrives in, into one columnar ``Layer``.

GeoJSON, Shapefile (loose or zipped, with or without .cpg), GeoPackage (any layer), KML/KMZ, DXF
(polylines closed into polygons, CAD layers selectable, text labels attached to the polygon they
sit in) and CSV/XLSX with longitude/latitude or WKT columns. Geometries stay in the file's CRS;
``geodata.crs.resolve`` decides what that CRS is and ``geodata.geometry`` turns them into areas.

Text encodings are the usual trap: shapefiles from older Chinese GIS tools are GBK with no .cpg, and
CSVs saved by Excel on Chinese Windows are GBK too. A .cpg is honoured; without one the bytes are
tested (valid UTF-8, else GBK) and the layer records how its encoding was chosen.
"""
from __future__ import annotations

import contextlib
import contextvars
import csv
import datetime as dt
import io
import re
import tempfile
import threading
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyogrio
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from . import geometry as geo

SUFFIXES = {".geojson": "GeoJSON", ".json": "GeoJSON", ".shp": "Shapefile", ".zip": "Shapefile",
            ".gpkg": "GeoPackage", ".kml": "KML", ".kmz": "KML", ".dxf": "DXF", ".csv": "CSV", ".xlsx": "XLSX"}
# Refuse archives that would unpack to more than this (a zip bomb, or the wrong file).
MAX_UNPACKED_BYTES = 2 * 1024 ** 3
LON_NAMES = ("lon", "lng", "long", "longitude", "x", "经度", "东经")
LAT_NAMES = ("lat", "latitude", "y", "纬度", "北纬")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "shape", "几何", "图形", "坐标串")
_WKT_START = re.compile(r"^\s*(MULTI)?(POLYGON|POINT|LINESTRING)\b", re.I)
# GDAL's DXF reader and its encoding switch are process-wide; one read at a time.
_DXF_LOCK = threading.Lock()


@dataclass(frozen=True)
class ReadLimits:
    """How large a file ``read`` accepts (None: no limit): the bytes an archive unpacks to, the
    features of a layer, the records of a DXF drawing, the rows of a sheet. Set for a block of
    reads with ``limited``; past a limit the file is refused before it is read whole."""
    unpacked_bytes: int | None = None
    features: int | None = None
    dxf_records: int | None = None
    rows: int | None = None


_LIMITS: contextvars.ContextVar[ReadLimits] = contextvars.ContextVar("read_limits", default=ReadLimits())


@contextlib.contextmanager
def limited(limits: ReadLimits):
    """Reads within the block are held to ``limits`` (this thread's, this context's only)."""
    token = _LIMITS.set(limits)
    try:
        yield
    finally:
        _LIMITS.reset(token)


def _over(count: int, limit: int | None, path: Path, what: str) -> None:
    if limit is not None and count > limit:
        raise SourceError(f"{path.name}：{what} {count:,}，超过上限 {limit:,}；请拆分文件")


class SourceError(ValueError):
    """The file as a whole cannot be read (unknown format, no such layer, missing part). Its
    message names files by their own names only: a reader's error quoting where the server keeps
    an upload (``/srv/registry/uploads/gis/<token>/…``) loses the folders."""

    def __init__(self, message: str):
        super().__init__(without_folders(message))


# An absolute path, POSIX or Windows: the folders before a file's own name.
_FOLDERS = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][^\\/\s:'\"()<>]+)+[\\/](?=[^\\/\s:'\"()<>]+)")


def without_folders(message: str) -> str:
    """``message`` with every absolute path cut to the file's own name."""
    return _FOLDERS.sub("", message)


@dataclass(frozen=True)
class Encoding:
    name: str  # the codec the text was decoded with, e.g. UTF-8 or GBK
    how: str  # cpg | detected | chosen | format | header
    evidence: str = ""  # why, in words

    def __str__(self) -> str:
        return f"{self.name} ({self.how}{': ' + self.evidence if self.evidence else ''})"


@dataclass
class Layer:
    """The features of one layer: columns of attribute values and geometries in the file's CRS."""

    path: str
    format: str
    name: str
    fields: list[str]
    columns: dict[str, list]
    geometries: np.ndarray  # shapely geometries (or None), in ``crs``
    crs: CRS | None
    encoding: Encoding | None
    layers: list[str] = field(default_factory=list)  # every layer (or CAD layer) the file offers
    notes: list[str] = field(default_factory=list)  # about the whole file
    feature_notes: dict[int, str] = field(default_factory=dict)  # repairs made while reading, by index
    feature_problems: dict[int, str] = field(default_factory=dict)  # why a feature has no usable geometry

    def __len__(self) -> int:
        return len(self.geometries)

    def record(self, i: int) -> dict:
        return {f: self.columns[f][i] for f in self.fields}

    def text_samples(self, n: int = 5) -> dict[str, list[str]]:
        """The first ``n`` distinct non-ASCII text values of each field: what a person checks to see
        that names were decoded right."""
        out = {}
        for f in self.fields:
            seen: list[str] = []
            for value in self.columns[f][:20000]:  # enough to find the names to show
                if isinstance(value, str) and not value.isascii() and value not in seen:
                    seen.append(value)
                    if len(seen) == n:
                        break
            if seen:
                out[f] = seen
        return out


def read(path: str | Path, *, layer: str | None = None, encoding: str | None = None,
         cad_layers: list[str] | None = None, vertex_group: str | None = None,
         close_tolerance: float = 0.5) -> Layer:
    """The features of ``layer`` (default: the first) of the file at ``path``.

    ``encoding`` overrides the file's declared or detected text encoding. For DXF, ``cad_layers``
    keeps only entities on those CAD layers and ``close_tolerance`` (in drawing units) is the
    largest gap between a polyline's ends that is closed into a polygon. For CSV/XLSX with
    longitude/latitude columns, rows sharing a ``vertex_group`` value are the corners of one
    polygon, in row order; without it each row is a point.
    """
    path = Path(path)
    if not path.exists():
        raise SourceError(f"{path}：文件不存在")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise SourceError(f"{path.name}：无法识别的格式 {suffix or '（无扩展名）'}；可用格式："
                          + ", ".join(sorted(SUFFIXES)))
    if suffix == ".zip":
        return _read_zip(path, layer=layer, encoding=encoding)
    if suffix == ".shp":
        return _read_shapefile(path, encoding=encoding)
    if suffix == ".dxf":
        return _read_dxf(path, encoding=encoding, cad_layers=cad_layers, close_tolerance=close_tolerance)
    if suffix in (".csv", ".xlsx"):
        return _read_table(path, layer=layer, encoding=encoding, vertex_group=vertex_group)
    fixed = Encoding("UTF-8", "format", f"{SUFFIXES[suffix]} text is UTF-8 by definition")
    out = _read_ogr(path, SUFFIXES[suffix], layer=layer, encoding=fixed)
    if out.format == "KML":
        _restore_kml_names(out)
    return out


def _restore_kml_names(layer: Layer) -> None:
    """GDAL's KML reader renames placemark data named like KML's own elements (name → Name2,
    id → id2); give them their names back, so a file's own fields keep the names it gave them."""
    for kml_name, own in (("Name2", "name"), ("id2", "id"), ("description2", "description")):
        if kml_name not in layer.columns:
            continue
        if own in layer.columns:  # KML's own element of that name stays, as kml_<name>
            layer.columns[f"kml_{own}"] = layer.columns.pop(own)
            layer.fields[layer.fields.index(own)] = f"kml_{own}"
        layer.columns[own] = layer.columns.pop(kml_name)
        layer.fields[layer.fields.index(kml_name)] = own


def list_layers(path: str | Path) -> list[str]:
    """The layer names a GeoPackage, KML or zipped file offers (one name for single-layer formats)."""
    try:
        return [str(name) for name, _ in pyogrio.list_layers(path)]
    except Exception as exc:  # noqa: BLE001 - GDAL's own errors, reported as the file's
        raise SourceError(f"{Path(path).name}：无法读取（{exc}）") from None


# --- GDAL-readable formats --------------------------------------------------------------------

def _read_ogr(path: Path, fmt: str, *, layer: str | None, encoding: Encoding | None,
              gdal_encoding: str | None = None, display: str | None = None) -> Layer:
    layers = list_layers(path)
    if layer is not None and layer not in layers:
        raise SourceError(f"{display or path.name}：没有图层 {layer!r}；文件中的图层：" + "、".join(layers))
    limit = _LIMITS.get().features
    if limit is not None and fmt != "DXF":  # a drawing is counted by its records, before GDAL parses it
        try:
            count = pyogrio.read_info(path, layer=layer)["features"]
        except Exception as exc:  # noqa: BLE001
            raise SourceError(f"{display or path.name}：无法读取（{exc}）") from None
        _over(count, limit, Path(display or path.name), "要素数")
    try:
        meta, _fids, wkb, field_data = pyogrio.raw.read(path, layer=layer, encoding=gdal_encoding)
    except Exception as exc:  # noqa: BLE001
        raise SourceError(f"{display or path.name}：无法读取（{exc}）") from None
    names = [str(n) for n in meta["fields"]]
    columns = {n: _values(arr) for n, arr in zip(names, field_data)}
    geoms = shapely.from_wkb(wkb) if wkb is not None else np.full(len(field_data[0]) if field_data else 0, None)
    file_crs = CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
    return Layer(str(display or path), fmt, layer or layers[0], names, columns, np.asarray(geoms, dtype=object),
                 file_crs, encoding, layers)


def _values(arr: np.ndarray) -> list:
    """A column as Python values, with GDAL's missing-value markers (NaN, NaT) as None."""
    if arr.dtype.kind == "f":
        return [None if x != x else x for x in arr.tolist()]
    if arr.dtype.kind == "M":
        unit = np.datetime_data(arr.dtype)[0]
        out = arr.astype("datetime64[D]").tolist() if unit == "D" else arr.astype("datetime64[s]").tolist()
        return [None if x is None else x for x in out]
    if arr.dtype.kind == "b":
        return [bool(x) for x in arr.tolist()]
    return arr.tolist()


def _read_zip(path: Path, *, layer: str | None, encoding: str | None) -> Layer:
    """A zipped shapefile (the usual way to send one), or a zip holding one other readable file."""
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise SourceError(f"{path.name}：不是可读取的 zip 压缩包") from None
    with zf, tempfile.TemporaryDirectory(prefix="registry-zip-") as tmp:
        members = [m for m in zf.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX")]
        unpacked = sum(m.file_size for m in members)
        if unpacked > MAX_UNPACKED_BYTES:
            raise SourceError(f"{path.name}：解压后超过 {MAX_UNPACKED_BYTES // 1024 ** 3} GB")
        limit = _LIMITS.get().unpacked_bytes
        if limit is not None and unpacked > limit:
            raise SourceError(f"{path.name}：解压后 {unpacked / 1024 ** 2:,.0f} MB，超过上限 {limit / 1024 ** 2:,.0f} MB")
        shps = sorted(m.filename for m in members if m.filename.lower().endswith(".shp"))
        others = sorted(m.filename for m in members if Path(m.filename).suffix.lower() in SUFFIXES
                        and Path(m.filename).suffix.lower() not in (".zip", ".shp"))
        if not shps and not others:
            raise SourceError(f"{path.name}：压缩包里没有 .shp（也没有其他可读取的文件）")
        try:
            for m in members:  # ZipFile.extract drops absolute and '..' parts: nothing lands outside tmp
                zf.extract(m, tmp)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
            raise SourceError(f"{path.name}：压缩包已损坏或使用了不支持的压缩方式（{exc}）") from None
        if shps:
            stems = [Path(s).stem for s in shps]
            if layer is not None and layer not in stems:
                raise SourceError(f"{path.name}：压缩包里没有 shapefile {layer!r}；其中有：" + "、".join(stems))
            chosen = shps[stems.index(layer)] if layer else shps[0]
            out = _read_shapefile(Path(tmp) / chosen, encoding=encoding, display=f"{path.name}/{chosen}")
            out.layers = stems
        else:
            out = read(Path(tmp) / others[0], layer=layer, encoding=encoding)
            out.path = f"{path.name}/{others[0]}"
        return out


def _read_shapefile(shp: Path, *, encoding: str | None, display: str | None = None) -> Layer:
    missing = [ext for ext in (".shx", ".dbf") if not _sidecar(shp, ext)]
    if missing:
        raise SourceError(f"{display or shp.name}：缺少 shapefile 的 {'、'.join(missing)} 文件；"
                          "请把 .shp、.shx、.dbf（以及 .prj、.cpg）一起上传，例如打成 zip")
    cpg = _sidecar(shp, ".cpg")
    if encoding:
        enc = Encoding(encoding.upper(), "chosen")
    elif cpg is not None:
        declared = cpg.read_text("ascii", errors="replace").strip()
        enc = Encoding(declared.upper(), "cpg", f"{cpg.name} says {declared}")
        if not _decodes(_sidecar(shp, ".dbf"), declared):
            found = detect_dbf_encoding(_sidecar(shp, ".dbf"))
            enc = Encoding(found.name, "detected", f"{cpg.name} says {declared} but the attribute bytes are not "
                                                   f"{declared}; read as {found.name}")
    else:
        enc = detect_dbf_encoding(_sidecar(shp, ".dbf"))
    out = _read_ogr(shp, "Shapefile", layer=None, encoding=enc, gdal_encoding=None if enc.how == "cpg" else enc.name,
                    display=display)
    if not _sidecar(shp, ".prj"):
        out.notes.append("no .prj: the coordinate system is taken from the coordinates or the --crs option")
    return out


def _sidecar(shp: Path, ext: str) -> Path | None:
    for candidate in (shp.with_suffix(ext), shp.with_suffix(ext.upper())):
        if candidate.exists():
            return candidate
    return None


def _dbf_text(dbf: Path) -> bytes:
    raw = dbf.read_bytes()
    if len(raw) < 32:
        raise SourceError(f"{dbf.name}：不是 dBASE 文件（太短）")
    return raw[int.from_bytes(raw[8:10], "little"):]


def _decodes(dbf: Path, codec: str) -> bool:
    try:
        _dbf_text(dbf).decode({"CP936": "gbk", "936": "gbk"}.get(codec.upper(), codec))
        return True
    except (UnicodeDecodeError, LookupError):
        return False


def detect_dbf_encoding(dbf: Path) -> Encoding:
    """The text encoding of a .dbf without .cpg, from its bytes: UTF-8 if they decode as UTF-8,
    else GBK (GB 18030 is tried, as a superset), else the DBF's language-driver byte."""
    body = _dbf_text(dbf)
    ldid = dbf.read_bytes()[29]
    if body.isascii():
        return Encoding("UTF-8", "detected", "the attribute text is plain ASCII: any encoding reads it")
    try:
        body.decode("utf-8")
        return Encoding("UTF-8", "detected", "no .cpg; the attribute bytes are valid UTF-8")
    except UnicodeDecodeError:
        pass
    try:
        body.decode("gb18030")
        note = " and the DBF language driver says code page 936" if ldid == 0x4D else ""
        return Encoding("GBK", "detected", f"no .cpg; the attribute bytes are not UTF-8 but read as GBK{note}")
    except UnicodeDecodeError:
        return Encoding("GBK", "detected", "no .cpg; the bytes are neither clean UTF-8 nor GBK; choose the "
                        "encoding if the names below look wrong")


# --- DXF ----------------------------------------------------------------------------------

_CODEPAGES = {"ANSI_936": "GBK", "ANSI_950": "BIG5", "ANSI_1252": "CP1252", "UTF-8": "UTF-8", "UTF8": "UTF-8"}


def _dxf_encoding(path: Path, chosen: str | None) -> Encoding:
    if chosen:
        return Encoding(chosen.upper(), "chosen")
    raw = path.read_bytes()
    m = re.search(rb"\$DWGCODEPAGE\s*\r?\n\s*3\s*\r?\n\s*(\S+)", raw[:20000])
    declared = m.group(1).decode("ascii", "replace").upper() if m else None
    if raw.isascii():
        return Encoding("UTF-8", "detected", "the drawing's text is plain ASCII")
    try:
        raw.decode("utf-8")
        return Encoding("UTF-8", "detected", f"the bytes are valid UTF-8 (the header says {declared or 'nothing'})")
    except UnicodeDecodeError:
        pass
    name = _CODEPAGES.get(declared or "", "GBK")
    if name in ("CP1252", "UTF-8"):  # a Chinese drawing whose header names a Western code page
        name = "GBK"
    return Encoding(name, "header" if declared in _CODEPAGES and _CODEPAGES[declared] == name else "detected",
                    f"$DWGCODEPAGE {declared}" if declared else "no code page in the header; bytes read as GBK")


def _dxf_records(path: Path) -> int:
    """How many records (group code 0: entities, old-style vertices, table entries) and vertices
    (group code 10: a polyline's points) an ASCII DXF file holds, read as the pairs of lines it is
    made of (a code, then its value) without building anything; a code written with leading
    zeros or spaces (`` 00``) counts as what it is."""
    count = 0
    with open(path, "rb") as fh:
        for number, line in enumerate(fh):
            if number % 2 == 0:
                code = line.strip().lstrip(b"0")
                if code == b"" or code == b"10":
                    count += 1
    return count


def _read_dxf(path: Path, *, encoding: str | None, cad_layers: list[str] | None, close_tolerance: float) -> Layer:
    if _LIMITS.get().dxf_records is not None:
        _over(_dxf_records(path), _LIMITS.get().dxf_records, path, "图元和顶点数")
    enc = _dxf_encoding(path, encoding)
    with _DXF_LOCK:
        pyogrio.set_gdal_config_options({"DXF_ENCODING": enc.name})
        try:
            out = _read_ogr(path, "DXF", layer=None, encoding=enc)
        finally:
            pyogrio.set_gdal_config_options({"DXF_ENCODING": None})
    cad = out.columns.get("Layer", [None] * len(out))
    available = sorted({c for c in cad if c is not None})
    if cad_layers:
        unknown = [c for c in cad_layers if c not in available]
        if unknown:
            raise SourceError(f"{path.name}：没有 CAD 图层 {'、'.join(map(repr, unknown))}；其中有："
                              + "、".join(available))
    keep_layer = np.array([cad_layers is None or c in cad_layers for c in cad], dtype=bool)
    texts = out.columns.get("Text", [None] * len(out))
    is_label = np.array([g is not None and g.geom_type == "Point" and bool(t) for g, t in zip(out.geometries, texts)],
                        dtype=bool)
    labels = [(g, t) for g, t, k, lab in zip(out.geometries, texts, keep_layer, is_label) if lab and k]
    idx = np.flatnonzero(keep_layer & ~is_label)
    geoms, notes, problems = [], {}, {}
    for j, i in enumerate(idx):
        g, problem, note = geo.close_polyline(out.geometries[i], close_tolerance, unit="个图形单位")
        geoms.append(g if g is not None else out.geometries[i])
        if problem:
            problems[j] = problem
        if note:
            notes[j] = note
    geoms_arr = np.asarray(geoms, dtype=object) if geoms else np.empty(0, dtype=object)
    columns = {f: [out.columns[f][i] for i in idx] for f in out.fields}
    columns["Text"] = _labels_inside(geoms_arr, labels, [columns.get("Text", [None] * len(idx))[j] for j in range(len(idx))])
    fields = out.fields if "Text" in out.fields else out.fields + ["Text"]
    layer = Layer(str(path), "DXF", "entities", fields, columns, geoms_arr, None, enc, available,
                  feature_notes=notes, feature_problems=problems)
    if labels:
        layer.notes.append(f"{len(labels)} text labels attached to the polygons they sit in (field Text)")
    layer.notes.append("DXF carries no coordinate system: it is taken from the coordinates or the --crs option")
    return layer


def _labels_inside(polygons: np.ndarray, labels: list[tuple[BaseGeometry, str]], current: list) -> list:
    """Each polygon's text: the labels (CAD TEXT entities) lying inside it, joined, else its own."""
    out = list(current)
    if not labels or not len(polygons):
        return out
    points = np.array([p for p, _ in labels], dtype=object)
    areas = np.array([g if g is not None and g.geom_type in ("Polygon", "MultiPolygon") else None for g in polygons],
                     dtype=object)
    tree = shapely.STRtree(points)
    poly_idx, point_idx = tree.query(areas, predicate="contains")
    found: dict[int, list[str]] = {}
    for pi, ti in zip(poly_idx.tolist(), point_idx.tolist()):
        found.setdefault(pi, []).append(labels[ti][1])
    for pi, texts in found.items():
        out[pi] = " ".join(t.strip() for t in texts)
    return out


# --- CSV and XLSX ----------------------------------------------------------------------------

def _decode_csv(raw: bytes, chosen: str | None) -> tuple[str, Encoding]:
    if chosen:
        return raw.decode(chosen, errors="replace"), Encoding(chosen.upper(), "chosen")
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8"), Encoding("UTF-8", "detected", "UTF-8 byte-order mark")
    try:
        return raw.decode("utf-8"), Encoding("UTF-8", "detected", "the bytes are valid UTF-8")
    except UnicodeDecodeError:
        return (raw.decode("gb18030", errors="replace"),
                Encoding("GBK", "detected", "not UTF-8; read as GBK (as Excel saves CSV on Chinese Windows)"))


def _read_table(path: Path, *, layer: str | None, encoding: str | None, vertex_group: str | None) -> Layer:
    if path.suffix.lower() == ".csv":
        text, enc = _decode_csv(path.read_bytes(), encoding)
        _over(text.count("\n"), _LIMITS.get().rows, path, "行数")
        rows = list(csv.reader(io.StringIO(text)))
        sheets = [path.stem]
        name = path.stem
    else:
        from openpyxl import load_workbook
        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds
            raise SourceError(f"{path.name}：不是可读取的 .xlsx 工作簿（{exc}）") from None
        sheets = wb.sheetnames
        if layer is not None and layer not in sheets:
            raise SourceError(f"{path.name}：没有工作表 {layer!r}；其中有：" + "、".join(sheets))
        name = layer or sheets[0]
        limit = _LIMITS.get().rows
        rows = []
        for r in wb[name].iter_rows(values_only=True):  # counted as read: a sheet's own size may lie
            rows.append(list(r))
            if limit is not None and len(rows) > limit + 1:
                wb.close()
                _over(len(rows) - 1, limit, path, "行数超过")
        wb.close()
        enc = Encoding("UTF-8", "format", "xlsx text is Unicode")
    rows = [r for r in rows if any(c not in (None, "") for c in r)]
    if not rows:
        raise SourceError(f"{path.name}：没有数据行")
    header = [str(h).strip() if h is not None else f"column{i + 1}" for i, h in enumerate(rows[0])]
    body = [list(r) + [None] * (len(header) - len(r)) for r in rows[1:]]
    columns = {h: [None if r[i] == "" else r[i] for r in body] for i, h in enumerate(header)}
    lower = {h.lower(): h for h in header}
    wkt_col = next((lower[n] for n in WKT_NAMES if n in lower), None)
    if wkt_col is None:
        wkt_col = next((h for h in header if any(isinstance(x, str) and _WKT_START.match(x) for x in columns[h][:5])),
                       None)
    lon_col = next((lower[n] for n in LON_NAMES if n in lower), None)
    lat_col = next((lower[n] for n in LAT_NAMES if n in lower), None)
    fields = [h for h in header if h not in (wkt_col, lon_col, lat_col)]
    problems: dict[int, str] = {}
    if wkt_col is not None:
        geoms = []
        for i, text_ in enumerate(columns[wkt_col]):
            try:
                geoms.append(shapely.from_wkt(str(text_)) if text_ not in (None, "") else None)
            except Exception as exc:  # noqa: BLE001 - GEOS parse errors
                geoms.append(None)
                problems[i] = f"column {wkt_col}: not WKT ({exc})"
        out_columns = {f: columns[f] for f in fields}
        geometry_note = f"geometry from the WKT column {wkt_col}"
    elif lon_col and lat_col:
        row_problems: dict[int, str] = {}
        lon = _numbers(columns[lon_col], lon_col, row_problems)
        lat = _numbers(columns[lat_col], lat_col, row_problems)
        if vertex_group:
            if vertex_group not in columns:
                raise SourceError(f"{path.name}：没有用来把顶点分组的列 {vertex_group!r}；其中有："
                                  + "、".join(header))
            groups: dict[object, list[int]] = {}
            for i, key in enumerate(columns[vertex_group]):
                groups.setdefault(key, []).append(i)
            geoms, firsts = [], []
            for key, rows_ in groups.items():
                j = len(geoms)
                firsts.append(rows_[0])
                bad = [f"row {i + 2}: {row_problems[i]}" for i in rows_ if i in row_problems]
                pts = [(lon[i], lat[i]) for i in rows_ if lon[i] is not None and lat[i] is not None]
                if bad:
                    geoms.append(None)
                    problems[j] = "; ".join(bad)
                elif len(pts) >= 3:
                    geoms.append(shapely.Polygon(pts))
                else:
                    geoms.append(None)
                    problems[j] = (f"{len(pts)} corner(s) with {vertex_group} = {key}: a polygon needs at least "
                                   f"3 rows ({lon_col}, {lat_col}) in order around it")
            out_columns = {f: [columns[f][i] for i in firsts] for f in fields}
            geometry_note = f"polygons from the corners in {lon_col}/{lat_col}, one per {vertex_group}, in row order"
        else:
            geoms = [shapely.Point(x, y) if x is not None and y is not None else None for x, y in zip(lon, lat)]
            problems.update(row_problems)
            out_columns = {f: columns[f] for f in fields}
            geometry_note = f"points from {lon_col}/{lat_col}"
    else:  # attributes only (units, or a ledger to match by key)
        geoms = [None] * len(body)
        out_columns = {f: columns[f] for f in fields}
        geometry_note = ("no geometry columns (a WKT column, or longitude and latitude columns such as "
                         + "/".join(LON_NAMES[:3]) + " and " + "/".join(LAT_NAMES[:3]) + ")")
    out = Layer(str(path), path.suffix.lower().lstrip(".").upper(), name, fields, out_columns,
                np.asarray(geoms, dtype=object), None, enc, sheets, feature_problems=problems)
    out.notes.append(geometry_note)
    return out


def _numbers(values: list, column: str, problems: dict[int, str]) -> list[float | None]:
    out: list[float | None] = []
    for i, x in enumerate(values):
        try:
            out.append(None if x in (None, "") else float(str(x).strip()))
        except ValueError:
            out.append(None)
            problems[i] = f"column {column}: {x!r} is not a number"
    return out


def parse_date(value) -> dt.date | None:
    """A date from a cell: a date, or text like 2024-01-02, 2024/1/2, 2024.01.02, 2024年1月2日."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    m = re.fullmatch(r"\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?", str(value))
    if not m:
        raise ValueError(f"{value!r} is not a date")
    return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
