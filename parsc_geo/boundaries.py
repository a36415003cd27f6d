"""Bundled territorial units of Cajamarca: departments, provinces, districts, police stations.

All loaders return UBIGEO codes as text with leading zeros (``"060101"``), geometries in
EPSG:4326 and official figures exactly as published (see ``boundaries/SOURCES.md``).
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from ._data import boundaries_dir

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

DISTRICTS_FILE = "cajamarca_distritos.geojson"
DISTRICTS_INEI2007_FILE = "cajamarca_distritos_inei2007_minam_simplificado.geojson"
PROVINCES_FILE = "cajamarca_provincias.geojson"
DEPARTMENTS_FILE = "peru_departamentos.geojson"
POPULATION_FILE = "cajamarca_poblacion_distrital.csv"
STATIONS_FILE = "cajamarca_comisarias_cenacom2017.csv"
COMPLAINTS_RENADEF_FILE = "cajamarca_faltas_renadef2017_por_comisaria.csv"
CAPITALS_FILE = "cajamarca_capitales_distritales.csv"
SETTLEMENTS_FILE = "cajamarca_centros_poblados.csv"
SIDPPOL_ANNUAL_FILE = "cajamarca_denuncias_sidppol_departamental_anual.csv"

_CODE_COLUMNS = {
    "ubigeo": str,
    "ubigeo_prov": str,
    "ubigeo_dep": str,
    "ubigeo_reniec": str,
    "id_n": str,
    "ID_N": str,
    "UBIGEO": str,
    "CCDD": str,
    "CCPP": str,
    "codigo_ccpp": str,
}


def _read_layer(name: str) -> gpd.GeoDataFrame:
    import pyogrio

    gdf = pyogrio.read_dataframe(boundaries_dir() / name)
    for col in ("ubigeo", "ubigeo_prov", "ubigeo_dep"):
        if col in gdf.columns:
            gdf[col] = gdf[col].astype(str)
    return gdf.set_crs("EPSG:4326", allow_override=True)


def _read_table(name: str) -> pd.DataFrame:
    import pandas as pd

    return pd.read_csv(boundaries_dir() / name, dtype=_CODE_COLUMNS, encoding="utf-8")


@lru_cache(maxsize=4)
def _districts_cached(source: str) -> gpd.GeoDataFrame:
    name = DISTRICTS_INEI2007_FILE if source == "inei2007" else DISTRICTS_FILE
    return _read_layer(name)


def load_districts(source: str = "inei2018") -> gpd.GeoDataFrame:
    """Load the 127 districts of Cajamarca.

    Parameters
    ----------
    source
        ``"inei2018"`` (default; INEI 2018 boundary base via mapsPERU, GPL-3) or ``"inei2007"``
        (INEI 2007 via MINAM, MPL-2.0, very generalised).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``ubigeo``, ``ubigeo_prov``, ``distrito``, ``provincia``, ``departamento``,
        ``geometry`` (EPSG:4326), sorted by ``ubigeo``.
    """
    if source not in ("inei2018", "inei2007"):
        from ._errors import ConfigError

        raise ConfigError(
            f"la fuente de distritos debe ser 'inei2018' o 'inei2007'; se recibió {source!r}"
        )
    gdf = _districts_cached(source).copy()
    return gdf.sort_values("ubigeo", kind="stable").reset_index(drop=True)


def load_provinces() -> gpd.GeoDataFrame:
    """Load the 13 provinces of Cajamarca (``ubigeo_prov``, ``provincia``, ``n_distritos``)."""
    gdf = _read_layer(PROVINCES_FILE)
    return gdf.sort_values("ubigeo_prov", kind="stable").reset_index(drop=True)


def load_departments() -> gpd.GeoDataFrame:
    """Load Peru's 25 departments (simplified, for map context only)."""
    gdf = _read_layer(DEPARTMENTS_FILE)
    return gdf.sort_values("ubigeo_dep", kind="stable").reset_index(drop=True)


def load_population() -> pd.DataFrame:
    """Load district population: 2017 census (total, urban, rural, by sex) and 2020/2022 estimates.

    Returns
    -------
    pandas.DataFrame
        One row per district keyed by ``ubigeo``; ``ubigeo_prov`` is added (first four digits).
    """
    df = _read_table(POPULATION_FILE)
    df["ubigeo_prov"] = df["ubigeo"].str[:4]
    return df.sort_values("ubigeo", kind="stable").reset_index(drop=True)


def population_columns() -> dict[int, str]:
    """Return the population column for each year available (2017 census, 2020, 2022)."""
    return {
        2017: "poblacion_total_2017",
        2020: "poblacion_estimada_2020",
        2022: "poblacion_estimada_2022",
    }


def population_for_year(year: int, level: str = "distrito") -> pd.DataFrame:
    """Return population per district or province for the year nearest ``year``.

    Parameters
    ----------
    year
        Year of the analysis period; the nearest available year is used (ties go to the
        earlier year).
    level
        ``"distrito"`` (keyed by ``ubigeo``) or ``"provincia"`` (keyed by ``ubigeo_prov``).

    Returns
    -------
    pandas.DataFrame
        Columns key, name(s), ``poblacion`` and ``anio_poblacion``.
    """
    columns = population_columns()
    nearest = min(columns, key=lambda y: (abs(y - year), y))
    df = load_population()
    col = columns[nearest]
    if level == "distrito":
        out = df[["ubigeo", "ubigeo_prov", "distrito", "provincia", col]].rename(
            columns={col: "poblacion"}
        )
    elif level == "provincia":
        out = df.groupby(["ubigeo_prov", "provincia"], as_index=False).agg(poblacion=(col, "sum"))
    else:
        from ._errors import ConfigError

        raise ConfigError(f"level debe ser 'distrito' o 'provincia'; se recibió {level!r}")
    out["anio_poblacion"] = nearest
    return out.reset_index(drop=True)


def load_stations() -> gpd.GeoDataFrame:
    """Load the 128 police units of Cajamarca in the INEI 2017 census (CENACOM) as points.

    Returns
    -------
    geopandas.GeoDataFrame
        ``id_n`` (INEI id, text), ``nombre`` (empty for 12 units absent from RENADEF; a name
        ``"DEPENDENCIA <id_n>"`` is then given in ``nombre_mostrado``), ``tipo_dependencia``,
        ``ubigeo``, ``provincia``, ``distrito``, ``efectivos_asignados_total``, geometry.
    """
    import geopandas as gpd

    df = _read_table(STATIONS_FILE)
    df["nombre"] = df["nombre"].fillna("")
    df["nombre_mostrado"] = df["nombre"].where(
        df["nombre"].str.len() > 0, "DEPENDENCIA " + df["id_n"] + " (" + df["distrito"] + ")"
    )
    gdf = gpd.GeoDataFrame(
        df,
        geometry=gpd.points_from_xy(df["longitud"], df["latitud"]),
        crs="EPSG:4326",
    )
    return gdf.sort_values(["ubigeo", "id_n"], kind="stable").reset_index(drop=True)


def load_station_complaints() -> pd.DataFrame:
    """Load the RENADEF 2017 register of complaints (faltas) per police station."""
    df = _read_table(COMPLAINTS_RENADEF_FILE)
    return df.rename(columns={"UBIGEO": "ubigeo", "ID_N": "id_n"})


def load_capitals() -> pd.DataFrame:
    """Load the district capitals (coordinates, altitude, official area in km²)."""
    return _read_table(CAPITALS_FILE)


def load_settlements() -> pd.DataFrame:
    """Load the 6,513 populated places (centros poblados) of Cajamarca with coordinates."""
    return _read_table(SETTLEMENTS_FILE)


def load_sidppol_annual() -> pd.DataFrame:
    """Load SIDPPOL yearly complaint totals for the Cajamarca department (2018 onwards)."""
    return _read_table(SIDPPOL_ANNUAL_FILE)
