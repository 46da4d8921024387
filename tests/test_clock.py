"""The registry's one clock: every "today" comes from registry.core.clock, which a deployment or a test pins."""
from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest

from registry.core import clock

from .conftest import TODAY

ROOT = Path(__file__).resolve().parent.parent
CLOCK = ROOT / "registry" / "core" / "clock.py"
# Asking the system for the date or the time: what only registry/core/clock.py may do.
FORBIDDEN = {("date", "today"), ("datetime", "today"), ("datetime", "now"), ("datetime", "utcnow")}


def _system_clock_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            owner_name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", None)
            if (owner_name, node.func.attr) in FORBIDDEN:
                where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
                found.append(f"{where}:{node.lineno} {owner_name}.{node.func.attr}()")
    return found


def test_nothing_but_the_clock_asks_the_system_for_the_date():
    calls = [c for package in ("registry", "web", "geodata", "migrations", "tests", "bench") for path in sorted((ROOT / package).rglob("*.py"))
             if path != CLOCK for c in _system_clock_calls(path)]
    assert calls == [], "use registry.core.clock.today() / now() instead"


def test_the_scan_finds_a_system_clock_call(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("import datetime as dt\nx = dt.date.today()\ny = dt.datetime.now(dt.timezone.utc)\n")
    assert [c.split(" ")[1] for c in _system_clock_calls(sample)] == ["date.today()", "datetime.now()"]


def test_the_suite_runs_on_the_clock_it_pinned():
    """conftest reads the clock once and pins it: what every app, server and subprocess sees."""
    assert clock.is_pinned() and clock.today() == TODAY


def test_a_pinned_day_and_back(monkeypatch):
    monkeypatch.delenv(clock.TODAY_ENV)
    real = clock.today()
    with clock.pinned(dt.date(2031, 2, 28)):
        assert clock.today() == dt.date(2031, 2, 28)
    assert clock.today() == real and not clock.is_pinned()


def test_today_is_the_date_in_the_registrys_time_zone(monkeypatch):
    monkeypatch.delenv(clock.TODAY_ENV)
    late_evening_utc = dt.datetime(2026, 11, 29, 17, 30, tzinfo=dt.timezone.utc)  # 01:30 on the 30th in Beijing
    monkeypatch.setattr(clock, "now", lambda: late_evening_utc)
    assert clock.today() == dt.date(2026, 11, 30)
    monkeypatch.setenv(clock.TIMEZONE_ENV, "UTC")
    assert clock.today() == dt.date(2026, 11, 29)


@pytest.mark.parametrize("variable, value, named", [
    (clock.TODAY_ENV, "2026-13-45", "REGISTRY_TODAY='2026-13-45' is not a date"),
    (clock.TIMEZONE_ENV, "Mars/Olympus", "REGISTRY_TIMEZONE='Mars/Olympus' is not a time zone"),
])
def test_a_bad_setting_is_named(monkeypatch, variable, value, named):
    monkeypatch.setenv(variable, value)
    if variable == clock.TIMEZONE_ENV:
        monkeypatch.delenv(clock.TODAY_ENV)
    with pytest.raises(clock.ClockError, match=named.replace("(", r"\(")):
        clock.today()


# The files whose tests look at "today" (demo data, statuses, expiries, maps, reports, forms).
DATE_FACING = ["test_occupancy.py", "test_summary.py", "test_vacancy.py", "test_reports.py", "test_manage.py",
               "test_concurrency.py", "test_gis_export.py", "test_landsupply.py", "test_demo.py", "test_web.py",
               "test_cli.py", "test_excel.py", "test_availability.py", "test_audit.py", "test_refusals.py", "test_history.py"]


@pytest.mark.slow
def test_the_date_facing_tests_pass_with_the_clock_a_year_ahead(tmp_path):
    """The same tests, in a fresh pytest whose registry clock is pinned a year later (SpatiaLite half;
    README gives the command for the whole suite on any date)."""
    import os
    import subprocess
    import sys
    ahead = TODAY + dt.timedelta(days=365)
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "TEST_PG_ADMIN_URL")}
    env[clock.TODAY_ENV] = ahead.isoformat()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-k", "not postgis",
                           "--basetemp", str(tmp_path / "ahead"), *[f"tests/{name}" for name in DATE_FACING]],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else proc.stderr[-2000:]
    assert proc.returncode == 0, f"with {clock.TODAY_ENV}={ahead}: {summary}\n{proc.stdout[-4000:]}"
    assert " passed" in summary and "failed" not in summary
