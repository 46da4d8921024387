"""The investor vacancy map (/map), building photos, and the one-page brochure."""
from __future__ import annotations

import os

import folium
import folium.plugins
from flask import Blueprint, Response, current_app, g, redirect, render_template, request, send_from_directory, url_for

from geodata.tiles import TileSource

from registry.assets import editing as assets
from registry.assets import parks as park_list
from registry.core import authz, clock
from registry.core.enums import BuildingType
from registry.core.validation import industries
from registry.vacancy import cards

from . import offline_folium
from .auth import login_required
from .db import get_session
from .manage import building_page
from .refusals import form_page
from .security import csp_nonce

bp = Blueprint("vacancy_map", __name__)

BASEMAPS = ("none", "tianditu", "amap", "xyz", "local")


def _basemap(m: folium.Map) -> str:
    """Adds the configured basemap; returns the datum the map displays in (gcj02 for AMap)."""
    kind = current_app.config["BASEMAP"]
    if kind == "tianditu":
        key = current_app.config["TIANDITU_KEY"]
        node = current_app.config["TIANDITU_URL"].rstrip("/")  # a provincial node on a government network
        for layer, name, overlay in (("vec", "天地图矢量", False), ("cva", "天地图注记", True)):
            folium.TileLayer(
                tiles=(f"{node}/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
                       f"&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}"
                       f"&TILECOL={{x}}&tk={key}"),
                attr="天地图", name=name, subdomains="01234567", max_zoom=18, overlay=overlay).add_to(m)
        return "wgs84"
    if kind == "amap":
        folium.TileLayer(tiles="https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
                         attr="高德地图", name="高德地图", subdomains="1234", max_zoom=18).add_to(m)
        return "gcj02"
    if kind == "xyz":
        folium.TileLayer(tiles=current_app.config["XYZ_URL"], attr=current_app.config["XYZ_ATTRIBUTION"],
                         name="底图", max_zoom=19).add_to(m)
    if kind == "local":
        source = _tiles()
        if source is None:
            return "wgs84"
        attribution = current_app.config["TILES_ATTRIBUTION"] or source.metadata().get("attribution") or "本地底图"
        folium.TileLayer(tiles=url_for(".tile", z=0, x=0, y=0).replace("/0/0/0", "/{z}/{x}/{y}"), attr=attribution,
                         name="底图", max_native_zoom=source.max_zoom(), max_zoom=19).add_to(m)
        # The registry's layers are shifted to the tiles' coordinates, as for AMap.
        return "gcj02" if current_app.config["TILES_CRS"].lower() == "gcj02" else "wgs84"
    return "wgs84"


def _tiles() -> TileSource | None:
    """The configured local tiles (REGISTRY_TILES), opened once per process; None if unset or gone."""
    path = current_app.config.get("TILES")
    if not path:
        return None
    cached = current_app.extensions.get("registry_tiles")
    if cached is None or str(cached.path) != str(path):
        try:
            cached = current_app.extensions["registry_tiles"] = TileSource(path)
        except FileNotFoundError:
            current_app.logger.error("REGISTRY_TILES=%s: no such folder or file; the map has no basemap", path)
            return None
    return cached


@bp.get("/tiles/<int:z>/<int:x>/<int:y>")
def tile(z, x, y):
    """One tile of the local basemap (404 where it has none: Leaflet leaves the square empty)."""
    source = _tiles()
    found = source.get(z, x, y) if source is not None else None
    if found is None:
        return Response(status=404, mimetype="text/plain")
    data, media = found
    resp = Response(data, mimetype=media)
    resp.cache_control.public = True
    resp.cache_control.max_age = 7 * 86400
    return resp


@bp.get("/map")
def map_page():
    m = folium.Map(location=[33.5, 109.5], zoom_start=6, tiles=None, control_scale=False, max_zoom=19,
                   maxZoom=19, zoom_control=True)  # the scale bar is metric only (vacancy-map.js)
    datum = _basemap(m)
    folium.plugins.MarkerCluster(control=False).add_to(m)  # brings the clustering assets
    parts = offline_folium.render_parts(m, csp_nonce())
    db = get_session()
    parks = park_list.park_choices(db)
    manufacturing = [(c, i.name) for c, i in industries().items() if i.level == "大类" and 13 <= int(c) <= 43]
    return render_template("map.html", parts=parts, map_name=m.get_name(), datum=datum, parks=parks,
                           types=list(BuildingType), industries=manufacturing, staff=g.user is not None,
                           today=clock.today(), no_basemap=current_app.config["BASEMAP"] == "none"
                           or (current_app.config["BASEMAP"] == "local" and _tiles() is None))


@bp.get("/buildings/<int:building_id>/brochure")
def brochure(building_id):
    b = cards.brochure(get_session(), building_id, clock.today(), audience=authz.audience(g.user))
    return render_template("brochure.html", card=b["card"], plan=b["site_plan"], today=clock.today())


@bp.get("/photos/<path:name>")
def photo(name):
    return send_from_directory(os.path.join(current_app.instance_path, "photos"), name)


@bp.post("/buildings/<int:building_id>/photo")
@login_required
@form_page(building_page, "photo")
def upload_photo(building_id):
    f = request.files.get("photo")
    data = f.read(assets.MAX_PHOTO + 1) if f else b""
    db = get_session()
    assets.save_photo(db, g.user, building_id, data, os.path.join(current_app.instance_path, "photos"))
    db.commit()
    return redirect(url_for("manage.building", building_id=building_id))
