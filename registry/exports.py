"""Tables to .xlsx (frozen header, number formats, Chinese headers) and CSV (UTF-8 with BOM, so
Excel opens it correctly). Written to memory; callers stream or save the bytes."""
from __future__ import annotations

import csv
import datetime as dt
import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from .reports import Table

URGENCY_FILLS = {"red": "F8CBAD", "amber": "FCE4A6", "yellow": "FFF2CC"}
_FORMULA_START = ("=", "+", "-", "@")


def safe_text(value):
    """Neutralises spreadsheet formula injection: text starting with = + - @ is prefixed with '."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_xlsx(table: Table) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "数据"
    ws.append([c.header for c in table.columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row in table.rows:
        ws.append([safe_text(row.get(c.key)) for c in table.columns])
        fill = URGENCY_FILLS.get(row.get("urgency") or "")
        if fill:
            for cell in ws[ws.max_row]:
                cell.fill = PatternFill("solid", fgColor=fill)
    for i, c in enumerate(table.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = c.width
        if c.number_format:
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                cell.number_format = c.number_format
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = ws.dimensions
    info = wb.create_sheet("说明")
    info.append([table.title])
    info.append([f"导出时间：{dt.datetime.now().strftime('%Y-%m-%d %H:%M')}"])
    for note in table.notes:
        info.append([note])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def to_csv(table: Table) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([c.header for c in table.columns])
    for row in table.rows:
        w.writerow(["" if row.get(c.key) is None else safe_text(_plain(row.get(c.key), c)) for c in table.columns])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _plain(value, column):
    if isinstance(value, float):
        if column.number_format and column.number_format.endswith("%"):
            return f"{value * 100:.1f}%"
        return f"{value:.2f}"
    return value
