"""UI text in Chinese (zh-CN, the default) and English, chosen by ?lang= and remembered in a cookie.

The browser's Accept-Language is deliberately ignored: government desktops often run English-locale
browsers, and users expect the Chinese UI unless they choose otherwise.
"""
from __future__ import annotations

import functools
from pathlib import Path

from flask import Flask, g, request

LANGUAGES = ("zh-CN", "en")

# The catalogs (gettext .po files under web/translations, kept with Babel: see README, 翻译):
# the Chinese text is the message id, the source language; English is a translation.
TRANSLATIONS = Path(__file__).resolve().parent / "translations"


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    """The translated messages of ``lang`` (message id → text), from its .po file; {} for the
    source language."""
    from babel.messages.pofile import read_po
    path = TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po"
    if not path.exists():
        return {}
    with open(path, "rb") as fh:
        return {m.id: m.string for m in read_po(fh) if m.id and m.string and not m.fuzzy}


def choose_language() -> str:
    lang = request.args.get("lang") or request.cookies.get("lang")
    return lang if lang in LANGUAGES else "zh-CN"


def gettext(text: str) -> str:
    """``text`` (Chinese) in the reader's language: its translation, or itself."""
    if getattr(g, "lang", "zh-CN") == "en":
        return catalog("en").get(text, text)
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
