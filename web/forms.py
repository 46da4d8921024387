"""Reading a request's form fields (and query string) into typed values with the registry's parameter
vocabulary (registry.core.params): the same reading, bounds and messages as the APIs, each refusal
naming the field."""
from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from flask import request

from registry.core import clock
from registry.core.params import Param, parse_all


def _raw(name: str):
    return request.form.get(name) if name in request.form else request.args.get(name)


def text(name: str, required: bool = False) -> str | None:
    return Param(name, "text", "", required=required).parse(_raw(name), f"表单.{name}")


def date(name: str, required: bool = True, default: dt.date | None = None) -> dt.date | None:
    value = Param(name, "date", "", required=required and default is None).parse(_raw(name), f"表单.{name}")
    return default if value is None else value


def last_day(name: str, required: bool = True) -> dt.date | None:
    """A period's last day as typed (inclusive, as contracts print it), read as the stored end: the
    day after (``registry.core.integrity.end_after``)."""
    return Param(name, "last_day", "", required=required).parse(_raw(name), f"表单.{name}")


def number(name: str, required: bool = False) -> float | None:
    return Param(name, "number", "", required=required).parse(_raw(name), f"表单.{name}")


def integer(name: str, default: int | None = 0) -> int | None:
    value = Param(name, "integer", "").parse(_raw(name), f"表单.{name}")
    return default if value is None else value


def read(*params: Param) -> dict:
    """The form's fields read with their parameters, every bad one named at once (field 表单.<name>)."""
    return parse_all(params, {p.name: _raw(p.name) for p in params}, prefix="表单.")


def ids(name: str) -> list[int]:
    reader = Param(name, "integer", "", minimum=1)
    return [reader.parse(value, f"表单.{name}") for value in request.form.getlist(name) if value.strip()]


def local_target(target: str | None, default: str) -> str:
    """``target`` if it is a path of this site, else ``default``: never another site (no open
    redirect through ``//host``, ``/\\host``, a scheme, or control and space characters that
    browsers strip)."""
    target = target or ""
    parts = urlsplit(target)
    local = (target.startswith("/") and not target.startswith(("//", "/\\")) and not parts.scheme
             and not parts.netloc and target.isprintable() and not any(c.isspace() for c in target))
    return target if local else default


def back(default: str) -> str:
    """Where a form sends the user after saving: its ``back`` field if that is a path of this site."""
    return local_target(request.form.get("back"), default)


def as_of() -> dt.date:
    """The ?as_of= date of a page (default today); a bad value is a 400 naming the field."""
    return date("as_of", required=False, default=clock.today())
