"""The study area: UBIGEO prefixes, names, polygon files, its units and its UTM zone."""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from shapely.geometry import box

from parsc_geo import boundaries
from parsc_geo._errors import ConfigError
from parsc_geo.area import StudyArea, area_of, combined_record, locate_area, resolve_area
from parsc_geo.cli.main import cli
from parsc_geo.ingest.checks import study_area


def test_default_is_cajamarca_and_equals_06():
    default = resolve_area(None)
    assert default == resolve_area("06") == resolve_area("cajamarca")
    assert (default.kind, default.codes, default.name) == ("departamento", ("06",), "Cajamarca")
    assert default.describe() == "Cajamarca (13 provincias)"
    assert default.place == "región Cajamarca"
    # the acceptance polygon of the default is the union of the 13 provinces, as before
    provinces = boundaries.load_provinces()
    union = shapely.union_all(provinces.geometry.to_numpy())
    assert shapely.equals(study_area(None), study_area("06"))
    assert abs(study_area(None).area - union.area) <= union.area * 1e-3  # holes filled only


@pytest.mark.parametrize(
    ("value", "kind", "codes"),
    [
        ("04", "departamento", ("04",)),
        ("0401", "provincia", ("0401",)),
        ("040126", "distrito", ("040126",)),
        ("18, 04", "departamento", ("04", "18")),
        ("Arequipa", "departamento", ("04",)),
        ("AREQUIPA", "departamento", ("04",)),
        ("ancash", "departamento", ("02",)),  # Áncash, without its accent
        ("provincia de Arequipa", "provincia", ("0401",)),
        ("distrito de Yanahuara", "distrito", ("040126",)),
        ("  yanahuara ", "distrito", ("040126",)),
        ("Perú", "pais", ("",)),
        ("nacional", "pais", ("",)),
    ],
)
def test_codes_and_names(value, kind, codes):
    area = resolve_area(value)
    assert (area.kind, area.codes) == (kind, codes)


def test_a_name_of_several_levels_takes_the_department_and_says_so(caplog):
    with caplog.at_level(logging.INFO, logger="parsc_geo"):
        area = resolve_area("Arequipa")
    assert area.codes == ("04",)
    assert "provincia 0401" in caplog.text and "distrito 040101" in caplog.text


def test_ambiguous_name_lists_every_unit():
    districts = boundaries.load_districts(prefix="")
    expected = sorted(districts.loc[districts["distrito"].str.upper() == "SANTA ROSA", "ubigeo"])
    assert len(expected) == 10
    with pytest.raises(ConfigError) as err:
        resolve_area("santa rosa")
    for code in expected:
        assert code in err.value.message
    assert "código UBIGEO" in str(err.value.hint)


def test_unknown_names_and_codes_are_config_errors_with_suggestions():
    with pytest.raises(ConfigError, match="AREQUIPA"):  # suggested
        resolve_area("Arequipaa")
    with pytest.raises(ConfigError, match="ningún distrito"):
        resolve_area("99")
    with pytest.raises(ConfigError, match="2 dígitos"):
        resolve_area("4")
    with pytest.raises(ConfigError, match="no existe"):
        resolve_area("no_hay/zona.geojson")


def test_units_of_an_area():
    area = resolve_area("0401")
    assert set(area.districts()["ubigeo"].str[:4]) == {"0401"}
    assert list(area.provinces()["ubigeo_prov"]) == ["0401"]
    # police units: those of the whole department (its police region)
    stations = area.stations()
    assert set(stations["ubigeo"].str[:2]) == {"04"}
    assert len(stations) == len(boundaries.load_stations(prefix="04"))
    assert area.department_codes() == ("04",)


def test_polygon_file_area(tmp_path):
    # a box around the city of Arequipa
    square = box(-71.60, -16.45, -71.45, -16.35)
    path = tmp_path / "zona.geojson"
    gpd.GeoDataFrame({"n": [1]}, geometry=[square], crs="EPSG:4326").to_file(path)
    area = resolve_area(str(path))
    assert area.kind == "poligono" and area.name == "zona.geojson"
    districts = boundaries.load_districts(prefix="")
    touched = sorted(districts.loc[districts.intersects(square), "ubigeo"])
    assert sorted(area.prefixes) == touched and len(touched) > 5
    assert set(area.department_codes()) == {"04"}
    assert shapely.equals(area.polygon(), square)
    assert area.utm_zone == "19S"  # -71.5 lies in zone 19 (-72 to -66)
    # the record keeps the file, so a workspace can rebuild the area
    assert StudyArea.from_dict(area.to_dict()) == area


# UTM zone n covers longitudes [-186 + 6n, -180 + 6n): 17 = [-84, -78), 18 = [-78, -72),
# 19 = [-72, -66). The centre of each department's extent (longitudes in comments):
@pytest.mark.parametrize(
    ("code", "zone"),
    [
        ("06", "17S"),  # Cajamarca, -79.46 to -77.74: centre -78.6
        ("20", "17S"),  # Piura, -81.33 to -79.21
        ("24", "17S"),  # Tumbes, -81.04 to -80.13
        ("15", "18S"),  # Lima, -77.89 to -75.51
        ("04", "18S"),  # Arequipa, -75.07 to -70.80: centre -72.94, the area spans 18S and 19S
        ("21", "19S"),  # Puno, -71.12 to -68.81
        ("23", "19S"),  # Tacna, -71.14 to -69.47
        ("peru", "18S"),  # -81.33 to -68.65: centre -74.99
    ],
)
def test_utm_zone_follows_the_area(code, zone):
    area = resolve_area(code)
    assert area.utm_zone == zone
    assert area.metric_crs == f"EPSG:{32700 + int(zone[:2])}"


def test_record_round_trip_and_workspace_widening(caplog):
    arequipa = resolve_area("04")
    assert StudyArea.from_dict(arequipa.to_dict()) == arequipa
    assert arequipa.to_dict()["zona_utm"] == "18S"
    with caplog.at_level(logging.INFO, logger="parsc_geo"):
        merged = combined_record(resolve_area("06").to_dict(), arequipa.to_dict())
    assert merged["ubigeo"] == ["04", "06"]
    assert "ahora cubre" in caplog.text
    # a province inside a recorded department adds nothing
    assert combined_record(merged, resolve_area("0401").to_dict())["ubigeo"] == ["04", "06"]


def test_area_of_incidents():
    frame = pd.DataFrame({"ubigeo": ["040101", "040126", ""]})
    assert area_of(frame).codes == ("04",)
    frame.attrs["study_area"] = resolve_area("0401").to_dict()
    assert area_of(frame).codes == ("0401",)
    assert area_of(pd.DataFrame({"x": [1]})) == resolve_area(None)


def test_locate_area_keeps_departments_holding_points():
    rng = np.random.default_rng(0)
    # 200 points in the city of Arequipa, 1 in Lima (a stray point), 3 at sea
    lon = np.r_[rng.uniform(-71.58, -71.50, 200), -77.03, -80.0, -80.1, -80.2]
    lat = np.r_[rng.uniform(-16.42, -16.38, 200), -12.05, -10.0, -10.1, -10.2]
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    assert locate_area(points).codes == ("04",)
    at_sea = gpd.GeoDataFrame(geometry=gpd.points_from_xy([-80.0], [-10.0]), crs="EPSG:4326")
    assert locate_area(at_sea) is None


def test_cli_reports_bad_study_areas_as_usage_errors(tmp_path):
    data = tmp_path / "x.csv"
    data.write_text("lat,lon\n-16.4,-71.5\n", encoding="utf-8")
    for value, text in (("santa rosa", "150139"), ("99", "ningún distrito")):
        result = CliRunner().invoke(cli, ["validate", str(data), "--study-area", value])
        assert result.exit_code == 2, result.output
        assert text in result.output and "Traceback" not in result.output


def test_points_of_a_file_are_assigned_in_the_departments_holding_them():
    from parsc_geo.workflow import ensure_assigned

    caps = boundaries.load_capitals(prefix="04")
    points = gpd.GeoDataFrame(
        {"incident_id": caps["ubigeo"]},
        geometry=gpd.points_from_xy(caps["longitud"], caps["latitud"]),
        crs="EPSG:4326",
    )
    assigned = ensure_assigned(points)
    # district capitals fall in their own district (SOURCES.md), all in Arequipa
    assert (assigned["ubigeo"] == caps["ubigeo"]).mean() > 0.98
    assert set(assigned["provincia"]) == set(boundaries.load_provinces(prefix="04")["provincia"])
    assert assigned.attrs["assignment"]["metric_crs"] == "EPSG:32718"
