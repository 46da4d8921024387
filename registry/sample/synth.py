"""Deterministic, realistic synthetic parks: the demo's three parks and the benchmarks' thousands.

A park is laid out the way planners draw one: rows of plots front onto east–west roads, cross streets
cut the rows into blocks every few hundred metres, and buildings stand in rows inside their plot with
set-backs and fire gaps. The layout is drawn in metres and projected to CGCS2000 through the park's
3-degree Gauss-Krüger zone. Everything comes from one seeded ``random.Random``, so the same spec and
seed give the same dataset, byte for byte.

The output is plain rows (dicts with explicit ids) for ``bulk.load``; no database is touched here.
"""
from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Polygon

from geodata import crs
from geodata.area import M2_PER_MU, geodesic_areas_m2
from ..storage.bulk import Dataset
from ..core.enums import (BuildingStatus, BuildingType, ConstructionMode, EnterpriseTag, LandUse, ParkLevel,
                          PlotStatus, RightsType, Structure)
from ..core.validation import USCC_ALPHABET, make_uscc

ROAD_M = 24.0  # main road width incl. verges
STREET_M = 16.0  # cross street width
SETBACK_M = 10.0  # building line set back from the plot edge
GAP_M = 13.0  # fire separation between factory buildings (GB 50016, 丙类 multi-storey)
BLOCK_M = 320.0  # a cross street roughly every block length


@dataclass(frozen=True)
class Program:
    """A group of buildings of one type and status with their total floor area."""

    type: BuildingType
    status: BuildingStatus
    count: int
    gfa_m2: float
    floors: tuple[int, int] = (3, 5)
    leasable: bool = True  # divided into units for lease


@dataclass(frozen=True)
class Relief:
    reason: str
    start: dt.date
    end: dt.date
    share: float  # of the rent over the period


@dataclass(frozen=True)
class ParkSpec:
    name: str
    level: ParkLevel
    jurisdiction: tuple[str, str]  # county code, name
    parents: tuple[tuple[str, str], ...]  # (code, name) from the province down
    operator: str
    operator_industry: str
    center: tuple[float, float]  # lon, lat
    rotation_deg: float
    planned_area_mu: float
    programs: tuple[Program, ...]
    tenants: int  # enterprises leasing space now
    own_land: int  # enterprises on their own plots with self-built factories
    above_scale: int  # 规上 among tenants and own-land enterprises
    industries: tuple[str, ...]  # GB/T 4754-2017 中类 codes typical of the park
    rent: tuple[float, float]  # 元/m²·月
    land_price_wan_per_mu: tuple[float, float]
    unsupplied_plots: int = 3
    idle_plots: int = 1
    contact: tuple[str, str] = ("", "")
    relief: Relief | None = None
    hide_rents: bool = False
    seed: int = 1
    name_words: tuple[str, ...] = ()


# --- names -------------------------------------------------------------------------------------

_WORDS = ("华", "鑫", "泰", "宏", "盛", "安", "恒", "瑞", "通", "达", "丰", "源", "兴", "隆", "博", "创", "晟",
          "科", "锐", "凯", "嘉", "德", "明", "远", "金", "银", "汉", "秦", "江", "峰", "富", "硒", "云", "天")
_SUFFIX = {
    "13": "农产品加工", "14": "食品", "15": "饮品", "17": "纺织", "18": "服饰", "19": "鞋业", "20": "木业",
    "21": "家具", "22": "纸业", "23": "印务", "24": "玩具", "26": "化工", "27": "药业", "29": "塑胶",
    "30": "建材", "31": "钢构", "32": "新材料", "33": "金属制品", "34": "机械", "35": "装备", "36": "汽车部件",
    "37": "运输设备", "38": "电气", "39": "电子科技", "40": "仪器", "41": "制品", "42": "再生资源", "43": "设备维修",
}


def _company_name(rng: random.Random, prefix: str, industry: str, taken: set[str]) -> str:
    for _ in range(200):
        name = f"{prefix}{rng.choice(_WORDS)}{rng.choice(_WORDS)}{_SUFFIX.get(industry[:2], '实业')}有限公司"
        if name not in taken:
            taken.add(name)
            return name
    name = f"{prefix}{len(taken)}号{_SUFFIX.get(industry[:2], '实业')}有限公司"
    taken.add(name)
    return name


def _uscc(rng: random.Random, region: str, taken: set[str]) -> str:
    while True:
        body = "".join(rng.choice("0123456789") for _ in range(2)) + "".join(
            rng.choice(USCC_ALPHABET[:10] + "MA") for _ in range(6))
        code = make_uscc(region, body)
        if code not in taken:
            taken.add(code)
            return code


# --- layout -----------------------------------------------------------------------------------

@dataclass
class _Bld:
    program: Program
    gfa: float
    floors: int
    w: float  # along the road
    d: float  # depth
    plot: int = -1
    x: float = 0.0
    y: float = 0.0


def _split(total: float, n: int, rng: random.Random, spread: float = 0.3) -> list[float]:
    """``n`` positive parts of ``total`` varying by about ±spread, summing to it exactly."""
    if n <= 0:
        return []
    raw = [1.0 + rng.uniform(-spread, spread) for _ in range(n)]
    s = sum(raw)
    parts = [round(total * r / s, 2) for r in raw]
    parts[-1] = round(total - sum(parts[:-1]), 2)
    return parts


def _building_dims(gfa: float, floors: int, type_: BuildingType, rng: random.Random) -> tuple[float, float]:
    footprint = gfa / floors
    depth = {BuildingType.DORMITORY: 16.0, BuildingType.SUPPORTING: 20.0, BuildingType.RND: 22.0}.get(
        type_, rng.choice((24.0, 30.0, 36.0)))
    width = footprint / depth
    while width > 3.2 * depth and depth < 72:
        depth += 6.0
        width = footprint / depth
    return round(width, 2), depth


def _pack_plot(blds: list[_Bld]) -> tuple[float, float]:
    """Places buildings in up to two rows inside a plot; returns the plot's width and depth (m)."""
    rows = [blds] if len(blds) <= 3 else [blds[: (len(blds) + 1) // 2], blds[(len(blds) + 1) // 2:]]
    y = SETBACK_M
    width = 0.0
    for row in rows:
        x = SETBACK_M
        for b in row:
            b.x, b.y = x, y
            x += b.w + GAP_M
        width = max(width, x - GAP_M + SETBACK_M)
        y += max(b.d for b in row) + GAP_M
    return width, y - GAP_M + SETBACK_M


def _layout(plot_sizes: list[tuple[float, float]], rng: random.Random) -> tuple[list[tuple[float, float]], Polygon]:
    """Positions (x, y of the lower-left corner) for every plot, shelf-packed along roads, and the
    park boundary around them."""
    total = sum(w * d for w, d in plot_sizes) * 1.25
    row_width = max(400.0, math.sqrt(total) * 1.3)
    pos: list[tuple[float, float]] = []
    x, y, row_depth, side = 0.0, 0.0, 0.0, 0
    for w, d in plot_sizes:
        next_street = (math.floor(x / BLOCK_M) + 1) * BLOCK_M
        if x > 0 and x + w > next_street and x + w + STREET_M <= row_width:
            x = next_street + STREET_M  # a cross street at the block's end
        if x + w > row_width and x > 0:
            # Plots on both sides of each road: the north side of road k faces the south side of row k+1.
            y += row_depth + (ROAD_M if side == 0 else 0.0)
            side = 1 - side
            x, row_depth = 0.0, 0.0
        pos.append((x, y))
        x += w
        row_depth = max(row_depth, d)
    # The boundary hugs the plots (a ragged last row makes it irregular, as real parks are).
    plots = [shapely.box(px, py, px + w, py + d) for (px, py), (w, d) in zip(pos, plot_sizes)]
    margin = rng.uniform(20.0, 40.0)
    boundary = shapely.union_all(plots).convex_hull.buffer(margin, join_style="mitre")
    return pos, boundary


class _Projector:
    """Local metres (origin at the park's lower-left, rotated) → CGCS2000 lon/lat."""

    def __init__(self, center: tuple[float, float], rotation_deg: float, size: tuple[float, float]):
        epsg = crs.gk3_epsg_for_lon(center[0])
        fwd = crs.transformer(crs.CGCS2000, epsg)
        self._inv = crs.transformer(epsg, crs.CGCS2000)
        self._cx, self._cy = fwd.transform(*center)
        self._half = (size[0] / 2, size[1] / 2)
        a = math.radians(rotation_deg)
        self._cos, self._sin = math.cos(a), math.sin(a)

    def coords(self, xy: np.ndarray) -> np.ndarray:
        x = xy[:, 0] - self._half[0]
        y = xy[:, 1] - self._half[1]
        e = self._cx + x * self._cos - y * self._sin
        n = self._cy + x * self._sin + y * self._cos
        lon, lat = self._inv.transform(e, n)
        return np.column_stack([lon, lat])

    def project(self, polys: list[Polygon]) -> tuple[np.ndarray, np.ndarray]:
        """Many local polygons at once: their lon/lat MultiPolygons and geodesic areas (m²)."""
        if not polys:
            return np.array([], dtype=object), np.array([])
        lonlat = shapely.transform(np.asarray(polys, dtype=object), self.coords)
        areas = geodesic_areas_m2(lonlat)
        return shapely.multipolygons(lonlat, indices=np.arange(len(polys))), areas


# --- a park -----------------------------------------------------------------------------------

def add_park(ds: Dataset, spec: ParkSpec, today: dt.date, *, history_years: int = 7,
             indicator_years: int = 3) -> int:
    """Appends one park with plots, buildings, units, enterprises, leases and indicators to ``ds``.
    Every random draw comes from the park's own seeded generator, in this order, so a spec always
    gives the same rows."""
    park = _ParkBuilder(ds, spec, today)
    own_above, tenant_above = park.above_scale_shares()
    groups, own_groups = park.building_groups()
    sizes, pos, proj = park.layout(groups, own_groups)
    own_ids = park.plots_and_buildings(groups, own_groups, own_above, sizes, pos, proj)
    park.tenants(tenant_above, own_ids, history_years, indicator_years)
    return park.id


class _ParkBuilder:
    """One park being added to a dataset, section by section (see ``add_park``)."""

    def __init__(self, ds: Dataset, spec: ParkSpec, today: dt.date):
        self.ds, self.spec, self.today = ds, spec, today
        self.rng = random.Random(f"{spec.seed}:{spec.name}")
        self.region = spec.jurisdiction[0]
        self.names = ds.shared.unique("names")
        for code, name in (*spec.parents, spec.jurisdiction):
            if code not in ds.shared.unique("jurisdictions"):
                parent = next((c for c, _ in reversed(spec.parents) if c != code and _is_parent(c, code)), None)
                ds.jurisdictions.append({"code": code, "name": name, "parent_code": parent})
                ds.shared.unique("jurisdictions").add(code)
        # Only this park's rows are looked at below, so adding parks stays linear in their size.
        self.first = {name: len(rows) for name, rows in ds.tables().items()}
        self.id = ds.next_id("park")
        self.prefix = spec.jurisdiction[1][:2]
        self.operator_id = ds.next_id("enterprise")
        ds.enterprises.append({"id": self.operator_id, "uscc": _uscc(self.rng, self.region, ds.shared.unique("usccs")),
                               "name": spec.operator, "industry_code": spec.operator_industry, "above_scale": False,
                               "production_start": None, "version": 1})
        self.names.add(spec.operator)

    def new_enterprise(self, industry: str, above: bool, start: dt.date | None) -> int:
        ds, rng = self.ds, self.rng
        eid = ds.next_id("enterprise")
        ds.enterprises.append({
            "id": eid, "uscc": _uscc(rng, self.region, ds.shared.unique("usccs")),
            "name": _company_name(rng, self.prefix, industry, self.names),
            "industry_code": industry, "above_scale": above, "production_start": start, "version": 1})
        if above or rng.random() < 0.15:
            for tag, p in ((EnterpriseTag.HIGH_TECH, 0.25), (EnterpriseTag.TECH_SME, 0.3),
                           (EnterpriseTag.SPECIALIZED_SME, 0.12), (EnterpriseTag.LITTLE_GIANT, 0.04),
                           (EnterpriseTag.GREEN_FACTORY, 0.06)):
                if rng.random() < p:
                    ds.tags.append({"enterprise_id": eid, "tag": tag.value,
                                    "since_year": self.today.year - rng.randint(1, 5)})
        return eid

    def above_scale_shares(self) -> tuple[list[bool], list[bool]]:
        """Who is above scale: own-land firms are larger, so they get a somewhat larger share of the 规上."""
        spec, rng = self.spec, self.rng
        n_firms = spec.own_land + spec.tenants
        n_above = min(spec.above_scale, n_firms)
        own_n = min(spec.own_land, round(n_above * spec.own_land * 1.3 / n_firms)) if n_firms else 0
        tenant_n = min(spec.tenants, n_above - own_n)
        own_n = n_above - tenant_n
        own_above = [True] * own_n + [False] * (spec.own_land - own_n)
        tenant_above = [True] * tenant_n + [False] * (spec.tenants - tenant_n)
        rng.shuffle(own_above)
        rng.shuffle(tenant_above)
        return own_above, tenant_above

    def building_groups(self) -> tuple[list[list[_Bld]], list[list[_Bld]]]:
        """The operator's programs' buildings, grouped into plots of 2–6; and each own-land firm's
        one to three factories."""
        spec, rng = self.spec, self.rng
        blds: list[_Bld] = []
        for prog in spec.programs:
            for gfa in _split(prog.gfa_m2, prog.count, rng):
                floors = rng.randint(*prog.floors)
                w, d = _building_dims(gfa, floors, prog.type, rng)
                blds.append(_Bld(prog, gfa, floors, w, d))
        rng.shuffle(blds)
        groups: list[list[_Bld]] = []
        i = 0
        while i < len(blds):
            n = rng.randint(2, 6)
            groups.append(blds[i:i + n])
            i += n
        own_program = Program(BuildingType.FACTORY, BuildingStatus.COMPLETED, 0, 0, (1, 3), leasable=False)
        own_groups: list[list[_Bld]] = []
        for _ in range(spec.own_land):
            group = []
            for _ in range(rng.choice((1, 1, 2, 2, 3))):
                floors = rng.randint(*own_program.floors)
                gfa = round(rng.uniform(1500, 9000), 2)
                w, d = _building_dims(gfa, floors, BuildingType.FACTORY, rng)
                group.append(_Bld(own_program, gfa, floors, w, d))
            own_groups.append(group)
        return groups, own_groups

    def layout(self, groups, own_groups):
        """The plots laid out along roads (operator complexes, own plots and empty plots mixed), the
        park's boundary around them, and the park's row."""
        spec, rng = self.spec, self.rng
        empty = spec.unsupplied_plots + spec.idle_plots
        sizes = [_pack_plot(g) for g in groups + own_groups] + [
            (rng.uniform(110, 180), rng.uniform(120, 170)) for _ in range(empty)]
        order = list(range(len(sizes)))
        rng.shuffle(order)
        positions, boundary = _layout([sizes[k] for k in order], rng)
        pos = {k: positions[j] for j, k in enumerate(order)}
        minx, miny, maxx, maxy = boundary.bounds
        proj = _Projector(spec.center, spec.rotation_deg, (maxx + minx, maxy + miny))
        (boundary_geom,), (boundary_area,) = proj.project([boundary])
        self.ds.parks.append({
            "id": self.id, "name": spec.name, "level": spec.level.value, "jurisdiction_code": self.region,
            "operator": spec.operator, "boundary": boundary_geom, "planned_area_mu": spec.planned_area_mu,
            "built_area_mu": round(boundary_area / M2_PER_MU, 2),
            "contact_name": spec.contact[0] or None, "contact_phone": spec.contact[1] or None,
            "hide_rents": spec.hide_rents, "version": 1})
        return sizes, pos, proj

    def plots_and_buildings(self, groups, own_groups, own_above, sizes, pos, proj) -> list[int]:
        """The plots with their holders, supply history and 标准地 obligations, and the buildings on
        them; returns the own-land firms."""
        ds, spec, rng, today = self.ds, self.spec, self.rng, self.today
        own_ids = []
        plot_geoms, plot_areas = proj.project([shapely.box(*pos[k], pos[k][0] + sizes[k][0], pos[k][1] + sizes[k][1])
                                               for k in range(len(sizes))])
        pending: list[tuple[dict, Polygon]] = []  # building rows whose footprints are projected together
        for k in range(len(sizes)):
            px, py = pos[k]
            geom, area = plot_geoms[k], float(plot_areas[k])
            pid = ds.next_id("plot")
            is_operator = k < len(groups)
            is_own = len(groups) <= k < len(groups) + len(own_groups)
            idle = k >= len(groups) + len(own_groups) + spec.unsupplied_plots
            supplied = is_operator or is_own or idle
            supply = today - dt.timedelta(days=rng.randint(3 * 365, 12 * 365)) if supplied else None
            if idle:
                supply = today - dt.timedelta(days=rng.randint(2 * 365 + 30, 4 * 365))
            holder = None
            if is_operator:
                holder = self.operator_id
            elif is_own:
                industry = rng.choice(spec.industries)
                holder = self.new_enterprise(industry, own_above[k - len(groups)],
                                             supply + dt.timedelta(days=rng.randint(300, 700)))
                own_ids.append(holder)
            elif idle:
                holder = self.new_enterprise(rng.choice(spec.industries), False, None)
            mu = area / M2_PER_MU
            ds.plots.append({
                "id": pid, "park_id": self.id, "code": f"{spec.name[:2]}-{pid:05d}", "geom": geom,
                "certificate_area_m2": round(area * (1 + rng.uniform(-0.004, 0.004)), 2) if supplied else None,
                "computed_area_m2": area, "land_use": LandUse.INDUSTRIAL.value,
                "rights_type": RightsType.TRANSFER.value if supplied else None, "holder_id": holder,
                "certificate_no": (f"{_PROVINCE_ABBR.get(self.region[:2], '')}({supply.year}){spec.jurisdiction[1]}"
                                   f"不动产权第{spec.seed % 10000:04d}{pid:07d}号" if supplied else None),
                "supply_date": supply,
                "supply_price_wan": round(mu * rng.uniform(*spec.land_price_wan_per_mu), 2) if supplied else None,
                "status": (PlotStatus.IDLE if idle else PlotStatus.SUPPLIED if supplied else PlotStatus.UNSUPPLIED).value,
                "version": 1})
            if supplied and supply.year >= 2019 and rng.random() < 0.6:
                for ind, cmp_, thr, unit in (("固定资产投资强度", ">=", rng.choice((180, 200, 240)), "万元/亩"),
                                             ("亩均税收", ">=", rng.choice((10, 12, 15)), "万元/亩"),
                                             ("容积率", ">=", 1.2, "")):
                    ds.obligations.append({"id": ds.next_id("obligation"), "plot_id": pid, "indicator": ind,
                                           "comparator": cmp_, "threshold": float(thr), "unit": unit,
                                           "deadline": supply + dt.timedelta(days=3 * 365)})
            bgroup = groups[k] if is_operator else own_groups[k - len(groups)] if is_own else []
            for b in bgroup:
                pending.append(_add_building(ds, rng, spec, self.id, pid, px, py, b, today, supply))
        footprints, footprint_areas = proj.project([poly for _, poly in pending])
        for (row, _), geom, area in zip(pending, footprints, footprint_areas):
            row["footprint"], row["footprint_area_m2"] = geom, float(area)
        return own_ids

    def tenants(self, tenant_above, own_ids, history_years: int, indicator_years: int) -> None:
        """Tenants in whole buildings or sharing floors (some space stays vacant), their lease
        histories and production starts, and every firm's annual indicators."""
        ds, spec, rng, today, first = self.ds, self.spec, self.rng, self.today, self.first
        tenant_ids = [self.new_enterprise(rng.choice(spec.industries),
                                          tenant_above[t] if t < len(tenant_above) else False, None)
                      for t in range(spec.tenants)]
        former_ids = [self.new_enterprise(rng.choice(spec.industries), False, None)
                      for _ in range(max(3, spec.tenants // 4))]
        _lease_units(ds, rng, spec, first, tenant_ids, former_ids, today, history_years)
        first_start: dict[int, dt.date] = {}
        for lease in ds.leases[first["leases"]:]:
            e = lease["enterprise_id"]
            first_start[e] = min(first_start.get(e, lease["start_date"]), lease["start_date"])
        by_id = {e["id"]: e for e in ds.enterprises[first["enterprises"]:]}
        for e in tenant_ids + former_ids:
            if e in first_start and by_id[e]["production_start"] is None:
                by_id[e]["production_start"] = first_start[e] + dt.timedelta(days=rng.randint(30, 120))
        for eid in own_ids + tenant_ids:
            _add_indicators(ds, rng, by_id[eid], today, indicator_years)


def _is_parent(parent: str, child: str) -> bool:
    if parent.endswith("0000"):
        return child[:2] == parent[:2] and child != parent
    if parent.endswith("00"):
        return child[:4] == parent[:4] and child != parent
    return False


def _add_building(ds: Dataset, rng: random.Random, spec: ParkSpec, park_id: int, plot_id: int,
                  px: float, py: float, b: _Bld, today: dt.date, supply: dt.date | None) -> tuple[dict, Polygon]:
    """Appends a building (footprint still in local metres: returned for projection) with its floors
    and units."""
    bid = ds.next_id("building")
    poly = shapely.box(px + b.x, py + b.y, px + b.x + b.w, py + b.y + b.d)
    prog = b.program
    completed = prog.status == BuildingStatus.COMPLETED
    start = (supply or today - dt.timedelta(days=5 * 365)) + dt.timedelta(days=rng.randint(200, 500))
    completion = min(start + dt.timedelta(days=rng.randint(300, 700)), today - dt.timedelta(days=60)) if completed else None
    single = b.floors == 1
    mode = (ConstructionMode.SELF_BUILT if prog.type == BuildingType.FACTORY
            else rng.choice((ConstructionMode.SELF_BUILT, ConstructionMode.ENTRUSTED, ConstructionMode.ENTRUSTED,
                             ConstructionMode.COOPERATIVE, ConstructionMode.PPP, ConstructionMode.EPC)))
    row = {
        "id": bid, "park_id": park_id, "plot_id": plot_id, "code": f"{bid:05d}",
        "name": f"{_BUILDING_LABEL[prog.type]}{bid % 1000}号楼", "footprint": None,
        "footprint_area_m2": None, "type": prog.type.value, "status": prog.status.value,
        "construction_mode": mode.value, "floors_above": b.floors, "gfa_m2": b.gfa,
        "structure": (Structure.STEEL if single else Structure.FRAME).value,
        "crane_tonnage_t": float(rng.choice((5, 10, 16, 20))) if single and rng.random() < 0.5 else None,
        "power_kva": float(rng.choice((400, 630, 800, 1000, 1250, 1600, 2000))),
        "completion_date": completion,
        "last_verified": (today - dt.timedelta(days=rng.randint(0, 200))) if completed else None,
        "asking_rent_yuan_m2_month": (round(rng.uniform(*spec.rent) * (1.15 if single else 1.0), 1)
                                      if prog.leasable else None),
        # Multi-storey standard factories take no chemicals, petroleum or smelting; some parks keep
        # a few buildings for electronics only.
        "industries_excluded": None if single or not prog.leasable else ["25", "26", "31", "32"],
        "industries_allowed": ["38", "39", "40"] if prog.leasable and not single and rng.random() < 0.1 else None,
        "version": 1}
    ds.buildings.append(row)
    for level in range(1, b.floors + 1):
        ground = level == 1
        height = rng.choice((8.0, 9.0, 10.0, 12.0)) if single else (rng.choice((6.0, 7.2, 8.0)) if ground else rng.choice((4.5, 5.0, 5.4)))
        load = rng.choice((20.0, 25.0, 30.0)) if ground else rng.choice((8.0, 10.0, 12.0))
        if prog.type in (BuildingType.DORMITORY, BuildingType.SUPPORTING):
            height, load = 3.3 if not ground else 4.5, 2.5 if not ground else 3.5
        ds.floors.append({"id": ds.next_id("floor"), "building_id": bid, "level": level,
                          "storey_height_m": height, "floor_load_kn_m2": load})
        if prog.leasable and prog.status != BuildingStatus.PLANNED:
            n = rng.choice((1, 2, 2, 3, 4)) if prog.type == BuildingType.STANDARD_FACTORY else rng.choice((2, 4, 6))
            for j, area in enumerate(_split(b.gfa / b.floors, n, rng, 0.35), start=1):
                ds.units.append({"id": ds.next_id("unit"), "building_id": bid, "floor_level": level,
                                 "code": f"{level}-{level}{j:02d}", "leasable_area_m2": area, "version": 1,
                                 "_status": prog.status.value, "_completion": completion})
    return row, poly


# 不动产权证 numbers start with the province's one-character abbreviation.
_PROVINCE_ABBR = {"11": "京", "12": "津", "13": "冀", "14": "晋", "15": "蒙", "21": "辽", "22": "吉", "23": "黑",
                  "31": "沪", "32": "苏", "33": "浙", "34": "皖", "35": "闽", "36": "赣", "37": "鲁", "41": "豫",
                  "42": "鄂", "43": "湘", "44": "粤", "45": "桂", "46": "琼", "50": "渝", "51": "川", "52": "贵",
                  "53": "云", "54": "藏", "61": "陕", "62": "甘", "63": "青", "64": "宁", "65": "新"}

_BUILDING_LABEL = {BuildingType.STANDARD_FACTORY: "标准厂房", BuildingType.FACTORY: "生产厂房",
                   BuildingType.SUPPORTING: "综合楼", BuildingType.DORMITORY: "公寓", BuildingType.RND: "研发楼",
                   BuildingType.WAREHOUSE: "仓库"}


def _lease_units(ds: Dataset, rng: random.Random, spec: ParkSpec, first: dict[str, int], tenants: list[int],
                 formers: list[int], today: dt.date, history_years: int) -> None:
    """Leases for the units this park added to ``ds`` (those after the ``first`` row indexes)."""
    units_by_building: dict[int, list[dict]] = {}
    for u in ds.units[first["units"]:]:
        if u["_status"] == BuildingStatus.COMPLETED.value:
            units_by_building.setdefault(u["building_id"], []).append(u)
    queue = list(tenants)
    rng.shuffle(queue)
    cursor = 0
    horizon = today - dt.timedelta(days=365 * history_years)
    order = sorted(units_by_building)
    for n_left, bid in zip(range(len(order), 0, -1), order):
        units = units_by_building[bid]
        unplaced = len(queue) - cursor
        mode = rng.random()
        if not queue or (mode < 0.08 and unplaced < n_left):
            occupants = []  # the whole building stands empty
        else:
            k = 1 if mode < 0.45 else rng.choice((2, 2, 3))
            # Every tenant must find a place: crowd the remaining buildings if need be.
            k = min(max(k, math.ceil(unplaced / n_left)), len(units))
            occupants = [queue[(cursor + j) % len(queue)] for j in range(k)]
            cursor += k
        # Contiguous runs of units per occupant; some units beyond each occupant's first stay vacant.
        assignment: list[int | None] = []
        placed: set[int] = set()
        for idx in range(len(units)):
            who = occupants[min(idx * len(occupants) // len(units), len(occupants) - 1)] if occupants else None
            if who is not None and who in placed and rng.random() < 0.12:
                who = None
            if who is not None:
                placed.add(who)
            assignment.append(who)
        groups: dict[int, list[dict]] = {}
        for u, who in zip(units, assignment):
            if who is not None:
                groups.setdefault(who, []).append(u)
        base_rent = rng.uniform(*spec.rent)
        for who, us in groups.items():
            term = rng.choice((1, 2, 3, 3, 5))
            if rng.random() < 0.12:  # expiring within 90 days
                end = today + dt.timedelta(days=rng.randint(3, 89))
            else:
                end = today + dt.timedelta(days=rng.randint(90, 365 * term))
            start = _years_before(end, term)
            for u in us:
                _lease_chain(ds, rng, u, who, start, end, base_rent, formers, horizon, spec)
        for u, who in zip(units, assignment):
            if who is None and rng.random() < 0.6 and formers:  # vacant now, let before
                end = today - dt.timedelta(days=rng.randint(20, 500))
                _lease_chain(ds, rng, u, rng.choice(formers), _years_before(end, rng.choice((1, 2, 3))), end,
                             base_rent, formers, horizon, spec)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _lease_chain(ds: Dataset, rng: random.Random, unit: dict, who: int, start: dt.date, end: dt.date,
                 rent: float, formers: list[int], horizon: dt.date, spec: ParkSpec) -> None:
    """The lease [start, end) and, going back in time, earlier leases of the unit to ``horizon``."""
    while True:
        lid = ds.next_id("lease")
        r = round(rent * rng.uniform(0.92, 1.08) * (1.1 if unit["floor_level"] == 1 else 1.0), 1)
        ds.leases.append({"id": lid, "unit_id": unit["id"], "enterprise_id": who,
                          "contract_no": f"ZL{start.year}-{lid:06d}", "start_date": start, "end_date": end,
                          "rent_yuan_m2_month": r, "rent_free_months": rng.choice((0, 0, 1, 2, 3, 6)),
                          "version": 1})
        if spec.relief and start < spec.relief.end and spec.relief.start < end:
            s, e = max(start, spec.relief.start), min(end, spec.relief.end)
            months = (e - s).days / 30.4
            ds.reliefs.append({"id": ds.next_id("relief"), "lease_id": lid, "reason": spec.relief.reason,
                               "amount_yuan": round(unit["leasable_area_m2"] * r * months * spec.relief.share, 2),
                               "start_date": s, "end_date": e})
        gap = dt.timedelta(days=rng.choice((0, 0, 0, 15, 60, 180)))
        end = start - gap
        start = _years_before(end, rng.choice((1, 2, 3)))
        if start < horizon:
            return
        if rng.random() < 0.45 and formers:
            who = rng.choice(formers)  # a different, earlier tenant
        rent *= 0.95


def _add_indicators(ds: Dataset, rng: random.Random, ent: dict, today: dt.date, years: int) -> None:
    above = ent["above_scale"]
    # 规上工业企业: annual revenue ≥ 2000 万元 by definition.
    revenue = rng.lognormvariate(math.log(9000), 0.8) if above else rng.uniform(150, 1900)
    if above:
        revenue = max(revenue, 2100.0)
    for year in range(today.year - years, today.year):
        started = ent["production_start"]
        if started is not None and started.year > year:
            continue
        revenue *= rng.uniform(0.93, 1.15)
        if above:
            revenue = max(revenue, 2050.0)
        else:
            revenue = min(revenue, 1990.0)
        va = revenue * rng.uniform(0.18, 0.32)
        tax = revenue * rng.uniform(0.02, 0.06)
        if rng.random() < 0.03:
            tax = -revenue * rng.uniform(0.002, 0.01)  # a net refund, e.g. 留抵退税
        kwh = revenue * rng.uniform(60, 450)
        gas = revenue * rng.uniform(0, 6) if rng.random() < 0.6 else 0.0
        coal = revenue * rng.uniform(0, 0.02) if rng.random() < 0.15 else 0.0
        tce = kwh * 0.1229 / 1000 + gas * 1.2143 / 1000 + coal * 0.7143
        ds.indicators.append({
            "id": ds.next_id("indicator"), "enterprise_id": ent["id"], "year": year,
            "revenue_wan": round(revenue, 2), "value_added_wan": round(va, 2), "tax_paid_wan": round(tax, 2),
            "electricity_kwh": round(kwh, 0), "natural_gas_m3": round(gas, 0), "coal_t": round(coal, 2),
            "energy_tce": round(tce, 3),
            "emissions_t": round(revenue * rng.uniform(0.00005, 0.0008), 4) if rng.random() < 0.9 else None,
            "rnd_wan": round(revenue * rng.uniform(0.005, 0.05), 2) if above else round(revenue * rng.uniform(0, 0.02), 2),
            "employees_avg": float(max(5, round(revenue / rng.uniform(40, 120))))})
