"""Validation at the boundary: codes, areas and geometries, with messages that name the field.

Every check returns nothing when the value is good and raises ``ValidationError`` otherwise. The
error carries one ``Problem`` per failed field so that an import can report row, column and reason.
"""
from __future__ import annotations

import csv
import math
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import shapely

from geodata import geometry as geo


@dataclass(frozen=True)
class Problem:
    field: str  # e.g. "Enterprise.uscc": where it belongs (a form's input, an API's field)
    message: str  # what is wrong with the value
    expected: str = ""  # the form that would have been accepted
    label: str = ""  # the field as people name it (a form's label); else derived from ``field``

    @property
    def name(self) -> str:
        """The field as people name it: 统一社会信用代码, not Enterprise.uscc."""
        return self.label or field_label(self.field)

    def __str__(self) -> str:
        return f"{self.name}：{self.message}" + (f"（应为 {self.expected}）" if self.expected else "")


def field_label(field: str) -> str:
    """A problem's field in people's words: a model's column by the name the forms and ledger give
    it (registry.core.history.LABELS), else the field as given."""
    head, _, key = field.rpartition(".")
    from .history import label  # late: history's imports lead back here
    from .models import Base
    tables = {m.class_.__name__: m.local_table.name for m in Base.registry.mappers}
    if head in tables:
        return label(tables[head], key)
    if head in ("表单", "query"):  # a form's or a URL's parameter: its name as the forms say it
        named = label("", key)
        return named if named != key else field
    return field


class ValidationError(ValueError):
    """One or more fields were refused. Nothing has been written."""

    def __init__(self, problems: list[Problem] | Problem):
        self.problems = [problems] if isinstance(problems, Problem) else list(problems)
        super().__init__("; ".join(str(p) for p in self.problems))


def normalize_code(value: str) -> str:
    """Full-width letters and digits to ASCII, upper case, surrounding blanks removed."""
    return unicodedata.normalize("NFKC", str(value)).strip().upper()


# --- 统一社会信用代码 (GB 32100-2015) ------------------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # I, O, S, V, Z are never used
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]  # 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28
_ORG_WEIGHTS = [3, 7, 9, 10, 5, 8, 4, 2]  # GB 11714 organisation code, positions 9–17
# Registration department (1st char) → entity types (2nd char) it issues.
_USCC_TYPES = {
    "1": "1239", "2": "19", "3": "123459", "4": "19", "5": "1239", "6": "19", "7": "19",
    "8": "19", "9": "123", "A": "19", "N": "1239", "Y": "1",
}
USCC_EXPECTED = "18 位，由数字和除 I、O、S、V、Z 以外的大写字母组成，末位是 GB 32100-2015 校验码"


def uscc_check_char(first17: str) -> str:
    """The 18th (check) character for the first 17 characters of a 统一社会信用代码."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, _USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """The GB 11714 check character (0-9 or X) of an 8-character organisation code body."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(first8, _ORG_WEIGHTS))
    r = 11 - total % 11
    return {10: "X", 11: "0"}.get(r, str(r))


def uscc_problem(value: str) -> str | None:
    """Why ``value`` is not a valid 统一社会信用代码, or None if it is."""
    code = normalize_code(value)
    if len(code) != 18:
        return f"{value!r} 有 {len(code)} 位，不是 18 位"
    bad = [c for c in code if c not in USCC_ALPHABET]
    if bad:
        return f"{value!r} 含有 {''.join(sorted(set(bad)))!r}，统一社会信用代码（GB 32100）不用这些字符"
    if code[0] not in _USCC_TYPES or code[1] not in _USCC_TYPES[code[0]]:
        return f"{value!r} 的前两位 {code[:2]!r} 不是有效的登记管理部门和机构类别代码"
    if not code[2:8].isdigit():
        return f"{value!r} 的第 3–8 位 {code[2:8]!r} 不是 6 位行政区划代码"
    org_check = org_code_check_char(code[8:16])
    if code[16] != org_check:
        return f"{value!r} 的第 17 位（组织机构代码校验位）是 {code[16]!r}，按 GB 11714 应为 {org_check!r}"
    check = uscc_check_char(code[:17])
    if code[17] != check:
        return f"{value!r} 的末位是 {code[17]!r}，按 GB 32100-2015 校验应为 {check!r}"
    return None


def check_uscc(value: str, field: str = "Enterprise.uscc") -> str:
    """The normalised code if valid; raises ValidationError naming ``field`` otherwise."""
    problem = uscc_problem(value)
    if problem:
        raise ValidationError(Problem(field, problem, USCC_EXPECTED))
    return normalize_code(value)


def make_uscc(region6: str, body8: str, dept: str = "9", kind: str = "1") -> str:
    """A valid code from its parts (used by the demo generator and tests)."""
    bad = set(region6 + body8 + dept + kind) - set(USCC_ALPHABET)
    if bad:
        raise ValueError(f"{''.join(sorted(bad))!r} cannot appear in a 统一社会信用代码")
    first17 = dept + kind + region6 + body8 + org_code_check_char(body8)
    return first17 + uscc_check_char(first17)


# --- 行政区划代码 (GB/T 2260) ------------------------------------------------------------------

@lru_cache(maxsize=1)
def provinces() -> dict[str, str]:
    with resources.files("registry.data").joinpath("gb2260_provinces.csv").open(encoding="utf-8") as f:
        return {r["code"]: r["name"] for r in csv.DictReader(f)}


def check_region_code(value: str, field: str = "Jurisdiction.code") -> str:
    """A 6-digit GB/T 2260 code whose first two digits are a province; raises otherwise."""
    code = normalize_code(value)
    expected = "GB/T 2260 的 6 位代码：省（2 位）+ 市（2 位）+ 县（2 位），如 610921"
    if not re.fullmatch(r"\d{6}", code):
        raise ValidationError(Problem(field, f"{value!r} 不是 6 位数字", expected))
    if code[:2] not in provinces():
        raise ValidationError(Problem(field, f"{value!r} 的前两位 {code[:2]!r} 不是省级代码", expected))
    if code[2:] == "0000":
        return code  # a province itself
    if code[4:] == "00" and code[2:4] == "00":
        raise ValidationError(Problem(field, f"{value!r} 缺少市级部分", expected))
    return code


# --- 国民经济行业分类 (GB/T 4754-2017) ------------------------------------------------------------

@dataclass(frozen=True)
class Industry:
    code: str
    name: str
    level: str  # 门类 / 大类 / 中类


@lru_cache(maxsize=1)
def industries() -> dict[str, Industry]:
    with resources.files("registry.data").joinpath("gb4754_2017.csv").open(encoding="utf-8") as f:
        return {r["code"]: Industry(r["code"], r["name"], r["level"]) for r in csv.DictReader(f)}


def check_industry_code(value: str, field: str = "Enterprise.industry_code") -> str:
    """A GB/T 4754-2017 大类, 中类 or 小类 code (digits only, no 门类 letter); raises otherwise."""
    code = normalize_code(value)
    if re.fullmatch(r"[A-T]\d{2,4}", code):  # "C3311" → "3311": the letter is implied by the digits
        code = code[1:]
    expected = "GB/T 4754-2017 的 2–4 位代码，如 33（大类）、331（中类）或 3311（小类）"
    if not re.fullmatch(r"\d{2,4}", code):
        raise ValidationError(Problem(field, f"{value!r} 不是 2–4 位的行业代码", expected))
    table = industries()
    major = table.get(code[:2])
    if major is None or major.level != "大类":
        raise ValidationError(Problem(field, f"{value!r}：GB/T 4754-2017 中没有大类 {code[:2]}", expected))
    # 中类 are shipped for some 门类 only; where they are, a 3- or 4-digit code must name one.
    middles_shipped = any(len(c) == 3 and c.startswith(code[:2]) for c in table)
    if len(code) >= 3 and middles_shipped and code[:3] not in table:
        raise ValidationError(Problem(
            field, f"{value!r}：大类 {code[:2]}（{major.name}）中没有中类 {code[:3]}", expected))
    return code


# --- measures and geometry --------------------------------------------------------------------

def check_positive(value, field: str, unit: str, *, allow_zero: bool = False, allow_none: bool = True):
    """A positive number (or None where allowed); raises naming ``field`` otherwise."""
    if value is None:
        if allow_none:
            return None
        raise ValidationError(Problem(field, "未填写", f"大于 0 的数（{unit}）"))
    try:
        number = float(normalize_code(value) if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise ValidationError(Problem(field, f"{value!r} 不是数字", f"大于 0 的数（{unit}）")) from None
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        raise ValidationError(Problem(field, f"{value!r} 不是{'有限的非负数' if allow_zero else '正数'}",
                                      f"{'≥' if allow_zero else '>'} 0 的数（{unit}）"))
    return number


def check_polygon(value, field: str):
    """A valid lon/lat polygon inside China in storage form (MultiPolygon); raises otherwise."""
    try:
        geom = geo.parse(value)
    except Exception:  # noqa: BLE001 - any parse failure is the user's input
        raise ValidationError(Problem(field, "无法读取为图形",
                                      "EPSG:4490 经纬度多边形的 WKT、WKB 或 GeoJSON")) from None
    from .limits import VERTICES
    count = shapely.get_num_coordinates(geom)
    if count > VERTICES():
        raise ValidationError(Problem(field, f"图形有 {count:,} 个顶点", f"不超过 {VERTICES():,} 个顶点的多边形（请先简化）"))
    problems = geo.check_lonlat_polygon(geom)
    if problems:
        raise ValidationError([Problem(field, str(p), "中国境内的有效多边形（EPSG:4490 经纬度）")
                               for p in problems])
    return geo.to_multipolygon(geom)
