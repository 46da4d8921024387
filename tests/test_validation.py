"""Codes, areas and geometries are checked at the boundary, with messages naming field and form."""
import pytest
from shapely.geometry import Polygon

from registry.core import validation as v

REAL_USCC = ["91110108551385082Q", "91110000600037341L"]  # verified in domain.md §5.1


@pytest.mark.parametrize("code", REAL_USCC)
def test_real_credit_codes_are_accepted(code):
    assert v.uscc_problem(code) is None
    assert v.check_uscc(code) == code


def test_full_width_and_lower_case_credit_codes_are_normalised():
    assert v.check_uscc("９１１１０１０８５５１３８５０８２ｑ") == "91110108551385082Q"


@pytest.mark.parametrize("bad, words", [
    ("91110108551385082R", "校验应为 'Q'"),  # wrong check character
    ("91110108551385083Q", "组织机构代码校验位"),  # corrupted digit in the org code
    ("9111010855138508", "有 16 位，不是 18 位"),
    ("91110108551385O82Q", "不用这些字符"),  # letter O
    ("Z1110108551385082Q", "不用这些字符"),
    ("94110108551385082Q", "登记管理部门"),
])
def test_corrupted_credit_codes_are_refused_with_the_reason(bad, words):
    with pytest.raises(v.ValidationError) as exc:
        v.check_uscc(bad)
    msg = str(exc.value)
    assert msg.startswith("统一社会信用代码：") and words in msg and "应为 18 位" in msg


def test_single_character_corruptions_are_always_caught():
    code = REAL_USCC[0]
    for i in range(18):
        for c in v.USCC_ALPHABET:
            if c != code[i]:
                assert v.uscc_problem(code[:i] + c + code[i + 1:]) is not None


def test_generated_codes_are_valid():
    assert v.uscc_problem(v.make_uscc("610921", "MA6X0B3C")) is None


@pytest.mark.parametrize("code", ["610921", "610902", "431103", "330000", "110101"])
def test_region_codes(code):
    assert v.check_region_code(code) == code


@pytest.mark.parametrize("bad, words", [("61092", "不是 6 位数字"), ("991103", "不是省级代码"),
                                        ("61092A", "不是 6 位数字"), ("610000x", "不是 6 位数字")])
def test_bad_region_codes(bad, words):
    with pytest.raises(v.ValidationError, match=words):
        v.check_region_code(bad)


@pytest.mark.parametrize("code, stored", [("33", "33"), ("331", "331"), ("3311", "3311"), ("C3311", "3311"),
                                          ("４４", "44"), ("441", "441"), ("72", "72")])
def test_industry_codes(code, stored):
    assert v.check_industry_code(code) == stored


@pytest.mark.parametrize("bad, words", [("98", "没有大类 98"), ("340", "中没有中类 340"),
                                        ("3391", None), ("1", "不是 2–4 位"), ("33111", "不是 2–4 位")])
def test_bad_industry_codes(bad, words):
    if words is None:
        assert v.check_industry_code(bad) == "3391"  # 中类 339 exists; 小类 are not shipped
        return
    with pytest.raises(v.ValidationError, match=words):
        v.check_industry_code(bad)


def test_manufacturing_table_is_complete():
    table = v.industries()
    majors = [c for c, i in table.items() if i.level == "大类"]
    assert len(majors) == 97
    assert [c for c in majors if 13 <= int(c) <= 43] == [str(n) for n in range(13, 44)]
    for major in range(13, 44):
        assert any(len(c) == 3 and c.startswith(str(major)) for c in table), major


@pytest.mark.parametrize("value", [-1, 0, "-3", "abc", float("nan")])
def test_areas_must_be_positive(value):
    with pytest.raises(v.ValidationError, match="^可租面积（㎡）：") as exc:
        v.check_positive(value, "Unit.leasable_area_m2", "m²")
    assert exc.value.problems[0].field == "Unit.leasable_area_m2"


def test_swapped_coordinates_are_named():
    swapped = Polygon([(32.66, 108.95), (32.66, 108.96), (32.67, 108.96), (32.67, 108.95)])
    with pytest.raises(v.ValidationError) as exc:
        v.check_polygon(swapped, "Plot.geom")
    assert "经纬度写反了？" in str(exc.value) and exc.value.problems[0].field == "Plot.geom"


def test_projected_coordinates_are_recognised():
    metres = Polygon([(500000, 3600000), (500100, 3600000), (500100, 3600100), (500000, 3600100)])
    with pytest.raises(v.ValidationError, match="是投影坐标（米）吗"):
        v.check_polygon(metres, "Building.footprint")


def test_self_intersection_reason_is_given():
    bowtie = Polygon([(108.95, 32.66), (108.96, 32.67), (108.96, 32.66), (108.95, 32.67)])
    with pytest.raises(v.ValidationError, match="自相交，位于 "):
        v.check_polygon(bowtie, "Plot.geom")


def test_wkt_and_geojson_are_accepted():
    wkt = "POLYGON((108.95 32.66, 108.96 32.66, 108.96 32.67, 108.95 32.67, 108.95 32.66))"
    assert v.check_polygon(wkt, "f").geom_type == "MultiPolygon"
    gj = {"type": "Polygon", "coordinates": [[[108.95, 32.66], [108.96, 32.66], [108.96, 32.67], [108.95, 32.66]]]}
    assert v.check_polygon(gj, "f").area > 0
