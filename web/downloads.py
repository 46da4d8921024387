"""Files the browser saves: one way to name them and say what they are.

Every download goes out with its media type and a Content-Disposition of RFC 6266: an ASCII name for
old clients and the real (Chinese) name in UTF-8 (RFC 5987), which every current browser uses. A
table (registry.core.tabular) goes out as .xlsx or CSV; any other format named in a URL is refused
with the formats there are, never echoed back.
"""
from __future__ import annotations

import re
from urllib.parse import quote

from flask import Response, request

from registry.core.tabular import Table, to_csv, to_xlsx
from registry.core.validation import Problem, ValidationError

MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "geojson": "application/geo+json",
    "gpkg": "application/geopackage+sqlite3",
    "shp": "application/zip",
    "zip": "application/zip",
    "kml": "application/vnd.google-earth.kml+xml",
    "svg": "image/svg+xml",
    "png": "image/png",
}
TABLE_FORMATS = ("xlsx", "csv")


def download(data: bytes, filename: str, *, media_type: str | None = None, inline: bool = False) -> Response:
    """``data`` as the file ``filename`` (its suffix says the media type unless ``media_type`` does);
    ``inline`` shows it in the browser (a chart) rather than saving it."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    media = media_type or MEDIA_TYPES.get(suffix, "application/octet-stream")
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", filename).strip("_") or "download"
    if not re.search(r"[A-Za-z0-9]", ascii_name.rsplit(".", 1)[0]):
        ascii_name = "download" + (f".{suffix}" if suffix else "")
    disposition = "inline" if inline else "attachment"
    return Response(data, mimetype=media, headers={
        "Content-Disposition": f"{disposition}; filename={ascii_name}; filename*=UTF-8''{quote(filename)}"})


def table_format(fmt: str | None) -> str:
    """The table format asked for (``format=`` in a URL): xlsx or csv, else a refusal naming them."""
    if fmt not in TABLE_FORMATS:
        raise ValidationError(Problem("format", "不是可下载的格式", "、".join(TABLE_FORMATS) + "（或 html 页面）"))
    return fmt


def page_format() -> str:
    """What a report page is asked for (``format=`` in its URL): ``html`` (the default) or a table
    format, checked before anything is computed or rendered, so no other value is ever echoed."""
    fmt = request.args.get("format", "html")
    return fmt if fmt == "html" else table_format(fmt)


def table(t: Table, fmt: str, filename: str | None = None) -> Response:
    """The table as a workbook or a CSV file, named after its title."""
    fmt = table_format(fmt)
    return download(to_xlsx(t) if fmt == "xlsx" else to_csv(t), filename or f"{t.title}.{fmt}")
