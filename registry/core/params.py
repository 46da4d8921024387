"""The parameter vocabulary: a parameter knows its name, its kind, its bounds and what it means; it
turns the text a person or a program sent into a value, naming itself when it cannot; and it states
its OpenAPI schema. The map API, the land calculator (web form, JSON API, command line), the web
forms and the GIS import options are lists of these, so one parameter is read and documented the
same way wherever it arrives.

Text other than free text is read leniently, as people type it: full-width digits and letters
become ASCII (NFKC), surrounding blanks go, thousands separators in numbers and 2025/1/31-style dates
are understood. An empty value is "not given".
"""
from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .integrity import end_after
from .models import MAX_ID
from .validation import Problem, ValidationError

# "last_day": a date given as a period's last day (inclusive), read as the stored end, the day after.
KINDS = ("text", "integer", "number", "boolean", "date", "last_day", "numbers", "choice")
# Text never holds a NUL character (refused for every field, web/security.py).
NO_NUL = "^[^\\x00]*$"
_TRUE, _FALSE = {"1", "true", "on", "yes", "是"}, {"0", "false", "off", "no", "否"}
_EXPECTED = {"integer": "整数", "number": "数字", "boolean": "是或否（1/0、true/false）",
             "date": "日期 YYYY-MM-DD，如 2025-01-31（1900–2200 年间）",
             "last_day": "最后一日（含当日），日期 YYYY-MM-DD，如 2025-12-31（1900–2200 年间）",
             "numbers": "以逗号分隔的数字，如 9,4.5,4.5", "text": "文字"}


@dataclass(frozen=True)
class Param:
    name: str
    kind: str  # one of KINDS
    description: str  # what it means, for the OpenAPI document and the command line's help
    label: str = ""  # its Chinese name, for forms
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()  # the values a "choice" takes
    pattern: str | None = None  # a regular expression the text matches (stated in the schema)
    convert: Callable[[str], Any] | None = None  # reads the text itself (ValueError or ValidationError if bad)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"parameter {self.name}: kind {self.kind!r} is not one of {KINDS}")

    def expected(self) -> str:
        """What would have been accepted, as a message says it."""
        if self.kind == "choice":
            return "、".join(self.choices)
        bounds = ""
        if self.minimum is not None and self.maximum is not None:
            bounds = f"，{self.minimum:g}–{self.maximum:g}"
        elif self.minimum is not None:
            bounds = f"，不小于 {self.minimum:g}"
        elif self.maximum is not None:
            bounds = f"，不大于 {self.maximum:g}"
        return _EXPECTED.get(self.kind, "") + bounds + (f"（{self.description}）" if self.description else "")

    def parse(self, raw, field: str | None = None):
        """The value of ``raw`` (None when empty and not required). Raises ValidationError naming
        ``field`` (default: the parameter's name) and what was expected."""
        field = field or self.name
        text = "" if raw is None else str(raw)
        if text.strip() == "":
            if self.required:
                raise ValidationError(Problem(field, "未填写", self.expected(), self.label))
            return None
        value_text = text.strip() if self.kind == "text" else unicodedata.normalize("NFKC", text).strip()
        try:
            value = self.convert(value_text) if self.convert is not None else self._read(value_text)
        except ValidationError as exc:
            raise ValidationError([Problem(field, p.message, p.expected, self.label) for p in exc.problems]) from None
        except (ValueError, TypeError, OverflowError):
            raise ValidationError(Problem(field, f"{text!r} 无效", self.expected(), self.label)) from None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if (self.minimum is not None and value < self.minimum) or (self.maximum is not None and value > self.maximum):
                raise ValidationError(Problem(field, f"{text!r} 超出范围", self.expected(), self.label))
        return value

    def _read(self, text: str):
        if self.kind == "integer":
            value = int(text.replace(",", ""))
            if not -MAX_ID <= value <= MAX_ID:  # beyond any record id or count
                raise ValueError(text)
            return value
        if self.kind == "number":
            value = float(text.replace(",", ""))
            if not math.isfinite(value):
                raise ValueError(text)
            return value
        if self.kind == "boolean":
            low = text.lower()
            if low not in _TRUE | _FALSE:
                raise ValueError(text)
            return low in _TRUE
        if self.kind == "date":
            return parse_date(text)
        if self.kind == "last_day":
            return end_after(parse_date(text))
        if self.kind == "numbers":
            return tuple(float(x) for x in text.replace("，", ",").split(",") if x.strip())
        if self.kind == "choice":
            found = next((c for c in self.choices if c.lower() == text.lower()), None)
            if found is None:
                raise ValueError(text)
            return found
        return text

    def schema(self) -> dict:
        """The parameter's JSON schema, as an OpenAPI 3.0 document states it."""
        base = {"integer": {"type": "integer", "minimum": -MAX_ID, "maximum": MAX_ID}, "number": {"type": "number"},
                "boolean": {"type": "boolean"}, "date": {"type": "string", "format": "date", "pattern": IN_RANGE},
                "last_day": {"type": "string", "format": "date", "pattern": IN_RANGE},
                "numbers": {"type": "string", "example": "9,4.5,4.5", "pattern": NO_NUL},
                "choice": {"type": "string", "enum": list(self.choices)}}.get(self.kind, {"type": "string",
                                                                                        "pattern": NO_NUL})
        out = dict(base)
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        if self.pattern is not None:
            out["pattern"] = self.pattern
        return out

    def openapi(self, where: str = "query") -> dict:
        """The parameter as an OpenAPI 3.0 parameter object."""
        return {"name": self.name, "in": where, "required": self.required, "description": self.description,
                "schema": self.schema()}


# The days the registry's dates fall between: leases, supplies, plans. Outside, a date is a typing
# mistake, and arithmetic on it (a day before 0001-01-01) would fail.
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2200, 12, 31)
IN_RANGE = r"^(19[0-9]{2}|2[01][0-9]{2}|2200)-"  # the schema's words for FIRST_DAY–LAST_DAY


def parse_date(text: str) -> dt.date:
    """A date typed as 2025-01-31, 2025/1/31 or 2025.1.31, from 1900 to 2200 (ValueError otherwise)."""
    parts = text.replace("/", "-").replace(".", "-").split("-")
    if len(parts) != 3:
        raise ValueError(text)
    day = dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(text)
    return day


def parse_all(params: Iterable[Param], values: Mapping[str, Any], *, prefix: str = "") -> dict:
    """Every given parameter's value, by name (absent ones left out). Every bad or missing one is
    named in one ValidationError (field ``prefix`` + name)."""
    out, problems = {}, []
    for p in params:
        try:
            value = p.parse(values.get(p.name), prefix + p.name)
        except ValidationError as exc:
            problems.extend(exc.problems)
            continue
        if value is not None:
            out[p.name] = value
    if problems:
        raise ValidationError(problems)
    return out


# How a refused parameter list is answered (web/refusals.py), for the OpenAPI documents.
REFUSED = {"description": "refused parameters, each named", "content": {"application/json": {"schema": {
    "type": "object", "properties": {"errors": {"type": "array", "items": {"type": "object", "properties": {
        "field": {"type": "string"}, "message": {"type": "string"}, "expected": {"type": "string"}}}}}}}}}
