"""One incident file read and checked row by row: coordinates, dates, labels, identifiers.

:class:`IncidentFile` reads a file (a large one by chunks: :class:`parsc_geo.io.csv.CsvFile`,
:class:`parsc_geo.io.vector.VectorFile`, :class:`parsc_geo.io.excel.XlsxFile`,
:class:`parsc_geo.io.kml.KmlFile`; else with :func:`parsc_geo.io.read_incident_file`), maps its
columns to the canonical schema and, with :func:`prepare_table`, gives every row a reason code when
a per-row check fails (:data:`parsc_geo.ingest.report.REASONS`). Checks across rows and files
(duplicates, station stacks) are made afterwards by :func:`parsc_geo.ingest.ingest_files`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._errors import InputDataError
from .._fast import hex64

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    import numpy as np
    import pandas as pd
    from shapely.geometry.base import BaseGeometry

    from ..io._table import RawTable
    from ..io.csv import CsvFile
    from ..io.excel import XlsxFile
    from ..io.kml import KmlFile
    from ..io.vector import VectorFile
    from .options import IngestOptions

logger = logging.getLogger(__name__)

#: Flags set by the ingestion (bit order of the internal mask).
FLAG_CODES: tuple[str, ...] = (
    "latlon_swapped",
    "utm_converted",
    "station_stack",
    "time_unparsed",
    "undated",
)
FLAG_BITS = {code: 1 << i for i, code in enumerate(FLAG_CODES)}
#: Outer KML folders tried as the crime type when the innermost one is not one.
_FOLDER_LEVELS = 6


def _text(series: pd.Series) -> pd.Series:
    from .._fast import clean_text

    return clean_text(series)


def _content_ids(
    df: pd.DataFrame,
    x: np.ndarray | None = None,
    y: np.ndarray | None = None,
    ranks: _HashRanks | None = None,
) -> pd.Series:
    """Identity of rows without a source id, from their content: ``h`` + 16 hex digits.

    What makes "the same incident" without an id: the same cells (every attribute, so the
    place, time and type written in the row), the same point (``x``/``y``, the geometry of
    formats that have one, to 1e-7) and the same order among identical rows of the file: the
    second identical row of a file is a second incident (``h…-2``), as two complaints may be
    written alike. The file name and the row's position are not part of it, so the same row
    gives the same id in every file and run (a re-import, or a cumulative export, finds the
    same ids). Cells are hashed as text, columns in sorted name order, with the pandas row
    hash (SipHash-2-4 with a fixed key). ``ranks`` carries the identical rows of the file's
    earlier chunks.
    """
    import numpy as np
    import pandas as pd

    cols = sorted(df.columns, key=str)
    if not len(df):
        return pd.Series([], dtype=object, index=df.index)
    text = df[cols].astype(str)
    text.columns = [str(c) for c in cols]
    if x is not None and y is not None:
        text["\x00x"] = np.round(np.asarray(x, dtype=float), 7).astype(str)
        text["\x00y"] = np.round(np.asarray(y, dtype=float), 7).astype(str)
    hashes = pd.util.hash_pandas_object(text, index=False, categorize=True).to_numpy()
    ids = pd.Series("h" + hex64(hashes), index=df.index, dtype=object)
    if ranks is None:
        ranks = _HashRanks()
    order = ranks.order(hashes)
    later = order > 0
    if later.any():
        ids[later] = ids[later] + "-" + (order[later] + 1).astype(str)
    return ids


def _short_hash(df: pd.DataFrame) -> pd.Series:
    import pandas as pd

    h = pd.util.hash_pandas_object(df.astype(str), index=False, categorize=True)
    return pd.Series(hex64(h.to_numpy()), index=df.index, dtype=object).str.slice(0, 8)


def _pair_text(df: pd.DataFrame, a: str, b: str, mask: np.ndarray) -> np.ndarray:
    sub = df.loc[mask, [a, b]].astype(str)
    return (sub[a].str.strip() + " / " + sub[b].str.strip()).to_numpy(dtype=object)


@dataclass
class _Coordinates:
    """Coordinates of every row and how they were obtained."""

    lon: np.ndarray
    lat: np.ndarray
    status: np.ndarray
    field: np.ndarray
    value: np.ndarray
    utm: np.ndarray
    #: placed by guessing the projection of values that were not degrees
    guessed: np.ndarray


def _coordinates(
    raw: RawTable, df: pd.DataFrame, cols: dict[str, str], opts: IngestOptions
) -> _Coordinates:
    """Return the coordinates of every row, with a status where they are unusable."""
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
    guessed = np.zeros(n, dtype=bool)
    has_any = np.zeros(n, dtype=bool)
    sources = 0

    def _place(mask: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        take = mask & np.isnan(lon)
        lon[take], lat[take] = x[take], y[take]
        return take

    def _by_kind(x: np.ndarray, y: np.ndarray, zone: np.ndarray, south: np.ndarray) -> None:
        kinds = classify_pairs(x, y)
        _place(kinds.degrees, x, y)
        if kinds.utm.any():
            ux, uy = utm_to_lonlat(x, y, zone, south)
            taken = _place(kinds.utm & np.isfinite(ux), ux, uy)
            utm_flag[taken] = True
            guessed[taken] = True
        if kinds.utm_swapped.any():
            ux, uy = utm_to_lonlat(y, x, zone, south)
            taken = _place(kinds.utm_swapped & np.isfinite(ux), ux, uy)
            utm_flag[taken] = True
            guessed[taken] = True
        if kinds.mercator.any():
            mx, my = to_lonlat(x, y, "EPSG:3857")
            guessed[_place(kinds.mercator, np.asarray(mx), np.asarray(my))] = True

    def _projected(
        x: np.ndarray, y: np.ndarray, where: str, shown: Callable[[np.ndarray], np.ndarray]
    ) -> None:
        """Numbers that are not degrees and could not be placed: projected coordinates."""
        bad = np.isnan(lon) & np.isfinite(x) & np.isfinite(y) & (status == "")
        if bad.any():
            status[bad] = "projected_coordinates"
            fld[bad] = where
            val[bad] = shown(bad)

    zone_col = df[cols["utm_zone"]] if "utm_zone" in cols else None
    zone, south = parse_utm_zone(zone_col, opts.utm_zone or "17S", n)

    if raw.geom_x is not None and raw.geom_y is not None:
        sources += 1
        gx, gy = raw.geom_x, raw.geom_y
        good = np.isfinite(gx) & np.isfinite(gy)
        has_any |= good
        declared = raw.crs or opts.input_crs
        if declared and good.any():
            from pyproj import CRS

            crs = CRS.from_user_input(declared)
            if crs.is_geographic:
                _by_kind(gx, gy, zone, south)
            else:
                x, y = to_lonlat(gx, gy, declared)
                _place(good, np.asarray(x), np.asarray(y))
        elif good.any():
            _by_kind(gx, gy, zone, south)

        def geometry_text(rows: np.ndarray) -> np.ndarray:
            text = np.char.add(np.char.add(gy[rows].astype(str), " / "), gx[rows].astype(str))
            return text.astype(object)

        _projected(gx, gy, "geometry", geometry_text)
    if "lat" in cols and "lon" in cols:
        sources += 1
        a, a_missing = parse_numbers(df[cols["lat"]])
        b, b_missing = parse_numbers(df[cols["lon"]])
        has_any |= ~(a_missing & b_missing)
        where = f"{cols['lat']}/{cols['lon']}"
        if opts.input_crs is not None:
            from pyproj import CRS

            if CRS.from_user_input(opts.input_crs).is_geographic:
                x, y = to_lonlat(b, a, opts.input_crs)
                _place(np.isfinite(a) & np.isfinite(b), np.asarray(x), np.asarray(y))
            else:
                x, y = to_lonlat(b, a, opts.input_crs)
                x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
                _place(np.isfinite(x) & np.isfinite(y), x, y)
        else:
            _by_kind(b, a, zone, south)
        _projected(b, a, where, lambda rows: _pair_text(df, cols["lat"], cols["lon"], rows))
        bad = np.isnan(lon) & ~(a_missing & b_missing) & (status == "")
        status[bad] = "unparseable_coordinates"
        fld[bad] = where
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
        bad = np.isnan(lon) & ~(e_missing & n_missing) & (status == "")
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
        not_point = (
            np.isnan(lon)
            & (raw.geom_problem != "")
            & (raw.geom_problem != "empty")
            & (status == "")
        )
        status[not_point] = "not_a_point"
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
    return _Coordinates(lon, lat, status, fld, val, utm_flag, guessed)


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
            # the few folders around a placemark name its type; deeper ones are a layout
            for k in range(2, min(depth, _FOLDER_LEVELS) + 1):
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


def _reader_warnings(info: dict[str, Any], kind: str, rows: int) -> list[str]:
    """Return what the reader decided or skipped, in words for the report."""
    warnings = [str(w) for w in info.get("warnings", [])]
    if info.get("header_detected"):
        row = int(info["header_row"])
        warnings.append(
            f"fila de encabezados detectada en la línea {row}: las {row - 1} línea(s) de arriba "
            "son títulos y no se leen como datos (use --header-row para indicar otra)"
        )
    lines = info.get("encoding_fallback_lines") or []
    if lines:
        shown = ", ".join(str(i) for i in lines[:10]) + (" …" if len(lines) > 10 else "")
        warnings.append(
            f"{len(lines)} línea(s) no eran UTF-8 válido y se leyeron como "
            f"{info.get('encoding_fallback', 'cp1252')} (líneas {shown})"
        )
    if kind in ("csv", "xlsx") and not rows:
        warnings.append("el archivo no tiene filas de datos, solo encabezados")
    return warnings


@dataclass
class _Notes:
    """What a chunk contributes to its file's warnings (summed over the chunks)."""

    utm_rows: int = 0
    undated_rows: int = 0
    no_date_column: bool = False
    label_warnings: list[str] = field(default_factory=list)


@dataclass
class PreparedTable:
    """The rows of one file, or of one chunk of a large CSV file, after per-row checks.

    ``raw`` is the table as read; a reader of a large file drops it once the quarantined rows
    are taken out (:meth:`IncidentFile.raw` parses a CSV chunk again when needed).
    """

    raw: RawTable | None
    frame: pd.DataFrame
    lon: np.ndarray
    lat: np.ndarray
    reason: np.ndarray
    field: np.ndarray
    value: np.ndarray
    derived_id: np.ndarray
    notes: _Notes


class _HashRanks:
    """Occurrences so far of each content hash in a file, to rank identical rows across chunks."""

    def __init__(self) -> None:
        import numpy as np

        self.keys = np.empty(0, dtype=np.uint64)
        self.counts = np.empty(0, dtype=np.int64)

    def order(self, hashes: np.ndarray) -> np.ndarray:
        """Return each row's 0-based rank among the identical rows seen so far, and count them."""
        import numpy as np
        import pandas as pd

        order = pd.Series(hashes).groupby(hashes).cumcount().to_numpy(dtype=np.int64, copy=True)
        if len(self.keys):
            pos = np.searchsorted(self.keys, hashes)
            inside = pos < len(self.keys)
            found = np.zeros(len(hashes), dtype=bool)
            found[inside] = self.keys[pos[inside]] == hashes[inside]
            order[found] += self.counts[pos[found]]
        keys, counts = np.unique(hashes, return_counts=True)
        pos = np.searchsorted(self.keys, keys)
        inside = pos < len(self.keys)
        known = np.zeros(len(keys), dtype=bool)
        known[inside] = self.keys[pos[inside]] == keys[inside]
        self.counts[pos[known]] += counts[known]
        self.keys = np.insert(self.keys, pos[~known], keys[~known])
        self.counts = np.insert(self.counts, pos[~known], counts[~known])
        return order


class IncidentFile:
    """One incident file read and checked row by row, by chunks for large files.

    Iterating yields a :class:`PreparedTable` per chunk or one for the whole file
    (``chunk_chars=None``, or a small file). The chunks: a CSV file's about ``chunk_chars``
    characters of text each (:class:`parsc_geo.io.csv.CsvFile`); a vector layer's
    (GeoPackage, Shapefile, GeoJSON) :data:`parsc_geo.io.vector.CHUNK_FEATURES` features
    each; with ``stream``, a large workbook's (:data:`parsc_geo.io.excel.STREAM_MIN_BYTES`)
    :data:`parsc_geo.io.excel.CHUNK_ROWS` rows each and a large KML or KMZ file's
    (:data:`parsc_geo.io.kml.STREAM_MIN_BYTES`) :data:`parsc_geo.io.kml.CHUNK_PLACEMARKS`
    placemarks each, streamed (a first pass finds their columns: about twice the CPU of
    reading them at once, which a distributed run's ingestion pays for a chunk's memory).
    Every per-row check depends on its row alone,
    and content ids rank identical rows over the whole file, so the rows, reasons and ids are
    those of the whole file read at once. :attr:`columns`, :attr:`info`, :attr:`rows_read`
    and :attr:`warnings` are complete once every chunk has been read.
    """

    def __init__(
        self,
        path: Path,
        opts: IngestOptions,
        area: BaseGeometry,
        *,
        chunk_chars: int | None = None,
        stream: bool = False,
    ) -> None:
        self.path = path
        self.opts = opts
        self.area = area
        self.chunk_chars = chunk_chars
        self.stream = stream
        self.columns: dict[str, str] = {}
        self.info: dict[str, object] = {}
        self.rows_read = 0
        self.warnings: list[str] = []
        self.source = path.name
        self._csv: CsvFile | None = None
        self._raws: list[RawTable] = []
        #: the reader of a file read by chunks of rows (not CSV)
        self._parts: VectorFile | XlsxFile | KmlFile | None = None
        self._kind = ""
        self._chunks = 0

    def __iter__(self) -> Iterator[PreparedTable]:
        from ..io.readers import SUFFIXES, read_incident_file

        opts = self.opts
        ranks = _HashRanks()
        notes = _Notes()
        self.rows_read = 0
        raw: RawTable | None = None
        kind = SUFFIXES.get(self.path.suffix.lower())
        self._kind = kind or ""
        if kind == "csv" and self.path.exists():
            from ..io.csv import CsvFile

            self._csv = CsvFile(
                self.path,
                encoding=opts.encoding,
                delimiter=opts.delimiter,
                header_row=opts.header_row,
            )
            tables: Iterator[RawTable] = self._csv.chunks(self.chunk_chars)
        elif kind == "vector" and self.path.exists():
            from ..io.vector import CHUNK_FEATURES, VectorFile

            # a large layer (GeoPackage, Shapefile, GeoJSON) by chunks of features, as a CSV file
            self._parts = VectorFile(self.path, layer=opts.layer, stream=self.stream)
            rows = CHUNK_FEATURES if self.chunk_chars is not None else None
            tables = self._parts.chunks(rows)
        elif kind == "xlsx" and self._large(kind):
            from ..io.excel import CHUNK_ROWS, XlsxFile

            # a large workbook's sheet streamed by chunks of rows
            self._parts = XlsxFile(self.path, sheet=opts.sheet, header_row=opts.header_row)
            tables = self._parts.chunks(CHUNK_ROWS)
        elif kind == "kml" and self._large(kind):
            from ..io.kml import CHUNK_PLACEMARKS, KmlFile

            # a large KML or KMZ file's placemarks streamed by chunks
            self._parts = KmlFile(self.path)
            tables = self._parts.chunks(CHUNK_PLACEMARKS)
        else:
            raw = read_incident_file(
                self.path,
                encoding=opts.encoding,
                delimiter=opts.delimiter,
                sheet=opts.sheet,
                layer=opts.layer,
                header_row=opts.header_row,
                progress=opts.progress,
            )
            self._raws = [raw]
            tables = iter([raw])
        first = True
        self._chunks = 0
        for table in tables:
            self._chunks += 1
            self.source = table.source
            if first:
                self.columns = _recognise(table, opts)
                first = False
            prepared = prepare_table(table, opts, self.area, self.columns, ranks)
            self.rows_read += len(table.data)
            part = prepared.notes
            notes.utm_rows += part.utm_rows
            notes.undated_rows += part.undated_rows
            notes.no_date_column = part.no_date_column
            notes.label_warnings = part.label_warnings
            yield prepared
        if self._csv is not None:
            self.info = self._csv.info
            self.release()
        elif raw is not None:
            self.info = raw.info
        elif self._parts is not None:
            self.info = table.info
        self.warnings = self._file_warnings(notes)

    def release(self) -> None:
        """Let go of a large CSV file's text (read by more than one chunk) until :meth:`raw`."""
        if self._csv is not None and self._chunks > 1:
            self._csv.release()
        if self._parts is not None:
            self._parts.release()

    def _large(self, kind: str) -> bool:
        """Whether a workbook or KML file is streamed: asked for (``stream``), and large."""
        if not self.stream or self.chunk_chars is None or not self.path.exists():
            return False
        if kind == "xlsx":
            from ..io.excel import STREAM_MIN_BYTES

            return self.path.stat().st_size >= STREAM_MIN_BYTES
        from ..io import kml

        return kml.document_bytes(self.path) >= kml.STREAM_MIN_BYTES

    def raw(self, k: int) -> RawTable:
        """Return the raw rows of chunk ``k`` (parsed again for a CSV file)."""
        if self._csv is not None:
            return self._csv.chunk(k)
        if self._parts is not None:
            return self._parts.chunk(k)
        return self._raws[k]

    def _file_warnings(self, notes: _Notes) -> list[str]:
        """Return the file's warnings, in the order of the checks."""
        info = self.info
        warnings = _reader_warnings(info, self._kind, self.rows_read)
        opts = self.opts
        if "utm_zone" in opts.auto and notes.utm_rows and "utm_zone" not in self.columns:
            logger.info(
                "%s: %s fila(s) en UTM sin zona se leyeron en la zona %s, la del área de estudio "
                "(use --utm-zone para otra)",
                self.source,
                notes.utm_rows,
                opts.utm_zone,
            )
            warnings.append(
                f"{notes.utm_rows} fila(s) en UTM sin zona se leyeron en la zona "
                f"{opts.utm_zone}, la del área de estudio (use --utm-zone para otra)"
            )
        if notes.no_date_column:
            warnings.append(
                "no se encontró columna de fecha: occurred_at queda vacío (sin análisis temporales)"
            )
        elif notes.undated_rows:
            warnings.append(
                f"{notes.undated_rows} fila(s) sin fecha completa se aceptaron sin fecha "
                "(--undated keep): no entran en los análisis por periodo"
            )
        warnings.extend(notes.label_warnings)
        return warnings


def _recognise(raw: RawTable, opts: IngestOptions) -> dict[str, str]:
    """Map the file's columns to canonical fields (KML: its time stamps when they have any)."""
    from ..io.columns import recognise_columns

    df = raw.data
    cols = recognise_columns(df.columns, opts.columns, source=raw.source)
    kml_when = raw.kind == "kml" and "datetime" not in cols and "KML_WHEN" in df.columns
    if kml_when and _text(df["KML_WHEN"]).ne("").any():
        cols["datetime"] = "KML_WHEN"
    return cols


def prepare_table(
    raw: RawTable,
    opts: IngestOptions,
    area: BaseGeometry,
    cols: dict[str, str],
    ranks: _HashRanks | None = None,
) -> PreparedTable:
    """Apply every per-row check to the rows of ``raw`` (a file, or a chunk of one).

    ``cols`` maps canonical fields to the file's columns; ``ranks`` carries the ranks of
    identical rows without an id from the file's earlier chunks.
    """
    import numpy as np
    import pandas as pd

    from ..io.dates import parse_occurrence
    from ..settings import TIMEZONE
    from .checks import inside

    tz = opts.timezone or TIMEZONE
    notes = _Notes()
    df = raw.data.reset_index(drop=True)
    n = len(df)
    reason = np.full(n, "", dtype=object)
    fld = np.full(n, "", dtype=object)
    val = np.full(n, "", dtype=object)
    if raw.problem is not None:
        bad_rows = raw.problem != ""
        if bad_rows.any():
            reason[bad_rows] = raw.problem[bad_rows]
            lines = raw.line if raw.line is not None else raw.source_row
            fld[bad_rows] = [f"línea {k}" for k in lines[bad_rows].tolist()]
            shown = raw.problem_text if raw.problem_text is not None else np.full(n, "", object)
            val[bad_rows] = shown[bad_rows]
    elif raw.malformed is not None:
        reason[raw.malformed] = "malformed_row"
        fld[raw.malformed] = "fila"
        val[raw.malformed] = _text(df[df.columns[-1]]).to_numpy()[raw.malformed]

    coords = _coordinates(raw, df, cols, opts)
    lon, lat, utm_flag = coords.lon, coords.lat, coords.utm
    notes.utm_rows = int(utm_flag.sum())
    take = (reason == "") & (coords.status != "")
    reason[take], fld[take], val[take] = coords.status[take], coords.field[take], coords.value[take]

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
        # values that were not degrees and land outside: a wrong guess of their projection
        projected = far & coords.guessed
        far &= ~projected
        reason[far] = "outside_study_area"
        fld[far] = "coordenadas"
        val[far] = np.char.add(
            np.char.add(np.round(lat[far], 6).astype(str), " / "), np.round(lon[far], 6).astype(str)
        )
        if projected.any():
            reason[projected] = "projected_coordinates"
            fld[projected] = coords.field[projected]
            fld[projected & (fld == "")] = "coordenadas"
            if "lat" in cols and "lon" in cols:
                val[projected] = _pair_text(df, cols["lat"], cols["lon"], projected)
            else:
                val[projected] = "coordenadas de la geometría"

    undated = np.zeros(n, dtype=bool)
    date_cols = {k: df[cols[k]] for k in ("date", "time", "datetime") if k in cols}
    if "date" in date_cols or "datetime" in date_cols:
        times = parse_occurrence(
            date=date_cols.get("date"),
            time=date_cols.get("time"),
            datetime_=date_cols.get("datetime"),
            n=n,
            tz=tz,
            year=opts.year,
        )
        occurred = times.occurred_at
        time_known = times.time_known
        time_unparsed = times.time_unparsed
        status = times.status
        if opts.undated == "keep":
            undated = (status == "missing_date") | (status == "missing_year")
            status = np.where(undated, "", status)
        dfield = cols.get("datetime") or cols.get("date", "")
        if "date" in cols and "datetime" in cols:
            dfield = f"{cols['datetime']}/{cols['date']}"
        bad = (reason == "") & (status != "")
        reason[bad] = status[bad]
        fld[bad] = dfield
        if bad.any():
            src = date_cols.get("datetime", date_cols.get("date"))
            assert src is not None
            shown_dates = _text(src.reset_index(drop=True))
            if "date" in date_cols and "datetime" in date_cols:
                shown_dates = shown_dates.where(
                    shown_dates.ne(""), _text(date_cols["date"].reset_index(drop=True))
                )
            val[bad] = shown_dates.to_numpy()[bad]
        lo = pd.Timestamp(opts.min_date).tz_localize(tz)
        hi = pd.Timestamp.now(tz=tz) + pd.Timedelta(days=1)
        valid = occurred.notna().to_numpy()
        out_range = (reason == "") & valid & ((occurred < lo) | (occurred > hi)).to_numpy()
        reason[out_range] = "date_out_of_range"
        fld[out_range] = dfield
        val[out_range] = occurred[out_range].dt.strftime("%Y-%m-%d %H:%M").to_numpy()
        undated &= reason == ""
        notes.undated_rows = int(undated.sum())
    else:
        notes.no_date_column = True
        occurred = pd.Series(pd.NaT, index=pd.RangeIndex(n), dtype=f"datetime64[ns, {tz}]")
        time_known = np.zeros(n, dtype=bool)
        time_unparsed = np.zeros(n, dtype=bool)

    labels, label_raw, notes.label_warnings = _labels(df, cols, raw, opts)

    gx = raw.geom_x if raw.geom_x is not None else None
    gy = raw.geom_y if raw.geom_y is not None else None
    derived = np.ones(n, dtype=bool)
    if "incident_id" in cols:
        ids = _text(df[cols["incident_id"]])
        from ..io.columns import fold_name

        if fold_name(cols["incident_id"]) == "ID_DGC":
            extra = [cols[k] for k in ("especifico", "modalidad") if k in cols]
            if extra:
                ids = ids + "-" + _short_hash(df[extra])
        derived = ids.eq("").to_numpy()
        if derived.any():
            ids[derived] = _content_ids(
                df[derived],
                None if gx is None else gx[derived],
                None if gy is None else gy[derived],
                ranks,
            ).to_numpy()
    else:
        ids = _content_ids(df, gx, gy, ranks)

    flag_bits = (
        swapped.astype(np.int64) * FLAG_BITS["latlon_swapped"]
        | utm_flag.astype(np.int64) * FLAG_BITS["utm_converted"]
        | time_unparsed.astype(np.int64) * FLAG_BITS["time_unparsed"]
        | undated.astype(np.int64) * FLAG_BITS["undated"]
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
        },
        index=pd.RangeIndex(n),
    )
    return PreparedTable(raw, frame, lon, lat, reason, fld, val, derived, notes)


def _join_nonempty(a: pd.Series, b: pd.Series) -> np.ndarray:
    both = a.ne("") & b.ne("")
    return a.where(~both, a + " / " + b).where(a.ne(""), b).to_numpy()
