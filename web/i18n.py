"""UI text in Chinese (zh-CN, the default) and English, chosen by ?lang= and remembered in a cookie.

The browser's Accept-Language is deliberately ignored: government desktops often run English-locale
browsers, and users expect the Chinese UI unless they choose otherwise.
"""
from __future__ import annotations

from flask import Flask, g, request

LANGUAGES = ("zh-CN", "en")

# Keys are the Chinese text; English translations beside them.
MESSAGES_EN = {
    "园区与标准厂房资产登记": "Industrial park and standard-factory registry",
    "园区概览": "Parks overview",
    "截至": "As of",
    "查询": "Show",
    "园区": "Park",
    "级别": "Level",
    "所在地": "Location",
    "已建成": "Built",
    "其中标准化厂房": "of which standard factories",
    "在建": "Under construction",
    "栋": "bldg",
    "万㎡": "10k m²",
    "入驻企业": "Enterprises",
    "规上": "above scale",
    "可租面积": "Leasable",
    "空置面积": "Vacant",
    "出租率": "Occupancy",
    "按面积": "by area",
    "合计": "Total",
    "暂无园区。运行 registry demo 载入演示数据。": "No parks yet. Run `registry demo` to load the demo data.",
    "数据来自登记库，出租率由租约区间推算。": "Figures are computed from the registry; occupancy is derived from lease intervals.",
    "家": "",
}


def choose_language() -> str:
    lang = request.args.get("lang") or request.cookies.get("lang")
    return lang if lang in LANGUAGES else "zh-CN"


def gettext(text: str) -> str:
    if getattr(g, "lang", "zh-CN") == "en":
        return MESSAGES_EN.get(text, text)
    return text


def init_app(app: Flask) -> None:
    @app.before_request
    def _pick():
        g.lang = choose_language()

    @app.after_request
    def _remember(resp):
        if request.args.get("lang") in LANGUAGES:
            resp.set_cookie("lang", request.args["lang"], max_age=365 * 86400, samesite="Lax")
        return resp

    app.jinja_env.globals["_"] = gettext
    app.jinja_env.globals["current_lang"] = lambda: getattr(g, "lang", "zh-CN")
