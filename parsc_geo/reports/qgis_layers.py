"""GeoPackage layers for the QGIS project that a run does not write otherwise, and real dates.

A run's outputs hold the incidents, hotspots, rasters and patrol points; the QGIS project also
shows what the HTML atlas draws from bundled or computed data:

:func:`write_reference_layers`
    ``limites.gpkg``: provinces, districts and police stations (bundled INEI and CENACOM data).
:func:`write_sector_layers`
    ``sectores.gpkg``: sectors (subsectors dissolved) and subsectors, each with its number of
    incidents, as the atlas labels them.
:func:`write_priority_layers`
    ``prioridad/prioridad.gpkg``: one choropleth layer per territorial level and target, with
    the level (ALTA PRIORIDAD / PRIORIDAD / …) and the indicators behind it.
:func:`write_datetime_fields`
    Turns ISO 8601 text columns (``occurred_at`` of the workspace) into GeoPackage ``DATETIME``
    fields, so that QGIS's temporal controller reads them without expressions.

Every file is written atomically (a temporary file renamed over the target).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .._atomic import atomic_path
from .._errors import InputDataError, OutputError
from .._text import slug as _slug

if TYPE_CHECKING:
    import geopandas as gpd
    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    from ..partitions import Partition

#: Layer names of :func:`write_reference_layers`.
PROVINCES: Final = "provincias"
DISTRICTS: Final = "distritos"
STATIONS: Final = "comisarias"
#: Layer names of :func:`write_sector_layers`.
SECTORS: Final = "sectores"
SUBSECTORS: Final = "subsectores"
#: Prefix of the layers of :func:`write_priority_layers`: ``prioridad_<nivel>_<objetivo>``.
PRIORITY_PREFIX: Final = "prioridad"

#: GDAL writes DATETIME fields as ``YYYY-MM-DDTHH:MM:SS.SSSZ`` (UTC), the GeoPackage form
#: every reader accepts without a "non-conformant" warning.
_DATETIME_OPTIONS: Final = {"DATETIME_PRECISION": "MILLISECOND"}


def slug(text: str) -> str:
    """Return a lower-case ASCII name for files and tables: ``"Celendín"`` → ``"celendin"``."""
    return _slug(text, default="capa")


def write_layers(
    path: str | os.PathLike[str],
    layers: Mapping[str, gpd.GeoDataFrame],
    *,
    overwrite: bool = False,
) -> Path:
    """Write several layers (converted to EPSG:4326) into one new GeoPackage, atomically.

    Parameters
    ----------
    path
        The ``.gpkg`` file; its folder is created if missing.
    layers
        Layer name → GeoDataFrame, written in this order.
    overwrite
        Replace an existing file.

    Raises
    ------
    OutputError
        The file exists without ``overwrite``, or writing fails.
    """
    import pyogrio

    target = Path(path)
    with atomic_path(target, overwrite=overwrite) as tmp:
        tmp.unlink()  # the GeoPackage driver creates the file itself
        for name, frame in layers.items():
            data = frame.to_crs("EPSG:4326") if frame.crs is not None else frame
            try:
                pyogrio.write_dataframe(
                    data,
                    tmp,
                    layer=name,
                    driver="GPKG",
                    geometry_type="Unknown" if len(data) == 0 else None,
                    layer_options=_DATETIME_OPTIONS,
                )
            except Exception as exc:
                raise OutputError(
                    f"no se puede escribir la capa {name!r} en {target}: {exc}"
                ) from exc
    return target


def replace_layer(
    path: str | os.PathLike[str],
    layer: str,
    frame: pd.DataFrame,
    *,
    layer_options: Mapping[str, str] | None = None,
) -> Path:
    """Write (create or replace) one layer of an existing GeoPackage, atomically.

    The GeoPackage is copied beside itself, the layer written into the copy, and the copy
    renamed over the original: an error leaves the original untouched.

    Raises
    ------
    OutputError
        The layer cannot be written.
    """
    import pyogrio

    target = Path(path)
    with atomic_path(target, overwrite=True) as tmp:
        shutil.copyfile(target, tmp)
        try:
            pyogrio.write_dataframe(
                frame,
                tmp,
                layer=layer,
                driver="GPKG",
                geometry_type="Unknown" if "geometry" in frame and len(frame) == 0 else None,
                layer_options=dict(layer_options or {}),
            )
        except Exception as exc:
            raise OutputError(f"no se puede escribir la capa {layer!r} en {target}: {exc}") from exc
    return target


def reference_layers(
    *,
    provinces: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    stations: gpd.GeoDataFrame | None = None,
    area: Any = None,
) -> dict[str, gpd.GeoDataFrame]:
    """Return provinces, districts and stations (the bundled ones when not given).

    The bundled ones are those of ``area`` (anything :func:`parsc_geo.area.resolve_area` takes;
    default the Cajamarca region). Station points keep their display name
    (``nombre_mostrado``), type, district, province and staff; boundary layers their UBIGEO and
    names.
    """
    from ..area import resolve_area

    territory = resolve_area(area, quiet=True)
    prov = territory.provinces() if provinces is None else provinces
    dist = territory.districts() if districts is None else districts
    stat = territory.stations() if stations is None else stations
    keep = [
        c
        for c in (
            "nombre_mostrado",
            "nombre",
            "tipo_dependencia",
            "ubigeo",
            "distrito",
            "provincia",
            "efectivos_asignados_total",
        )
        if c in stat.columns
    ]
    return {
        PROVINCES: prov,
        DISTRICTS: dist,
        STATIONS: stat[[*keep, stat.geometry.name]],
    }


def write_reference_layers(
    path: str | os.PathLike[str],
    *,
    provinces: gpd.GeoDataFrame | None = None,
    districts: gpd.GeoDataFrame | None = None,
    stations: gpd.GeoDataFrame | None = None,
    overwrite: bool = False,
    area: Any = None,
) -> Path:
    """Write ``provincias``, ``distritos`` and ``comisarias`` into ``path`` (``limites.gpkg``).

    See :func:`reference_layers` for the defaults (the bundled data of the study area).
    """
    return write_layers(
        path,
        reference_layers(provinces=provinces, districts=districts, stations=stations, area=area),
        overwrite=overwrite,
    )


def sector_layers(
    sectors: gpd.GeoDataFrame,
    incidents: gpd.GeoDataFrame | None = None,
    *,
    counts: npt.ArrayLike | None = None,
) -> dict[str, gpd.GeoDataFrame]:
    """Return ``sectores`` (subsectors dissolved by comisaría and sector) and ``subsectores``.

    Both carry ``n``, the number of incidents inside (every incident, as the atlas counts
    them; 0 without incidents), and are in the natural order of their labels (``SECTOR 2``
    before ``SECTOR 10``). ``counts``: those numbers for the rows of ``sectors``, in their
    order, instead of ``incidents`` (in a distributed run,
    :func:`sector_counts_from_partitions`).

    Raises
    ------
    InputDataError
        When ``sectors`` lacks ``comisaria``, ``sector`` or ``subsector``.
    """
    import numpy as np

    from ..maps.layers import count_in_polygons
    from ..sectors import sort_key

    missing = [c for c in ("comisaria", "sector", "subsector") if c not in sectors.columns]
    if missing:
        raise InputDataError(
            f"la capa de sectores no tiene la(s) columna(s) {', '.join(missing)}",
            hint="léala con parsc_geo.sectors.read_sectors, que reconoce los nombres comunes",
        )
    subs = sectors.to_crs("EPSG:4326").reset_index(drop=True)
    if counts is not None:
        subs["n"] = np.asarray(counts, dtype=int)
    else:
        subs["n"] = (
            count_in_polygons(incidents, subs)
            if incidents is not None
            else np.zeros(len(subs), dtype=int)
        )
    order = sorted(
        range(len(subs)),
        key=lambda i: (
            sort_key(subs.at[i, "comisaria"]),
            sort_key(subs.at[i, "sector"]),
            sort_key(subs.at[i, "subsector"]),
        ),
    )
    subs = subs.iloc[order].reset_index(drop=True)
    by_sector = subs.dissolve(by=["comisaria", "sector"], aggfunc={"n": "sum"}, sort=False)
    by_sector = by_sector.reset_index()[["comisaria", "sector", "n", "geometry"]]
    return {SECTORS: by_sector, SUBSECTORS: subs}


def write_sector_layers(
    sectors: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    incidents: gpd.GeoDataFrame | None = None,
    overwrite: bool = False,
    counts: npt.ArrayLike | None = None,
) -> Path:
    """Write :func:`sector_layers` into ``path`` (``sectores.gpkg``)."""
    return write_layers(path, sector_layers(sectors, incidents, counts=counts), overwrite=overwrite)


def _subsector_shapes(sectors: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return the shapes of ``sectors`` in WGS 84, as :func:`sector_layers` counts in them."""
    import geopandas as gpd

    subs = sectors.to_crs("EPSG:4326")
    return gpd.GeoDataFrame(geometry=subs.geometry.to_numpy(), crs=subs.crs)


def sector_counts_from_partitions(
    sectors: gpd.GeoDataFrame, partitions: Sequence[Partition], *, pool: Any = 1
) -> np.ndarray:
    """Return the number of incidents of ``partitions`` inside each row of ``sectors``.

    How a distributed run counts the incidents of each subsector without holding them
    (issue 17): each task reads the locations of one partition
    (:func:`parsc_geo.partitions.map_partitions`) and counts them in the subsectors' shapes
    (sent with it); this process adds the counts up.

    Parameters
    ----------
    sectors
        The sector layer (one row per subsector).
    partitions
        Partitions (:func:`parsc_geo.partitions.write_partitions`) holding every incident once.
    pool
        A :class:`parsc_geo.parallel.WorkerPool` (or Dask pool), or a number of workers.

    Returns
    -------
    numpy.ndarray
        The ``int`` counts of the rows of ``sectors``, in order, as :func:`sector_layers`
        counts the incidents (:func:`parsc_geo.maps.layers.count_in_polygons` in the shapes
        in WGS 84): its ``counts``, with which it and :func:`write_sector_layers` give what
        they give with the incidents.
    """
    import numpy as np

    from ..maps.layers import count_in_polygons
    from ..partitions import map_partitions

    shapes = _subsector_shapes(sectors)
    total = np.zeros(len(shapes), dtype=int)
    for part in map_partitions(
        count_in_polygons, partitions, pool=pool, columns=(), args=(shapes,)
    ):
        total += part
    return total


#: Columns of each priority layer, in order (before the geometry).
PRIORITY_COLUMNS: Final[tuple[str, ...]] = (
    "codigo",
    "nombre",
    "provincia",
    "distrito",
    "nivel_territorial",
    "objetivo",
    "objetivo_nombre",
    "periodo",
    "n",
    "poblacion",
    "tasa",
    "tasa_eb",
    "participacion",
    "variacion",
    "nivel",
    "nivel_texto",
    "estabilidad_pct",
    "motivo",
)


def priority_layers(table: pd.DataFrame) -> dict[str, gpd.GeoDataFrame]:
    """Return one choropleth layer per territorial level and target of a priority table.

    Parameters
    ----------
    table
        ``PriorityResult.table`` (:data:`parsc_geo.priority.DETAIL_COLUMNS`).

    Returns
    -------
    dict
        ``prioridad_<nivel>_<objetivo>`` → GeoDataFrame with :data:`PRIORITY_COLUMNS`: the unit's
        name as in the boundaries (with accents), its level code (``nivel``: ``ALTA PRIORIDAD``,
        ``PRIORIDAD`` or empty) and Spanish text (``nivel_texto``), the bootstrap stability in
        percent, and the indicators.
    """
    import geopandas as gpd
    import pandas as pd

    from .. import boundaries
    from ..labels_es import PRIORITY_LEVELS as LEVEL_LABELS_ES

    needed = ("nivel_territorial", "objetivo", "codigo", "nivel")
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise InputDataError(
            f"la tabla de prioridad no tiene la(s) columna(s) {', '.join(missing)}",
            hint="pase PriorityResult.table (parsc_geo.priority.compute_priority)",
        )
    # the units ranked in the table, wherever they are
    codes = sorted(set(table["codigo"].astype(str))) or ["-"]
    units = {
        "provincia": boundaries.load_provinces(prefix=codes).rename(
            columns={"ubigeo_prov": "codigo", "provincia": "nombre"}
        )[["codigo", "nombre", "geometry"]],
        "distrito": boundaries.load_districts(prefix=codes).rename(
            columns={"ubigeo": "codigo", "distrito": "nombre"}
        )[["codigo", "nombre", "geometry"]],
    }
    out: dict[str, gpd.GeoDataFrame] = {}
    keys = table[["nivel_territorial", "objetivo"]].drop_duplicates()
    for level, target in keys.itertuples(index=False):
        if level not in units:
            continue
        rows = table[(table["nivel_territorial"] == level) & (table["objetivo"] == target)]
        rows = rows.drop(columns=[c for c in ("nombre", "geometry") if c in rows.columns])
        frame = units[level].merge(rows.astype({"codigo": str}), on="codigo", how="inner")
        frame["nivel"] = frame["nivel"].fillna("").astype(str)
        frame["nivel_texto"] = frame["nivel"].map(lambda v: LEVEL_LABELS_ES.get(v, v))
        if "estabilidad" in frame.columns:
            frame["estabilidad_pct"] = (pd.to_numeric(frame["estabilidad"]) * 100).round(1)
        for column in PRIORITY_COLUMNS:
            if column not in frame.columns:
                frame[column] = None
        layer = gpd.GeoDataFrame(
            frame[[*PRIORITY_COLUMNS, "geometry"]], geometry="geometry", crs=units[level].crs
        )
        out[f"{PRIORITY_PREFIX}_{level}_{slug(str(target))}"] = layer
    return out


def write_priority_layers(
    table: pd.DataFrame, path: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write :func:`priority_layers` into ``path`` (``prioridad/prioridad.gpkg``)."""
    return write_layers(path, priority_layers(table), overwrite=overwrite)


def write_datetime_fields(
    path: str | os.PathLike[str],
    layer: str,
    fields: Sequence[str] = ("occurred_at",),
) -> list[str]:
    """Turn ISO 8601 text columns of a GeoPackage layer into ``DATETIME`` fields, in place.

    The values keep their instant: text with a UTC offset (``2020-03-05T14:30:00-05:00``, the
    workspace's form) is stored in UTC as the GeoPackage standard requires
    (``2020-03-05T19:30:00.000Z``), so QGIS's temporal controller, GDAL and pandas read real
    date-times. The layer is rewritten on a copy of the file that replaces it when complete;
    its other columns, its rows and their order are kept.

    Parameters
    ----------
    path
        The GeoPackage.
    layer
        The layer holding the columns.
    fields
        The columns to convert; columns already of date-time type are left as they are.

    Returns
    -------
    list of str
        The columns converted (empty when there was nothing to do).

    Raises
    ------
    InputDataError
        The layer or a column is missing, or a value is not a date-time.
    OutputError
        The GeoPackage cannot be rewritten.
    """
    import pandas as pd
    import pyogrio

    source = Path(path)
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(source)]
    except Exception as exc:
        raise InputDataError(f"no se puede leer {source}: {exc}") from exc
    if layer not in layers:
        raise InputDataError(
            f"{source.name} no tiene la capa {layer!r} (capas: {', '.join(layers)})",
            hint="indique una capa del GeoPackage",
        )
    info = pyogrio.read_info(source, layer=layer)
    types = dict(zip(info["fields"], info["ogr_types"], strict=True))
    missing = [f for f in fields if f not in types]
    if missing:
        raise InputDataError(
            f"la capa {layer!r} de {source.name} no tiene la(s) columna(s) {', '.join(missing)}",
            hint=f"columnas presentes: {', '.join(types)}",
        )
    text_fields = [f for f in fields if types[f] == "OFTString"]
    if not text_fields:
        return []
    frame = pyogrio.read_dataframe(source, layer=layer)
    for name in text_fields:
        raw = frame[name]
        parsed = pd.to_datetime(raw, utc=True, format="ISO8601", errors="coerce")
        bad = parsed.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
        if bad.any():
            first = raw[bad].iloc[0]
            raise InputDataError(
                f"la columna {name!r} de la capa {layer!r} tiene {int(bad.sum())} valor(es) que "
                f"no son fecha y hora ISO 8601, p. ej. {first!r}",
                hint="corrija esos valores o deje la columna como texto",
            )
        frame[name] = parsed
    replace_layer(source, layer, frame, layer_options=_DATETIME_OPTIONS)
    return text_fields
