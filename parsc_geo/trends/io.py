"""Writers and readers of trend outputs.

The cube and the cell patterns (GeoPackage, CSV), the cube as netCDF, the near-repeat table
and the parameters JSON.

Files written by :func:`write_trends` in the output folder:

``cubo.gpkg`` (layer ``cubo``, a table without geometry) and ``cubo.csv``
    One row per bin: ``cell_id``, ``period_start``, ``period_end``, ``count`` (``value``
    when weighted), ``z``, ``p``, ``p_fdr``, ``significant``, ``gi_class``. Join to
    ``tendencias`` by ``cell_id`` for the geometry.
``tendencias.gpkg`` (layer ``tendencias``) and ``tendencias.csv``
    One row per cell: ``cell_id``, ``patron``, ``pattern``, ``pattern_key``, ``mk_tau``,
    ``mk_p``, ``mk_z``, ``count_tau``, ``count_p``, ``n_hot``, ``n_cold``, ``n_incidents``,
    ``last_z``, the lattice centre ``x``, ``y`` (metric), and the cell polygon (GeoPackage,
    metric CRS) or its centre's ``lon``/``lat`` (CSV).
``tendencias_parametros.json``
    Inputs, every parameter and automatic choice, pattern counts and package versions.
``cubo.nc`` (optional)
    The cube as netCDF (dimensions ``cell`` × ``time``), written with xarray.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .._atomic import atomic_path, write_text_atomic
from .._errors import InputDataError, OutputError

if TYPE_CHECKING:
    import pandas as pd

    from .cube import SpaceTimeCube
    from .emerging import TrendsResult

CUBE_LAYER = "cubo"
TRENDS_LAYER = "tendencias"
CUBE_FILE = "cubo"
TRENDS_FILE = "tendencias"
PARAMETERS_FILE = "tendencias_parametros.json"
NETCDF_FILE = "cubo.nc"
NEAR_REPEAT_FILE = "repeticion.csv"
NEAR_REPEAT_PARAMETERS_FILE = "repeticion_parametros.json"
METADATA_PARAMETERS = "PARSC_GEO_PARAMETERS"
METADATA_SYNTHETIC = "PARSC_GEO_SYNTHETIC"


def trend_paths(folder: str | os.PathLike[str], *, netcdf: bool = False) -> list[Path]:
    """Return the files :func:`write_trends` writes in ``folder``."""
    base = Path(folder)
    names = [
        f"{CUBE_FILE}.gpkg",
        f"{CUBE_FILE}.csv",
        f"{TRENDS_FILE}.gpkg",
        f"{TRENDS_FILE}.csv",
        PARAMETERS_FILE,
    ]
    if netcdf:
        names.append(NETCDF_FILE)
    return [base / name for name in names]


def _write_gpkg(
    frame: Any, path: Path, layer: str, metadata: dict[str, str], overwrite: bool
) -> None:
    import pyogrio

    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.unlink()  # the GeoPackage driver creates the file itself
        try:
            pyogrio.write_dataframe(frame, tmp, layer=layer, driver="GPKG", layer_metadata=metadata)
        except Exception as exc:  # pyogrio raises several unrelated types
            raise OutputError(f"no se puede escribir {path}: {exc}") from exc


def _write_csv(frame: pd.DataFrame, path: Path, overwrite: bool) -> None:
    from ..io.tables import neutralise_frame

    text = neutralise_frame(frame).to_csv(index=False, lineterminator="\n")
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_bytes(text.encode("utf-8-sig"))


def _metadata(parameters: dict[str, Any], synthetic: bool) -> dict[str, str]:
    from ..settings import SYNTHETIC_BANNER

    return {
        METADATA_PARAMETERS: json.dumps(parameters, ensure_ascii=False, default=str),
        METADATA_SYNTHETIC: SYNTHETIC_BANNER if synthetic else "",
    }


def cube_table(result: TrendsResult) -> pd.DataFrame:
    """Return the bins as written to ``cubo`` (dates as midnight timestamps)."""
    return result.bins()


def trends_table(result: TrendsResult) -> Any:
    """Return the cells as written to ``tendencias`` (GeoDataFrame, metric CRS)."""
    return result.cells()


def write_trends(
    result: TrendsResult,
    folder: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    synthetic: bool = False,
    netcdf: bool = False,
    extra: dict[str, Any] | None = None,
) -> list[Path]:
    """Write the cube, the patterns and the parameters of ``result`` into ``folder``.

    Parameters
    ----------
    result
        From :func:`parsc_geo.trends.emerging.emerging_hotspots`.
    folder
        Output folder (created if missing).
    overwrite
        Replace existing files; otherwise an existing output is an error (nothing written).
    synthetic
        Mark the outputs as synthetic (GeoPackage metadata and the JSON).
    netcdf
        Also write ``cubo.nc`` (needs xarray).
    extra
        More entries for the parameters JSON (e.g. the input source, fenómenos).

    Returns
    -------
    list of Path
        The files written, in the order of :func:`trend_paths`.

    Raises
    ------
    OutputError
        A file exists without ``overwrite`` or cannot be written.
    """
    from ..settings import CRS_GEOGRAPHIC, SYNTHETIC_BANNER

    target = Path(folder)
    paths = trend_paths(target, netcdf=netcdf)
    existing = [p for p in paths if p.exists()]
    if existing and not overwrite:
        raise OutputError(
            f"{existing[0]} ya existe", hint="use --overwrite para reemplazar las salidas"
        )
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"no se puede crear la carpeta {target}: {exc.strerror}") from exc
    parameters = {**result.parameters, **(extra or {})}
    metadata = _metadata(parameters, synthetic)
    bins = cube_table(result)
    cube_gpkg, cube_csv, trends_gpkg, trends_csv, params_json = paths[:5]
    _write_gpkg(bins, cube_gpkg, CUBE_LAYER, metadata, overwrite)
    csv_bins = bins.copy()
    for column in ("period_start", "period_end"):
        csv_bins[column] = csv_bins[column].dt.strftime("%Y-%m-%d")
    _write_csv(csv_bins, cube_csv, overwrite)
    cells = trends_table(result)
    _write_gpkg(cells, trends_gpkg, TRENDS_LAYER, metadata, overwrite)
    centres = cells.geometry.representative_point().to_crs(CRS_GEOGRAPHIC)
    csv_cells = cells.drop(columns="geometry")
    csv_cells["lon"] = np.round(centres.x.to_numpy(), 6)
    csv_cells["lat"] = np.round(centres.y.to_numpy(), 6)
    _write_csv(csv_cells, trends_csv, overwrite)
    document = {
        "tool": "parsc-geo trends",
        "synthetic": SYNTHETIC_BANNER if synthetic else None,
        "parameters": parameters,
        "periods": [
            {"start": s.date().isoformat(), "end_exclusive": e.date().isoformat()}
            for s, e in zip(result.cube.starts, result.cube.ends, strict=True)
        ],
        "versions": _versions(),
    }
    write_text_atomic(
        params_json,
        json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n",
        overwrite=overwrite,
    )
    if netcdf:
        write_netcdf(result, paths[5], overwrite=overwrite, synthetic=synthetic)
    return paths


def _versions() -> dict[str, str]:
    from .._provenance import package_versions

    return package_versions()


def write_netcdf(
    result: TrendsResult,
    path: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    synthetic: bool = False,
) -> Path:
    """Write the cube with its Gi* results as netCDF (classic format, xarray + scipy).

    Variables (dimensions ``cell`` × ``time``): ``COUNT``, ``VALUE``, ``GI_Z``, ``GI_P``,
    ``GI_P_FDR``, ``SIGNIFICANT`` (0/1); per cell ``cell_id``, ``x``, ``y`` (metric centres),
    ``lon``, ``lat``, ``PATTERN_CODE`` (ArcGIS order, see
    :data:`parsc_geo.trends.patterns.ARCGIS_PATTERNS`), ``MK_TAU``, ``MK_P``; per period
    ``time`` (start) and ``time_end``. Global attributes: the CRS (WKT) and the parameters.
    """
    import xarray as xr

    from ..settings import CRS_GEOGRAPHIC, SYNTHETIC_BANNER
    from .patterns import pattern_table

    target = Path(path)
    cube = result.cube
    grid = cube.grid
    table = pattern_table(result.parameters["scheme"])
    lonlat = grid.geometry.representative_point().to_crs(CRS_GEOGRAPHIC)
    cell_dim = ("cell",)
    bin_dims = ("cell", "time")
    dataset = xr.Dataset(
        {
            "COUNT": (bin_dims, cube.counts.astype(np.int32)),
            "VALUE": (bin_dims, cube.values.astype(float)),
            "GI_Z": (bin_dims, result.z),
            "GI_P": (bin_dims, result.p),
            "GI_P_FDR": (bin_dims, result.p_fdr),
            "SIGNIFICANT": (bin_dims, result.significant.astype(np.int8)),
            "PATTERN_CODE": (cell_dim, np.array([table[k].code for k in result.pattern_key])),
            "MK_TAU": (cell_dim, result.trend.tau),
            "MK_P": (cell_dim, result.trend.p),
        },
        coords={
            "cell_id": (cell_dim, grid["cell_id"].to_numpy(np.int64)),
            "x": (cell_dim, grid["x"].to_numpy(float)),
            "y": (cell_dim, grid["y"].to_numpy(float)),
            "lon": (cell_dim, lonlat.x.to_numpy()),
            "lat": (cell_dim, lonlat.y.to_numpy()),
            "time": ("time", cube.starts.to_numpy()),
            "time_end": ("time", cube.ends.to_numpy()),
        },
        attrs={
            "title": "Cubo espacio-tiempo de parsc-geo",
            "crs_wkt": grid.crs.to_wkt() if grid.crs is not None else "",
            "parameters": json.dumps(result.parameters, ensure_ascii=False, default=str),
            "synthetic": SYNTHETIC_BANNER if synthetic else "",
            "pattern_codes": json.dumps(
                {str(p.code): p.pattern for p in table.values()}, ensure_ascii=False
            ),
        },
    )
    with atomic_path(target, overwrite=overwrite) as tmp:
        try:
            dataset.to_netcdf(tmp, engine="scipy")
        except Exception as exc:  # xarray and scipy raise several unrelated types
            raise OutputError(f"no se puede escribir {target}: {exc}") from exc
    return target


def read_cube_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read the ``cubo`` layer of a written ``cubo.gpkg`` (or ``cubo.csv``) as a table.

    Raises
    ------
    InputDataError
        The file is missing or is not a trends cube.
    """
    import pandas as pd
    import pyogrio

    source = Path(path)
    if not source.exists():
        raise InputDataError(f"{source}: el archivo no existe", hint="revise la ruta")
    try:
        if source.suffix.lower() == ".csv":
            frame = pd.read_csv(source, encoding="utf-8-sig", parse_dates=["period_start"])
        else:
            frame = pyogrio.read_dataframe(source, layer=CUBE_LAYER, read_geometry=False)
    except Exception as exc:  # pyogrio and pandas raise several unrelated types
        raise InputDataError(f"{source}: no se puede leer el cubo: {exc}") from exc
    missing = {"cell_id", "period_start", "count", "z", "p", "significant"} - set(frame.columns)
    if missing:
        raise InputDataError(
            f"{source}: no es un cubo de tendencias (faltan {', '.join(sorted(missing))})"
        )
    return pd.DataFrame(frame)


def cube_from_table(bins: pd.DataFrame, grid: Any, parameters: dict[str, Any]) -> SpaceTimeCube:
    """Rebuild a :class:`SpaceTimeCube` from a ``cubo`` table and the cells' grid.

    Parameters
    ----------
    bins
        The ``cubo`` table (``cell_id``, ``period_start``, ``period_end``, ``count`` and
        ``value`` when weighted).
    grid
        A grid holding every ``cell_id`` of the table (e.g. ``tendencias`` with the grid's
        ``x``, ``y``, ``row``, ``col`` columns, or the grid from ``make_grid``); its
        ``attrs["parameters"]`` must carry ``cell_size`` and ``shape``.
    parameters
        The cube's parameters (``weights`` decides whether ``value`` is analysed).
    """
    import pandas as pd

    from .cube import SpaceTimeCube

    starts = pd.DatetimeIndex(sorted(pd.to_datetime(bins["period_start"]).unique()))
    ends = pd.DatetimeIndex(
        bins.groupby(pd.to_datetime(bins["period_start"]))["period_end"]
        .first()
        .reindex(starts)
        .pipe(pd.to_datetime)
    )
    cell_ids = np.array(sorted(bins["cell_id"].unique()), dtype=np.int64)
    cells = grid.set_index("cell_id").loc[cell_ids].reset_index()
    cells.attrs["parameters"] = dict(grid.attrs.get("parameters", {}))
    row = np.searchsorted(cell_ids, bins["cell_id"].to_numpy(np.int64))
    col = np.searchsorted(starts.to_numpy(), pd.to_datetime(bins["period_start"]).to_numpy())
    counts = np.zeros((len(cell_ids), len(starts)), dtype=np.int64)
    counts[row, col] = bins["count"].to_numpy(np.int64)
    values = counts.astype(float)
    if parameters.get("weights") and "value" in bins.columns:
        values = np.zeros((len(cell_ids), len(starts)))
        values[row, col] = bins["value"].to_numpy(float)
    return SpaceTimeCube(
        grid=cells,
        starts=starts,
        ends=ends,
        values=values,
        counts=counts,
        parameters=dict(parameters),
    )


def write_near_repeat(
    table: pd.DataFrame,
    folder: str | os.PathLike[str],
    *,
    interpretation: str,
    overwrite: bool = False,
    synthetic: bool = False,
    extra: dict[str, Any] | None = None,
) -> list[Path]:
    """Write ``repeticion.csv`` and ``repeticion_parametros.json`` (with the interpretation).

    Raises
    ------
    OutputError
        A file exists without ``overwrite`` or cannot be written.
    """
    from ..settings import SYNTHETIC_BANNER
    from .near_repeat import COLUMNS

    target = Path(folder)
    paths = [target / NEAR_REPEAT_FILE, target / NEAR_REPEAT_PARAMETERS_FILE]
    existing = [p for p in paths if p.exists()]
    if existing and not overwrite:
        raise OutputError(
            f"{existing[0]} ya existe", hint="use --overwrite para reemplazar las salidas"
        )
    try:
        target.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"no se puede crear la carpeta {target}: {exc.strerror}") from exc
    _write_csv(table[list(COLUMNS)], paths[0], overwrite)
    document = {
        "tool": "parsc-geo near-repeat",
        "synthetic": SYNTHETIC_BANNER if synthetic else None,
        "interpretation_es": interpretation,
        "parameters": {**table.attrs.get("parameters", {}), **(extra or {})},
        "versions": _versions(),
    }
    write_text_atomic(
        paths[1],
        json.dumps(document, ensure_ascii=False, indent=2, default=str) + "\n",
        overwrite=overwrite,
    )
    return paths
