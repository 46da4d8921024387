"""The registry's tables as SQLAlchemy 2 typed models with GeoAlchemy2 geometry in EPSG:4490.

Only facts are stored. A unit's status on a date, vacancy and occupancy, and every total are derived
from lease intervals and units (see occupancy/status.py and occupancy/summary.py). Field checks run on assignment
(``@validates``), so an invalid record is refused before it reaches a session; cross-record rules
(overlapping leases) run at flush in ``integrity.py``.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry, WKBElement, WKTElement
from geoalchemy2.shape import from_shape, to_shape
from sqlalchemy import (JSON, CheckConstraint, Date, DateTime, Enum, Float, ForeignKey, Index,
                        ForeignKeyConstraint, Integer, String, Text, UniqueConstraint, false, func, text, true)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column, relationship, validates

from geodata import area as geo_area
from . import validation as v
from .enums import (BuildingStatus, BuildingType, ConstructionMode, EndReason, EnterpriseTag, LandUse, LeaseKind,
                    ParkLevel, PlotStatus, ReservationOutcome, RightsType, Role, Structure)

SRID = 4490  # CGCS2000 geographic: the one storage CRS
# Ids and other whole numbers are INTEGER columns (32-bit on PostgreSQL): a larger number in a URL or
# a filter names no record, and must not reach the driver (an overflow there is a server error).
MAX_ID = 2**31 - 1


def record_id(value) -> int | None:
    """``value`` (an int, or text from a form, a URL or a file) as a record id, or None when it
    cannot name a record: not written in the digits 0-9, or beyond MAX_ID."""
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdecimal()):
        return None
    number = int(text)
    return number if 0 < number <= MAX_ID else None


def get_by_id(session, model, value):
    """The ``model`` record whose id ``value`` names, or None (see ``record_id``)."""
    ident = record_id(value)
    return None if ident is None else session.get(model, ident)
KN_PER_T = 9.80665  # floor loads are stored in kN/m²; 1 t/m² (as listings quote them) is 9.80665 kN/m²


def _enum(cls):
    # Stored as plain strings with a CHECK constraint: identical on SQLite and PostgreSQL, and a
    # new member needs no ALTER TYPE.
    return Enum(cls, native_enum=False, create_constraint=True, length=24,
                values_callable=lambda e: [m.value for m in e], name=cls.__name__.lower())


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Versioned:
    """Optimistic concurrency: a save based on stale data fails instead of overwriting."""

    version: Mapped[int] = mapped_column(Integer, nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls):  # noqa: N805 - SQLAlchemy declarative hook
        return {"version_id_col": cls.__table__.c.version}


def _checked(value, field: str):
    """The shapely MultiPolygon for a geometry given in any form, or ValidationError."""
    if isinstance(value, (WKBElement, WKTElement)):
        value = to_shape(value)
    return v.check_polygon(value, field)


def _polygon(value, field: str) -> WKBElement:
    return from_shape(_checked(value, field), srid=SRID)


def _polygon_and_area(value, field: str) -> tuple[WKBElement, float]:
    """The stored geometry and its geodesic area in m², kept beside authoritative figures."""
    geom = _checked(value, field)
    return from_shape(geom, srid=SRID), geo_area.geodesic_area_m2(geom)


class Jurisdiction(Base):  # 行政区划
    __tablename__ = "jurisdiction"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)  # GB/T 2260
    name: Mapped[str] = mapped_column(String(64))
    parent_code: Mapped[str | None] = mapped_column(String(6), ForeignKey("jurisdiction.code"))

    @validates("code", "parent_code")
    def _code(self, key, value):
        return None if value is None else v.check_region_code(value, f"Jurisdiction.{key}")


class Park(Versioned, Base):  # 园区
    __tablename__ = "park"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    level: Mapped[ParkLevel] = mapped_column(_enum(ParkLevel))
    jurisdiction_code: Mapped[str] = mapped_column(String(6), ForeignKey("jurisdiction.code"))
    operator: Mapped[str | None] = mapped_column(String(128))  # 运营公司
    boundary: Mapped[WKBElement | None] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True))
    planned_area_mu: Mapped[float | None] = mapped_column(Float)  # 规划面积 (亩)
    built_area_mu: Mapped[float | None] = mapped_column(Float)  # 建成区面积 (亩)
    contact_name: Mapped[str | None] = mapped_column(String(64))
    contact_phone: Mapped[str | None] = mapped_column(String(32))
    # The public (investor) map shows no rents for parks that negotiate them case by case.
    hide_rents: Mapped[bool] = mapped_column(default=False, server_default=false())

    jurisdiction: Mapped[Jurisdiction] = relationship()
    plots: Mapped[list[Plot]] = relationship(back_populates="park")
    buildings: Mapped[list[Building]] = relationship(back_populates="park")

    __table_args__ = (CheckConstraint("planned_area_mu IS NULL OR planned_area_mu > 0", name="park_planned_positive"),
                      CheckConstraint("built_area_mu IS NULL OR built_area_mu >= 0", name="park_built_nonneg"))

    @validates("boundary")
    def _boundary(self, key, value):
        return None if value is None else _polygon(value, "Park.boundary")

    @validates("planned_area_mu")
    def _planned(self, key, value):
        return v.check_positive(value, "Park.planned_area_mu", "亩")

    @validates("built_area_mu")
    def _built(self, key, value):
        return v.check_positive(value, "Park.built_area_mu", "亩", allow_zero=True)


class Plot(Versioned, Base):  # 地块
    __tablename__ = "plot"

    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))  # 宗地编号 within the park
    geom: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True, nullable=False))
    certificate_area_m2: Mapped[float | None] = mapped_column(Float)  # 证载面积, as registered
    computed_area_m2: Mapped[float] = mapped_column(Float)  # geodesic area of geom, kept beside it
    land_use: Mapped[LandUse] = mapped_column(_enum(LandUse), default=LandUse.INDUSTRIAL)
    rights_type: Mapped[RightsType | None] = mapped_column(_enum(RightsType))
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)  # 权利人
    certificate_no: Mapped[str | None] = mapped_column(String(64), unique=True)  # 不动产权证号
    supply_date: Mapped[dt.date | None] = mapped_column(Date)  # 供地日期
    supply_price_wan: Mapped[float | None] = mapped_column(Float)  # 出让价款 (万元)
    status: Mapped[PlotStatus] = mapped_column(_enum(PlotStatus), default=PlotStatus.UNSUPPLIED)

    park: Mapped[Park] = relationship(back_populates="plots")
    holder: Mapped[Enterprise | None] = relationship()
    obligations: Mapped[list[PlotObligation]] = relationship(back_populates="plot", cascade="all, delete-orphan")
    buildings: Mapped[list[Building]] = relationship(back_populates="plot")

    __table_args__ = (UniqueConstraint("park_id", "code"),
                      CheckConstraint("certificate_area_m2 IS NULL OR certificate_area_m2 > 0", name="plot_cert_positive"),
                      CheckConstraint("computed_area_m2 > 0", name="plot_area_positive"))

    @validates("geom")
    def _geom(self, key, value):
        element, self.computed_area_m2 = _polygon_and_area(value, "Plot.geom")
        return element

    @validates("certificate_area_m2")
    def _cert(self, key, value):
        return v.check_positive(value, "Plot.certificate_area_m2", "m²")

    @validates("supply_price_wan")
    def _price(self, key, value):
        return v.check_positive(value, "Plot.supply_price_wan", "万元", allow_zero=True)

    @hybrid_property
    def area_m2(self) -> float:
        """The authoritative area: the certificate's where there is one, else the computed one."""
        return self.certificate_area_m2 or self.computed_area_m2

    @area_m2.inplace.expression
    @classmethod
    def _area_m2_expression(cls):
        return func.coalesce(cls.certificate_area_m2, cls.computed_area_m2)

    @property
    def area_mu(self) -> float:
        """The authoritative area in 亩 (see ``area_m2``)."""
        return geo_area.m2_to_mu(self.area_m2)


class PlotObligation(Base):  # 标准地 obligation: indicator, comparator, threshold, unit
    __tablename__ = "plot_obligation"

    id: Mapped[int] = mapped_column(primary_key=True)
    plot_id: Mapped[int] = mapped_column(ForeignKey("plot.id", ondelete="CASCADE"), index=True)
    indicator: Mapped[str] = mapped_column(String(64))  # e.g. 亩均税收
    comparator: Mapped[str] = mapped_column(String(2))  # >=, <=, >, <, =
    threshold: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(32))  # e.g. 万元/亩
    deadline: Mapped[dt.date | None] = mapped_column(Date)  # 达产 date by which it must hold

    plot: Mapped[Plot] = relationship(back_populates="obligations")
    __table_args__ = (CheckConstraint("comparator IN ('>=', '<=', '>', '<', '=')", name="obligation_comparator"),)

    @validates("comparator")
    def _cmp(self, key, value):
        value = v.normalize_code(value).replace("≥", ">=").replace("≤", "<=")
        if value not in (">=", "<=", ">", "<", "="):
            raise v.ValidationError(v.Problem("PlotObligation.comparator", f"{value!r} is no comparator",
                                              "one of >=, <=, >, <, ="))
        return value


class Building(Versioned, Base):  # 栋
    __tablename__ = "building"

    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id"), index=True)
    plot_id: Mapped[int | None] = mapped_column(ForeignKey("plot.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))  # building number within the park, e.g. A-03
    name: Mapped[str | None] = mapped_column(String(128))
    footprint: Mapped[WKBElement] = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True, nullable=False))
    footprint_area_m2: Mapped[float] = mapped_column(Float)  # geodesic area of footprint
    type: Mapped[BuildingType] = mapped_column(_enum(BuildingType))
    status: Mapped[BuildingStatus] = mapped_column(_enum(BuildingStatus))
    construction_mode: Mapped[ConstructionMode | None] = mapped_column(_enum(ConstructionMode))
    floors_above: Mapped[int] = mapped_column(Integer, default=1)  # 地上层数
    gfa_m2: Mapped[float] = mapped_column(Float)  # 建筑面积, as registered
    structure: Mapped[Structure | None] = mapped_column(_enum(Structure))
    crane_tonnage_t: Mapped[float | None] = mapped_column(Float)  # 行车吨位
    power_kva: Mapped[float | None] = mapped_column(Float)  # 供电容量
    completion_date: Mapped[dt.date | None] = mapped_column(Date)  # 竣工日期
    last_verified: Mapped[dt.date | None] = mapped_column(Date)  # 最近核实日期
    asking_rent_yuan_m2_month: Mapped[float | None] = mapped_column(Float)  # 招租价 for its vacant space
    # Industry suitability (GB/T 4754-2017 大类 codes): empty allowed = any not excluded.
    industries_allowed: Mapped[list[Any] | None] = mapped_column(JSON)
    industries_excluded: Mapped[list[Any] | None] = mapped_column(JSON)  # e.g. ["25", "26"]: no chemicals
    photo: Mapped[str | None] = mapped_column(String(128))  # file name under instance/photos

    park: Mapped[Park] = relationship(back_populates="buildings")
    plot: Mapped[Plot | None] = relationship(back_populates="buildings")
    floors: Mapped[list[Floor]] = relationship(back_populates="building", order_by="Floor.level",
                                               cascade="all, delete-orphan")
    units: Mapped[list[Unit]] = relationship(back_populates="building", order_by="(Unit.floor_level, Unit.code)")

    __table_args__ = (UniqueConstraint("park_id", "code"),
                      CheckConstraint("gfa_m2 > 0", name="building_gfa_positive"),
                      CheckConstraint("floors_above >= 1", name="building_floors_positive"))

    @validates("footprint")
    def _footprint(self, key, value):
        element, self.footprint_area_m2 = _polygon_and_area(value, "Building.footprint")
        return element

    @validates("gfa_m2")
    def _gfa(self, key, value):
        return v.check_positive(value, "Building.gfa_m2", "m²", allow_none=False)

    @validates("floors_above")
    def _floors(self, key, value):
        if value is None or int(value) < 1:
            raise v.ValidationError(v.Problem("Building.floors_above", f"{value!r} 不是层数",
                                              "≥ 1 的整数"))
        return int(value)

    @validates("industries_allowed", "industries_excluded")
    def _industries(self, key, value):
        if not value:
            return None
        codes = [v.check_industry_code(c, f"Building.{key}") for c in value]
        bad = [c for c in codes if len(c) != 2]
        if bad:
            raise v.ValidationError(v.Problem(f"Building.{key}", f"{bad} are not 大类 codes", "two-digit codes such as 26"))
        return sorted(set(codes))

    @validates("asking_rent_yuan_m2_month")
    def _asking(self, key, value):
        return v.check_positive(value, "Building.asking_rent_yuan_m2_month", "元/m²·月", allow_zero=True)

    @validates("crane_tonnage_t", "power_kva")
    def _specs(self, key, value):
        return v.check_positive(value, f"Building.{key}", "t" if key.startswith("crane") else "kVA", allow_zero=True)


class Floor(Base):  # 楼层: per-storey specs
    __tablename__ = "floor"

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id", ondelete="CASCADE"))
    level: Mapped[int] = mapped_column(Integer)  # 1 = ground floor; negative = basement
    storey_height_m: Mapped[float | None] = mapped_column(Float)  # 层高
    floor_load_kn_m2: Mapped[float | None] = mapped_column(Float)  # 楼面荷载 (kN/m²; ≈ t/m² × 9.8)

    building: Mapped[Building] = relationship(back_populates="floors")
    __table_args__ = (UniqueConstraint("building_id", "level"),)

    @validates("storey_height_m", "floor_load_kn_m2")
    def _positive(self, key, value):
        return v.check_positive(value, f"Floor.{key}", "m" if key.startswith("storey") else "kN/m²")

    @property
    def floor_load_t_m2(self) -> float | None:
        return None if self.floor_load_kn_m2 is None else self.floor_load_kn_m2 / KN_PER_T


class Unit(Versioned, Base):  # 房源单元: the leasable space
    __tablename__ = "unit"

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True)
    floor_level: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(32))  # e.g. 3-301
    leasable_area_m2: Mapped[float] = mapped_column(Float)  # 可租面积 (建筑面积 incl. 公摊)
    leasable: Mapped[bool] = mapped_column(default=True, server_default=true())  # False: plant rooms, etc.

    building: Mapped[Building] = relationship(back_populates="units")
    floor: Mapped[Floor] = relationship(viewonly=True, primaryjoin="and_(Unit.building_id == Floor.building_id, "
                                        "Unit.floor_level == Floor.level)", foreign_keys="[Unit.building_id, Unit.floor_level]")
    leases: Mapped[list[Lease]] = relationship(back_populates="unit", order_by="Lease.start_date")
    reservations: Mapped[list[Reservation]] = relationship(back_populates="unit", order_by="Reservation.start_date")

    __table_args__ = (UniqueConstraint("building_id", "code"),
                      # "Does this building have space to let?" for the map's clusters, from the index alone.
                      Index("ix_unit_leasable_building", "building_id", postgresql_where=text("leasable"),
                            sqlite_where=text("leasable")),
                      ForeignKeyConstraint(["building_id", "floor_level"], ["floor.building_id", "floor.level"]),
                      CheckConstraint("leasable_area_m2 > 0", name="unit_area_positive"))

    @validates("leasable_area_m2")
    def _area(self, key, value):
        return v.check_positive(value, "Unit.leasable_area_m2", "m²", allow_none=False)


class Enterprise(Versioned, Base):  # 企业
    __tablename__ = "enterprise"

    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)  # 统一社会信用代码
    name: Mapped[str] = mapped_column(String(128))
    industry_code: Mapped[str | None] = mapped_column(String(4), index=True)  # GB/T 4754-2017
    above_scale: Mapped[bool] = mapped_column(default=False)  # 规上 (规模以上工业企业)
    production_start: Mapped[dt.date | None] = mapped_column(Date)  # 投产日期
    contact_name: Mapped[str | None] = mapped_column(String(64))  # 联系人 (for expiry follow-up)
    contact_phone: Mapped[str | None] = mapped_column(String(32))  # 联系电话

    tags: Mapped[list[EnterpriseTagLink]] = relationship(cascade="all, delete-orphan", lazy="selectin")
    indicators: Mapped[list[AnnualIndicator]] = relationship(back_populates="enterprise", order_by="AnnualIndicator.year")

    @validates("uscc")
    def _uscc(self, key, value):
        return v.check_uscc(value)

    @validates("industry_code")
    def _industry(self, key, value):
        return None if value in (None, "") else v.check_industry_code(value)

    @property
    def tag_values(self) -> list[EnterpriseTag]:
        return [t.tag for t in self.tags]


class EnterpriseTagLink(Base):  # 企业资质标签
    __tablename__ = "enterprise_tag"

    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[EnterpriseTag] = mapped_column(_enum(EnterpriseTag), primary_key=True)
    since_year: Mapped[int | None] = mapped_column(Integer)


class Lease(Versioned, Base):  # 租约: a half-open interval [start_date, end_date)
    __tablename__ = "lease"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"))  # indexed with the interval, below
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    contract_no: Mapped[str | None] = mapped_column(String(64))
    start_date: Mapped[dt.date] = mapped_column(Date)  # first day of occupancy
    end_date: Mapped[dt.date] = mapped_column(Date)  # first day after it (exclusive)
    rent_yuan_m2_month: Mapped[float | None] = mapped_column(Float)  # 元/m²·月
    rent_free_months: Mapped[int] = mapped_column(Integer, default=0)  # 免租期, from start_date
    kind: Mapped[LeaseKind] = mapped_column(_enum(LeaseKind), default=LeaseKind.LEASE, server_default="lease")
    # An early end: why (a list, and the manager's words). The move-out day is the new last day.
    end_reason: Mapped[EndReason | None] = mapped_column(_enum(EndReason))
    end_note: Mapped[str | None] = mapped_column(Text)

    unit: Mapped[Unit] = relationship(back_populates="leases")
    enterprise: Mapped[Enterprise] = relationship()
    reliefs: Mapped[list[RentRelief]] = relationship(back_populates="lease", cascade="all, delete-orphan")

    # The unit's lease on a day is the latest starting on or before it: one ordered probe of this
    # B-tree, answered from the index alone (registry.vacancy.search, registry.occupancy.status).
    # "Is a lease signed to start later?" over a whole park (the units' states): the few leases that
    # start after a day, from this index, instead of a scan of every lease (registry.occupancy.status).
    __table_args__ = (Index("ix_lease_unit_interval", "unit_id", "start_date", "end_date"),
                      Index("ix_lease_start_date", "start_date"),
                      CheckConstraint("end_date > start_date", name="lease_interval"),
                      CheckConstraint("rent_free_months >= 0", name="lease_rent_free_nonneg"))

    @validates("rent_yuan_m2_month")
    def _rent(self, key, value):
        return v.check_positive(value, "Lease.rent_yuan_m2_month", "元/m²·月", allow_zero=True)

    @validates("rent_free_months")
    def _free(self, key, value):
        value = 0 if value is None else value
        if int(value) < 0:
            raise v.ValidationError(v.Problem("Lease.rent_free_months", f"{value!r} is negative", "months ≥ 0"))
        return int(value)

    def active_on(self, day: dt.date) -> bool:
        return self.start_date <= day < self.end_date


class Reservation(Versioned, Base):  # 预留: a unit held for a named prospect over [start_date, end_date)
    __tablename__ = "reservation"

    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    prospect: Mapped[str] = mapped_column(String(128))  # 意向客户
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)  # held until the day before
    note: Mapped[str | None] = mapped_column(Text)
    # Closed early: cancelled, or the prospect signed. Its end is then moved to the day it closed
    # (an empty period if it had not begun), so that holding stays the interval [start, end).
    outcome: Mapped[ReservationOutcome | None] = mapped_column(_enum(ReservationOutcome))

    unit: Mapped[Unit] = relationship(back_populates="reservations")
    __table_args__ = (CheckConstraint("end_date >= start_date", name="reservation_interval"),)

    @validates("prospect")
    def _prospect(self, key, value):
        if not value or not str(value).strip():
            raise v.ValidationError(v.Problem("Reservation.prospect", "未填写", "意向客户的名称"))
        return str(value).strip()


class RentRelief(Base):  # 租金减免, e.g. 疫情减免, over [start_date, end_date)
    __tablename__ = "rent_relief"

    id: Mapped[int] = mapped_column(primary_key=True)
    lease_id: Mapped[int] = mapped_column(ForeignKey("lease.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(64))
    amount_yuan: Mapped[float] = mapped_column(Float)
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date)

    lease: Mapped[Lease] = relationship(back_populates="reliefs")
    __table_args__ = (CheckConstraint("end_date > start_date", name="relief_interval"),
                      CheckConstraint("amount_yuan >= 0", name="relief_amount_nonneg"))


class AnnualIndicator(Base):  # 企业年度指标 (亩均 evaluation inputs)
    __tablename__ = "annual_indicator"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprise.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    revenue_wan: Mapped[float | None] = mapped_column(Float)  # 营业收入 (万元)
    value_added_wan: Mapped[float | None] = mapped_column(Float)  # 工业增加值 (万元)
    tax_paid_wan: Mapped[float | None] = mapped_column(Float)  # 实缴税金 (万元); may be negative (留抵退税)
    electricity_kwh: Mapped[float | None] = mapped_column(Float)  # 用电量
    natural_gas_m3: Mapped[float | None] = mapped_column(Float)  # 天然气
    coal_t: Mapped[float | None] = mapped_column(Float)  # 煤炭
    energy_tce: Mapped[float | None] = mapped_column(Float)  # 综合能耗 as reported (吨标准煤)
    emissions_t: Mapped[float | None] = mapped_column(Float)  # 主要污染物排放量
    rnd_wan: Mapped[float | None] = mapped_column(Float)  # 研发经费 (万元)
    employees_avg: Mapped[float | None] = mapped_column(Float)  # 年平均职工人数

    enterprise: Mapped[Enterprise] = relationship(back_populates="indicators")
    __table_args__ = (UniqueConstraint("enterprise_id", "year"),)

    @validates("revenue_wan", "value_added_wan", "electricity_kwh", "natural_gas_m3", "coal_t",
               "energy_tce", "emissions_t", "rnd_wan", "employees_avg")
    def _nonneg(self, key, value):
        return v.check_positive(value, f"AnnualIndicator.{key}", INDICATOR_UNITS[key], allow_zero=True)


INDICATOR_UNITS = {
    "revenue_wan": "万元", "value_added_wan": "万元", "tax_paid_wan": "万元", "electricity_kwh": "kWh",
    "natural_gas_m3": "m³", "coal_t": "t", "energy_tce": "tce", "emissions_t": "t", "rnd_wan": "万元",
    "employees_avg": "人",
}


class User(Base):  # 用户
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[Role] = mapped_column(_enum(Role))
    active: Mapped[bool] = mapped_column(default=True)
    # Raised when the user signs out or their password or access changes: every session cookie
    # issued before then stops working (a cookie carries the generation it was issued under).
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    park_scopes: Mapped[list[UserParkScope]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class LoginThrottle(Base):  # 登录限速: recent failed sign-ins for one name from one address, or one address
    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # "name:<name>@<address>" or "address:<address>"
    failures: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)  # stale keys are pruned


class UserParkScope(Base):  # the parks a park manager may write to
    __tablename__ = "user_park_scope"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("park.id", ondelete="CASCADE"), primary_key=True)


class AuditRecord(Base):  # 操作日志: who, when, what, before, after
    __tablename__ = "audit_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(16))  # insert / update / delete (bulk_insert: before revision 0009)
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)

    # A record's history page: its records, found by table and id.
    __table_args__ = (Index("ix_audit_record_entity", "entity", "entity_id"),)


class ImportProfile(Base):  # 导入方案: a saved field mapping and reading options for a kind of file
    __tablename__ = "import_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    target: Mapped[str] = mapped_column(String(16))  # parks / plots / buildings / units
    options: Mapped[dict[str, Any]] = mapped_column(JSON)  # registry.gis.importer.Options as data
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class EvaluationRun(Base):  # 亩均评价批次: immutable once written
    __tablename__ = "evaluation_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    ruleset_id: Mapped[str] = mapped_column(String(64))
    ruleset: Mapped[dict[str, Any]] = mapped_column(JSON)  # the whole rule set, copied in
    year: Mapped[int] = mapped_column(Integer)
    scope: Mapped[str] = mapped_column(String(128))  # e.g. "park:3" or "all"
    fingerprint: Mapped[str] = mapped_column(String(64))  # of the rule set and the inputs
    parks: Mapped[list[Any] | None] = mapped_column(JSON)  # park-level figures (registry.evaluation.parks)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64))

    results: Mapped[list[EvaluationResult]] = relationship(back_populates="run", order_by="EvaluationResult.id")


class EvaluationResult(Base):  # one enterprise's explained result in a run
    __tablename__ = "evaluation_result"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_run.id"), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprise.id"), index=True)
    uscc: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(128))
    park: Mapped[str | None] = mapped_column(String(128))
    pool: Mapped[str | None] = mapped_column(String(32))
    total: Mapped[float | None] = mapped_column(Float)
    bonus: Mapped[float | None] = mapped_column(Float)  # 加分
    penalty: Mapped[float | None] = mapped_column(Float)  # 减分
    rank: Mapped[int | None] = mapped_column(Integer)
    klass: Mapped[str | None] = mapped_column(String(4))
    land_mu: Mapped[float | None] = mapped_column(Float)
    items: Mapped[list[Any]] = mapped_column(JSON)  # each indicator: value, benchmark, score, explanation
    reasons: Mapped[list[Any]] = mapped_column(JSON)
    inputs: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the figures as evaluated (after tenant rules)

    run: Mapped[EvaluationRun] = relationship(back_populates="results")
