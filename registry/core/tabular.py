"""Tables as people read them: a ``Table`` (Chinese column headers, a number format per column,
plain rows) and its renderings as .xlsx (frozen header, number formats, row colours) and CSV (UTF-8
with BOM, so Excel opens it correctly). The same table serves a page, a workbook and a CSV; reports,
the land balance, evaluation outputs and GIS exports all build one. Written to memory; callers
stream or save the bytes."""
from __future__ import annotations

import contextlib
import csv
import errno
import io
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet import _writer
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from . import clock


@dataclass(frozen=True)
class Column:  # a table's column: its key in the rows, the header people read, how Excel shows it
    key: str
    header: str  # Chinese, as exported
    number_format: str | None = None  # Excel format for numeric columns
    width: int = 12


@dataclass
class Table:  # what a report, list or export shows, before it becomes a page, a workbook or a CSV
    title: str
    columns: list[Column]
    rows: list[dict]
    urgency_key: str | None = None  # rows carry "urgency": "red" / "amber" / "yellow" / None
    notes: list[str] = field(default_factory=list)
    # Row colours in the workbook: the row's value under ``fill_key`` looked up in ``fills`` (hex
    # colours); by default the rent-roll urgency colours.
    fill_key: str = "urgency"
    fills: dict[str, str] | None = None
    # Columns a page may order the rows by (``?sort=``), and the one they are ordered by.
    sort_keys: tuple[str, ...] = ()
    sorted_by: str | None = None


URGENCY_FILLS = {"red": "F8CBAD", "amber": "FCE4A6", "yellow": "FFF2CC"}
# What spreadsheet programs take as the start of a formula (OWASP's list, tab and CR included).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value):
    """Neutralises spreadsheet formula injection in published tables (CSV and the report
    workbooks): text starting with = + - @ tab or CR is prefixed with '."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def cell(ws, value, **style):
    """The one way a workbook cell is made (every export, report and template goes through it or
    ``append``): text is stored as text, exactly as given, even when it begins like a formula
    (``=HYPERLINK(…)`` in a park's name stays words, never a live formula), less the control
    characters no workbook can hold; ``style`` sets font, fill, number_format or alignment."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    c = WriteOnlyCell(ws, value=value) if getattr(ws.parent, "write_only", False) else Cell(ws, value=value)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        c.data_type = "s"
    for name, v in style.items():
        setattr(c, name, v)
    return c


def literal(ws, value):
    """``value`` ready for ``ws.append``: a text cell when it begins like a formula or holds a
    control character, else itself."""
    if isinstance(value, str) and (value.startswith(_FORMULA_START) or ILLEGAL_CHARACTERS_RE.search(value)):
        return cell(ws, value)
    return value


def append(ws, values) -> None:
    """Appends a row to ``ws``: cells made by ``cell`` as they are, every other value through
    ``literal``: no text becomes a formula, whichever sheet, title or header it is."""
    ws.append([v if isinstance(v, Cell) else literal(ws, v) for v in values])


# The temporary files openpyxl makes for write-only sheets, per thread, while ``disk_errors`` watches.
_made = threading.local()


def _recording(create):
    def create_temporary_file(suffix=""):
        name = create(suffix)
        names = getattr(_made, "names", None)
        if names is not None:
            names.append(name)
        return name
    return create_temporary_file


_writer.create_temporary_file = _recording(_writer.create_temporary_file)


@contextlib.contextmanager
def disk_errors():
    """Around writing a workbook: openpyxl streams write-only sheets through temporary files, and
    a full disk there surfaces as lxml's IO_ENOSPC; it is raised as the OSError it is (ENOSPC),
    which the app answers 507 and the command line reports, and this thread's temporary files go
    (openpyxl would remove them only at exit)."""
    outer = getattr(_made, "names", None)
    _made.names = []
    try:
        yield
    except BaseException as exc:
        for name in _made.names:
            with contextlib.suppress(OSError):
                os.remove(name)
        if not isinstance(exc, OSError) and _disk_full(exc):
            raise OSError(errno.ENOSPC, "No space left on device while writing a workbook") from exc
        raise
    finally:
        _made.names = outer


def _disk_full(exc: BaseException) -> bool:
    """Whether a writer's error means the disk is full: lxml says IO_ENOSPC, or a bare IO_WRITE
    when the temporary folder has no room left."""
    text = str(exc)
    if "ENOSPC" in text or "No space left" in text:
        return True
    return "IO_WRITE" in text and shutil.disk_usage(tempfile.gettempdir()).free < 1024 * 1024


def save(wb: Workbook) -> bytes:
    """The workbook's bytes (every workbook the registry writes is saved here)."""
    buf = io.BytesIO()
    with disk_errors():
        wb.save(buf)
    return buf.getvalue()


def to_xlsx(table: Table) -> bytes:
    """The table as a workbook: a data sheet (frozen Chinese header, number formats, urgency colours,
    autofilter) and a 说明 sheet. Written in openpyxl's streaming mode: memory and time stay linear."""
    with disk_errors():
        return _to_xlsx(table)


def _to_xlsx(table: Table) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("数据")
    for i, c in enumerate(table.columns, start=1):
        ws.column_dimensions[get_column_letter(i)].width = c.width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(table.columns))}{len(table.rows) + 1}"
    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    head_align = Alignment(horizontal="center", vertical="center", wrap_text=True)
    append(ws, [cell(ws, c.header, font=head_font, fill=head_fill, alignment=head_align) for c in table.columns])
    fills = {k: PatternFill("solid", fgColor=v) for k, v in (table.fills or URGENCY_FILLS).items()}
    for row in table.rows:
        fill = fills.get(row.get(table.fill_key) or "")
        style = {"fill": fill} if fill is not None else {}
        append(ws, [cell(ws, safe_text(row.get(c.key)), **style, **({"number_format": c.number_format} if c.number_format else {}))
                    for c in table.columns])
    info = wb.create_sheet("说明")
    append(info, [table.title])
    append(info, [f"导出时间：{clock.local_now().strftime('%Y-%m-%d %H:%M')}"])
    for note in table.notes:
        append(info, [note])
    return save(wb)


def to_csv(table: Table) -> bytes:
    """The table as CSV (UTF-8 with BOM); every text, headers included, through ``safe_text``
    (CSV has no text type: a leading ' is how spreadsheets are told it is not a formula)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([safe_text(c.header) for c in table.columns])
    for row in table.rows:
        w.writerow(["" if row.get(c.key) is None else safe_text(_plain(row.get(c.key), c)) for c in table.columns])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def _plain(value, column):
    if isinstance(value, float):
        if column.number_format and column.number_format.endswith("%"):
            return f"{value * 100:.1f}%"
        return f"{value:.2f}"
    return value
