"""The vendored national reference data and its loaders (``parsc_geo.boundaries``)."""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from _shared import shared_data
from pandas.testing import assert_frame_equal

from parsc_geo import boundaries
from parsc_geo._data import boundaries_dir

CODES = {
    c: str
    for c in ("ubigeo", "ubigeo_prov", "ubigeo_reniec", "id_n", "ID_N", "UBIGEO", "CCDD", "CCPP")
}
CODES["codigo_ccpp"] = str


def _same_geometries(a, b) -> bool:
    """Coordinate-for-coordinate equality (not just topological equality)."""
    left = shapely.to_wkb(a.geometry.to_numpy())
    return bool(np.all(left == shapely.to_wkb(b.geometry.to_numpy())))


def _layer(name: str):
    gdf = pyogrio.read_dataframe(shared_data(name))
    for col in ("ubigeo", "ubigeo_prov", "ubigeo_dep"):
        if col in gdf.columns:
            gdf[col] = gdf[col].astype(str)
    return gdf.set_crs("EPSG:4326", allow_override=True)


# -- the former Cajamarca files are the national files filtered by 06 -------------------------


def test_cajamarca_districts_and_provinces_are_the_former_files():
    old = _layer("cajamarca_distritos.geojson").sort_values("ubigeo").reset_index(drop=True)
    new = boundaries.load_districts()
    assert_frame_equal(new, old)
    assert _same_geometries(new, old)
    old = _layer("cajamarca_provincias.geojson").sort_values("ubigeo_prov").reset_index(drop=True)
    new = boundaries.load_provinces()
    assert_frame_equal(new, old)
    assert _same_geometries(new, old)


def test_cajamarca_tables_are_the_former_files():
    read = lambda name: pd.read_csv(shared_data(name), dtype=CODES)  # noqa: E731
    old = read("cajamarca_comisarias_cenacom2017.csv")
    old["nombre"] = old["nombre"].fillna("")
    new = boundaries.load_stations()
    assert_frame_equal(
        pd.DataFrame(new.drop(columns=["geometry", "nombre_mostrado"])),
        old.sort_values(["ubigeo", "id_n"], kind="stable").reset_index(drop=True),
    )
    old = read("cajamarca_faltas_renadef2017_por_comisaria.csv")
    old = old.rename(columns={"UBIGEO": "ubigeo", "ID_N": "id_n"})
    assert_frame_equal(boundaries.load_station_complaints(), old)
    assert_frame_equal(boundaries.load_capitals(), read("cajamarca_capitales_distritales.csv"))
    assert_frame_equal(boundaries.load_settlements(), read("cajamarca_centros_poblados.csv"))


def test_cajamarca_population_differs_only_by_the_documented_fix():
    old = pd.read_csv(shared_data("cajamarca_poblacion_distrital.csv"), dtype=CODES)
    old["ubigeo_prov"] = old["ubigeo"].str[:4]
    new = boundaries.load_population()
    assert list(new.columns) == list(old.columns)
    differs = (new != old) & ~(new.isna() & old.isna())
    # SOURCES.md §2: 060506's capital is truncated in the Cajamarca file, complete nationally
    assert differs.to_numpy().sum() == 1
    row = new.index[new["ubigeo"] == "060506"][0]
    assert old.loc[row, "capital"] == "SANTA CRUZ DE TOLED"
    assert new.loc[row, "capital"] == "SANTA CRUZ DE TOLEDO"


# -- the vendored files are the shared national files ------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "peru_poblacion_distrital.csv",
        "peru_comisarias_cenacom2017.csv",
        "peru_faltas_renadef2017_por_comisaria.csv",
        "peru_capitales_distritales.csv",
    ],
)
def test_copied_tables_are_byte_identical(name):
    assert (boundaries_dir() / name).read_bytes() == shared_data(f"nacional/{name}").read_bytes()


def test_compressed_settlements_are_byte_identical():
    packed = gzip.decompress((boundaries_dir() / "peru_centros_poblados.csv.gz").read_bytes())
    assert packed == shared_data("nacional/peru_centros_poblados.csv").read_bytes()


@pytest.mark.parametrize(
    ("layer", "key"),
    [("distritos", "ubigeo"), ("provincias", "ubigeo_prov"), ("departamentos", "ubigeo_dep")],
)
def test_geopackage_layers_are_the_national_geojson(layer, key):
    source = _layer(f"nacional/peru_{layer}.geojson").sort_values(key).reset_index(drop=True)
    path = f"/vsigzip/{boundaries_dir() / 'peru_limites.gpkg.gz'}"
    pyogrio.set_gdal_config_options({"CPL_VSIL_GZIP_WRITE_PROPERTIES": "NO"})
    packed = pyogrio.read_dataframe(path, layer=layer)
    for col in ("ubigeo", "ubigeo_prov", "ubigeo_dep"):
        if col in packed.columns:
            packed[col] = packed[col].astype(str)
    assert list(packed.columns) == list(source.columns)
    assert (packed.drop(columns="geometry") == source.drop(columns="geometry")).all().all()
    assert _same_geometries(packed, source)


def test_reading_leaves_no_file_beside_the_bundled_data():
    boundaries._national_layer.cache_clear()
    boundaries.load_districts(prefix="")
    names = {p.name for p in boundaries_dir().iterdir()}
    assert not [n for n in names if n.endswith(".properties")]


# -- national figures (published ones, as cited in boundaries/SOURCES.md) ----------------------


def test_national_counts_and_published_totals():
    assert len(boundaries.load_districts(prefix="")) == 1874
    assert len(boundaries.load_provinces(prefix="")) == 196
    assert len(boundaries.load_departments(simplified=False)) == 25
    pop = boundaries.load_population(prefix="")
    assert pop["poblacion_total_2017"].sum() == 31_237_385  # INEI, Censo 2017 (total)
    assert pop["poblacion_estimada_2020"].sum() == 32_625_948  # INEI, 2020 estimate
    raw = pd.read_csv(boundaries_dir() / "peru_comisarias_cenacom2017.csv", dtype=CODES)
    assert len(raw) == 1495 and raw["efectivos_asignados_total"].sum() == 47_265
    unplaced = raw[raw["longitud"].isna()]
    assert list(unplaced["id_n"]) == ["9079"]  # Chimbote: no longitude in the source
    stations = boundaries.load_stations(prefix="")
    assert len(stations) == 1494 and "9079" not in set(stations["id_n"])
    assert stations["efectivos_asignados_total"].sum() == (
        47_265 - int(unplaced["efectivos_asignados_total"].iloc[0])
    )
    assert boundaries.load_station_complaints(prefix="")["FALTAS"].sum() == 116_128
    assert len(boundaries.load_settlements(prefix="")) == 94_922


# -- selection by UBIGEO prefix ------------------------------------------------------------------


def test_prefixes_select_departments_provinces_and_districts():
    provinces = boundaries.load_provinces(prefix="")
    # Arequipa's district count as published in the province layer's n_distritos
    of_arequipa = provinces["ubigeo_prov"].str.startswith("04")
    expected = int(provinces.loc[of_arequipa, "n_distritos"].sum())
    arequipa = boundaries.load_districts(prefix="04")
    assert len(arequipa) == expected == 109
    assert set(arequipa["departamento"]) == {"Arequipa"}
    assert arequipa["ubigeo"].is_monotonic_increasing
    assert list(boundaries.load_provinces(prefix="040101")["ubigeo_prov"]) == ["0401"]
    both = boundaries.load_districts(prefix=["18", "04"])
    assert len(both) == 109 + int(
        provinces.loc[provinces["ubigeo_prov"].str.startswith("18"), "n_distritos"].sum()
    )
    assert len(boundaries.load_stations(prefix="0401")) == int(
        (pd.read_csv(boundaries_dir() / "peru_comisarias_cenacom2017.csv", dtype=CODES)["ubigeo"])
        .str.startswith("0401")
        .sum()
    )


def test_population_for_year_by_province_anywhere():
    table = boundaries.population_for_year(2021, "provincia", prefix="04")
    raw = pd.read_csv(boundaries_dir() / "peru_poblacion_distrital.csv", dtype=CODES)
    raw = raw[raw["ubigeo"].str.startswith("0401")]
    # 2021 is nearest to 2022 (one year) and to 2020 (one year): ties go to the earlier year
    assert (
        table.loc[table["ubigeo_prov"] == "0401", "poblacion"].item()
        == raw["poblacion_estimada_2020"].sum()
    )
    assert set(table["anio_poblacion"]) == {2020}


def test_loaders_return_copies():
    first = boundaries.load_districts(prefix="04")
    first.loc[0, "distrito"] = "CAMBIADO"
    assert boundaries.load_districts(prefix="04").loc[0, "distrito"] == "Arequipa"
