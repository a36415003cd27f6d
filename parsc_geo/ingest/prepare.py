"""One incident file read and checked row by row: coordinates, dates, labels, identifiers.

:func:`prepare_file` reads a file with :func:`parsc_geo.io.read_incident_file`, maps its columns
to the canonical schema and gives every row a reason code when a per-row check fails
(:data:`parsc_geo.ingest.report.REASONS`). Checks across rows and files (duplicates, station
stacks) are made afterwards by :func:`parsc_geo.ingest.ingest_files`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._errors import InputDataError
from .._fast import hex64
from ..settings import TIMEZONE

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np
    import pandas as pd
    from shapely.geometry.base import BaseGeometry

    from ..io._table import RawTable
    from .options import IngestOptions

#: Flags set by the ingestion (bit order of the internal mask).
FLAG_CODES: tuple[str, ...] = ("latlon_swapped", "utm_converted", "station_stack", "time_unparsed")
FLAG_BITS = {code: 1 << i for i, code in enumerate(FLAG_CODES)}


@dataclass
class PreparedFile:
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
    from .._fast import clean_text

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

    from ..io.coords import (
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
    from ..taxonomy import normalise_labels

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


def prepare_file(path: Path, opts: IngestOptions, area: BaseGeometry) -> PreparedFile:
    """Read one file and apply every per-row check."""
    import numpy as np
    import pandas as pd

    from ..io.columns import recognise_columns
    from ..io.dates import parse_occurrence
    from ..io.readers import read_incident_file
    from .checks import inside

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
        from ..io.columns import fold_name

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
        swapped.astype(np.int64) * FLAG_BITS["latlon_swapped"]
        | utm_flag.astype(np.int64) * FLAG_BITS["utm_converted"]
        | time_unparsed.astype(np.int64) * FLAG_BITS["time_unparsed"]
    )
    at_station = np.zeros(n, dtype=bool)
    if "observacion" in cols:
        from .._fast import per_unique

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
    return PreparedFile(raw, path, frame, lon, lat, reason, fld, val, cols, warnings)


def _join_nonempty(a: pd.Series, b: pd.Series) -> np.ndarray:
    both = a.ne("") & b.ne("")
    return a.where(~both, a + " / " + b).where(a.ne(""), b).to_numpy()
