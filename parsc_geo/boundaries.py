"""Bundled territorial units of Peru: departments, provinces, districts, population, police units.

The national reference data (``boundaries/SOURCES.md`` §0) are read once per process and kept
in memory; every loader then returns the units whose UBIGEO starts with ``prefix``:

- ``prefix=None`` (the default) selects the default study area,
  :data:`parsc_geo.settings.STUDY_AREA_UBIGEO_PREFIX` (``"06"``, Cajamarca), so code written
  for Cajamarca gets exactly the tables it always got;
- ``"04"`` a department, ``"0401"`` a province, ``"040101"`` a district, a sequence of such
  prefixes several of them, and ``""`` the whole country.

All loaders return UBIGEO codes as text with leading zeros (``"060101"``), geometries in
EPSG:4326, official figures exactly as published, and the columns of the former Cajamarca
files (the national files' extra columns, e.g. ``departamento`` in the tables, are left out:
the first two digits of the UBIGEO name the department).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from ._data import boundaries_dir
from .settings import STUDY_AREA_UBIGEO_PREFIX

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

#: GeoPackage (gzip-compressed, read through GDAL's ``/vsigzip/``) with the layers
#: ``distritos``, ``provincias`` and ``departamentos`` of the whole country.
LIMITS_FILE = "peru_limites.gpkg.gz"
DISTRICTS_LAYER = "distritos"
PROVINCES_LAYER = "provincias"
DEPARTMENTS_LAYER = "departamentos"
DISTRICTS_INEI2007_FILE = "cajamarca_distritos_inei2007_minam_simplificado.geojson"
#: Departments simplified to 0.005° (map context only).
DEPARTMENTS_FILE = "peru_departamentos.geojson"
POPULATION_FILE = "peru_poblacion_distrital.csv"
STATIONS_FILE = "peru_comisarias_cenacom2017.csv"
COMPLAINTS_RENADEF_FILE = "peru_faltas_renadef2017_por_comisaria.csv"
CAPITALS_FILE = "peru_capitales_distritales.csv"
SETTLEMENTS_FILE = "peru_centros_poblados.csv.gz"
SIDPPOL_ANNUAL_FILE = "cajamarca_denuncias_sidppol_departamental_anual.csv"

#: UBIGEO prefix that selects every unit of the country.
WHOLE_COUNTRY = ""

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

#: Columns each loader returns, in order (those of the former Cajamarca files).
_COLUMNS: dict[str, tuple[str, ...]] = {
    DISTRICTS_LAYER: ("ubigeo", "ubigeo_prov", "distrito", "provincia", "departamento"),
    PROVINCES_LAYER: ("ubigeo_prov", "provincia", "departamento", "n_distritos"),
    DEPARTMENTS_LAYER: ("ubigeo_dep", "departamento", "n_provincias", "n_distritos"),
    POPULATION_FILE: (
        "ubigeo",
        "distrito",
        "provincia",
        "capital",
        "poblacion_total_2017",
        "pob_urbana_2017",
        "pob_rural_2017",
        "pob_hombres_2017",
        "pob_mujeres_2017",
        "hogares_2017",
        "poblacion_estimada_2020",
        "poblacion_estimada_2022",
    ),
    STATIONS_FILE: (
        "id_n",
        "nombre",
        "tipo_dependencia",
        "ubigeo",
        "provincia",
        "distrito",
        "latitud",
        "longitud",
        "efectivos_asignados_total",
    ),
    CAPITALS_FILE: (
        "ubigeo",
        "ubigeo_reniec",
        "distrito",
        "provincia",
        "capital",
        "latitud",
        "longitud",
        "altitud_msnm",
        "superficie_km2",
    ),
    SETTLEMENTS_FILE: (
        "codigo_ccpp",
        "ubigeo",
        "provincia",
        "distrito",
        "centro_poblado",
        "tipo",
        "latitud",
        "longitud",
    ),
}


def prefixes(prefix: str | Iterable[str] | None) -> tuple[str, ...]:
    """Return the UBIGEO prefixes a loader's ``prefix`` argument stands for.

    Examples
    --------
    >>> prefixes(None)
    ('06',)
    >>> prefixes(["0401", "0402"])
    ('0401', '0402')
    >>> prefixes("")
    ('',)
    """
    if prefix is None:
        return (STUDY_AREA_UBIGEO_PREFIX,)
    if isinstance(prefix, str):
        return (prefix,)
    chosen = tuple(str(p) for p in prefix)
    return chosen or (WHOLE_COUNTRY,)


def _select(frame: pd.DataFrame, key: str, prefix: str | Iterable[str] | None) -> pd.DataFrame:
    """Return the rows of ``frame`` whose ``key`` starts with one of the prefixes (a copy)."""
    chosen = prefixes(prefix)
    if WHOLE_COUNTRY in chosen:
        return frame.copy()
    return frame[frame[key].str.startswith(chosen)].copy()


@lru_cache(maxsize=4)
def _national_layer(layer: str) -> gpd.GeoDataFrame:
    import pyogrio

    path = boundaries_dir() / LIMITS_FILE
    # GDAL would otherwise leave an index cache (".properties") beside the bundled file
    pyogrio.set_gdal_config_options({"CPL_VSIL_GZIP_WRITE_PROPERTIES": "NO"})
    gdf = pyogrio.read_dataframe(f"/vsigzip/{path}", layer=layer)
    for col in ("ubigeo", "ubigeo_prov", "ubigeo_dep"):
        if col in gdf.columns:
            gdf[col] = gdf[col].astype(str)
    gdf = gdf[[*_COLUMNS[layer], "geometry"]]
    return gdf.set_crs("EPSG:4326", allow_override=True)


def _read_layer(name: str) -> gpd.GeoDataFrame:
    import pyogrio

    gdf = pyogrio.read_dataframe(boundaries_dir() / name)
    for col in ("ubigeo", "ubigeo_prov", "ubigeo_dep"):
        if col in gdf.columns:
            gdf[col] = gdf[col].astype(str)
    return gdf.set_crs("EPSG:4326", allow_override=True)


@lru_cache(maxsize=8)
def _national_table(name: str) -> pd.DataFrame:
    import pandas as pd

    df = pd.read_csv(boundaries_dir() / name, dtype=_CODE_COLUMNS, encoding="utf-8")
    return df[list(_COLUMNS[name])] if name in _COLUMNS else df


def _read_table(name: str) -> pd.DataFrame:
    import pandas as pd

    return pd.read_csv(boundaries_dir() / name, dtype=_CODE_COLUMNS, encoding="utf-8")


@lru_cache(maxsize=1)
def _districts_inei2007() -> gpd.GeoDataFrame:
    return _read_layer(DISTRICTS_INEI2007_FILE)


def load_districts(
    source: str = "inei2018", *, prefix: str | Iterable[str] | None = None
) -> gpd.GeoDataFrame:
    """Load districts: the 127 of Cajamarca by default, any UBIGEO prefix, or all 1,874.

    Parameters
    ----------
    source
        ``"inei2018"`` (default; INEI 2018 boundary base via mapsPERU, GPL-3) or ``"inei2007"``
        (INEI 2007 via MINAM, MPL-2.0, very generalised; Cajamarca only).
    prefix
        UBIGEO prefix(es) of the districts to keep (see the module notes); default Cajamarca.

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
    layer = _districts_inei2007() if source == "inei2007" else _national_layer(DISTRICTS_LAYER)
    gdf = _select(layer, "ubigeo", prefix)
    return gdf.sort_values("ubigeo", kind="stable").reset_index(drop=True)


def load_provinces(*, prefix: str | Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """Load provinces (``ubigeo_prov``, ``provincia``, ``departamento``, ``n_distritos``).

    The 13 of Cajamarca by default. A district prefix (six digits) selects its province.
    """
    chosen = tuple(p[:4] for p in prefixes(prefix))
    gdf = _select(_national_layer(PROVINCES_LAYER), "ubigeo_prov", chosen)
    return gdf.sort_values("ubigeo_prov", kind="stable").reset_index(drop=True)


def load_departments(*, simplified: bool = True) -> gpd.GeoDataFrame:
    """Load Peru's 25 departments (``ubigeo_dep``, ``departamento``).

    Parameters
    ----------
    simplified
        True (default): simplified to 0.005°, for map context only. False: the full-resolution
        layer, which also has ``n_provincias`` and ``n_distritos``.
    """
    gdf = _read_layer(DEPARTMENTS_FILE) if simplified else _national_layer(DEPARTMENTS_LAYER)
    return gdf.sort_values("ubigeo_dep", kind="stable").reset_index(drop=True)


def load_population(*, prefix: str | Iterable[str] | None = None) -> pd.DataFrame:
    """Load district population: 2017 census (total, urban, rural, by sex) and 2020/2022 estimates.

    Parameters
    ----------
    prefix
        UBIGEO prefix(es) of the districts to keep; default Cajamarca.

    Returns
    -------
    pandas.DataFrame
        One row per district keyed by ``ubigeo``; ``ubigeo_prov`` is added (first four digits).
    """
    df = _select(_national_table(POPULATION_FILE), "ubigeo", prefix)
    df["ubigeo_prov"] = df["ubigeo"].str[:4]
    return df.sort_values("ubigeo", kind="stable").reset_index(drop=True)


def population_columns() -> dict[int, str]:
    """Return the population column for each year available (2017 census, 2020, 2022)."""
    return {
        2017: "poblacion_total_2017",
        2020: "poblacion_estimada_2020",
        2022: "poblacion_estimada_2022",
    }


def population_for_year(
    year: int, level: str = "distrito", *, prefix: str | Iterable[str] | None = None
) -> pd.DataFrame:
    """Return population per district or province for the year nearest ``year``.

    Parameters
    ----------
    year
        Year of the analysis period; the nearest available year is used (ties go to the
        earlier year).
    level
        ``"distrito"`` (keyed by ``ubigeo``) or ``"provincia"`` (keyed by ``ubigeo_prov``).
    prefix
        UBIGEO prefix(es) of the districts to keep; default Cajamarca.

    Returns
    -------
    pandas.DataFrame
        Columns key, name(s), ``poblacion`` and ``anio_poblacion``.
    """
    columns = population_columns()
    nearest = min(columns, key=lambda y: (abs(y - year), y))
    df = load_population(prefix=prefix)
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


def load_stations(*, prefix: str | Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """Load the police units of the INEI 2017 census (CENACOM) as points.

    The 128 of Cajamarca by default; 1,494 for the whole country (one of the 1,495 units,
    ``id_n`` 9079 in Chimbote, has no longitude in the source and is left out: it cannot be
    placed).

    Parameters
    ----------
    prefix
        UBIGEO prefix(es) of the districts whose units are kept; default Cajamarca.

    Returns
    -------
    geopandas.GeoDataFrame
        ``id_n`` (INEI id, text), ``nombre`` (empty for units absent from RENADEF; a name
        ``"DEPENDENCIA <id_n> (<distrito>)"`` is then given in ``nombre_mostrado``),
        ``tipo_dependencia``, ``ubigeo``, ``provincia``, ``distrito``,
        ``efectivos_asignados_total``, geometry; sorted by ``ubigeo`` and ``id_n``.
    """
    import geopandas as gpd

    df = _select(_national_table(STATIONS_FILE), "ubigeo", prefix)
    df = df[df["longitud"].notna() & df["latitud"].notna()]
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


def load_station_complaints(*, prefix: str | Iterable[str] | None = None) -> pd.DataFrame:
    """Load the RENADEF 2017 register of complaints (faltas) per police station.

    Columns as in the source, with ``UBIGEO`` and ``ID_N`` renamed ``ubigeo`` and ``id_n``; the
    national file's ``NOMBREDD`` (department name) is left out. Default: Cajamarca's 118 units.
    """
    df = _select(_national_table(COMPLAINTS_RENADEF_FILE), "UBIGEO", prefix)
    df = df.drop(columns="NOMBREDD").reset_index(drop=True)
    return df.rename(columns={"UBIGEO": "ubigeo", "ID_N": "id_n"})


def load_capitals(*, prefix: str | Iterable[str] | None = None) -> pd.DataFrame:
    """Load the district capitals (coordinates, altitude, official area in km²)."""
    return _select(_national_table(CAPITALS_FILE), "ubigeo", prefix).reset_index(drop=True)


def load_settlements(*, prefix: str | Iterable[str] | None = None) -> pd.DataFrame:
    """Load the populated places (centros poblados) with coordinates: Cajamarca's 6,513 by default.

    The whole country has 94,922 (``prefix=""``).
    """
    return _select(_national_table(SETTLEMENTS_FILE), "ubigeo", prefix).reset_index(drop=True)


def load_sidppol_annual() -> pd.DataFrame:
    """Load SIDPPOL yearly complaint totals for the Cajamarca department (2018 onwards)."""
    return _read_table(SIDPPOL_ANNUAL_FILE)
