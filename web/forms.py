"""Reading form fields into typed values, with errors that name the field (as registry errors do)."""
from __future__ import annotations

import datetime as dt

from flask import request

from registry.core.validation import Problem, ValidationError, normalize_code
from registry.core import clock


def text(name: str, required: bool = False) -> str | None:
    value = (request.form.get(name) or "").strip()
    if required and not value:
        raise ValidationError(Problem(f"表单.{name}", "is empty", "a value"))
    return value or None


def date(name: str, required: bool = True, default: dt.date | None = None) -> dt.date | None:
    value = (request.form.get(name) or request.args.get(name) or "").strip()
    if not value:
        if required and default is None:
            raise ValidationError(Problem(f"表单.{name}", "is empty", "a date YYYY-MM-DD"))
        return default
    try:
        return dt.date.fromisoformat(normalize_code(value).replace("/", "-"))
    except ValueError:
        raise ValidationError(Problem(f"表单.{name}", f"{value!r} is not a date", "YYYY-MM-DD")) from None


def number(name: str, required: bool = False) -> float | None:
    value = (request.form.get(name) or "").strip()
    if not value:
        if required:
            raise ValidationError(Problem(f"表单.{name}", "is empty", "a number"))
        return None
    try:
        return float(normalize_code(value).replace(",", ""))
    except ValueError:
        raise ValidationError(Problem(f"表单.{name}", f"{value!r} is not a number", "a number")) from None


def integer(name: str, default: int = 0) -> int:
    value = number(name)
    if value is None:
        return default
    if value != int(value):
        raise ValidationError(Problem(f"表单.{name}", f"{value!r} is not a whole number", "an integer"))
    return int(value)


def ids(name: str) -> list[int]:
    out = []
    for value in request.form.getlist(name):
        if not value.isdigit():
            raise ValidationError(Problem(f"表单.{name}", f"{value!r} is not an id", "a number"))
        out.append(int(value))
    return out


def as_of() -> dt.date:
    """The ?as_of= date of a page (default today); a bad value is a 400 naming the field."""
    return date("as_of", required=False, default=clock.today())
