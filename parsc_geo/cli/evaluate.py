"""``parsc-geo evaluate``: score hotspot methods as forecasts of the incidents after a date."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from .._text import num
from . import localized
from .options import (
    CRSText,
    InputFile,
    cell_size_option,
    is_quiet,
    output_dir_option,
    overwrite_option,
    point_columns_options,
    seed_option,
)

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd


def _parse_list(text: str, what: str) -> list[str]:
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise click.BadParameter(f"se esperaba una lista separada por comas de {what}")
    return items


def _parse_coverages(ctx: click.Context, param: click.Parameter, value: str) -> tuple[float, ...]:
    """Turn ``--coverage 1,5`` (percent) into fractions."""
    out = []
    for item in _parse_list(value, "porcentajes"):
        try:
            pct = float(item.removesuffix("%"))
        except ValueError:
            raise click.BadParameter(f"porcentaje no numérico: {item!r}") from None
        if not 0 < pct <= 100:
            raise click.BadParameter(f"el porcentaje debe estar entre 0 y 100; se recibió {item}")
        out.append(pct / 100.0)
    return tuple(out)


def _parse_rolling(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[str, str, str] | None:
    if value is None:
        return None
    parts = _parse_list(value, "ventanas")
    if len(parts) != 3:
        raise click.BadParameter(
            f"se esperaban tres ventanas ENTRENAMIENTO,PRUEBA,PASO (p. ej. 12M,1M,1M); "
            f"se recibió {value!r}"
        )
    return parts[0], parts[1], parts[2]


#: Month-first formats tried for dates the Peruvian (day-first) reading cannot take.
_GENERAL_FORMATS: tuple[str, ...] = (
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
)


def _general_times(values: pd.Series) -> pd.Series:
    """Parse dates with pandas: the best of a guessed and a few month-first formats, else each."""
    import numpy as np
    import pandas as pd
    from pandas.tseries.api import guess_datetime_format

    from ..settings import TIMEZONE

    codes, uniques = pd.factorize(values.astype(str), use_na_sentinel=True)
    texts = pd.Series(uniques, dtype=object)
    formats = list(_GENERAL_FORMATS)
    guess = guess_datetime_format(str(texts.iloc[0])) if len(texts) else None
    if guess:
        formats.insert(0, guess)
    best: pd.Series | None = None
    for fmt in formats:
        try:
            parsed = pd.to_datetime(texts, format=fmt, errors="coerce")
        except (ValueError, TypeError):  # mixed offsets in one column
            continue
        if best is None or parsed.notna().sum() > best.notna().sum():
            best = parsed
        if best.notna().all():
            break
    if best is None or best.notna().mean() < 0.99:
        stamps: list[Any] = []
        for text in texts:
            try:
                stamps.append(pd.Timestamp(text))
            except (ValueError, TypeError):
                stamps.append(pd.NaT)
        best = pd.Series(
            [
                s.tz_convert("UTC").tz_localize(None) if s is not pd.NaT and s.tzinfo else s
                for s in stamps
            ]
        )
        aware = [s is not pd.NaT and s.tzinfo is not None for s in stamps]
        local = pd.to_datetime(best, errors="coerce")
        local = local.dt.tz_localize(TIMEZONE, ambiguous="NaT", nonexistent="NaT")
        utc = pd.to_datetime(best, errors="coerce").dt.tz_localize("UTC").dt.tz_convert(TIMEZONE)
        table = local.where(~pd.Series(aware), utc)
    elif getattr(best.dt, "tz", None) is not None:
        table = best.dt.tz_convert(TIMEZONE)
    else:
        table = best.dt.tz_localize(TIMEZONE, ambiguous="NaT", nonexistent="NaT")
    out = table.take(np.maximum(codes, 0)).reset_index(drop=True)
    return out.where(pd.Series(codes >= 0))


def _parse_times(values: pd.Series) -> tuple[pd.Series, str]:
    """Parse a date column: Peruvian conventions first, else pandas' (month first); say which."""
    from ..io.dates import parse_occurrence

    local = parse_occurrence(date=None, time=None, datetime_=values, n=len(values)).occurred_at
    present = values.notna().to_numpy() & (values.astype(str).str.strip() != "").to_numpy()
    failed = int((local.isna().to_numpy() & present).sum())
    peruvian = "día primero (convención peruana) o ISO"
    if failed == 0:
        return local, peruvian
    other = _general_times(values.reset_index(drop=True))
    if int(other.notna().sum()) > int(local.notna().sum()):
        return other, "formato general (mes primero si es ambiguo)"
    return local, peruvian


def read_points(
    paths: tuple[Path, ...],
    *,
    input_crs: str,
    lon_col: str | None,
    lat_col: str | None,
    date_col: str | None,
) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Read incident points with an ``occurred_at`` column from any incident files.

    Files are read by the project's readers (:func:`parsc_geo.io.readers.read_incident_file`:
    CSV, XLSX, GeoJSON, GeoPackage, Shapefile, KML/KMZ). Tables need longitude/latitude columns
    (recognised by name, or given) in ``input_crs``. Unlike :func:`parsc_geo.io.read_points`,
    rows without usable coordinates, or at (0, 0), are dropped and counted rather than refused:
    exports of other cities carry them. The date column is ``date_col``, else a recognised date
    column (``FECHA``, ``DATE``…), else the first column whose name contains FECHA or DATE.
    Every other column is kept as it is.

    Raises
    ------
    InputDataError
        A file missing or unreadable, or without coordinates or dates.
    """
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from .._errors import ConfigError, InputDataError
    from ..io.columns import fold_name, recognise_columns
    from ..io.coords import parse_numbers
    from ..io.readers import read_incident_file

    frames: list[gpd.GeoDataFrame] = []
    info: dict[str, Any] = {"files": [str(p) for p in paths], "dropped_no_coordinates": 0}
    for path in paths:
        raw = read_incident_file(path)
        df = raw.data.reset_index(drop=True)
        if raw.geom_x is not None and raw.geom_y is not None:
            lon, lat, crs = raw.geom_x, raw.geom_y, raw.crs or input_crs
        else:
            mapping = {k: v for k, v in (("lon", lon_col), ("lat", lat_col)) if v}
            found = recognise_columns(df.columns, mapping, source=path.name)
            if "lon" not in found or "lat" not in found:
                raise ConfigError(
                    f"{path.name}: no se reconocieron columnas de longitud/latitud "
                    f"(columnas: {', '.join(map(str, df.columns))})",
                    hint="indíquelas con --lon-col y --lat-col",
                )
            lon, _ = parse_numbers(df[found["lon"]])
            lat, _ = parse_numbers(df[found["lat"]])
            crs = input_crs
        ok = np.isfinite(lon) & np.isfinite(lat) & ~((lon == 0) & (lat == 0))
        info["dropped_no_coordinates"] += int((~ok).sum())
        gdf = gpd.GeoDataFrame(
            df.loc[ok].reset_index(drop=True),
            geometry=gpd.points_from_xy(lon[ok], lat[ok]),
            crs=crs,
        )
        column = date_col
        if column is None:
            names = recognise_columns(list(df.columns), {})
            column = names.get("datetime") or names.get("date")
        if column is None:
            column = next(
                (c for c in df.columns if "FECHA" in fold_name(c) or "DATE" in fold_name(c)),
                None,
            )
        if column is None or column not in gdf.columns:
            raise InputDataError(
                f"{path.name}: no se encontró la columna de fecha"
                + (f" {date_col!r}" if date_col else ""),
                hint="indíquela con --date-col (p. ej. --date-col occurrencedate)",
            )
        times, convention = _parse_times(gdf[column].reset_index(drop=True))
        gdf["occurred_at"] = times
        info.setdefault("date_columns", {})[path.name] = {
            "column": str(column),
            "convention": convention,
            "unparsed": int(times.isna().sum()),
        }
        frames.append(gdf.to_crs(frames[0].crs) if frames else gdf)
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)
    out.attrs["synthetic"] = any("sintetico" in p.name.lower() for p in paths)
    return out, info


@localized.command(
    "evaluate",
    epilog="""\b
Examples:
  parsc-geo evaluate incidentes.geojson --split 2021-01-01 -o evaluacion/
  parsc-geo evaluate train.csv test.csv --date-col occurrencedate --split 2021-01-01 \\
      --train-start 2020-01-01 --test-end 2022-01-01 --coverage 1,5 -o evaluacion/
  parsc-geo evaluate denuncias.csv --split 2024-01-01 --methods auto,counts,kde,hdbscan \\
      --cell-size 150 --rolling 12M,1M,1M -o evaluacion/
  parsc-geo evaluate puntos.csv --input-crs EPSG:32717 --lon-col ESTE --lat-col NORTE \\
      --split 2023-07-01 -o evaluacion/
""",
)
@localized.argument("inputs", metavar="INPUT...", nargs=-1, required=True, type=InputFile())
@localized.option("--split", required=True, help="First day of the test period (YYYY-MM-DD).")
@localized.option(
    "--train-start", help="First day of the training period [default: first incident]."
)
@localized.option(
    "--test-end", help="Day after the test period [default: day after the last incident]."
)
@localized.option(
    "--coverage",
    "coverages",
    default="1,5",
    show_default=True,
    callback=_parse_coverages,
    help="Percentages of the study area to select, comma-separated.",
)
@localized.option(
    "--methods",
    default="auto,counts,counts_last,kde,gistar",
    show_default=True,
    help="Methods, comma-separated: auto, counts, counts_last, kde, gistar, hdbscan, dbscan or "
    "a candidate (kde_150, blend_300_0.2, tiebreak_800, pkde_150_30d…).",
)
@cell_size_option(help="Cell side in metres [default: 100, larger for very large areas].")
@point_columns_options
@localized.option(
    "--crs", type=CRSText(), help="Metric CRS of the analysis [default: the data's UTM zone]."
)
@localized.option("--date-col", help="Date column [default: recognised by name].")
@localized.option("--category-col", help="Column of crime categories, to filter with --category.")
@localized.option(
    "--category", "categories", multiple=True, help="Keep only this category (repeatable)."
)
@localized.option(
    "--area",
    "area_path",
    type=InputFile(),
    help="Study area polygons [default: convex hull of the training incidents].",
)
@localized.option(
    "--rolling",
    callback=_parse_rolling,
    metavar="TRAIN,TEST,STEP",
    help="Rolling-origin folds from --split to --test-end, e.g. 12M,1M,1M (D, W, M, Y).",
)
@localized.option(
    "--bootstrap",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    help="Bootstrap replicates over test incidents (0: none).",
)
@seed_option()
@localized.option("--no-offsets", is_flag=True, help="Skip the grid-offset sensitivity.")
@output_dir_option(Path("evaluacion"), help="Output folder.")
@overwrite_option
@click.pass_context
def command(
    ctx: click.Context,
    inputs: tuple[Path, ...],
    split: str,
    train_start: str | None,
    test_end: str | None,
    coverages: tuple[float, ...],
    methods: str,
    cell_size: float | None,
    input_crs: str,
    crs: str | None,
    lon_col: str | None,
    lat_col: str | None,
    date_col: str | None,
    category_col: str | None,
    categories: tuple[str, ...],
    area_path: Path | None,
    rolling: tuple[str, str, str] | None,
    bootstrap: int,
    seed: int | None,
    no_offsets: bool,
    output: Path,
    overwrite: bool,
) -> None:
    """Evaluate hotspot methods as forecasts: fit before --split, count what they capture after.

    Every method selects the best cells of one grid at each coverage of the study area and is
    scored on the incidents of the test period (hit rate, PAI, PEI*, RRI), beside the naive
    baselines (training-period counts and last-period counts), with bootstrap intervals and
    the sensitivity to the grid's origin. Writes OUTPUT/evaluacion.json, evaluacion.csv,
    curvas_tasa_acierto.png and seleccion/<method>_<coverage>pct.geojson.
    """
    import geopandas as gpd

    from .._errors import ConfigError, InputDataError
    from ..evaluation.forecast import evaluate_forecast
    from ..evaluation.methods import check_methods
    from ..evaluation.report import write_evaluation
    from ..settings import SEED

    quiet = is_quiet(ctx)
    names = check_methods(_parse_list(methods, "métodos"))
    incidents, info = read_points(
        inputs, input_crs=input_crs, lon_col=lon_col, lat_col=lat_col, date_col=date_col
    )
    if categories and not category_col:
        raise ConfigError("--category requiere --category-col", hint="p. ej. --category-col MCI")
    if category_col is not None:
        if category_col not in incidents.columns:
            raise InputDataError(
                f"la columna de categorías {category_col!r} no está en los datos",
                hint="columnas: " + ", ".join(map(str, incidents.columns[:30])),
            )
        if categories:
            incidents = incidents[incidents[category_col].astype(str).isin(categories)]
        info["categories"] = {
            str(k): int(v) for k, v in incidents[category_col].value_counts().head(30).items()
        }
    area = None
    if area_path is not None:
        try:
            area = gpd.read_file(area_path)
        except Exception as exc:  # pyogrio raises several unrelated types
            raise InputDataError(f"--area {area_path}: no se puede leer: {exc}") from exc
        if area.crs is None:
            raise InputDataError(f"--area {area_path}: el archivo no tiene SRC")
    if info["dropped_no_coordinates"] and not quiet:
        click.echo(
            f"{num(info['dropped_no_coordinates'])} filas sin coordenadas (o en 0, 0) omitidas",
            err=True,
        )
    evaluation = evaluate_forecast(
        incidents,
        split=split,
        train_start=train_start,
        test_end=test_end,
        coverages=coverages,
        methods=names,
        cell_size=cell_size,
        crs=crs,
        area=area,
        bootstrap=bootstrap,
        offsets=not no_offsets,
        rolling=rolling,
        seed=SEED if seed is None else seed,
        quiet=quiet,
    )
    evaluation.parameters["input"] = info
    synthetic = bool(incidents.attrs.get("synthetic", False))
    paths = write_evaluation(evaluation, output, overwrite=overwrite, synthetic=synthetic)
    params = evaluation.parameters
    click.echo(
        f"Entrenamiento {params['train_start']} – {params['split']} ({num(params['n_train'])} "
        f"incidentes), prueba hasta {params['test_end']} ({num(params['n_test'])}); celdas de "
        f"{num(params['cell_size_m'])} m, área de estudio {num(params['study_area_km2'], 1)} km²."
    )
    click.echo(
        f"{'método':<16} {'área':>6} {'acierto':>8} {'PAI':>7} {'PEI*':>6} {'vs conteos':>11}"
    )
    for row in evaluation.rows():
        ratio = row["ratio_to_counts"]
        click.echo(
            f"{row['method']:<16} {row['coverage_pct']:>5g}% {100 * (row['hit_rate'] or 0):>7.1f}%"
            f" {row['pai'] or 0:>7.2f} {row['pei_star'] or 0:>6.3f}"
            f" {'' if ratio is None else f'{100 * ratio:.1f}%':>11}"
        )
    auto = evaluation.methods.get("auto", {}).get("info", {}).get("auto")
    if auto is not None:
        click.echo(f"auto eligió: {auto['chosen_label']}")
    click.echo(f"Escritos {num(len(paths))} archivos en {output}/")
