"""Incident ingestion: read → canonical schema → validate → quarantine, every row accounted for.

Each input row ends either in the accepted incidents (canonical schema of
:mod:`parsc_geo.schema`, EPSG:4326 points) or in the quarantine table
(:data:`parsc_geo.schema.QUARANTINE_COLUMNS`) with exactly one reason code, so that
``rows_read == rows_accepted + rows_quarantined`` for every file and in total.

Reason codes (checked in this order; the first that applies is reported)
-----------------------------------------------------------------------
``malformed_row``
    A CSV line with more fields than the header.
``missing_coordinates``
    No coordinate in the row (empty cells, empty geometry).
``unparseable_coordinates``
    Coordinates that are not numbers, or in no recognisable system.
``not_a_point``
    A geometry that is not a point (line, polygon, several points).
``null_island``
    Both coordinates zero — a placeholder, not a place.
``outside_study_area``
    Outside the study area, also after trying latitude and longitude swapped.
``missing_date`` / ``unparseable_date``
    The date column is empty, or holds text that is not a date.
``date_out_of_range``
    A date before ``min_date`` (typing errors such as 1923) or in the future.
``duplicate_id``
    The same ``incident_id`` seen before in this import.
``duplicate_place_time_type``
    Same place (to 0.1 m), time and modalidad as an earlier row, where the time is known.

Flags (kept rows)
-----------------
``latlon_swapped`` (fixed: swapping put the point inside the study area), ``utm_converted``,
``station_stack`` (stacked on a police station: ``at_station`` is True and hotspot methods
exclude the row by default), ``time_unparsed`` (hour cell unreadable: the date is kept and
``time_known`` is False), and ``nearest_district`` (added by the assignment).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import ConfigError, InputDataError
from ._fast import flags_to_text, hex64
from .schema import INCIDENT_COLUMNS, QUARANTINE_COLUMNS
from .settings import STATION_STACK_MIN_COUNT, STATION_STACK_RADIUS_M, TIMEZONE

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    import geopandas as gpd
    import numpy as np
    import pandas as pd
    from shapely.geometry.base import BaseGeometry

    from .io import RawTable

#: Reason codes in the order they are checked.
REASONS: tuple[str, ...] = (
    "malformed_row",
    "missing_coordinates",
    "unparseable_coordinates",
    "not_a_point",
    "null_island",
    "outside_study_area",
    "missing_date",
    "unparseable_date",
    "date_out_of_range",
    "duplicate_id",
    "duplicate_place_time_type",
)
#: Flags set by the ingestion (bit order of the internal mask).
_FLAG_CODES: tuple[str, ...] = ("latlon_swapped", "utm_converted", "station_stack", "time_unparsed")
_BIT = {code: 1 << i for i, code in enumerate(_FLAG_CODES)}
#: Flags that mean the row was corrected (counted in ``rows_fixed``).
FIX_FLAGS: tuple[str, ...] = ("latlon_swapped",)

_HINTS = {
    "malformed_row": "la fila tiene más campos que la cabecera: revise separadores y comillas",
    "missing_coordinates": "complete la ubicación o geocodifique la dirección",
    "unparseable_coordinates": "use grados decimales (-7.1634) o UTM con zona (--columns "
    "easting=ESTE,northing=NORTE y utm_zone en la configuración)",
    "not_a_point": "convierta la geometría a un punto (p. ej. el centroide) antes de importar",
    "null_island": "0,0 es un valor de relleno: complete la ubicación real",
    "outside_study_area": "revise el signo de las coordenadas o amplíe el área de estudio "
    "(study_area en la configuración)",
    "missing_date": "complete la fecha del hecho",
    "unparseable_date": "use día/mes/año (05/03/2020) o año-mes-día (2020-03-05)",
    "date_out_of_range": "revise el año (error de digitación) o ajuste min_date",
    "duplicate_id": "el mismo identificador ya apareció antes en esta importación",
    "duplicate_place_time_type": "misma ubicación, hora y modalidad que una fila anterior",
}
_EXPLAIN = {
    "malformed_row": "fila mal formada",
    "missing_coordinates": "sin coordenadas",
    "unparseable_coordinates": "coordenadas ilegibles",
    "not_a_point": "la geometría no es un punto",
    "null_island": "coordenadas 0,0",
    "outside_study_area": "fuera del área de estudio",
    "missing_date": "sin fecha",
    "unparseable_date": "fecha ilegible",
    "date_out_of_range": "fecha fuera de rango",
    "duplicate_id": "identificador duplicado",
    "duplicate_place_time_type": "duplicado exacto",
}


@dataclass
class IngestOptions:
    """Settings of an ingestion (all have working defaults).

    Attributes
    ----------
    columns
        Explicit ``field → column`` mapping (see :mod:`parsc_geo.io.columns`).
    utm_zone
        Zone of easting/northing columns without a zone column (``"17S"``, ``"18S"``, ``"19S"``).
    study_area
        None (Cajamarca region), a UBIGEO prefix, a polygon file or a shapely polygon.
    harm_rule, harm_overrides
        See :func:`parsc_geo.taxonomy.harm_weights`.
    min_date
        Earliest plausible occurrence date (ISO); earlier dates are quarantined.
    encoding, delimiter, sheet, layer
        Reader options (detected or first when None).
    station_stack_radius_m, station_stack_min_count
        Station-stacking rule (see :func:`parsc_geo.ingest_checks.station_stack`).
    progress
        Show progress bars on stderr.
    """

    columns: dict[str, str] = field(default_factory=dict)
    utm_zone: str = "17S"
    study_area: Any = None
    harm_rule: str | None = None
    harm_overrides: dict[tuple[str, str], float] | None = None
    min_date: str = "2000-01-01"
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | int | None = None
    layer: str | None = None
    station_stack_radius_m: float = STATION_STACK_RADIUS_M
    station_stack_min_count: int = STATION_STACK_MIN_COUNT
    progress: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **overrides: Any) -> IngestOptions:
        """Build options from a config mapping (see :func:`ingest_checks.read_config`)."""
        from .io.columns import check_mapping

        known = {f for f in cls.__dataclass_fields__ if f not in ("harm_overrides", "progress")}
        values: dict[str, Any] = {}
        for key, value in config.items():
            if key == "harm":
                if not isinstance(value, dict):
                    raise ConfigError(
                        "la clave 'harm' de la configuración debe ser una tabla "
                        "ESPECIFICO|MODALIDAD = peso"
                    )
                parsed: dict[tuple[str, str], float] = {}
                for k, w in value.items():
                    if "|" not in k:
                        raise ConfigError(
                            f"la clave de harm {k!r} debe tener la forma 'ESPECIFICO|MODALIDAD'",
                            hint='p. ej. "HURTO|SIMPLE" = 365',
                        )
                    esp, mod = (p.strip() for p in k.split("|", 1))
                    parsed[(esp, mod)] = w
                values["harm_overrides"] = parsed
            elif key in known:
                values[key] = value
            else:
                raise ConfigError(
                    f"opción de importación desconocida {key!r}",
                    hint="opciones conocidas: " + ", ".join(sorted(known | {"harm"})),
                )
        if "columns" in values:
            if not isinstance(values["columns"], dict):
                raise ConfigError(
                    "la clave 'columns' de la configuración debe ser una tabla campo = COLUMNA"
                )
            check_mapping(values["columns"])
        for key, value in overrides.items():
            if value is None:
                continue
            if key == "columns":
                values["columns"] = {**values.get("columns", {}), **value}
            else:
                values[key] = value
        return cls(**values)

    def describe(self) -> dict[str, Any]:
        """Return the options as JSON-serialisable parameters."""
        area = self.study_area
        return {
            "columns": dict(self.columns),
            "utm_zone": self.utm_zone,
            "study_area": "Cajamarca (13 provincias)" if area is None else str(area)[:200],
            "harm_rule": self.harm_rule or "min_days",
            "harm_overrides": {f"{e}|{m}": w for (e, m), w in (self.harm_overrides or {}).items()},
            "min_date": self.min_date,
            "timezone": TIMEZONE,
            "station_stack_radius_m": self.station_stack_radius_m,
            "station_stack_min_count": self.station_stack_min_count,
        }


@dataclass
class IngestResult:
    """Outcome of :func:`ingest_files`.

    Attributes
    ----------
    accepted
        Accepted incidents (canonical schema, plus assignment columns when assigned).
    quarantine
        Rejected rows, :data:`parsc_geo.schema.QUARANTINE_COLUMNS`.
    report
        Per-file and total counts (see :func:`build_report`).
    sources
        One dict per file (``source``, ``path``, ``sha256``, counts) for
        :meth:`parsc_geo.store.Workspace.import_incidents`.
    """

    accepted: gpd.GeoDataFrame
    quarantine: pd.DataFrame
    report: dict[str, Any]
    sources: list[dict[str, Any]]


@dataclass
class _Prepared:
    """One file after per-row checks, before cross-row checks (duplicates, stacking)."""

    raw: RawTable
    path: Path
    frame: pd.DataFrame
    lon: np.ndarray
    lat: np.ndarray
    reason: np.ndarray
    field: np.ndarray
    value: np.ndarray
    columns: dict[str, str]
    warnings: list[str]


def _text(series: pd.Series) -> pd.Series:
    from ._fast import clean_text

    return clean_text(series)


def _content_ids(df: pd.DataFrame) -> pd.Series:
    """Stable id from a row's content (not its file name or position): ``h`` + 16 hex digits.

    The cells are hashed as text, columns in sorted name order, with the pandas row hash
    (SipHash-2-4 with a fixed key), so the same row gives the same id in every file and run.
    """
    import pandas as pd

    cols = sorted(df.columns, key=str)
    if not cols:
        return pd.Series([], dtype=object)
    text = df[cols].astype(str)
    text.columns = [str(c) for c in cols]
    hashes = pd.util.hash_pandas_object(text, index=False, categorize=True)
    return pd.Series("h" + hex64(hashes.to_numpy()), index=df.index, dtype=object)


def _short_hash(df: pd.DataFrame) -> pd.Series:
    import pandas as pd

    h = pd.util.hash_pandas_object(df.astype(str), index=False, categorize=True)
    return pd.Series(hex64(h.to_numpy()), index=df.index, dtype=object).str.slice(0, 8)


def _pair_text(df: pd.DataFrame, a: str, b: str, mask: np.ndarray) -> np.ndarray:
    sub = df.loc[mask, [a, b]].astype(str)
    return (sub[a].str.strip() + " / " + sub[b].str.strip()).to_numpy(dtype=object)


def _coordinates(
    raw: RawTable, df: pd.DataFrame, cols: dict[str, str], opts: IngestOptions
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return lon, lat, status, field, value and utm flag arrays for every row."""
    import numpy as np

    from .io.coords import (
        classify_pairs,
        parse_numbers,
        parse_utm_zone,
        to_lonlat,
        utm_to_lonlat,
    )

    n = len(df)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    status = np.full(n, "", dtype=object)
    fld = np.full(n, "", dtype=object)
    val = np.full(n, "", dtype=object)
    utm_flag = np.zeros(n, dtype=bool)
    has_any = np.zeros(n, dtype=bool)
    sources = 0

    def _place(mask: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
        take = mask & np.isnan(lon)
        lon[take], lat[take] = x[take], y[take]

    def _by_kind(x: np.ndarray, y: np.ndarray, zone: np.ndarray, south: np.ndarray) -> None:
        kinds = classify_pairs(x, y)
        _place(kinds.degrees, x, y)
        if kinds.utm.any():
            ux, uy = utm_to_lonlat(x, y, zone, south)
            _place(kinds.utm, ux, uy)
            utm_flag[kinds.utm & np.isfinite(ux)] = True
        if kinds.utm_swapped.any():
            ux, uy = utm_to_lonlat(y, x, zone, south)
            _place(kinds.utm_swapped, ux, uy)
            utm_flag[kinds.utm_swapped & np.isfinite(ux)] = True
        if kinds.mercator.any():
            mx, my = to_lonlat(x, y, "EPSG:3857")
            _place(kinds.mercator, mx, my)

    zone_col = df[cols["utm_zone"]] if "utm_zone" in cols else None
    zone, south = parse_utm_zone(zone_col, opts.utm_zone, n)

    if raw.geom_x is not None and raw.geom_y is not None:
        sources += 1
        gx, gy = raw.geom_x, raw.geom_y
        good = np.isfinite(gx) & np.isfinite(gy)
        has_any |= good
        if raw.crs and good.any():
            from pyproj import CRS

            crs = CRS.from_user_input(raw.crs)
            if crs.is_geographic:
                _by_kind(gx, gy, zone, south)
            else:
                x, y = to_lonlat(gx, gy, raw.crs)
                _place(good, np.asarray(x), np.asarray(y))
        elif good.any():
            _by_kind(gx, gy, zone, south)
    if "lat" in cols and "lon" in cols:
        sources += 1
        a, a_missing = parse_numbers(df[cols["lat"]])
        b, b_missing = parse_numbers(df[cols["lon"]])
        has_any |= ~(a_missing & b_missing)
        _by_kind(b, a, zone, south)
        bad = np.isnan(lon) & ~(a_missing & b_missing) & (status == "")
        status[bad] = "unparseable_coordinates"
        fld[bad] = f"{cols['lat']}/{cols['lon']}"
        val[bad] = _pair_text(df, cols["lat"], cols["lon"], bad)
    if "easting" in cols and "northing" in cols:
        sources += 1
        e, e_missing = parse_numbers(df[cols["easting"]])
        nn, n_missing = parse_numbers(df[cols["northing"]])
        has_any |= ~(e_missing & n_missing)
        need = np.isnan(lon) & np.isfinite(e) & np.isfinite(nn)
        if need.any():
            ux, uy = utm_to_lonlat(e, nn, zone, south)
            ok = need & np.isfinite(ux) & (zone > 0)
            _place(ok, ux, uy)
            utm_flag |= ok
        bad = np.isnan(lon) & ~(e_missing & n_missing)
        status[bad] = "unparseable_coordinates"
        fld[bad] = f"{cols['easting']}/{cols['northing']}"
        val[bad] = _pair_text(df, cols["easting"], cols["northing"], bad)
    if sources == 0:
        raise InputDataError(
            f"{raw.source}: no se encontraron coordenadas (se buscó LATITUD/LONGITUD, LAT/LON, "
            "Y/X, lat_hecho/long_hecho, ESTE/NORTE y geometrías de puntos); columnas del archivo: "
            + ", ".join(map(str, df.columns)),
            hint="indique las columnas de coordenadas con --columns lat=COL,lon=COL "
            "(o easting=COL,northing=COL para UTM)",
        )
    if raw.geom_problem is not None:
        not_point = np.isnan(lon) & (raw.geom_problem != "") & (raw.geom_problem != "empty")
        status[not_point & (status == "")] = "not_a_point"
        fld[not_point] = "geometry"
        val[not_point] = raw.geom_problem[not_point]
    missing = np.isnan(lon) & ~has_any & (status == "")
    status[missing] = "missing_coordinates"
    fld[missing] = "coordenadas"
    leftover = np.isnan(lon) & (status == "")
    status[leftover] = "unparseable_coordinates"
    fld[leftover] = np.where(fld[leftover] == "", "geometry", fld[leftover])
    zero = (status == "") & (np.abs(lon) < 1e-9) & (np.abs(lat) < 1e-9)
    status[zero] = "null_island"
    fld[zero] = "coordenadas"
    val[zero] = "0 / 0"
    return lon, lat, status, fld, val, utm_flag


def _join_parts(parts: list[pd.Series]) -> pd.Series:
    """Join label levels with " / ", skipping empty ones, once per distinct combination."""
    import numpy as np
    import pandas as pd

    codes = [pd.factorize(p, use_na_sentinel=False) for p in parts]
    combined = np.zeros(len(parts[0]), dtype=np.int64)
    for c, u in codes:
        # re-factorise after each step so the combined code stays below the row count
        combined = pd.factorize(combined * (len(u) + 1) + c)[0].astype(np.int64)
    _, first, inverse = np.unique(combined, return_index=True, return_inverse=True)
    texts = [
        " / ".join(str(p.iloc[i]) for p in parts if str(p.iloc[i]).strip()) for i in first.tolist()
    ]
    return pd.Series(np.array(texts, dtype=object)[inverse.ravel()], index=parts[0].index)


def _labels(
    df: pd.DataFrame, cols: dict[str, str], raw: RawTable, opts: IngestOptions
) -> tuple[pd.DataFrame, pd.Series, list[str]]:
    """Normalise crime labels; KML placemark names and folders are fallbacks."""
    from .taxonomy import normalise_labels

    warnings: list[str] = []
    get = {
        k: _text(df[cols[k]]) for k in ("label", "generico", "especifico", "modalidad") if k in cols
    }
    label = get.get("label")
    esp = get.get("especifico")
    if label is not None and esp is None and "modalidad" in get:
        esp, label = label, None
    fallbacks = []
    if raw.kind == "kml":
        fallbacks = [_text(df[c]) for c in ("NAME", "FOLDER") if c in df.columns]
        if "FOLDER_PATH" in df.columns:
            # outer folders ("HURTOS / Marzo"): tried after the innermost one
            levels = _text(df["FOLDER_PATH"]).str.split(" / ")
            depth = int(levels.map(len).max()) if len(levels) else 0
            for k in range(2, depth + 1):
                fallbacks.append(levels.map(lambda v, k=k: v[-k] if len(v) >= k else ""))
    parts = [s for s in (get.get("generico"), esp, get.get("modalidad"), label) if s is not None]

    def norm(
        lab: pd.Series | None,
        gen: pd.Series | None = None,
        esp_: pd.Series | None = None,
        mod: pd.Series | None = None,
    ) -> pd.DataFrame:
        return normalise_labels(
            lab,
            generico=gen,
            especifico=esp_,
            modalidad=mod,
            harm_rule=opts.harm_rule,
            harm_overrides=opts.harm_overrides,
        )

    if parts:
        result = norm(label, get.get("generico"), esp, get.get("modalidad"))
        label_raw = parts[0] if len(parts) == 1 else _join_parts(parts)
    elif fallbacks:
        result = norm(fallbacks[0])
        label_raw = fallbacks[0]
        fallbacks = fallbacks[1:]
    else:
        warnings.append(
            "no se encontró columna de tipo de delito: todas las filas son 'OTROS' "
            "(label_known False)"
        )
        empty = df.index.to_series().map(lambda _: "")
        result = norm(empty)
        label_raw = empty
    for fb in fallbacks:
        unknown = ~result["label_known"].to_numpy()
        if not unknown.any():
            break
        alt = norm(fb)
        use = unknown & alt["label_known"].to_numpy()
        if use.any():
            result.loc[use] = alt.loc[use].to_numpy()
            label_raw = label_raw.where(~use, fb)
    result["label_known"] = result["label_known"].astype(bool)
    result["harm"] = result["harm"].astype(float)
    return result, label_raw.astype(str).reset_index(drop=True), warnings


def _prepare(path: Path, opts: IngestOptions, area: BaseGeometry) -> _Prepared:
    """Read one file and apply every per-row check."""
    import numpy as np
    import pandas as pd

    from .ingest_checks import inside
    from .io import read_incident_file
    from .io.columns import recognise_columns
    from .io.dates import parse_occurrence

    raw = read_incident_file(
        path,
        encoding=opts.encoding,
        delimiter=opts.delimiter,
        sheet=opts.sheet,
        layer=opts.layer,
        progress=opts.progress,
    )
    df = raw.data.reset_index(drop=True)
    n = len(df)
    cols = recognise_columns(df.columns, opts.columns, source=raw.source)
    kml_when = raw.kind == "kml" and "datetime" not in cols and "KML_WHEN" in df.columns
    if kml_when and _text(df["KML_WHEN"]).ne("").any():
        cols["datetime"] = "KML_WHEN"
    warnings: list[str] = []
    reason = np.full(n, "", dtype=object)
    fld = np.full(n, "", dtype=object)
    val = np.full(n, "", dtype=object)
    if raw.malformed is not None:
        reason[raw.malformed] = "malformed_row"
        fld[raw.malformed] = "fila"
        val[raw.malformed] = _text(df[df.columns[-1]]).to_numpy()[raw.malformed]

    lon, lat, cstatus, cfield, cvalue, utm_flag = _coordinates(raw, df, cols, opts)
    take = (reason == "") & (cstatus != "")
    reason[take], fld[take], val[take] = cstatus[take], cfield[take], cvalue[take]

    swapped = np.zeros(n, dtype=bool)
    check = (reason == "") & np.isfinite(lon)
    ins = np.zeros(n, dtype=bool)
    ins[check] = inside(area, lon[check], lat[check])
    out = check & ~ins
    if out.any():
        alt = np.zeros(n, dtype=bool)
        alt[out] = inside(area, lat[out], lon[out])
        swapped = out & alt
        lon[swapped], lat[swapped] = lat[swapped].copy(), lon[swapped].copy()
        far = out & ~alt
        reason[far] = "outside_study_area"
        fld[far] = "coordenadas"
        val[far] = np.char.add(
            np.char.add(np.round(lat[far], 6).astype(str), " / "), np.round(lon[far], 6).astype(str)
        )

    date_cols = {k: df[cols[k]] for k in ("date", "time", "datetime") if k in cols}
    if "date" in date_cols or "datetime" in date_cols:
        times = parse_occurrence(
            date=date_cols.get("date"),
            time=date_cols.get("time"),
            datetime_=date_cols.get("datetime"),
            n=n,
        )
        occurred = times.occurred_at
        time_known = times.time_known
        time_unparsed = times.time_unparsed
        dfield = cols.get("datetime") or cols.get("date", "")
        if "date" in cols and "datetime" in cols:
            dfield = f"{cols['datetime']}/{cols['date']}"
        bad = (reason == "") & (times.status != "")
        reason[bad] = times.status[bad]
        fld[bad] = dfield
        if bad.any():
            src = date_cols.get("datetime", date_cols.get("date"))
            assert src is not None
            shown = _text(src.reset_index(drop=True))
            if "date" in date_cols and "datetime" in date_cols:
                shown = shown.where(shown.ne(""), _text(date_cols["date"].reset_index(drop=True)))
            val[bad] = shown.to_numpy()[bad]
        lo = pd.Timestamp(opts.min_date).tz_localize(TIMEZONE)
        hi = pd.Timestamp.now(tz=TIMEZONE) + pd.Timedelta(days=1)
        valid = occurred.notna().to_numpy()
        out_range = (reason == "") & valid & ((occurred < lo) | (occurred > hi)).to_numpy()
        reason[out_range] = "date_out_of_range"
        fld[out_range] = dfield
        val[out_range] = occurred[out_range].dt.strftime("%Y-%m-%d %H:%M").to_numpy()
    else:
        warnings.append(
            "no se encontró columna de fecha: occurred_at queda vacío (sin análisis temporales)"
        )
        occurred = pd.Series(pd.NaT, index=pd.RangeIndex(n), dtype=f"datetime64[ns, {TIMEZONE}]")
        time_known = np.zeros(n, dtype=bool)
        time_unparsed = np.zeros(n, dtype=bool)

    labels, label_raw, label_warnings = _labels(df, cols, raw, opts)
    warnings.extend(label_warnings)

    if "incident_id" in cols:
        ids = _text(df[cols["incident_id"]])
        from .io.columns import fold_name

        if fold_name(cols["incident_id"]) == "ID_DGC":
            extra = [cols[k] for k in ("especifico", "modalidad") if k in cols]
            if extra:
                ids = ids + "-" + _short_hash(df[extra])
        empty_ids = ids.eq("").to_numpy()
        if empty_ids.any():
            ids[empty_ids] = _content_ids(df[empty_ids]).to_numpy()
    else:
        ids = _content_ids(df)

    flag_bits = (
        swapped.astype(np.int64) * _BIT["latlon_swapped"]
        | utm_flag.astype(np.int64) * _BIT["utm_converted"]
        | time_unparsed.astype(np.int64) * _BIT["time_unparsed"]
    )
    at_station = np.zeros(n, dtype=bool)
    if "observacion" in cols:
        from ._fast import per_unique

        def _forced(u: pd.Series) -> pd.Series:
            t = u.astype(str).str.upper()
            return t.str.contains("FORZADA", regex=False) & t.str.contains("COMISARIA", regex=False)

        at_station = per_unique(df[cols["observacion"]], _forced).to_numpy(dtype=bool)

    def opt_text(key: str) -> pd.Series:
        if key in cols:
            return _text(df[cols[key]]).reset_index(drop=True)
        return pd.Series("", index=pd.RangeIndex(n), dtype=object)

    descripcion = opt_text("descripcion")
    if raw.kind == "kml" and "descripcion" not in cols and "DESCRIPTION" in df.columns:
        descripcion = _text(df["DESCRIPTION"]).reset_index(drop=True)
    frame = pd.DataFrame(
        {
            "incident_id": ids.reset_index(drop=True).astype(str),
            "occurred_at": occurred.reset_index(drop=True),
            "time_known": time_known,
            "delito_generico": labels["delito_generico"].to_numpy(),
            "delito_especifico": labels["delito_especifico"].to_numpy(),
            "modalidad": labels["modalidad"].to_numpy(),
            "fenomeno": labels["fenomeno"].to_numpy(),
            "harm": labels["harm"].to_numpy(dtype=float),
            "label_raw": label_raw.to_numpy(),
            "label_known": labels["label_known"].to_numpy(dtype=bool),
            "descripcion": descripcion.to_numpy(),
            "comisaria_reportada": opt_text("comisaria").to_numpy(),
            "sector_reportado": _join_nonempty(opt_text("sector"), opt_text("subsector")),
            "source": raw.source,
            "source_row": raw.source_row,
            "flags": flag_bits,
            "at_station": at_station,
        }
    )
    return _Prepared(raw, path, frame, lon, lat, reason, fld, val, cols, warnings)


def _join_nonempty(a: pd.Series, b: pd.Series) -> np.ndarray:
    both = a.ne("") & b.ne("")
    return a.where(~both, a + " / " + b).where(a.ne(""), b).to_numpy()


def _messages(
    source: str, rows: np.ndarray, reason: np.ndarray, fld: np.ndarray, val: np.ndarray
) -> list[str]:
    out = []
    for row, r, f, v in zip(
        rows.tolist(), reason.tolist(), fld.tolist(), val.tolist(), strict=True
    ):
        shown = str(v)
        shown = shown if len(shown) <= 80 else shown[:77] + "…"
        out.append(
            f"{source}, fila {row}, campo {f or '—'}: se recibió {shown!r}; {_EXPLAIN[r]}. "
            f"Sugerencia: {_HINTS[r]}."
        )
    return out


def _quarantine_frame(prep: _Prepared, mask: np.ndarray) -> pd.DataFrame:
    import pandas as pd

    if not mask.any():
        return pd.DataFrame({c: pd.Series(dtype=object) for c in QUARANTINE_COLUMNS})
    sub = prep.raw.data.reset_index(drop=True).loc[mask]
    raw_json = sub.to_json(orient="records", lines=True, force_ascii=False, date_format="iso")
    lines = raw_json.splitlines() if raw_json else []
    rows = prep.raw.source_row[mask]
    q = pd.DataFrame(
        {
            "source": prep.raw.source,
            "source_row": rows.astype("int64"),
            "reason": prep.reason[mask],
            "field": prep.field[mask].astype(str),
            "value": prep.value[mask].astype(str),
            "message": _messages(
                prep.raw.source, rows, prep.reason[mask], prep.field[mask], prep.value[mask]
            ),
            "raw": lines if len(lines) == int(mask.sum()) else [""] * int(mask.sum()),
        }
    )
    return q


def file_sha256(path: Path) -> str:
    """Return the SHA-256 hex digest of a file (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ingest_files(
    paths: Iterable[str | Path],
    options: IngestOptions | None = None,
    *,
    assign: bool = True,
    sectors: gpd.GeoDataFrame | None = None,
    stations: gpd.GeoDataFrame | None = None,
) -> IngestResult:
    """Read, normalise and validate incident files; optionally assign them to territory.

    Parameters
    ----------
    paths
        Incident files (CSV, XLSX, GeoJSON, GeoPackage, Shapefile, KML/KMZ).
    options
        :class:`IngestOptions`; defaults recognise columns and use the Cajamarca region.
    assign
        Add district, province, comisaría and sector columns
        (:func:`parsc_geo.assign.assign_incidents`).
    sectors
        Optional comisaría sector layer used by the assignment.
    stations
        Police stations for station stacking and assignment (default: bundled CENACOM 2017).

    Returns
    -------
    IngestResult
        Accepted incidents, quarantine, report and per-file source records. Nothing is written.

    Raises
    ------
    InputDataError
        A file is missing, unreadable, or has no coordinates at all.
    ConfigError
        An option is invalid (unknown column mapping, harm rule …).
    """
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from .ingest_checks import duplicate_mask, station_stack, study_area

    opts = options or IngestOptions()
    path_list = [Path(p) for p in paths]
    if not path_list:
        raise ConfigError(
            "no se indicó ningún archivo de entrada",
            hint="indique uno o más archivos de incidentes",
        )
    area = study_area(opts.study_area)
    prepared = [_prepare(p, opts, area) for p in path_list]

    frame = pd.concat([p.frame for p in prepared], ignore_index=True)
    lon = np.concatenate([p.lon for p in prepared])
    lat = np.concatenate([p.lat for p in prepared])
    reason = np.concatenate([p.reason for p in prepared])
    offsets = np.cumsum([0] + [len(p.frame) for p in prepared])

    alive = reason == ""
    sub = frame[alive].reset_index(drop=True)
    dup_id, dup_ptt = duplicate_mask(
        sub["incident_id"],
        lon[alive],
        lat[alive],
        sub["occurred_at"],
        sub["time_known"].to_numpy(dtype=bool),
        sub[["delito_especifico", "modalidad"]],
    )
    alive_idx = np.flatnonzero(alive)
    for mask, code in ((dup_id, "duplicate_id"), (dup_ptt, "duplicate_place_time_type")):
        idx = alive_idx[mask]
        reason[idx] = code
        for p, start in zip(prepared, offsets[:-1], strict=True):
            local = idx[(idx >= start) & (idx < start + len(p.frame))] - start
            p.reason[local] = code
            p.field[local] = (
                "incident_id" if code == "duplicate_id" else "coordenadas/fecha/modalidad"
            )
            p.value[local] = p.frame["incident_id"].to_numpy()[local]

    accepted_mask = reason == ""
    stacked = station_stack(
        lon[accepted_mask],
        lat[accepted_mask],
        stations=stations,
        radius_m=opts.station_stack_radius_m,
        min_count=opts.station_stack_min_count,
    )
    acc = frame[accepted_mask].reset_index(drop=True)
    at_station = acc["at_station"].to_numpy(dtype=bool) | stacked
    acc["at_station"] = at_station
    bits = (
        acc["flags"].to_numpy(dtype=np.int64) | at_station.astype(np.int64) * _BIT["station_stack"]
    )
    acc["flags"] = flags_to_text(bits, _FLAG_CODES)
    accepted = gpd.GeoDataFrame(
        acc[list(INCIDENT_COLUMNS)],
        geometry=gpd.points_from_xy(lon[accepted_mask], lat[accepted_mask]),
        crs="EPSG:4326",
    )
    if assign:
        from .assign import assign_incidents

        accepted = assign_incidents(accepted, sectors=sectors, stations=stations)
    accepted.attrs["parameters"] = opts.describe()

    q_parts = [_quarantine_frame(p, p.reason != "") for p in prepared]
    quarantine = pd.concat(q_parts, ignore_index=True)
    n_acc = [int((p.reason == "").sum()) for p in prepared]
    file_index = np.repeat(np.arange(len(prepared)), n_acc)
    report, sources = build_report(prepared, accepted, file_index, q_parts, opts)
    return IngestResult(accepted, quarantine, report, sources)


def _counts(values: pd.Series) -> dict[str, int]:
    vc = values.value_counts(sort=False)
    return {str(k): int(v) for k, v in sorted(vc.items(), key=lambda kv: (-kv[1], str(kv[0])))}


def _flag_counts(flags: pd.Series) -> dict[str, int]:
    exploded = flags[flags.ne("")].str.split(";").explode()
    return _counts(exploded[exploded.ne("")]) if len(exploded) else {}


def build_report(
    prepared: list[_Prepared],
    accepted: gpd.GeoDataFrame,
    file_index: np.ndarray,
    quarantines: list[pd.DataFrame],
    opts: IngestOptions,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Return the ingestion report and the per-file source records.

    The report has ``files`` (one entry per input file) and ``total``, each with
    ``rows_read``, ``rows_accepted``, ``rows_quarantined``, ``rows_fixed``, ``reasons``
    (quarantine counts per reason code), ``flags`` (accepted rows per flag) and
    ``unknown_labels`` (label → count, accepted rows whose label the taxonomy does not know);
    plus ``parameters`` and ``quarantine_path`` (filled by the writer).
    """
    files = []
    sources = []
    for i, (p, q) in enumerate(zip(prepared, quarantines, strict=True)):
        src = p.raw.source
        acc = accepted[file_index == i]
        unknown = acc.loc[~acc["label_known"].astype(bool), "label_raw"].astype(str)
        flag_counts = _flag_counts(acc["flags"].astype(str))
        entry: dict[str, Any] = {
            "source": src,
            "path": str(p.path),
            "sha256": file_sha256(p.path),
            "format": p.raw.info,
            "columns": p.columns,
            "rows_read": len(p.frame),
            "rows_accepted": len(acc),
            "rows_quarantined": len(q),
            "rows_fixed": int(sum(flag_counts.get(f, 0) for f in FIX_FLAGS)),
            "reasons": _counts(q["reason"]),
            "flags": flag_counts,
            "unknown_labels": _counts(unknown.where(unknown.ne(""), "(vacío)")),
            "warnings": p.warnings,
        }
        if entry["rows_read"] != entry["rows_accepted"] + entry["rows_quarantined"]:
            raise AssertionError(f"row accounting failed for {src}")
        files.append(entry)
        sources.append(
            {
                "source": src,
                "path": str(p.path),
                "sha256": entry["sha256"],
                "rows_read": entry["rows_read"],
                "rows_accepted": entry["rows_accepted"],
                "rows_quarantined": entry["rows_quarantined"],
            }
        )
    total: dict[str, Any] = {
        k: sum(int(f[k]) for f in files)
        for k in ("rows_read", "rows_accepted", "rows_quarantined", "rows_fixed")
    }
    for key in ("reasons", "flags", "unknown_labels"):
        merged: dict[str, int] = {}
        for f in files:
            for k, v in f[key].items():
                merged[k] = merged.get(k, 0) + v
        total[key] = dict(sorted(merged.items(), key=lambda kv: (-kv[1], kv[0])))
    report = {
        "parameters": opts.describe(),
        "files": files,
        "total": total,
        "quarantine_path": None,
    }
    return report, sources
