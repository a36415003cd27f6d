"""GeoJSON, GeoPackage and Shapefile reader (pyogrio): attributes plus point coordinates."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from .._errors import InputDataError
from ._streamed import ReadWhole, read_on
from ._table import RawTable

logger = logging.getLogger(__name__)

#: Features of a layer read at once by :class:`VectorFile` (a layer of more is read by chunks
#: of this many features, never whole).
CHUNK_FEATURES: Final = 250_000
#: Formats whose layers are read by chunks: GDAL reaches a feature of them by its position
#: (also a zipped Shapefile, see :func:`_by_position`).
#: A GeoJSON file is not one of them: GDAL parses a FeatureCollection as a stream but reaches a
#: chunk's first feature from the file's start (N chunks would read it about N times over, a
#: time growing with the square of the file); a large one is streamed instead, in one pass
#: (:data:`GEOJSON_STREAM_MIN_BYTES`, pyogrio's Arrow stream).
_CHUNKED_SUFFIXES = (".gpkg", ".shp")
#: A GeoJSON file of this many bytes or more is streamed by chunks of features, in one pass
#: over the file (pyogrio's Arrow stream, each batch made what the whole read gives); a
#: smaller one is read at once.
GEOJSON_STREAM_MIN_BYTES: Final = 32 * 1024 * 1024
_GEOJSON_SUFFIXES = (".geojson", ".json")
#: How a GeoJSON field's Arrow column is made what the whole read gives, by its OGR type and
#: subtype (a field of another type: the file is read whole).
_GEOJSON_KINDS: Final = {
    ("OFTInteger", "OFSTNone"): "int",
    ("OFTInteger64", "OFSTNone"): "int",
    ("OFTInteger", "OFSTBoolean"): "bool",
    ("OFTReal", "OFSTNone"): "float",
    ("OFTString", "OFSTNone"): "str",
    ("OFTString", "OFSTJSON"): "json",
    ("OFTDate", "OFSTNone"): "date",
    ("OFTDateTime", "OFSTNone"): "datetime",
    ("OFTTime", "OFSTNone"): "time",
    ("OFTIntegerList", "OFSTNone"): "list",
    ("OFTInteger64List", "OFSTNone"): "list",
    ("OFTRealList", "OFSTNone"): "list",
}


def read_vector(path: str | Path, *, layer: str | None = None) -> RawTable:
    """Read a vector file; point geometries give coordinates in the file's CRS.

    Parameters
    ----------
    path
        ``.geojson``/``.json``, ``.gpkg``, ``.shp`` (or a zipped shapefile).
    layer
        Layer name for multi-layer files (GeoPackage); default the first layer.

    Returns
    -------
    RawTable
        Attributes, ``geom_x``/``geom_y`` (NaN where the feature has no usable point) and
        ``geom_problem`` (the geometry type when it is not a point, ``"empty"`` when missing).
        A GeoJSON without a declared CRS is taken as EPSG:4326 (RFC 7946).
    """
    return VectorFile(path, layer=layer).chunk_at(0, None)


@dataclass
class _GeoJsonPlan:
    """What a GeoJSON layer's fields need to be read by chunks as the whole read reads them."""

    #: the fields, in order, and how each one is made what the whole read gives
    kinds: dict[str, str] = field(default_factory=dict)
    #: integer and boolean fields with a missing value somewhere: decimals in every chunk
    decimal: set[str] = field(default_factory=set)
    #: date-time fields of several time zones (or none and some): read in UTC
    utc: set[str] = field(default_factory=set)
    #: JSON fields some value of which is not JSON: left as text
    json_text: set[str] = field(default_factory=set)
    geometry: str = "wkb_geometry"
    crs: str | None = None


class VectorFile:
    """A vector layer opened for reading by chunks of features (see :data:`CHUNK_FEATURES`).

    :meth:`chunks` yields the features of a large GeoPackage or Shapefile layer a chunk at a
    time (each as :func:`read_vector` reads a whole file: the same columns, values, row
    numbers and coordinates), with ``stream`` a large GeoJSON file's
    (:data:`GEOJSON_STREAM_MIN_BYTES`) streamed in one pass over the file (and a first pass
    over some fields: about 1.5 times the CPU of one whole read, paid by a distributed run's
    ingestion for a chunk's memory), each Arrow batch made what the whole read gives
    (a file whose fields the stream cannot read so is read whole, with the reason in
    :attr:`whole_reason`); other files, and layers of fewer features, in one chunk, which
    is kept. :meth:`chunk` reads chunk ``k`` again (returns the one chunk kept; a streamed
    file's chunk onwards from the last one read).
    """

    def __init__(self, path: str | Path, *, layer: str | None = None, stream: bool = False) -> None:
        self.path = Path(path)
        self.layer = layer
        #: stream a large GeoJSON file (else it is read at once: two thirds of the CPU)
        self.stream = stream
        #: why a large GeoJSON file was read whole (None: streamed, or not a large GeoJSON)
        self.whole_reason: str | None = None
        self._size: int | None = None
        self._whole: RawTable | None = None
        self._skipped: list[str] | None = None
        #: integer and boolean fields with a missing value somewhere in the layer (read by
        #: chunks, they are decimals in every chunk, as in the whole layer)
        self._decimal: list[str] = []
        self._plan: _GeoJsonPlan | None = None
        self._reader: Iterator[RawTable] | None = None
        self._next = 0

    def _features(self) -> int | None:
        """Return the layer's features when GDAL knows them cheaply (else None)."""
        import pyogrio

        if not _by_position(self.path):
            return None
        try:
            count = int(pyogrio.read_info(self.path, layer=self.layer)["features"])
        except Exception:  # unreadable: reading it whole says why, in Spanish
            return None
        return count if count >= 0 else None

    def chunks(self, rows: int | None = CHUNK_FEATURES) -> Iterator[RawTable]:
        """Yield the features ``rows`` at a time (None, or a small layer: all at once)."""
        self.release()
        self._plan = None
        if rows is not None and self._streamed():
            self._size, self._whole, self._decimal = rows, None, []
            stream = None
            try:
                stream = self._open()
                self._plan = self._geojson_plan(stream[1])
            except ReadWhole as why:
                if stream is not None:
                    stream[0].close()
                self.whole_reason = str(why)
                logger.info("%s: se lee entero (%s)", self.path.name, why)
            if stream is not None and self._plan is not None:
                yield from self._stream(stream)
                return
        features = self._features() if rows is not None else None
        if features is not None and rows is not None and features > rows:
            decimal = _fields_with_nulls(self.path, self.layer)
            if decimal is None:
                features = None  # not known: read whole
            else:
                self._decimal = decimal
        if rows is None or features is None or features <= rows:
            # read at once, and kept (as a small file's rows were): read again, it is this
            self._size = None
            self._decimal = []
            self._whole = self.chunk_at(0, None)
            yield self._whole
            return
        self._size, self._whole = rows, None
        for start in range(0, features, rows):
            yield self.chunk_at(start, rows)

    def chunk(self, k: int) -> RawTable:
        """Read chunk ``k`` of the last :meth:`chunks` again."""
        if self._size is None:
            return self._whole if self._whole is not None else self.chunk_at(0, None)
        if self._plan is None:
            return self.chunk_at(k * self._size, self._size)
        # a streamed GeoJSON file: onwards from the last chunk read (from its start if before)
        if self._reader is None or k < self._next:
            self.release()
            try:
                stream = self._open()
            except ReadWhole as why:  # the file changed or went away since its first reading
                raise InputDataError(
                    f"{self.path.name}: no se puede leer el archivo como capa vectorial ({why})",
                    hint="compruebe que sea un GeoJSON válido",
                ) from why
            self._reader, self._next = self._stream(stream), 0
        table, self._next = read_on(self._reader, self._next, k)
        return table

    def release(self) -> None:
        """Close the stream a re-read of a GeoJSON file's chunks keeps open."""
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()  # type: ignore[attr-defined]

    def _streamed(self) -> bool:
        """Return whether the file is a GeoJSON file to stream (asked for, and large)."""
        if not self.stream or self.path.suffix.lower() not in _GEOJSON_SUFFIXES:
            return False
        try:
            return self.path.stat().st_size >= GEOJSON_STREAM_MIN_BYTES
        except OSError:  # reading it whole says why, in Spanish
            return False

    def _open(self) -> tuple[contextlib.ExitStack[Any], dict[str, Any], Any]:
        """Open the GeoJSON file's Arrow stream of :attr:`_size` features a batch.

        Returns the stack that closes it, the layer's description and the batches' reader.
        """
        import pyogrio

        assert self._size is not None
        stack = contextlib.ExitStack()
        try:
            meta, reader = stack.enter_context(
                pyogrio.open_arrow(
                    self.path,
                    layer=self.layer,
                    read_geometry=True,
                    batch_size=self._size,
                    use_pyarrow=True,
                    datetime_as_string=True,
                )
            )
        except Exception as exc:  # reading it whole says why, in Spanish
            stack.close()
            raise ReadWhole(f"{type(exc).__name__}: {exc}") from exc
        return stack, meta, reader

    def _geojson_plan(self, meta: dict[str, Any]) -> _GeoJsonPlan:
        """Return how the GeoJSON layer's fields are read by chunks (a first pass if needed).

        ``meta`` describes the layer (its fields' OGR types). Whether an integer or boolean
        field misses a value, which time zones a date-time field holds and whether a JSON
        field's values are all JSON are questions of the whole layer (the whole read's column
        types answer them): a first pass over the fields that ask them, without geometries,
        answers them before the first chunk.
        """
        import pandas as pd
        import pyogrio

        rows = self._size
        plan = _GeoJsonPlan(
            geometry=str(meta.get("geometry_name") or "wkb_geometry"), crs=meta.get("crs")
        )
        fields = [str(f) for f in meta["fields"]]
        for name, ogr_type, subtype in zip(
            fields, meta["ogr_types"], meta["ogr_subtypes"], strict=True
        ):
            kind = _GEOJSON_KINDS.get((str(ogr_type), str(subtype)))
            if kind is None:
                raise ReadWhole(f"el campo {name!r} es de un tipo no leído por partes ({ogr_type})")
            plan.kinds[name] = kind
        if len(set(fields)) != len(fields) or plan.geometry in plan.kinds:
            raise ReadWhole("nombres de campo repetidos")
        asked = [n for n, k in plan.kinds.items() if k in ("int", "bool", "datetime", "json")]
        if not asked:
            return plan
        zones: dict[str, set[str]] = {}
        try:
            with pyogrio.open_arrow(
                self.path,
                layer=self.layer,
                columns=asked,
                read_geometry=False,
                batch_size=rows,
                use_pyarrow=True,
                datetime_as_string=True,
            ) as (_meta, reader):
                for batch in reader:
                    for name in asked:
                        column, kind = batch.column(name), plan.kinds[name]
                        if kind in ("int", "bool"):
                            if column.null_count:
                                plan.decimal.add(name)
                        elif kind == "datetime" and name not in plan.utc:
                            if column.null_count == len(column):
                                continue
                            try:
                                parsed = pd.to_datetime(column.to_pandas(), format="ISO8601")
                            except ValueError as exc:
                                if "Mixed timezones detected" not in str(exc):
                                    raise ReadWhole(f"fecha no leída en {name!r}: {exc}") from exc
                                plan.utc.add(name)
                                continue
                            zones.setdefault(name, set()).add(str(getattr(parsed.dt, "tz", None)))
                            if len(zones[name]) > 1:
                                plan.utc.add(name)
                        elif kind == "json" and name not in plan.json_text:
                            try:
                                column.to_pandas().map(json.loads, na_action="ignore")
                            except Exception:  # the whole read leaves the field as text
                                plan.json_text.add(name)
        except ReadWhole:
            raise
        except Exception as exc:  # reading it whole says why, in Spanish
            raise ReadWhole(f"{type(exc).__name__}: {exc}") from exc
        return plan

    def _stream(
        self, stream: tuple[contextlib.ExitStack[Any], dict[str, Any], Any]
    ) -> Iterator[RawTable]:
        """Yield the GeoJSON file's features, :attr:`_size` at a time (one pass over it).

        ``stream`` is what :meth:`_open` returns; it is closed at the end, or when the
        iterator is closed.
        """
        import pyarrow as pa

        assert self._plan is not None and self._size is not None
        size, done = self._size, 0
        stack, _meta, reader = stream
        with stack:
            held: list[pa.RecordBatch] = []
            count = 0
            for batch in reader:
                held.append(batch)
                count += batch.num_rows
                while count >= size:
                    table = pa.Table.from_batches(held)
                    chunk, rest = table.slice(0, size), table.slice(size)
                    held, count = rest.to_batches(), rest.num_rows
                    yield self._vector_table(self._geojson_frame(chunk), done)
                    done += size
            if count or not done:
                table = pa.Table.from_batches(held, schema=reader.schema)
                yield self._vector_table(self._geojson_frame(table), done)

    def _geojson_frame(self, table: Any) -> Any:
        """Return an Arrow table of GeoJSON features as the whole read's GeoDataFrame."""
        import geopandas as gpd
        import pandas as pd
        import pyarrow as pa
        import shapely

        plan = self._plan
        assert plan is not None
        columns: dict[str, Any] = {}
        for name, kind in plan.kinds.items():
            column = table.column(name)
            if kind in ("int", "bool") and name in plan.decimal:
                values = column.cast(pa.float64()).to_pandas()
            elif kind == "date":
                values = column.cast(pa.timestamp("ms")).to_pandas()
            elif kind == "datetime":
                values = pd.to_datetime(
                    column.to_pandas(), format="ISO8601", utc=name in plan.utc
                ).dt.as_unit("ms")
            elif kind == "json" and name not in plan.json_text:
                values = column.to_pandas().map(json.loads, na_action="ignore")
            else:
                values = column.to_pandas()
            columns[name] = values
        wkb = table.column(plan.geometry).to_numpy(zero_copy_only=False)
        frame = pd.DataFrame(columns, index=pd.RangeIndex(table.num_rows))
        return gpd.GeoDataFrame(frame, geometry=shapely.from_wkb(wkb), crs=plan.crs)

    def chunk_at(self, start: int, rows: int | None) -> RawTable:
        """Return ``rows`` features from position ``start`` (None: all) as a :class:`RawTable`."""
        import pyogrio

        path, layer = self.path, self.layer
        window = {} if rows is None else {"skip_features": start, "max_features": rows}
        try:
            gdf = pyogrio.read_dataframe(path, layer=layer, **window)
        except Exception as exc:  # pyogrio raises several error types for unreadable files
            raise InputDataError(
                f"{path.name}: no se puede leer el archivo como capa vectorial ({exc})",
                hint="compruebe que sea un GeoJSON, GeoPackage o Shapefile válido",
            ) from exc
        for name in self._decimal:
            # pyogrio gives an integer or boolean field decimals when some value is missing:
            # in every chunk, as in the whole layer, whatever the chunk holds
            gdf[name] = gdf[name].astype("float64")
        return self._vector_table(gdf, start)

    def _vector_table(self, gdf: Any, start: int) -> RawTable:
        """Return features ``start…`` read as a GeoDataFrame as a :class:`RawTable`."""
        import numpy as np
        import shapely

        path, layer = self.path, self.layer
        geoms = gdf.geometry.to_numpy()
        n = len(gdf)
        x = np.full(n, np.nan)
        y = np.full(n, np.nan)
        problem = np.full(n, "", dtype=object)
        types = shapely.get_type_id(geoms)
        empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
        point = (types == 0) & ~empty
        x[point] = shapely.get_x(geoms[point])
        y[point] = shapely.get_y(geoms[point])
        multi = (types == 4) & ~empty
        if multi.any():
            single = shapely.get_num_geometries(geoms[multi]) == 1
            idx = np.flatnonzero(multi)[single]
            firsts = shapely.get_geometry(geoms[idx], 0)
            x[idx], y[idx] = shapely.get_x(firsts), shapely.get_y(firsts)
            problem[np.flatnonzero(multi)[~single]] = "MultiPoint with several points"
        other = ~empty & ~point & ~multi
        names = {
            1: "LineString",
            2: "LinearRing",
            3: "Polygon",
            5: "MultiLineString",
            6: "MultiPolygon",
            7: "GeometryCollection",
        }
        problem[other] = [names.get(int(t), "geometry") for t in types[other]]
        problem[empty] = "empty"
        crs = gdf.crs.to_string() if gdf.crs is not None else None
        if crs is None and path.suffix.lower() in (".geojson", ".json"):
            crs = "EPSG:4326"
        info: dict[str, object] = {
            "format": path.suffix.lower().lstrip(".").upper(),
            "layer": layer,
            "crs": crs,
        }
        if self._skipped is None:
            self._skipped = _skipped_layers(path, layer)
        if self._skipped:
            info["warnings"] = [
                "el archivo tiene otras capas con entidades que no se leyeron: "
                f"{', '.join(self._skipped)}; se leyó solo la primera capa (exporte cada capa "
                "aparte para importarla)"
            ]
        data = gdf.drop(columns=gdf.geometry.name)
        data = data.astype(object).where(data.notna().to_numpy(), "")
        return RawTable(
            data=data.reset_index(drop=True),
            source=path.name,
            source_row=np.arange(start + 1, start + n + 1, dtype=np.int64),
            kind="vector",
            geom_x=x,
            geom_y=y,
            geom_problem=problem,
            crs=crs,
            info=info,
        )


def _by_position(path: Path) -> bool:
    """Return whether GDAL reaches a feature of the file by its position (chunks by position).

    A GeoPackage, a Shapefile, or a zipped Shapefile (a ``.zip`` holding a ``.shp`` and no other
    layer file: its chunks are read onwards, as the zip's stream is).
    """
    suffix = path.suffix.lower()
    if suffix in _CHUNKED_SUFFIXES:
        return True
    if suffix != ".zip":
        return False
    import zipfile

    try:
        with zipfile.ZipFile(path) as zf:
            names = [n.lower() for n in zf.namelist()]
    except (OSError, zipfile.BadZipFile):  # reading it whole says why, in Spanish
        return False
    layers = [n for n in names if n.endswith((".shp", ".geojson", ".json", ".gpkg", ".kml"))]
    return len(layers) == 1 and layers[0].endswith(".shp")


def _quoted(name: str) -> str | None:
    """Return a name of the file as an OGR SQL identifier (None: it cannot be one).

    A name holding a quote or a backslash (OGR SQL would read the identifier's end or an
    escape there) is not written in SQL at all: a name of a file is never read as SQL.
    """
    if '"' in name or "\\" in name:
        return None
    return f'"{name}"'


def _fields_with_nulls(path: Path, layer: str | None) -> list[str] | None:
    """Return the integer and boolean fields of a layer that miss a value (None: not known).

    Counted by GDAL (OGR SQL ``COUNT``) over the whole layer, a feature at a time.
    """
    import pyogrio

    try:
        info = pyogrio.read_info(path, layer=layer)
        name = layer if layer is not None else str(pyogrio.list_layers(path)[0][0])
        fields = [
            str(f)
            for f, dtype in zip(info["fields"], info["dtypes"], strict=True)
            if str(dtype).startswith(("int", "uint", "bool"))
        ]
        if not fields:
            return []
        quoted = [_quoted(n) for n in (name, *fields)]
        if None in quoted:
            return None  # a name that cannot be written in OGR SQL: the layer is read whole
        counts = ", ".join(f"COUNT({q}) AS c{i}" for i, q in enumerate(quoted[1:]))
        sql = f"SELECT COUNT(*) AS n, {counts} FROM {quoted[0]}"
        row = pyogrio.read_dataframe(path, sql=sql, sql_dialect="OGRSQL", read_geometry=False)
        total = int(row["n"].iloc[0])
        return [f for i, f in enumerate(fields) if int(row[f"c{i}"].iloc[0]) < total]
    except Exception:  # a layer GDAL cannot count: read whole
        return None


def _skipped_layers(path: Path, layer: str | None) -> list[str]:
    """Name the layers after the first one that hold features, with their count.

    pyogrio reads the first layer of a GeoPackage when none is named: a second layer of
    complaints must never vanish silently, so it is named in the report.
    """
    import pyogrio

    if layer is not None:
        return []
    try:
        layers = pyogrio.list_layers(path)
    except Exception:  # the file was read above; a listing failure only loses the warning
        return []
    skipped = []
    for name, _geometry_type in layers[1:]:
        try:
            count = int(pyogrio.read_info(path, layer=name)["features"])
        except Exception:  # an unreadable extra layer is still named
            count = -1
        if count != 0:
            shown = "?" if count < 0 else str(count)
            skipped.append(f"'{name}' ({shown} entidad(es))")
    return skipped
