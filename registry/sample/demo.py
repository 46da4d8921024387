"""The demo dataset: three parks at real county locations, modelled on the bureaus' reports in
../shared/seeds/, and a generator that scales the same realism to any size for benchmarks.

- 安康高新技术产业开发区 (汉滨区, Shaanxi): the operator's 67 completed buildings of 64.24 万㎡, of
  which 59 standard factories of 52.01 万㎡ and 8 supporting buildings of 12.23 万㎡; 37 buildings of
  60.98 万㎡ under construction; "40余家" tenant enterprises (seed 001).
- 汉阴县月河工业集中区 (汉阴县, Shaanxi): about 3200 亩, 38.8 万㎡ of standard factories, 165 enterprises
  of which 53 above scale, 392 public rental flats, 7 万㎡ of new factories under way (seed 001).
- 冷水滩区创业园 (冷水滩区, Hunan): a small incubator whose 40 tenants had rent relief in the 2020
  epidemic (seed 003).

Company names, codes, leases and indicators are invented (with valid check digits); the figures above
are reproduced exactly by ``registry summary``.
"""
from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator

from ..core.enums import BuildingStatus as S, BuildingType as T, ParkLevel
from ..storage.bulk import Dataset
from .synth import ParkSpec, Program, Relief, add_park

SHAANXI, ANKANG = ("610000", "陕西省"), ("610900", "安康市")
HUNAN, YONGZHOU = ("430000", "湖南省"), ("431100", "永州市")

DEMO_PARKS: tuple[ParkSpec, ...] = (
    ParkSpec(
        name="安康高新技术产业开发区", level=ParkLevel.NATIONAL, jurisdiction=("610902", "汉滨区"),
        parents=(SHAANXI, ANKANG), operator="安康高新产业发展投资（集团）有限公司", operator_industry="72",
        center=(108.955, 32.662), rotation_deg=12.0, planned_area_mu=6000.0,
        programs=(
            Program(T.STANDARD_FACTORY, S.COMPLETED, 59, 520_100.0, (3, 5)),
            Program(T.SUPPORTING, S.COMPLETED, 5, 74_300.0, (6, 12)),
            Program(T.RND, S.COMPLETED, 1, 18_000.0, (8, 12)),
            Program(T.DORMITORY, S.COMPLETED, 2, 30_000.0, (10, 16), leasable=False),
            Program(T.STANDARD_FACTORY, S.UNDER_CONSTRUCTION, 31, 528_800.0, (4, 6)),
            Program(T.SUPPORTING, S.UNDER_CONSTRUCTION, 6, 81_000.0, (6, 12)),
            Program(T.STANDARD_FACTORY, S.PLANNED, 8, 96_000.0, (4, 5)),
        ),
        tenants=43, own_land=0, above_scale=15,
        industries=("397", "398", "399", "392", "149", "137", "309", "265", "358", "382"),
        rent=(8.0, 13.0), land_price_wan_per_mu=(14.0, 22.0), unsupplied_plots=4, idle_plots=2,
        contact=("招商服务中心", "0915-0000001"), seed=2021,
    ),
    ParkSpec(
        name="汉阴县月河工业集中区", level=ParkLevel.PROVINCIAL, jurisdiction=("610921", "汉阴县"),
        parents=(SHAANXI, ANKANG), operator="汉阴县工业园区建设开发有限公司", operator_industry="72",
        center=(108.515, 32.888), rotation_deg=5.0, planned_area_mu=3200.0,
        programs=(
            Program(T.STANDARD_FACTORY, S.COMPLETED, 44, 388_000.0, (1, 4)),
            Program(T.DORMITORY, S.COMPLETED, 4, 19_600.0, (6, 8), leasable=False),
            Program(T.SUPPORTING, S.COMPLETED, 1, 2_500.0, (2, 3)),
            Program(T.STANDARD_FACTORY, S.UNDER_CONSTRUCTION, 8, 70_000.0, (3, 4)),
        ),
        tenants=60, own_land=105, above_scale=53,
        industries=("137", "139", "149", "303", "302", "181", "245", "231", "331", "344"),
        rent=(6.0, 10.0), land_price_wan_per_mu=(10.0, 16.0), unsupplied_plots=5, idle_plots=2,
        contact=("园区管委会", "0915-0000002"), seed=2021,
    ),
    ParkSpec(
        name="冷水滩区创业园", level=ParkLevel.COUNTY, jurisdiction=("431103", "冷水滩区"),
        parents=(HUNAN, YONGZHOU), operator="冷水滩区创业园运营管理有限公司", operator_industry="72",
        center=(111.598, 26.447), rotation_deg=-20.0, planned_area_mu=300.0,
        programs=(
            Program(T.STANDARD_FACTORY, S.COMPLETED, 12, 62_000.0, (3, 4)),
            Program(T.SUPPORTING, S.COMPLETED, 1, 4_800.0, (4, 5)),
            Program(T.DORMITORY, S.COMPLETED, 1, 6_000.0, (6, 6), leasable=False),
        ),
        tenants=40, own_land=0, above_scale=9,
        industries=("398", "397", "274", "137", "181", "382"),
        rent=(7.0, 11.0), land_price_wan_per_mu=(12.0, 18.0), unsupplied_plots=1, idle_plots=0,
        contact=("创业园服务中心", "0746-0000003"),
        relief=Relief("疫情减免", dt.date(2020, 2, 1), dt.date(2020, 8, 1), 0.5), hide_rents=True, seed=2021,
    ),
)


def demo_dataset(today: dt.date) -> Dataset:
    """The three demo parks as of ``today`` (leases expiring soon are expiring soon after ``today``)."""
    ds = Dataset()
    for spec in DEMO_PARKS:
        add_park(ds, spec, today)
    return ds


# Mainland provinces whose territory spans the band the synthetic parks are placed in.
_PROVINCE_BAND = ("32", "33", "34", "35", "36", "37", "41", "42", "43", "44", "45", "50", "51", "52", "61", "13", "14")


def scaled_specs(n_buildings: int, n_parks: int, seed: int = 7) -> list[ParkSpec]:
    """``n_parks`` synthetic parks that together hold about ``n_buildings`` buildings."""
    rng = random.Random(seed)
    per = max(10, n_buildings // n_parks)
    specs = []
    for i in range(n_parks):
        prov = rng.choice(_PROVINCE_BAND)
        pref, county = rng.randint(1, 20), rng.randint(1, 20)
        std = int(per * 0.55)
        own = round(per * 0.3 / 1.8)  # own-land plots carry 1.8 buildings on average
        rest = max(0, per - std - round(own * 1.8))
        specs.append(ParkSpec(
            name=f"合成产业园{seed}-{i + 1:04d}", level=rng.choice(list(ParkLevel)),
            jurisdiction=(f"{prov}{pref:02d}{county:02d}", f"合成县{i + 1:04d}"),
            parents=((f"{prov}0000", f"合成省{prov}"), (f"{prov}{pref:02d}00", f"合成市{prov}{pref:02d}")),
            operator=f"合成产业园{seed}-{i + 1:04d}运营有限公司", operator_industry="72",
            center=(rng.uniform(104.0, 121.0), rng.uniform(23.0, 38.0)), rotation_deg=rng.uniform(-30, 30),
            planned_area_mu=float(per * 40),
            programs=(
                Program(T.STANDARD_FACTORY, S.COMPLETED, std, std * rng.uniform(6000, 10000), (2, 4)),
                Program(T.STANDARD_FACTORY, S.UNDER_CONSTRUCTION, rest // 2, max(1, rest // 2) * 9000.0, (3, 5)),
                Program(T.SUPPORTING, S.COMPLETED, rest - rest // 2, max(1, rest - rest // 2) * 6000.0, (3, 8)),
            ),
            tenants=max(3, std // 2), own_land=own, above_scale=max(1, (std // 2 + own) // 3),
            industries=("397", "398", "331", "344", "382", "292", "303", "137"),
            rent=(6.0, 16.0), land_price_wan_per_mu=(10.0, 40.0), unsupplied_plots=2, idle_plots=1,
            seed=seed * 100_003 + i,
        ))
    return specs


def scaled_chunks(n_buildings: int, n_parks: int, today: dt.date, seed: int = 7) -> Iterator[Dataset]:
    """The benchmark dataset park by park: each chunk continues the previous one's ids, so chunks
    can be loaded as they are generated (and memory holds one park at a time)."""
    ds = Dataset()
    for spec in scaled_specs(n_buildings, n_parks, seed):
        chunk = ds.chunk()
        add_park(chunk, spec, today, history_years=3, indicator_years=1)
        yield chunk


def scaled_dataset(n_buildings: int, n_parks: int, today: dt.date, seed: int = 7) -> Dataset:
    """A benchmark dataset of about ``n_buildings`` buildings over ``n_parks`` parks, in one piece."""
    ds = Dataset()
    for chunk in scaled_chunks(n_buildings, n_parks, today, seed):
        ds.extend(chunk)
    return ds
