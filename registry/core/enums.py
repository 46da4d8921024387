"""Enumerations of the domain, with their Chinese labels (the UI's default language).

Values are English identifiers and are what the database stores; ``label`` is what users read.
"""
from __future__ import annotations

import enum


class LabelledEnum(str, enum.Enum):
    """A string enum whose members carry a Chinese label: ``Member = ("value", "标签")``."""

    def __new__(cls, value: str, label: str):
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.label = label
        return obj

    @classmethod
    def from_any(cls, text: str):
        """The member whose value or Chinese label is ``text`` (how spreadsheets spell them)."""
        t = str(text).strip()
        for m in cls:
            if t in (m.value, m.label):
                return m
        raise ValueError(f"{text!r} 不是可选值之一：" + "、".join(m.label for m in cls))


class ParkLevel(LabelledEnum):  # 园区级别
    NATIONAL = ("national", "国家级")
    PROVINCIAL = ("provincial", "省级")
    MUNICIPAL = ("municipal", "市级")
    COUNTY = ("county", "县级")


class RightsType(LabelledEnum):  # 土地权利类型
    TRANSFER = ("transfer", "出让")
    LEASE = ("lease", "租赁")
    ALLOCATION = ("allocation", "划拨")


class PlotStatus(LabelledEnum):  # 地块状态
    UNSUPPLIED = ("unsupplied", "未供应")
    SUPPLIED = ("supplied", "已供应")
    IDLE = ("idle", "闲置")
    LOW_EFFICIENCY = ("low_efficiency", "低效")


class LandUse(LabelledEnum):  # 土地用途 (GB/T 21010 一级/二级类)
    INDUSTRIAL = ("industrial", "工业用地")
    WAREHOUSING = ("warehousing", "仓储用地")
    COMMERCIAL = ("commercial", "商服用地")
    PUBLIC = ("public", "公共管理与公共服务用地")
    TRANSPORT = ("transport", "交通运输用地")
    OTHER = ("other", "其他")


class BuildingType(LabelledEnum):  # 建筑类型
    STANDARD_FACTORY = ("standard_factory", "标准厂房")
    FACTORY = ("factory", "厂房")  # an enterprise's own, non-standard factory
    SUPPORTING = ("supporting", "配套用房")
    DORMITORY = ("dormitory", "宿舍")
    RND = ("rnd", "研发楼")
    WAREHOUSE = ("warehouse", "仓库")


class BuildingStatus(LabelledEnum):  # 建设状态
    PLANNED = ("planned", "规划")
    UNDER_CONSTRUCTION = ("under_construction", "在建")
    COMPLETED = ("completed", "已建成")


class ConstructionMode(LabelledEnum):  # 建设模式
    SELF_BUILT = ("self_built", "企业自建")
    ENTRUSTED = ("entrusted", "委托代建")
    COOPERATIVE = ("cooperative", "合作共建")
    PPP = ("ppp", "PPP")
    EPC = ("epc", "EPC")
    OTHER = ("other", "其他")


class Structure(LabelledEnum):  # 结构形式
    STEEL = ("steel", "钢结构")
    FRAME = ("frame", "框架")
    BRICK_CONCRETE = ("brick_concrete", "砖混")
    OTHER = ("other", "其他")


class EnterpriseTag(LabelledEnum):  # 企业资质标签
    LITTLE_GIANT = ("little_giant", '专精特新"小巨人"')
    SPECIALIZED_SME = ("specialized_sme", "专精特新中小企业")
    HIGH_TECH = ("high_tech", "高新技术企业")
    TECH_SME = ("tech_sme", "科技型中小企业")
    GREEN_FACTORY = ("green_factory", "绿色工厂")


class Role(LabelledEnum):  # 用户角色
    ADMIN = ("admin", "系统管理员")
    PARK_MANAGER = ("park_manager", "园区管理")
    INVESTMENT = ("investment", "招商人员")
    VIEWER = ("viewer", "只读")
    BUREAU = ("bureau", "经信部门")  # the industry bureau: runs the 亩均 evaluation


class LeaseKind(LabelledEnum):  # 占用类型
    LEASE = ("lease", "租赁")
    SELF_USE = ("self_use", "自用")  # the owner or operator occupies the unit itself


class EndReason(LabelledEnum):  # 提前终止原因
    RELOCATION = ("relocation", "企业搬迁")
    DIFFICULTY = ("difficulty", "经营困难")
    MUTUAL = ("mutual", "协商解约")
    BREACH = ("breach", "违约清退")
    MOVED_IN_PARK = ("moved_in_park", "园区内换租")
    OTHER = ("other", "其他")


class ReservationOutcome(LabelledEnum):  # 预留结果 (open while none; lapsed when its date passes)
    CANCELLED = ("cancelled", "已取消")
    CONVERTED = ("converted", "已转签约")


class UnitStatus(LabelledEnum):  # 房源状态 (derived from leases and reservations on a date, never stored)
    VACANT = ("vacant", "空置")
    LEASED = ("leased", "已出租")
    EXPIRING = ("expiring", "90天内到期")
    SIGNED = ("signed", "已签约待入驻")  # a lease starts later: not offered to anyone else
    RESERVED = ("reserved", "已预留")
    SELF_USE = ("self_use", "自用")
    NOT_LEASABLE = ("not_leasable", "不可租")
