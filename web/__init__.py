"""The web layer: thin Flask views over registry functions, templates and static assets."""
from __future__ import annotations

import datetime as dt
import gc
import os
import secrets
from pathlib import Path

from flask import Flask
from werkzeug.routing import IntegerConverter

from registry.storage import config as registry_config
from registry.core.params import MAX_ID

from .jsonio import OrjsonProvider
from .security import TIANDITU_DEFAULT


def create_app(test_config: dict | None = None) -> Flask:
    """The application factory (Flask tutorial style). ``test_config`` overrides the environment."""
    app = Flask(__name__, instance_path=str(registry_config.instance_path()), instance_relative_config=True)
    app.json = OrjsonProvider(app)
    # A record id in a URL beyond MAX_ID (the largest stored integer) is no record (404).
    app.url_map.converters["int"] = IdConverter
    app.config.from_mapping(
        SECRET_KEY=None,
        DATABASE_URL=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # Behind HTTPS (the production setup, docs/operations.md) set REGISTRY_SECURE_COOKIES=1.
        SESSION_COOKIE_SECURE=os.environ.get("REGISTRY_SECURE_COOKIES", "") not in ("", "0"),
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=8),
        # Requests larger than this are refused from their Content-Length, before a byte of the body
        # is read (413); within it, file parts are spooled to disk, not held in memory. A county's
        # GIS files (zipped shapefiles, GeoPackages) fit; nginx's client_max_body_size should match.
        MAX_CONTENT_LENGTH=int(os.environ.get("REGISTRY_MAX_UPLOAD_MB") or 200) * 1024 * 1024,
        # The map's basemap: none (offline vector base, the default), tianditu, amap or xyz.
        BASEMAP=os.environ.get("REGISTRY_BASEMAP") or ("local" if os.environ.get("REGISTRY_TILES") else "none"),
        TIANDITU_KEY=os.environ.get("REGISTRY_TIANDITU_KEY", ""),
        TIANDITU_URL=os.environ.get("REGISTRY_TIANDITU_URL", TIANDITU_DEFAULT),
        XYZ_URL=os.environ.get("REGISTRY_XYZ_URL", ""),
        XYZ_ATTRIBUTION=os.environ.get("REGISTRY_XYZ_ATTRIBUTION", ""),
        # Tiles on this machine (docs/vacancy-map.md): a {z}/{x}/{y} folder or an .mbtiles file, the
        # coordinate system they are drawn in (wgs84 = CGCS2000 within centimetres, or gcj02 for
        # tiles cut from AMap-style sources), and whose they are.
        TILES=os.environ.get("REGISTRY_TILES", ""),
        TILES_CRS=os.environ.get("REGISTRY_TILES_CRS", "wgs84"),
        TILES_ATTRIBUTION=os.environ.get("REGISTRY_TILES_ATTRIBUTION", ""),
        # How many reverse proxies (nginx) stand in front and set X-Forwarded-For/-Proto: sign-in
        # limits count per client address, which is the proxy's own unless it is trusted here.
        TRUSTED_PROXIES=int(os.environ.get("REGISTRY_TRUSTED_PROXIES") or 0),
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    app.config["DATABASE_URL"] = app.config["DATABASE_URL"] or registry_config.database_url()
    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))

    from . import (api, assets, auth, bulk_excel, db, evaluation, i18n, landsupply, manage, offline_folium, records,
                   errors, formatting, gis, navigation, ogc, operations, reports, security, users_admin, vacancy_map, views)
    offline_folium.use_local_assets()  # once per process: folium's CDN links → vendored files
    operations.init_app(app)
    db.init_app(app)
    i18n.init_app(app)
    auth.init_app(app)
    navigation.init_app(app)
    errors.init_app(app)
    formatting.init_app(app)
    for bp in (views.bp, manage.bp, reports.bp, records.history_bp, records.quality_bp, bulk_excel.bp, assets.bp,
               users_admin.bp, api.bp, vacancy_map.bp, evaluation.bp, landsupply.bp, ogc.bp, gis.bp):
        app.register_blueprint(bp)
    app.jinja_env.globals["timedelta"] = dt.timedelta
    security.init_app(app)
    _freeze_startup_heap()
    return app


_startup_frozen = False


def _freeze_startup_heap() -> None:
    """Puts what exists once the first app is made (modules, the app, its routes and template
    environment: about 230,000 objects) beyond the cycle collector's full passes. They live as long
    as the process, and each full pass walked them all: 0.1 s inside every fifth or so request for
    a 1,000-feature OGC page. Once per process: apps made later (tests make hundreds) stay
    collectable. Under a pre-forking server it also keeps the collector off pages the workers
    share with the master, as Python's documentation of ``gc.freeze`` describes."""
    global _startup_frozen
    if not _startup_frozen:
        gc.collect()  # start-up's own garbage is freed, not frozen
        gc.freeze()
        _startup_frozen = True


class IdConverter(IntegerConverter):
    def __init__(self, url_map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)


def _instance_secret(folder: Path) -> str:
    """A random signing key kept in the instance folder, made on first start (never in the code)."""
    path = folder / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
