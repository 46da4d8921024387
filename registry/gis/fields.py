"""The registry's layers as GIS tools see them: one field list per layer, shared by import, export
and the OGC API so that what is exported imports back unchanged.

Field names are short ASCII (at most 10 characters, the shapefile limit) with a Chinese alias each;
docs/gis.md lists them. ``public`` fields are all an anonymous investor sees; ``attr`` names the
model attribute an import writes (None: derived, export only). ``synonyms`` are the source field
names the importer recognises on its own: the aliases, our own names and the usual
natural-resources and surveying abbreviations (ZDBH 宗地编号, JZMJ 建筑面积 …).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..core.enums import (BuildingStatus, BuildingType, ConstructionMode, LandUse, ParkLevel, PlotStatus, RightsType,
                          Structure)


@dataclass(frozen=True)
class GisField:
    name: str  # ≤ 10 ASCII characters
    alias: str  # 字段别名
    kind: str  # str | float | int | date | bool | list | enum
    attr: str | None = None  # the model attribute an import writes
    public: bool = True
    enum: type | None = None
    synonyms: tuple[str, ...] = ()
    required: bool = False  # for a new record

    def names(self) -> tuple[str, ...]:
        """Every source field name this field is recognised by, compared case-insensitively."""
        bare = re.sub(r"\(.*\)$", "", self.alias)  # 建筑面积(㎡) is also written 建筑面积
        return (self.name, self.alias, bare, *(self.attr and [self.attr] or []), *self.synonyms)


def _f(name, alias, kind, attr=None, **kw) -> GisField:
    return GisField(name, alias, kind, attr, **kw)


PARK = _f("park", "所属园区", "str", synonyms=("园区", "园区名称", "YQMC"))

LAYERS: dict[str, list[GisField]] = {
    "parks": [
        _f("id", "编号", "int"),
        _f("name", "园区名称", "str", "name", required=True, synonyms=("园区", "名称", "YQMC", "MC")),
        _f("level", "园区级别", "enum", "level", enum=ParkLevel, required=True, synonyms=("级别", "JB")),
        _f("region", "行政区划代码", "str", "jurisdiction_code", required=True,
           synonyms=("行政区划", "区划代码", "XZQDM", "XZQHDM", "jurisdiction")),
        _f("operator", "运营公司", "str", "operator", synonyms=("运营单位", "管理单位")),
        _f("plan_mu", "规划面积(亩)", "float", "planned_area_mu", synonyms=("规划面积", "GHMJ")),
        _f("built_mu", "建成区面积(亩)", "float", "built_area_mu", synonyms=("建成面积", "建成区面积")),
        _f("contact", "联系人", "str", "contact_name", synonyms=("LXR",)),
        _f("phone", "联系电话", "str", "contact_phone", synonyms=("电话", "LXDH")),
    ],
    "plots": [
        _f("id", "编号", "int"),
        PARK,
        _f("code", "宗地编号", "str", "code", required=True,
           synonyms=("地块编号", "宗地号", "ZDBH", "ZDDM", "DKBH", "DKDM", "宗地代码")),
        _f("cert_no", "不动产权证号", "str", "certificate_no", public=False,
           synonyms=("不动产权证书号", "权证号", "证书号", "BDCQZH", "TDZH", "土地证号")),
        _f("cert_m2", "证载面积(㎡)", "float", "certificate_area_m2",
           synonyms=("证载面积", "宗地面积", "ZDMJ", "SYQMJ", "使用权面积")),
        _f("area_m2", "图形面积(㎡)", "float"),
        _f("area_mu", "面积(亩)", "float"),
        _f("land_use", "土地用途", "enum", "land_use", enum=LandUse, synonyms=("用途", "TDYT", "YT")),
        _f("rights", "权利类型", "enum", "rights_type", enum=RightsType, synonyms=("权利性质", "QLXZ", "QLLX")),
        _f("holder", "权利人", "str", public=False, synonyms=("QLR", "使用权人")),
        _f("uscc", "权利人信用代码", "str", "holder_uscc", public=False,
           synonyms=("统一社会信用代码", "信用代码", "TYSHXYDM")),
        _f("supply_dt", "供地日期", "date", "supply_date", synonyms=("供应日期", "出让日期", "GDRQ")),
        _f("price_wan", "出让价款(万元)", "float", "supply_price_wan", public=False, synonyms=("出让价款", "成交价")),
        _f("status", "地块状态", "enum", "status", enum=PlotStatus, synonyms=("状态",)),
    ],
    "buildings": [
        _f("id", "编号", "int"),
        PARK,
        _f("plot", "宗地编号", "str", "plot_code", synonyms=("地块编号", "ZDBH", "DKBH")),
        _f("code", "楼栋编号", "str", "code", required=True,
           synonyms=("栋号", "楼号", "幢号", "建筑编号", "JZBH", "LDBH", "ZH", "Text")),
        _f("name", "名称", "str", "name", synonyms=("建筑名称", "楼栋名称", "JZMC", "MC")),
        _f("type", "建筑类型", "enum", "type", enum=BuildingType, required=True, synonyms=("类型", "用途", "LX")),
        _f("status", "建设状态", "enum", "status", enum=BuildingStatus, required=True, synonyms=("状态", "JSZT", "ZT")),
        _f("mode", "建设模式", "enum", "construction_mode", enum=ConstructionMode, synonyms=("建设方式",)),
        _f("floors", "地上层数", "int", "floors_above", synonyms=("层数", "CS", "DSCS")),
        _f("gfa_m2", "建筑面积(㎡)", "float", "gfa_m2", required=True, synonyms=("建筑面积", "JZMJ", "ZJZMJ")),
        _f("foot_m2", "基底面积(㎡)", "float"),
        _f("structure", "结构", "enum", "structure", enum=Structure, synonyms=("结构形式", "JG", "FWJG")),
        _f("crane_t", "行车吨位(t)", "float", "crane_tonnage_t", synonyms=("行车吨位", "行车")),
        _f("power_kva", "供电容量(kVA)", "float", "power_kva", synonyms=("供电容量", "变压器容量")),
        _f("completed", "竣工日期", "date", "completion_date", synonyms=("竣工时间", "JGRQ")),
        _f("verified", "核实日期", "date", "last_verified", synonyms=("最近核实",)),
        _f("rent", "招租价(元/㎡·月)", "float", "asking_rent_yuan_m2_month", synonyms=("招租价", "租金")),
        _f("ind_allow", "允许行业", "list", "industries_allowed", synonyms=("准入行业",)),
        _f("ind_excl", "禁止行业", "list", "industries_excluded", synonyms=("禁入行业",)),
    ],
    "units": [
        _f("id", "编号", "int"),
        PARK,
        _f("building", "楼栋编号", "str", "building_code", required=True, synonyms=("栋号", "楼号", "楼栋")),
        _f("floor", "楼层", "int", "floor_level", required=True, synonyms=("所在楼层", "层")),
        _f("code", "单元编号", "str", "code", required=True, synonyms=("房号", "单元号", "房间号")),
        _f("area_m2", "可租面积(㎡)", "float", "leasable_area_m2", required=True, synonyms=("面积", "建筑面积")),
        _f("leasable", "可出租", "bool", "leasable", synonyms=("是否可租",)),
        _f("state", "状态", "str"),
        _f("tenant", "租户", "str", public=False),
        _f("lease_end", "租约到期", "date", public=False),
        _f("rent", "租金(元/㎡·月)", "float"),
        _f("avail_from", "可入驻日期", "date"),
    ],
}
# Vacant units: the units layer on a date, vacant ones only, for investors.
LAYERS["vacancies"] = [f for f in LAYERS["units"] if f.name not in ("tenant", "lease_end", "leasable")]
LAYER_TITLES = {"parks": "园区", "plots": "地块", "buildings": "楼栋", "units": "房源单元", "vacancies": "空置房源"}
IMPORT_TARGETS = ("parks", "plots", "buildings", "units")


def fields(layer: str, *, public: bool = False) -> list[GisField]:
    """The fields of ``layer`` (only the public ones for anonymous readers)."""
    if layer not in LAYERS:
        raise LookupError(f"no layer {layer!r}; expected one of " + ", ".join(LAYERS))
    return [f for f in LAYERS[layer] if f.public or not public]


def importable(layer: str) -> list[GisField]:
    """The fields an import into ``layer`` can set (``park`` included: the parent's name)."""
    return [f for f in LAYERS[layer] if f.attr is not None or f.name == "park"]


def suggest_mapping(layer: str, source_fields: list[str]) -> dict[str, str]:
    """Field name → source field, for every importable field whose name, alias or a usual
    synonym matches a source field (case and surrounding blanks ignored)."""
    exact = {s.strip(): s for s in source_fields}
    by_lower = {s.strip().lower(): s for s in source_fields}
    out = {}
    for f in importable(layer):
        for candidate in f.names():
            # An exact spelling wins over a case-insensitive one (KML has both Name and name).
            hit = exact.get(candidate) or by_lower.get(candidate.lower())
            if hit is not None and hit not in out.values():
                out[f.name] = hit
                break
    return out
