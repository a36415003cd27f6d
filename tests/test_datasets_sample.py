"""The bundled synthetic sample: counts, places, times, sectors, honesty and consistency."""

from __future__ import annotations

import csv
import hashlib
import json

import numpy as np
import pandas as pd
import pytest
import shapely
from _allocation import assert_follows_district_rule
from _shared import shared_reference

from parsc_geo import boundaries
from parsc_geo.datasets import sample_paths
from parsc_geo.settings import SEED, SYNTHETIC_BANNER

REFERENCE = shared_reference("delitos_mayor_incidencia_cajamarca_ene_oct_2020.csv")


@pytest.fixture(scope="module")
def paths():
    return sample_paths()


@pytest.fixture(scope="module")
def clean(paths):
    return pd.read_csv(paths["incidents"], dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def manifest(paths):
    return json.loads(paths["manifest"].read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def sectors(paths):
    from parsc_geo.sectors import read_sectors

    return read_sectors(paths["sectors"])


# --- honesty and files ----------------------------------------------------------------------


def test_sample_paths_keys_and_names(paths):
    assert set(paths) == {"incidents", "sectors", "messy_csv", "messy_kml", "manifest"}
    for key, path in paths.items():
        assert path.is_file()
        assert path.name.startswith("sintetico_"), key


def test_manifest_says_synthetic_and_matches_files(paths, manifest):
    assert manifest["synthetic"] is True
    assert manifest["seed"] == SEED
    assert manifest["generator_version"]
    assert manifest["banner"] == SYNTHETIC_BANNER
    for key in ("incidents", "messy_csv", "messy_kml", "sectors"):
        digest = hashlib.sha256(paths[key].read_bytes()).hexdigest()
        assert digest == manifest["files"][key]["sha256"], key


def test_readme_and_layers_say_synthetic(paths):
    readme = (paths["incidents"].parent / "README.md").read_text(encoding="utf-8")
    assert SYNTHETIC_BANNER in readme
    assert "SINTÉTICA" in readme
    assert (paths["incidents"].parent / "SCHEMA.md").is_file()
    geo = json.loads(paths["sectors"].read_text(encoding="utf-8"))
    assert geo["synthetic"] is True
    assert all(f["properties"]["sintetico"] is True for f in geo["features"])
    assert "SINTÉTICOS" in paths["messy_kml"].read_text(encoding="utf-8")


def test_bundle_is_a_few_megabytes(paths):
    total = sum(p.stat().st_size for p in paths.values())
    assert total < 8_000_000


# --- volume and mix ---------------------------------------------------------------------------


def test_counts_match_the_plan_table_exactly(clean):
    if not REFERENCE.exists():
        pytest.skip(f"reference table {REFERENCE} not available")
    with REFERENCE.open(encoding="utf-8") as fh:
        expected = {
            (r["delito_generico"], r["delito_especifico"], r["modalidad"]): int(r["denuncias"])
            for r in csv.DictReader(fh)
        }
    got = clean.groupby(["delito_generico", "delito_especifico", "modalidad"]).size().to_dict()
    assert got == expected
    assert len(clean) == 21108


def test_period_ids_and_dates(clean):
    assert clean["id"].is_unique
    assert clean["id"].iloc[0] == "SINT-000001"
    dates = pd.to_datetime(clean["fecha"], format="%Y-%m-%d")
    assert dates.min() >= pd.Timestamp("2020-01-01")
    assert dates.max() <= pd.Timestamp("2020-10-31")
    assert dates.dt.month.nunique() == 10


# --- where ------------------------------------------------------------------------------------


def test_every_point_inside_its_district_and_only_there(clean):
    districts = boundaries.load_districts()
    lon = clean["longitud"].astype(float).to_numpy()
    lat = clean["latitud"].astype(float).to_numpy()
    ubigeo = clean["ubigeo"].to_numpy()
    geoms = dict(zip(districts["ubigeo"], districts.geometry, strict=True))
    inside = np.zeros(len(clean), dtype=bool)
    for code, geom in geoms.items():
        mask = ubigeo == code
        inside[mask] = shapely.contains_xy(geom, lon[mask], lat[mask])
    assert inside.all(), clean.loc[~inside, ["id", "ubigeo"]].head()
    tree = shapely.STRtree(districts.geometry.to_numpy())
    pts = shapely.points(lon, lat)
    src, _ = tree.query(pts, predicate="within")
    assert np.bincount(src, minlength=len(clean)).max() == 1


def test_every_province_has_incidents(clean):
    provinces = set(boundaries.load_districts()["ubigeo_prov"])
    assert len(provinces) == 13
    assert set(clean["ubigeo"].str.slice(0, 4)) == provinces


def test_districts_follow_the_documented_rule(clean):
    """Recompute w = 0.5·population share + 0.5·RENADEF share from the raw files."""
    assert_follows_district_rule(clean, "06")


def _metric(lon, lat):
    from pyproj import Transformer

    t = Transformer.from_crs("EPSG:4326", "EPSG:32717", always_xy=True)
    return np.column_stack(t.transform(lon, lat))


def test_spatial_structure_by_type(clean):
    from scipy.spatial import cKDTree

    caps = boundaries.load_capitals()
    cap_xy = _metric(caps["longitud"].to_numpy(), caps["latitud"].to_numpy())
    tree = cKDTree(cap_xy)
    xy = _metric(clean["longitud"].astype(float), clean["latitud"].astype(float))
    dist, _ = tree.query(xy)
    esp, mod = clean["delito_especifico"], clean["modalidad"]
    abigeato = dist[(esp == "ABIGEATO").to_numpy()]
    hurto = dist[((esp == "HURTO") & (mod == "SIMPLE")).to_numpy()]
    # Livestock theft happens away from towns; street theft in them.
    assert np.median(abigeato) > 2000
    assert np.median(hurto) < 1500
    assert np.median(abigeato) > 3 * np.median(hurto)
    # Street theft forms dense hotspots: in Cajamarca district its nearest-neighbour distances
    # are shorter than those of family violence (dispersed in homes).
    caj = (clean["ubigeo"] == "060101").to_numpy()
    street = xy[caj & ((esp == "HURTO") | (esp == "ROBO")).to_numpy()]
    home = xy[caj & (mod == "VIOLENCIA FAMILIAR").to_numpy()]
    k = min(len(street), len(home))
    nn_street = cKDTree(street[:k]).query(street[:k], k=2)[0][:, 1]
    nn_home = cKDTree(home[:k]).query(home[:k], k=2)[0][:, 1]
    assert np.median(nn_street) < np.median(nn_home)


# --- when -------------------------------------------------------------------------------------


def test_time_profiles_by_type(clean):
    known = clean["hora"] != ""
    share_unknown = 1 - known.mean()
    assert 0.04 < share_unknown < 0.15
    hour = clean.loc[known, "hora"].str.slice(0, 2).astype(int)
    sub = clean.loc[known]
    robo = hour[sub["delito_especifico"] == "ROBO"]
    assert robo.between(18, 23).mean() > 0.4
    assert robo.between(6, 11).mean() < 0.1
    cee = hour[sub["modalidad"] == "CONDUCCION EN ESTADO DE EBRIEDAD"]
    assert (cee.ge(21) | cee.le(4)).mean() > 0.6
    abig = clean["delito_especifico"] == "ABIGEATO"
    assert (clean.loc[abig, "hora"] == "").mean() > 0.25
    dates = pd.to_datetime(clean["fecha"])
    vf = (clean["modalidad"] == "VIOLENCIA FAMILIAR").to_numpy()
    weekend = dates.dt.day_of_week.ge(5).to_numpy()
    # per-day rate on weekends (2 of 7 days) above weekdays
    assert (vf & weekend).sum() / 2 > (vf & ~weekend).sum() / 5


def test_2020_lockdown_shows(clean):
    dates = pd.to_datetime(clean["fecha"])
    lock = dates.between("2020-04-01", "2020-05-31").to_numpy()
    feb = dates.between("2020-02-01", "2020-02-29").to_numpy()
    hurto = (clean["delito_especifico"] == "HURTO").to_numpy()
    deso = (clean["modalidad"] == "DESOBEDIENCIA").to_numpy()
    # per day: April–May has 61 days, February 29
    assert (hurto & lock).sum() / 61 < 0.7 * (hurto & feb).sum() / 29
    assert (deso & lock).sum() / 61 > 2 * (deso & feb).sum() / 29


# --- sectors ----------------------------------------------------------------------------------


def test_sector_layer_passes_the_sector_checks(sectors):
    from parsc_geo.sectors import check_sectors

    _, report = check_sectors(sectors)
    assert report.ok, report.summary()
    assert report.repaired == []


def test_sector_layer_stations_and_labels(sectors):
    stations = boundaries.load_stations().set_index("id_n")
    counts = sectors.groupby("comisaria_id").size().to_dict()
    assert counts == {"1027": 36, "1028": 24, "0097": 20, "1052": 10}
    caj1 = sectors[sectors["comisaria_id"] == "1027"]
    assert caj1["comisaria"].iloc[0] == "COMISARIA CAJAMARCA I"
    assert caj1["subsector"].tolist()[-1] == "SUB SECTOR AJ"
    assert sorted(set(caj1["sector"])) == [f"SECTOR {k}" for k in range(1, 7)]
    assert set(sectors.loc[sectors["comisaria_id"] == "1052", "subsector"]) == {
        f"SUB SECTOR {k}" for k in range(1, 11)
    }
    districts = boundaries.load_districts().set_index("ubigeo")
    for sid, group in sectors.groupby("comisaria_id"):
        union = shapely.union_all(group.geometry.to_numpy())
        station = stations.loc[sid]
        assert union.contains(shapely.Point(station["longitud"], station["latitud"]))
        district = districts.loc[station["ubigeo"], "geometry"]
        assert union.difference(district.buffer(1e-6)).area < 1e-9
        # each sector (union of its subsectors) is one connected piece
        for _, sec in group.groupby("sector"):
            merged = shapely.union_all(sec.geometry.to_numpy()).buffer(1e-7)
            assert merged.geom_type == "Polygon"


def test_clean_sample_agrees_with_the_assignment(clean, sectors):
    """Independent check: the lead's assignment gives the sample's district, station, sector."""
    import geopandas as gpd

    from parsc_geo.assign import assign_incidents

    pts = gpd.GeoDataFrame(
        clean[["id"]],
        geometry=gpd.points_from_xy(
            clean["longitud"].astype(float), clean["latitud"].astype(float)
        ),
        crs="EPSG:4326",
    )
    out = assign_incidents(pts, sectors=sectors)
    for col in ("ubigeo", "comisaria", "comisaria_id", "sector", "subsector"):
        mismatch = out[col].to_numpy() != clean[col].to_numpy()
        assert not mismatch.any(), (col, clean.loc[mismatch, ["id", col]].head())
    assert (clean["subsector"] != "").sum() > 5000


# --- messy export -----------------------------------------------------------------------------


def test_messy_csv_is_latin1_semicolon_with_decimal_commas(paths, manifest):
    data = paths["messy_csv"].read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text = data.decode("latin-1")
    header = text.split("\r\n", 1)[0]
    assert header.split(";")[:3] == ["N° DENUNCIA", "FECHA_HECHO", "HORA"]
    assert "LATITUD" in header and "COMISARÍA" in header
    rows = text.rstrip("\r\n").split("\r\n")[1:]
    assert len(rows) == manifest["files"]["messy_csv"]["rows"]
    assert ";-7," in text or ";-6," in text
    for label in ("VIOL. FAM", "TID", "CEE", "PAF", "HURTO AGRAVADO DURANTE LA NOCHE"):
        assert f";{label};" in text


def test_planted_problems_are_where_the_manifest_says(paths, manifest):
    text = paths["messy_csv"].read_bytes().decode("latin-1")
    rows = text.rstrip("\r\n").split("\r\n")[1:]
    planted = manifest["messy"]["planted"]
    kinds = {p["problem"] for p in planted}
    assert kinds == {
        "latlon_swapped",
        "latlon_swapped_outside",
        "duplicate",
        "outside_region",
        "missing_coordinates",
        "invalid_date",
    }
    for p in planted:
        cells = rows[p["source_row"] - 1].split(";")
        assert cells[0] == p["id"]
        if p["problem"] == "missing_coordinates":
            assert cells[6] == cells[7] == ""
        if p["problem"] == "latlon_swapped":
            assert cells[6].startswith(("-78,", "-79,", "-77,"))
        if p["problem"] == "duplicate":
            assert rows[p["source_row"] - 2] == rows[p["source_row"] - 1]


def test_kml_has_folders_and_station_map_labels(paths, manifest):
    from defusedxml.ElementTree import fromstring

    root = fromstring(paths["messy_kml"].read_bytes())
    ns = "{http://www.opengis.net/kml/2.2}"
    folders = root.findall(f".//{ns}Folder")
    assert len(folders) >= 4
    names = [e.text for e in root.findall(f".//{ns}Placemark/{ns}name")]
    assert len(names) == len(manifest["messy"]["kml_ids"]) > 50
    assert "VIOL. FAM" in names
