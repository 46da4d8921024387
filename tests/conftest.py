"""Fixtures: every storage test runs on SpatiaLite and on PostGIS.

PostGIS needs ``TEST_PG_ADMIN_URL`` (a superuser URL, as .ci/run sets up). Without it the PostGIS
half is skipped locally; under CI (``CI=true``) a missing PostgreSQL is an error, not a skip.
"""
from __future__ import annotations

import os
import shutil
import uuid

import geopandas  # noqa: F401  - load the wheels' PROJ/GDAL before mod_spatialite (stack notes P1)
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from registry.storage import bulk, migrate
from registry.core import clock
from registry.sample import demo
from registry.storage.db import engine_for, sessionmaker_for
from registry.core.models import Base

from . import factories

# The suite's "today": the registry's one clock, read once when the session starts and then pinned
# for the whole session, so that every app, live server, CLI run and subprocess agrees (even across
# midnight). Pin it yourself to run the suite on another date: REGISTRY_TODAY=2027-11-29 pytest.
TODAY = clock.today()
os.environ[clock.TODAY_ENV] = TODAY.isoformat()

# Property-based tests (hypothesis, schemathesis): CI replays the same examples on every run, so main
# stays green for the code it was green for; a developer's run explores new ones each time.
from hypothesis import settings as _hypothesis_settings  # noqa: E402

_hypothesis_settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    _hypothesis_settings.load_profile("ci")
BACKENDS = ["spatialite", "postgis"]


def _pg_admin_url() -> str:
    url = os.environ.get("TEST_PG_ADMIN_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("TEST_PG_ADMIN_URL is not set: CI must run the PostGIS half of the suite")
        pytest.skip("TEST_PG_ADMIN_URL not set (PostGIS tests run in CI)")
    return url


class PgDatabases:
    """Creates throwaway databases on the test cluster and drops them at the end of the session."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.names: list[str] = []

    def create(self) -> str:
        name = "t_" + uuid.uuid4().hex[:12]
        with self.admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        self.names.append(name)
        return make_url(self.admin_url).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        for name in self.names:
            with self.admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_databases():
    dbs = PgDatabases(_pg_admin_url())
    yield dbs
    dbs.drop_all()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    """A migrated, empty SpatiaLite file that each test copies (migrating per test costs ~1 s)."""
    path = tmp_path_factory.mktemp("template") / "registry.sqlite"
    url = f"sqlite:///{path}"
    migrate.upgrade(url)
    engine_for(url).dispose()
    return path


@pytest.fixture(scope="session")
def pg_migrated(pg_databases):
    url = pg_databases.create()
    migrate.upgrade(url)
    return url


def _truncate(url: str) -> None:
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine_for(url).begin() as c:
        c.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """The URL of an empty, migrated database on each backend in turn."""
    if request.param == "spatialite":
        path = tmp_path / "registry.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_migrated")
        _truncate(url)
        yield url
        _truncate(url)


@pytest.fixture
def backend(db_url) -> str:
    return "postgis" if db_url.startswith("postgresql") else "spatialite"


@pytest.fixture
def session(db_url):
    s = sessionmaker_for(db_url)()
    s.info["actor"] = "tester"
    s.expire_all = _looking_again(s)
    yield s
    s.rollback()
    s.close()


def _looking_again(s):
    """A test's ``expire_all`` before it checks what the app wrote: the test's own transaction ends
    first (committed), so that it reads what other connections committed since. SQLite keeps a
    transaction's snapshot (PostgreSQL reads committed data at each statement)."""
    expire_all = s.expire_all

    def again():
        s.commit()
        expire_all()
    return again


@pytest.fixture(scope="session")
def demo_urls(tmp_path_factory):
    """Read-only databases holding the demo data, one per backend, built once per session."""
    return {}


@pytest.fixture(params=BACKENDS)
def demo_url(request, demo_urls, tmp_path_factory):
    """A database holding the demo dataset as of TODAY. Tests must not write to it."""
    if request.param not in demo_urls:
        if request.param == "spatialite":
            path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
            shutil.copy(request.getfixturevalue("sqlite_template"), path)
            url = f"sqlite:///{path}"
        else:
            url = request.getfixturevalue("pg_databases").create()
            migrate.upgrade(url)
        with sessionmaker_for(url)() as s:  # closed even when the load fails, so no lock outlives it
            s.info["actor"] = "demo"
            bulk.load(s, demo.demo_dataset(TODAY))
            s.commit()
        demo_urls[request.param] = url
    return demo_urls[request.param]


@pytest.fixture
def demo_session(demo_url):
    s = sessionmaker_for(demo_url)()
    yield s
    s.rollback()
    s.close()


@pytest.fixture
def app(db_url):
    from web import create_app
    return create_app({"TESTING": True, "DATABASE_URL": db_url, "SECRET_KEY": "test"})


@pytest.fixture
def demo_app(demo_url):
    from web import create_app
    return create_app({"TESTING": True, "DATABASE_URL": demo_url, "SECRET_KEY": "test"})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def world(session):
    """Two parks with a tenant each and one user per role (tests/webhelpers.py)."""
    from .webhelpers import build_world
    return build_world(session)


@pytest.fixture
def manager(client, world):
    """A test client signed in as the park manager of park A."""
    from .webhelpers import login_as
    login_as(client, world.manager_a)
    return client


class Runner:
    """Invokes the ``registry`` command against the test database, as a user would type it."""

    def __init__(self, url: str):
        from click.testing import CliRunner
        from registry.cli import add_commands, cli
        add_commands()
        self.url, self.cli, self.runner = url, cli, CliRunner()

    def __call__(self, *args: str, input: str | None = None):
        return self.runner.invoke(self.cli, ["--database", self.url, *args], input=input, prog_name="registry")


@pytest.fixture
def runner(db_url):
    return Runner(db_url)


CHROMIUM = "/usr/bin/chromium"
# Flags for a closed network and root (stack notes §8, P17).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _serve(flask_app):
    import threading

    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, flask_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def live_server(demo_app):
    """The demo app served by werkzeug in a thread on a free 127.0.0.1 port."""
    server = _serve(demo_app)
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture
def live_app_server(app):
    """The test app (empty database per backend) served on a free 127.0.0.1 port."""
    server = _serve(app)
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="session")
def chromium():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("Debian's chromium is not installed; scripts/setup.sh installs it")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _guarded_page(chromium, base_url):
    context = chromium.new_context(locale="zh-CN")
    pg = context.new_page()
    pg.external_requests = []

    def guard(route):
        url = route.request.url
        if url.startswith(base_url) or url.startswith("data:"):
            route.continue_()
        else:
            pg.external_requests.append(url)
            route.abort()

    pg.route("**/*", guard)
    pg.base_url = base_url
    # Anything the Content-Security-Policy blocks (inline script or style without the nonce, a
    # javascript: link, a remote asset) is reported on the console; every browser test checks it.
    pg.csp_violations = []
    pg.on("console", lambda m: pg.csp_violations.append(m.text) if "Content Security Policy" in m.text else None)
    return context, pg


@pytest.fixture
def page(chromium, live_server):
    """A browser page on the demo app that records every request leaving 127.0.0.1 (and blocks it)."""
    context, pg = _guarded_page(chromium, live_server)
    yield pg
    context.close()
    assert pg.csp_violations == [], "the page broke its Content-Security-Policy"


@pytest.fixture
def app_page(chromium, live_app_server):
    """A browser page on the test app (both backends), guarded like ``page``."""
    context, pg = _guarded_page(chromium, live_app_server)
    yield pg
    context.close()
    assert pg.csp_violations == [], "the page broke its Content-Security-Policy"


@pytest.fixture(scope="session")
def libreoffice(tmp_path_factory):
    """Converts a workbook with LibreOffice headless (the office suite our exports must open in, a
    stand-in for WPS): ``convert(path, "csv")`` returns the converted file's path, and fails the
    test if LibreOffice reports an error or writes nothing."""
    import shutil
    import subprocess
    soffice = shutil.which("soffice")
    if soffice is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice is not installed; scripts/setup.sh installs libreoffice-calc")
        pytest.skip("LibreOffice not installed")
    profile = tmp_path_factory.mktemp("lo-profile")

    def convert(path, fmt: str = "csv"):
        out_dir = tmp_path_factory.mktemp("lo-out")
        target = "csv:Text - txt - csv (StarCalc):44,34,76" if fmt == "csv" else fmt  # UTF-8
        proc = subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{profile}",
                               "--convert-to", target, "--outdir", str(out_dir), str(path)],
                              capture_output=True, text=True, timeout=120)
        produced = list(out_dir.iterdir())
        assert proc.returncode == 0 and produced and "Error" not in proc.stderr, (proc.stdout, proc.stderr)
        return produced[0]
    return convert


@pytest.fixture
def gunicorn_server(db_url, tmp_path):
    """The app under gunicorn as docs/operations.md runs it (3 workers × 4 threads) on the test
    database, on a free port: real processes racing for the same rows."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "REGISTRY_DATABASE_URL": db_url, "REGISTRY_INSTANCE_PATH": str(tmp_path / "instance")}
    log = open(tmp_path / "gunicorn.log", "w")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    # --preload: the app (and its signing key, made on first start) once, in the master.
    server = subprocess.Popen([os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-w", "3", "-k", "gthread",
                               "--threads", "4", "--preload", "-b", f"127.0.0.1:{port}", "--chdir", root,
                               "web.wsgi:app"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if urllib.request.urlopen(f"{base}/healthz", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("gunicorn did not come up: " + (tmp_path / "gunicorn.log").read_text())
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.fixture
def small_disk(tmp_path):
    """A 24 KB filesystem (tmpfs) mounted for the test: a real "No space left on device"."""
    import subprocess
    mnt = tmp_path / "small-disk"
    mnt.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24k", "tmpfs", str(mnt)], capture_output=True, text=True)
    if proc.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a small tmpfs for the disk-full test: {proc.stderr}")
        pytest.skip("mounting a tmpfs needs root")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=True)


@pytest.fixture
def many_buildings(session, world):
    """Enough buildings that no export of them fits on the small disk."""
    for i in range(600):
        factories.building(session, world.park_a, gfa=1000, floors=1, units_per_floor=0, dx=0.0006 * i)
    session.commit()
