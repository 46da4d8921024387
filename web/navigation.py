"""The header menu: the sections a user may open (registry.core.authz.sections, worked out when
the user is loaded, so that an error page drawn while the database is down needs nothing from
it), each with its page and Chinese name, the current one marked. One partial (_header.html)
draws it on every page, the map included."""
from __future__ import annotations

from flask import Flask, g, request, url_for

from registry.core.words import N_

from .i18n import gettext as _

# Section → (endpoint, its name, the blueprints or endpoints that belong to it).
MENU = {
    "overview": ("main.index", N_("概览"), ("main.index",)),
    "map": ("vacancy_map.map_page", N_("空置厂房地图"), ("vacancy_map",)),
    "parks": ("main.parks", N_("园区"), ("manage", "assets", "reports", "bulk_excel", "quality", "main.parks")),
    "evaluation": ("evaluation.index", N_("亩均评价"), ("evaluation",)),
    "landcalc": ("landsupply.calculator", N_("供地测算"), ("landsupply",)),
    "gis": ("gis.export_page", N_("导入导出"), ("gis", "ogc")),
    "activity": ("history.activity_parks", N_("操作记录"), ("history",)),
    "users": ("users_admin.list_users", N_("用户"), ("users_admin",)),
}


def _current(owners: tuple[str, ...]) -> bool:
    return request.blueprint in owners or request.endpoint in owners


def menu() -> list[dict]:
    """The signed-in (or anonymous) user's menu: label, link, whether it is the current section."""
    return [{"key": key, "label": _(MENU[key][1]), "url": url_for(MENU[key][0]), "current": _current(MENU[key][2])}
            for key in g.get("sections", ("overview", "map"))]


def init_app(app: Flask) -> None:
    app.jinja_env.globals["menu"] = menu
